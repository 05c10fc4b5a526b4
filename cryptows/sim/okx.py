"""Simulated OKX v5 public (spot): the server side of ``cryptows.venues.okx`` and of any OKX client.

The module is long (well past 400 lines) because it is one venue's whole public protocol surface
in one place: two WebSocket endpoints, their channels and errors, and the REST calls clients make
at start-up, all reading the one market engine.

Speaks the real protocol (okx.com/docs-v5/en: "WebSocket" overview, the tickers, order book,
trades and candlesticks channels, the market-data and public-data REST calls, error codes) on
``/ws/v5/public`` and ``/ws/v5/business`` (one port):

- The text frame ``ping`` is answered with the text frame ``pong`` (neither is JSON).
- ``{"id"?, "op": "subscribe"|"unsubscribe", "args": [{"channel", "instId"}, ...]}`` is answered
  with one ack per arg, ``{"id"?, "event", "arg", "connId"}``; ``id`` (up to 32 alphanumerics)
  is echoed only when the request had one.
- A request that cannot be read (not JSON, no ``op``/``args``, an arg without ``channel`` or
  ``instId``, a bad ``id``) is refused as a whole with 60012 ``Invalid request: <the request>``.
- Each arg is judged on its own (a client log shows the good args of a batch streaming beside
  errors for the bad ones, burakoner/OKX.Api#34): an unknown
  instrument (anything but a listed spot id, so ``BTC-USDT-SWAP`` too) or a channel this endpoint
  does not serve gets 60018 ``Wrong URL or channel:<ch>,instId:<id> doesn't exist...`` — an error
  frame with **no** ``arg`` — while the other args of the same request are acked and stream.
  A channel of the other endpoint is 60018 too: ``candle1m`` on ``/public`` (what OKX answers
  since 2024, aiviaio/okex#76; in 2023 it was 64001), ``tickers`` on ``/business``.
  ``books-l2-tbt`` and ``books50-l2-tbt`` need a login (and VIP4/5): 60011 ``Please log in``
  (the frame clients logged, ccxt/ccxt#12995, bmoscon/cryptofeed#845).
- ``/public`` channels: ``tickers`` (every value a string; pushed on change, at most every
  100 ms), ``bbo-tbt`` (one level ``[px, sz, "0", orderCount]`` with an integer ``seqId``; the
  real one pushes every 10 ms on change, this one every 100 ms), ``books5`` (a 5-level snapshot
  on change, every 100 ms), ``books`` (a 400-level ``action: snapshot`` with ``prevSeqId`` -1,
  then ``action: update`` deltas every 100 ms on change, removed levels with size ``"0"``, each
  ``prevSeqId`` the previous message's ``seqId``, ``seqId`` the engine's book sequence, and the
  documented ``checksum``: CRC32 as a signed 32-bit int of the top 25 levels of the book after
  the update, ``bid1px:bid1sz:ask1px:ask1sz:...`` with the strings as sent), ``trades`` (the
  engine's tape: one message per trade, ``tradeId`` increasing, ``count`` "1").
- ``/business`` channels: ``candle<bar>`` for ``1m 3m 5m 15m 30m 1H 2H 4H``, the UTC+8 bars
  ``6H 12H 1D 2D 3D 5D 1W 1M 3M`` and their ``...utc`` forms: ``[ts, o, h, l, c, vol, volCcy,
  volCcyQuote, confirm]`` of the running candle, at most every second when it changed (the
  candle that just closed is pushed once more with ``confirm`` "1"). ``candle1s`` is not served
  (the tape keeps minutes): 60018.
- The server closes a connection with 4004 "No data received in 30s." when it has had no
  subscription for 30 s (from connect, or since its last unsubscribe), or when it has sent
  nothing for 30 s. The docs' keep-alive recipe (send ``ping``, expect ``pong``) relies on the
  ``pong`` counting as data, so it does here; a ``ping`` does not stand in for a subscription.
- ``OkxSim.announce_upgrade`` sends the ``event: notice`` code 64008 frame and drops the
  connections that got it 60 s later.

REST on the same port, in the ``{"code": "0", "msg": "", "data": [...]}`` envelope:
``/api/v5/public/time``; ``/api/v5/public/instruments`` (``instType`` SPOT lists the spot books
with ``tickSz`` the book's tick and ``lotSz``/``minSz`` its lot, filtered by ``instId``; MARGIN,
SWAP and FUTURES answer an empty list, OPTION too once it has ``uly`` or ``instFamily``);
``/api/v5/market/ticker``, ``tickers`` (SPOT; other types empty), ``books`` (``sz`` levels,
default 1, at most 400, with ``seqId``), ``books-full`` (at most 5000, levels ``[px, sz, n]``),
``trades`` (newest first, default 100, at most 500), ``history-trades`` (``after``/``before``
by ``tradeId``, or ``after`` by ``ts`` with ``type=2``; at most 100), ``candles`` and
``history-candles`` (newest first, ``after``/``before`` on the open time, default 100, at most
300). Errors as the docs' table has them: a missing parameter is 50014 ``Parameter <p> can not
be empty.`` and a bad one 51000 ``Parameter <p> error`` (HTTP 400); an unknown instrument is
51001 (HTTP 200); a private call without a key 50103 (HTTP 401; ccxt does not make one without
a key: OKX's currencies are private, so it loads none). An unknown path gets the 404 body a
client logged from OKX's gateway (ccxt/ccxt#8461).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cryptows.clock import wall_ms
from cryptows.sim.depth import Level, changes
from cryptows.sim.market import Candle, Tape, TopOfBook, Trade, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer
from cryptows.sim.universe import LISTINGS, lot_of, symbol_of, tick_of

_PUBLIC_PATH = "/ws/v5/public"
_BUSINESS_PATH = "/ws/v5/business"
_TICKERS = "tickers"
_BBO = "bbo-tbt"
_BOOKS5 = "books5"
_BOOKS = "books"
_TRADES = "trades"
_CANDLE = "candle"
_PUBLIC_CHANNELS = frozenset({_TICKERS, _BBO, _BOOKS5, _BOOKS, _TRADES})
_LOGIN_CHANNELS = frozenset({"books-l2-tbt", "books50-l2-tbt"})
_OPS = frozenset({"subscribe", "unsubscribe"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_SPOT_INST_ID = re.compile(r"([A-Z0-9]+)-([A-Z0-9]+)")

_BOOKS_LEVELS = 400
_CHECKSUM_LEVELS = 25
_CANDLE_PUSH_S = 1.0
_MINUTE_MS = 60_000
_HOUR_MS = 60 * _MINUTE_MS
_DAY_MS = 24 * _HOUR_MS
_UTC8_MS = 8 * _HOUR_MS
_MONDAY_MS = 4 * _DAY_MS  # 1970-01-05, the first Monday after the epoch

_IDLE_CLOSE_CODE = 4004
_IDLE_CLOSE_REASON = "No data received in 30s."
_UPGRADE_CODE = "64008"
_UPGRADE_MSG = "The connection will soon be closed for a service upgrade. Please reconnect."
_INST_TYPES = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"})
_UNKNOWN_INSTRUMENT = "Instrument ID, Instrument ID code or Spread ID doesn't exist."
_PRIVATE_PREFIXES = ("/api/v5/account/", "/api/v5/asset/", "/api/v5/trade/", "/api/v5/users/")
_NOT_FOUND = {
    "code": 404,
    "data": {},
    "detailMsg": "",
    "error_code": "404",
    "error_message": "Not Found",
    "msg": "Not Found",
}
"""OKX's gateway answer to a path it does not have, as ccxt/ccxt#8461 logged it."""

Answer = tuple[int, Any]
"""``(HTTP status, JSON body)`` of a REST call."""


@dataclass(frozen=True, slots=True)
class _Bar:
    """A candle size: fixed ``interval_ms`` from ``origin_ms``, or ``months`` in a time zone."""

    interval_ms: int = 0
    origin_ms: int = 0
    months: int = 0
    zone_ms: int = 0


def _bars() -> dict[str, _Bar]:
    bars = {f"{n}m": _Bar(n * _MINUTE_MS) for n in (1, 3, 5, 15, 30)}
    bars |= {f"{n}H": _Bar(n * _HOUR_MS) for n in (1, 2, 4)}  # the same in UTC and UTC+8
    for suffix, zone in (("", _UTC8_MS), ("utc", 0)):  # plain ones open at 00:00 UTC+8
        bars |= {f"{n}H{suffix}": _Bar(n * _HOUR_MS, -zone) for n in (6, 12)}
        bars |= {f"{n}D{suffix}": _Bar(n * _DAY_MS, -zone) for n in (1, 2, 3, 5)}
        bars[f"1W{suffix}"] = _Bar(7 * _DAY_MS, _MONDAY_MS - zone)
        bars |= {f"{n}M{suffix}": _Bar(months=n, zone_ms=zone) for n in (1, 3)}
    return bars


_BARS = _bars()
"""The candle sizes served (channel ``candle<bar>``, REST ``bar=``)."""


def _bucket_open(ts_ms: int, bar: _Bar) -> int:
    """The open time of the candle of ``bar`` that holds ``ts_ms``."""
    if not bar.months:
        return ts_ms - (ts_ms - bar.origin_ms) % bar.interval_ms
    local = datetime.fromtimestamp((ts_ms + bar.zone_ms) / 1000, tz=UTC)
    month = local.year * 12 + local.month - 1
    month -= month % bar.months
    start = datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()) * 1000 - bar.zone_ms


def _candles(tape: Tape, bar: _Bar, now_ms: int) -> list[Candle]:
    """The tape's candles of ``bar``, oldest first, the last one running at ``now_ms``."""
    out: list[Candle] = []
    for m in tape.candles(_MINUTE_MS, now_ms, limit=1_000_000):
        opened = _bucket_open(m.open_ms, bar)
        if out and out[-1].open_ms == opened:
            p = out[-1]
            out[-1] = Candle(
                opened,
                p.open,
                max(p.high, m.high),
                min(p.low, m.low),
                m.close,
                p.volume + m.volume,
                p.quote_volume + m.quote_volume,
                p.trades + m.trades,
            )
        else:
            out.append(
                Candle(opened, m.open, m.high, m.low, m.close, m.volume, m.quote_volume, m.trades)
            )
    return out


def _price(value: float, tick: float) -> str:
    return f"{value:.{decimals(tick)}f}"


def _qty(value: float) -> str:
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return text or "0"


def _increment(step: float) -> str:
    return f"{step:.{decimals(step)}f}"


def _orders(price: float, size: float, tick: float) -> str:
    """A level's order count: fixed by its price and size (0 for a removed level)."""
    if size <= 0:
        return "0"
    return str(1 + (round(price / tick) * 31 + round(size * 1e8)) % 9)


def _rows(levels: Iterable[Level], tick: float) -> list[list[str]]:
    """Book levels as OKX writes them: ``[px, sz, "0" (deprecated), orderCount]``."""
    return [[_price(p, tick), _qty(s), "0", _orders(p, s, tick)] for p, s in levels]


def checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """OKX's book checksum: CRC32, as a signed 32-bit int, of ``bid1px:bid1sz:ask1px:ask1sz:...``
    over the top 25 levels of each side (a side with fewer levels just ends early), price and
    size the strings as sent."""
    parts: list[str] = []
    for i in range(_CHECKSUM_LEVELS):
        for side in (bids, asks):
            if i < len(side):
                parts += side[i][:2]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _candle_row(candle: Candle, tick: float, *, confirmed: bool) -> list[str]:
    """``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``: on SPOT ``vol`` is in the base
    asset, ``volCcy`` and ``volCcyQuote`` in the quote asset."""
    return [
        str(candle.open_ms),
        _price(candle.open, tick),
        _price(candle.high, tick),
        _price(candle.low, tick),
        _price(candle.close, tick),
        _qty(candle.volume),
        _qty(candle.quote_volume),
        _qty(candle.quote_volume),
        "1" if confirmed else "0",
    ]


def _candle_rows(candles: list[Candle], tick: float) -> list[list[str]]:
    """Rows of ``candles`` (oldest first): all but the running last one are confirmed."""
    last = len(candles) - 1
    return [_candle_row(c, tick, confirmed=i < last) for i, c in enumerate(candles)]


def _unknown_msg(channel: str, instrument: str) -> str:
    return (
        f"Wrong URL or channel:{channel},instId:{instrument} doesn't exist. "
        "Please use the correct URL, channel and parameters referring to API document."
    )


def _inst_id(book: TopOfBook) -> str:
    return f"{book.symbol.base}-{book.symbol.quote}"


def _ticker(book: TopOfBook) -> dict[str, str]:
    """The tickers channel's (and ``/market/ticker``'s) item: every value a string."""
    tick = book.tick
    instrument = _inst_id(book)
    return {
        "instType": "SPOT",
        "instId": instrument,
        "last": _price(book.last, tick),
        "lastSz": _qty(min(book.bid_size, book.ask_size) * 0.1),
        "askPx": _price(book.ask, tick),
        "askSz": _qty(book.ask_size),
        "bidPx": _price(book.bid, tick),
        "bidSz": _qty(book.bid_size),
        "open24h": _price(book.open_24h, tick),
        "high24h": _price(book.high_24h, tick),
        "low24h": _price(book.low_24h, tick),
        "volCcy24h": _qty(book.quote_volume_24h),  # quote currency on SPOT
        "vol24h": _qty(book.volume_24h),  # base currency on SPOT
        "sodUtc0": _price(book.last * 0.995, tick),
        "sodUtc8": _price(book.last * 1.002, tick),
        "ts": str(book.ts_ms),
    }


def _trade_push(trade: Trade, instrument: str, tick: float, seq: int) -> dict[str, Any]:
    """A trades-channel item (one taker order at one price: ``count`` 1)."""
    return {
        "instId": instrument,
        "tradeId": str(trade.id),
        "px": _price(trade.price, tick),
        "sz": _qty(trade.size),
        "side": "buy" if trade.buyer_taker else "sell",
        "ts": str(trade.ts_ms),
        "count": "1",
        "source": "0",
        "seqId": seq,
    }


def _trade_rest(trade: Trade, instrument: str, tick: float) -> dict[str, str]:
    """A ``/market/trades`` or ``/market/history-trades`` item, in the docs' key order."""
    return {
        "instId": instrument,
        "side": "buy" if trade.buyer_taker else "sell",
        "sz": _qty(trade.size),
        "source": "0",
        "px": _price(trade.price, tick),
        "tradeId": str(trade.id),
        "ts": str(trade.ts_ms),
    }


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


@dataclass(slots=True)
class _SentBook:
    """What one connection's ``books`` stream last sent for one book."""

    bids: list[Level]
    asks: list[Level]
    seq: int


@dataclass(slots=True)
class _SentCandle:
    """What one connection's candle stream last sent for one book."""

    at: float
    """Monotonic time of the push."""
    row: list[str]


class OkxSession(Session):
    """One client connection to simulated OKX (``/ws/v5/public`` or ``/ws/v5/business``)."""

    push_interval_s: ClassVar[float] = 0.1
    idle_close_s: ClassVar[float] = 30.0
    """The server's bound for "no subscription" and "no data sent" (tests shrink it)."""

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        self.conn_id = secrets.token_hex(4)
        self.topics: dict[tuple[str, str], str] = {}
        """``(channel, instId)`` -> canonical symbol, in subscription order."""
        self.last_sent = time.monotonic()
        self.unsubscribed_since: float | None = time.monotonic()
        """Since when the connection has had no subscription (``None`` while it has one)."""
        request = getattr(ws, "request", None)
        path = urlsplit(request.path).path if request is not None else _PUBLIC_PATH
        self.business = path == _BUSINESS_PATH
        """Whether this is a ``/ws/v5/business`` connection (candles) rather than ``/public``."""
        self._books: dict[str, _SentBook] = {}
        self._trades: dict[str, int] = {}
        """Canonical symbol -> the last trade id sent."""
        self._candles: dict[tuple[str, str], _SentCandle] = {}

    # -- pushes ---------------------------------------------------------------------------

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        for (channel, _inst), canonical in list(self.topics.items()):
            yield canonical, channel

    def resend_due(self, channel: str) -> bool:
        # Trades follow the tape and candles their own 1 s cadence, not the book's seq.
        return channel == _TRADES or channel.startswith(_CANDLE)

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        arg = {"channel": channel, "instId": _inst_id(book)}
        if channel == _TICKERS:
            return [_dumps({"arg": arg, "data": [_ticker(book)]})]
        if channel == _BBO:
            return [_dumps({"arg": arg, "data": [self._bbo(book)]})]
        if channel == _BOOKS5:
            return [_dumps({"arg": arg, "data": [self._books5(book)]})]
        if channel == _BOOKS:
            return self._books_frames(book, arg)
        if channel == _TRADES:
            return self._trade_frames(book, arg)
        return self._candle_frames(book, arg)

    @staticmethod
    def _bbo(book: TopOfBook) -> dict[str, Any]:
        asks = [_price(book.ask, book.tick), _qty(book.ask_size), "0", str(1 + book.seq % 17)]
        bids = [_price(book.bid, book.tick), _qty(book.bid_size), "0", str(1 + book.seq % 11)]
        return {"asks": [asks], "bids": [bids], "ts": str(book.ts_ms), "seqId": book.seq}

    def _depth(self, book: TopOfBook, levels: int) -> tuple[str, list[Level], list[Level], int]:
        canonical = book.symbol.base + book.symbol.quote
        d = self.engine.depth(self.server.name, canonical, book.ts_ms, levels)
        return canonical, d.bids, d.asks, d.seq

    def _books5(self, book: TopOfBook) -> dict[str, Any]:
        _, bids, asks, seq = self._depth(book, 5)
        return {
            "asks": _rows(asks, book.tick),
            "bids": _rows(bids, book.tick),
            "instId": _inst_id(book),
            "ts": str(book.ts_ms),
            "seqId": seq,
        }

    def _books_frames(self, book: TopOfBook, arg: dict[str, str]) -> list[str]:
        """The 400-level snapshot, then the delta from the previous message to ``seq``."""
        canonical, bids, asks, seq = self._depth(book, _BOOKS_LEVELS)
        sent = self._books.get(canonical)
        if sent is None:
            action, prev, bid_delta, ask_delta = "snapshot", -1, bids, asks
        else:
            action, prev = "update", sent.seq
            bid_delta, ask_delta = changes(sent.bids, bids), changes(sent.asks, asks)
            if seq == sent.seq or not (bid_delta or ask_delta):
                return []
        self._books[canonical] = _SentBook(bids, asks, seq)
        tick = book.tick
        top = _CHECKSUM_LEVELS
        item = {
            "asks": _rows(ask_delta, tick),
            "bids": _rows(bid_delta, tick),
            "ts": str(book.ts_ms),
            "checksum": checksum(_rows(bids[:top], tick), _rows(asks[:top], tick)),
            "prevSeqId": prev,
            "seqId": seq,
        }
        return [_dumps({"arg": arg, "action": action, "data": [item]})]

    def _trade_frames(self, book: TopOfBook, arg: dict[str, str]) -> list[str]:
        canonical = book.symbol.base + book.symbol.quote
        tape = self.engine.tape(self.server.name, canonical, book.ts_ms)
        after = self._trades.get(canonical)
        self._trades[canonical] = tape.last_id
        if after is None:  # subscribed now: trades from here on
            return []
        return [
            _dumps({"arg": arg, "data": [_trade_push(t, arg["instId"], book.tick, book.seq)]})
            for t in tape.since(after)
        ]

    def _candle_frames(self, book: TopOfBook, arg: dict[str, str]) -> list[str]:
        """The running candle at most every second when it changed; when a new candle has
        opened, the one that closed first (``confirm`` "1")."""
        channel = arg["channel"]
        canonical = book.symbol.base + book.symbol.quote
        key = (channel, canonical)
        sent = self._candles.get(key)
        now = time.monotonic()
        if sent is not None and now - sent.at < _CANDLE_PUSH_S:
            return []
        tape = self.engine.tape(self.server.name, canonical, book.ts_ms)
        rows = _candle_rows(_candles(tape, _BARS[channel[len(_CANDLE) :]], book.ts_ms), book.tick)
        out: list[list[str]] = []
        if sent is not None and sent.row[0] != rows[-1][0]:
            out += [row for row in rows[:-1] if row[0] == sent.row[0]]
        if sent is None or sent.row != rows[-1]:
            out.append(rows[-1])
        if not out:
            return []
        self._candles[key] = _SentCandle(now, rows[-1])
        return [_dumps({"arg": arg, "data": [row]}) for row in out]

    def on_sent(self) -> None:
        self.last_sent = time.monotonic()

    # -- idle rules -----------------------------------------------------------------------

    async def periodic(self) -> None:
        was_stalled = False
        while True:
            await asyncio.sleep(min(0.5, self.idle_close_s / 10))
            now = time.monotonic()
            if self.stalled:
                was_stalled = True
                continue
            if was_stalled:  # a stall is a frozen link, not a silent server: restart the clocks
                was_stalled = False
                self.last_sent = now
                if self.unsubscribed_since is not None:
                    self.unsubscribed_since = now
                continue
            silent = now - self.last_sent >= self.idle_close_s
            bare = self.unsubscribed_since is not None and (
                now - self.unsubscribed_since >= self.idle_close_s
            )
            if silent or bare:
                await self.ws.close(_IDLE_CLOSE_CODE, _IDLE_CLOSE_REASON)
                return

    # -- requests -------------------------------------------------------------------------

    async def on_message(self, message: str | bytes) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        if text == "ping":
            if not self.server.faults.no_pong:
                await self.send("pong")
            return
        try:
            request = json.loads(text)
        except ValueError:
            await self._invalid(text, None)
            return
        if not isinstance(request, dict):
            await self._invalid(text, None)
            return
        req_id = request.get("id") or None  # an empty id is no id
        if req_id is not None and not (isinstance(req_id, str) and _REQUEST_ID.fullmatch(req_id)):
            await self._invalid(text, None)
            return
        op, args = request.get("op"), _args(request.get("args"))
        if op not in _OPS or args is None:
            await self._invalid(text, req_id)
            return
        for channel, instrument in args:
            await self._one(op, channel, instrument, req_id)

    def _serves(self, channel: str) -> bool:
        if self.business:
            return channel.startswith(_CANDLE) and channel[len(_CANDLE) :] in _BARS
        return channel in _PUBLIC_CHANNELS

    async def _one(self, op: str, channel: str, instrument: str, req_id: str | None) -> None:
        if channel in _LOGIN_CHANNELS and not self.business:
            login = {"event": "error", "msg": "Please log in", "code": "60011"}
            await self._send_frame(req_id, login)
            return
        canonical = self._listed(instrument)
        if not self._serves(channel) or canonical is None:
            await self._send_frame(
                req_id,
                {"event": "error", "msg": _unknown_msg(channel, instrument), "code": "60018"},
            )
            return
        key = (channel, instrument)
        if op == "subscribe":
            if key not in self.topics and channel == _TRADES:
                tape = self.engine.tape(self.server.name, canonical, wall_ms())
                self._trades[canonical] = tape.last_id
            self.topics.setdefault(key, canonical)
        elif self.topics.pop(key, None) is not None:
            self._sent_seq.pop((canonical, channel), None)  # a resubscribe gets a fresh snapshot
            self._forget(channel, canonical)
        if self.topics:
            self.unsubscribed_since = None
        elif self.unsubscribed_since is None:
            self.unsubscribed_since = time.monotonic()
        await self._send_frame(
            req_id, {"event": op, "arg": {"channel": channel, "instId": instrument}}
        )

    def _forget(self, channel: str, canonical: str) -> None:
        """Drop what a stream sent, so that a resubscribe starts it afresh."""
        if channel == _BOOKS:
            self._books.pop(canonical, None)
        elif channel == _TRADES:
            self._trades.pop(canonical, None)
        else:
            self._candles.pop((channel, canonical), None)

    def _listed(self, instrument: str) -> str | None:
        """The canonical symbol of a listed spot instrument id, else ``None``."""
        canonical = _canonical(instrument)
        if canonical is None or not self.server.listed(canonical):
            return None
        if canonical in self.server.faults.rejected:
            return None
        return canonical

    async def _invalid(self, raw: str, req_id: str | None) -> None:
        body = {"event": "error", "code": "60012", "msg": f"Invalid request: {raw}"}
        await self._send_frame(req_id, body)

    async def _send_frame(self, req_id: str | None, body: dict[str, Any]) -> None:
        """Send ``body`` with the echoed ``id`` first and ``connId`` last, as OKX orders them."""
        head: dict[str, Any] = {"id": req_id} if req_id is not None else {}
        await self.send_json({**head, **body, "connId": self.conn_id})

    async def notice(self, code: str, msg: str) -> None:
        """Send an ``event: notice`` frame."""
        await self.send_json({"event": "notice", "code": code, "msg": msg, "connId": self.conn_id})


def _canonical(instrument: str) -> str | None:
    """``BTC-USDT`` -> ``BTCUSDT``; ``None`` for anything but a spot instrument id."""
    match = _SPOT_INST_ID.fullmatch(instrument)
    return None if match is None else match.group(1) + match.group(2)


def _args(args: object) -> list[tuple[str, str]] | None:
    """The ``(channel, instId)`` pairs of a request's ``args``, or ``None`` if malformed."""
    if not isinstance(args, list) or not args:
        return None
    pairs = []
    for arg in args:
        if not isinstance(arg, dict):
            return None
        channel, instrument = arg.get("channel"), arg.get("instId")
        if not isinstance(channel, str) or not isinstance(instrument, str):
            return None
        pairs.append((channel, instrument))
    return pairs


def _ok(data: Any) -> Answer:
    return 200, {"code": "0", "msg": "", "data": data}


def _empty_param(name: str) -> Answer:
    return 400, {"code": "50014", "msg": f"Parameter {name} can not be empty.", "data": []}


def _bad_param(name: str) -> Answer:
    return 400, {"code": "51000", "msg": f"Parameter {name} error", "data": []}


def _param(query: dict[str, list[str]], name: str) -> str:
    return (query.get(name) or [""])[0]


def _count(query: dict[str, list[str]], name: str, default: int, most: int) -> int | None:
    """A positive count parameter (``limit``, ``sz``), at most ``most``; ``None`` if malformed."""
    raw = _param(query, name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        return None
    return min(int(raw), most)


def _bound(query: dict[str, list[str]], name: str) -> tuple[int | None, bool]:
    """An optional integer parameter (``after``, ``before``): ``(value, ok)``."""
    raw = _param(query, name)
    if not raw:
        return None, True
    if not raw.isdigit():
        return None, False
    return int(raw), True


class OkxSim(SimVenueServer):
    """Simulated ``ws.okx.com:8443`` + ``openapi.okx.com`` on one loopback port."""

    name: ClassVar[str] = "okx"
    profile: ClassVar[VenueProfile] = VenueProfile(
        listings=LISTINGS["okx"],
        half_spread_bps=0.5,
        base_volume_usd=0.9e9,
    )
    """No USD books (USDT and USDC ones instead)."""
    session_class: ClassVar[type[Session]] = OkxSession
    ws_path: ClassVar[str] = _PUBLIC_PATH
    upgrade_notice_s: ClassVar[float] = 60.0
    """How long after the 64008 notice the connections are dropped (documented: 60 s)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._upgrades: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        for task in self._upgrades:
            task.cancel()
        await asyncio.gather(*self._upgrades, return_exceptions=True)
        await super().stop()

    def accepts_path(self, path: str) -> bool:
        return urlsplit(path).path in (_PUBLIC_PATH, _BUSINESS_PATH)

    async def announce_upgrade(self, disconnect_after_s: float | None = None) -> None:
        """Send the 64008 service-upgrade notice to every connection, then drop them.

        The drop is abrupt (no close frame): a client log shows 1006 closes beside these notices
        (yubing744/trading-gpt#90); OKX documents no close code for it.

        Args:
            disconnect_after_s: seconds until the notified connections are dropped; ``None``
                means :attr:`upgrade_notice_s` (60 s, as documented).
        """
        notified = [s for s in list(self.sessions) if isinstance(s, OkxSession)]
        for session in notified:
            with contextlib.suppress(ConnectionClosed):
                await session.notice(_UPGRADE_CODE, _UPGRADE_MSG)
        delay = self.upgrade_notice_s if disconnect_after_s is None else disconnect_after_s
        task = asyncio.create_task(self._drop_later(notified, delay))
        self._upgrades.add(task)
        task.add_done_callback(self._upgrades.discard)

    async def _drop_later(self, sessions: list[OkxSession], delay: float) -> None:
        await asyncio.sleep(delay)
        for session in sessions:
            session.ws.transport.abort()

    # -- REST -----------------------------------------------------------------------------

    def not_found(self, path: str) -> Answer:
        if path.startswith(_PRIVATE_PREFIXES):
            msg = 'Request header "OK-ACCESS-KEY" cannot be empty.'
            return 401, {"code": "50103", "msg": msg, "data": []}
        return 404, _NOT_FOUND

    def rest(self, path: str, query: dict[str, list[str]]) -> Answer | None:
        if path == "/api/v5/public/time":
            return _ok([{"ts": str(self.server_time_ms())}])
        if path == "/api/v5/public/instruments":
            return self._instruments_answer(query)
        if path == "/api/v5/market/tickers":
            return self._tickers_answer(query)
        market = {
            "/api/v5/market/ticker": self._ticker_answer,
            "/api/v5/market/books": self._books_answer,
            "/api/v5/market/books-full": self._books_full_answer,
            "/api/v5/market/trades": self._trades_answer,
            "/api/v5/market/history-trades": self._history_trades_answer,
            "/api/v5/market/candles": self._candles_answer,
            "/api/v5/market/history-candles": self._candles_answer,
        }.get(path)
        if market is None:
            return None
        instrument = _param(query, "instId")
        if not instrument:
            return _empty_param("instId")
        canonical = _canonical(instrument)
        if canonical is None or not self.listed(canonical):
            return 200, {"code": "51001", "msg": _UNKNOWN_INSTRUMENT, "data": []}
        return market(canonical, query)

    def _instruments_answer(self, query: dict[str, list[str]]) -> Answer:
        inst_type = _param(query, "instType")
        if not inst_type:
            return _empty_param("instType")
        if inst_type not in _INST_TYPES:
            return _bad_param("instType")
        if inst_type == "OPTION" and not (_param(query, "uly") or _param(query, "instFamily")):
            return _empty_param("instFamily")
        if inst_type != "SPOT":
            return _ok([])
        listed = self.listed_symbols()
        numbers = {canonical: number for number, canonical in enumerate(listed)}
        instrument = _param(query, "instId")
        if instrument:
            canonical = _canonical(instrument)
            if canonical is None or canonical not in numbers:
                return 200, {"code": "51001", "msg": _UNKNOWN_INSTRUMENT, "data": []}
            listed = [canonical]
        return _ok([self._instrument(canonical, numbers[canonical]) for canonical in listed])

    def _tickers_answer(self, query: dict[str, list[str]]) -> Answer:
        inst_type = _param(query, "instType")
        if not inst_type:
            return _empty_param("instType")
        if inst_type not in _INST_TYPES:
            return _bad_param("instType")
        if inst_type != "SPOT":
            return _ok([])
        now = wall_ms()
        return _ok([_ticker(self.engine.book(self.name, s, now)) for s in self.listed_symbols()])

    def _ticker_answer(self, canonical: str, query: dict[str, list[str]]) -> Answer:
        return _ok([_ticker(self.engine.book(self.name, canonical, wall_ms()))])

    def _books_answer(self, canonical: str, query: dict[str, list[str]]) -> Answer:
        levels = _count(query, "sz", 1, _BOOKS_LEVELS)
        if levels is None:
            return _bad_param("sz")
        d = self.engine.depth(self.name, canonical, wall_ms(), levels)
        tick = tick_of(canonical)
        book = {
            "asks": _rows(d.asks, tick),
            "bids": _rows(d.bids, tick),
            "ts": str(d.ts_ms),
            "seqId": d.seq,
        }
        return _ok([book])

    def _books_full_answer(self, canonical: str, query: dict[str, list[str]]) -> Answer:
        levels = _count(query, "sz", 1, 5_000)
        if levels is None:
            return _bad_param("sz")
        d = self.engine.depth(self.name, canonical, wall_ms(), levels)
        tick = tick_of(canonical)
        asks = [[px, sz, n] for px, sz, _, n in _rows(d.asks, tick)]
        bids = [[px, sz, n] for px, sz, _, n in _rows(d.bids, tick)]
        return _ok([{"asks": asks, "bids": bids, "ts": str(d.ts_ms)}])

    def _trades_answer(self, canonical: str, query: dict[str, list[str]]) -> Answer:
        limit = _count(query, "limit", 100, 500)
        if limit is None:
            return _bad_param("limit")
        trades = list(self.engine.tape(self.name, canonical, wall_ms()).trades)[::-1][:limit]
        symbol = symbol_of(canonical)
        instrument, tick = f"{symbol.base}-{symbol.quote}", tick_of(canonical)
        return _ok([_trade_rest(t, instrument, tick) for t in trades])

    def _history_trades_answer(self, canonical: str, query: dict[str, list[str]]) -> Answer:
        limit = _count(query, "limit", 100, 100)
        if limit is None:
            return _bad_param("limit")
        by_time = _param(query, "type") == "2"
        if _param(query, "type") not in ("", "1", "2"):
            return _bad_param("type")
        after, after_ok = _bound(query, "after")
        before, before_ok = _bound(query, "before")
        if not (after_ok and before_ok):
            return _bad_param("after" if not after_ok else "before")
        if by_time and before is not None:
            return 200, {
                "code": "50039",
                "msg": 'Parameter "before" isn\'t supported for timestamp pagination',
                "data": [],
            }
        trades = list(self.engine.tape(self.name, canonical, wall_ms()).trades)[::-1]
        if after is not None:
            trades = [t for t in trades if (t.ts_ms if by_time else t.id) < after]
        if before is not None:
            trades = [t for t in trades if t.id > before]
        symbol = symbol_of(canonical)
        instrument, tick = f"{symbol.base}-{symbol.quote}", tick_of(canonical)
        return _ok([_trade_rest(t, instrument, tick) for t in trades[:limit]])

    def _candles_answer(self, canonical: str, query: dict[str, list[str]]) -> Answer:
        bar = _BARS.get(_param(query, "bar") or "1m")
        if bar is None:
            return _bad_param("bar")
        limit = _count(query, "limit", 100, 300)
        if limit is None:
            return _bad_param("limit")
        after, after_ok = _bound(query, "after")
        before, before_ok = _bound(query, "before")
        if not (after_ok and before_ok):
            return _bad_param("after" if not after_ok else "before")
        now = wall_ms()
        tape = self.engine.tape(self.name, canonical, now)
        rows = _candle_rows(_candles(tape, bar, now), tick_of(canonical))[::-1]
        if after is not None:
            rows = [r for r in rows if int(r[0]) < after]
        if before is not None:
            rows = [r for r in rows if int(r[0]) > before]
        return _ok(rows[:limit])

    def _instrument(self, canonical: str, number: int) -> dict[str, Any]:
        sym, tick, lot = symbol_of(canonical), tick_of(canonical), lot_of(canonical)
        base, quote = sym.base, sym.quote
        # Every key of the docs' SPOT example, in its order; derivative-only fields are "".
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": base,
            "category": "1",
            "ctMult": "",
            "ctType": "",
            "ctVal": "",
            "ctValCcy": "",
            "contTdSwTime": "",
            "expTime": "",
            "futureSettlement": False,
            "groupId": "1",
            "instFamily": "",
            "instId": f"{base}-{quote}",
            "instType": "SPOT",
            "lever": "10",
            "listTime": "1606468572000",
            "lotSz": _increment(lot),
            "maxIcebergSz": "9999999999.0000000000000000",
            "maxLmtAmt": "1000000",
            "maxLmtSz": "9999999999",
            "maxMktAmt": "1000000",
            "maxMktSz": "",
            "maxStopSz": "",
            "maxTriggerSz": "9999999999.0000000000000000",
            "maxTwapSz": "9999999999.0000000000000000",
            "minSz": _increment(lot),  # the engine trades and shows sizes down to one lot
            "optType": "",
            "openType": "",
            "preMktSwTime": "",
            "quoteCcy": quote,
            "tradeQuoteCcyList": [quote],
            "settleCcy": "",
            "state": "live",
            "ruleType": "normal",
            "stk": "",
            "tickSz": _increment(tick),
            "uly": "",
            "instIdCode": 1_000_000_000 + number,
            "instCategory": "1",
            "upcChg": [],
        }


SIMULATOR = OkxSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
