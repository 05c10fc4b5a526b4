"""Simulated Bybit v5 spot: the server side of ``cryptows.venues.bybit``, and a drop-in Bybit for
any client of its public spot market data (ccxt included).

Speaks the real protocol (bybit-exchange.github.io/docs/v5/ws/connect, .../websocket/public/
orderbook, .../ticker, .../trade and .../kline; REST .../market/time, instrument, tickers,
orderbook, recent-trade and kline; the undocumented parts from the live captures listed in
tests/fixtures/bybit/SOURCES.md) on ``/v5/public/spot`` only:

- ``{"req_id"?, "op": "subscribe"|"unsubscribe", "args": [topic, ...]}``, at most 10 args per
  request (``args size >10``); acks ``{"success": true, "ret_msg": "subscribe", "conn_id",
  "req_id", "op"}`` with ``req_id`` echoed only when the request had one; ``conn_id`` is a
  UUID per connection. A duplicate subscribe (every topic already subscribed) gets no reply at
  all; a request mixing new and already-subscribed topics is acked (duplicates ignored).
- Unknown or case-mismatched symbol, or one in ``faults.rejected``: ``{"success": false,
  "ret_msg": "Invalid symbol :[<topic> <topic>...]", ...}``. The bracket is how the captured
  spot errors look (a Go slice printed with ``%v``: every bad topic, space-separated), which
  suggests the server validates the whole ``args`` list before subscribing anything, so by
  default **no topic of a refused request is subscribed**, valid ones included: a client must
  resubscribe a refused request's other symbols (and, should the real server subscribe them
  after all, its resubscribe is then a silent duplicate). ``BybitSession.partial_subscribe``
  flips this: the valid topics subscribe (and stream, with no ack of their own) beside the
  error frame, the other behaviour a client must survive. A kline interval Bybit does not have
  gives ``Invalid kline type :[kline.7.BTCUSDT]`` (captured); any other topic ``Invalid topic
  :[...]`` (checked first, then the interval, then the symbol).
- Topics served, every push ``{"topic", "ts", "type", "data", ...}`` (``ts`` before ``type``,
  as spot does):

  - ``orderbook.{1,50,200,1000}.<SYM>``: ``data`` ``{"s", "b", "a", "u", "seq"}`` and a
    top-level ``cts``. ``u`` is the engine's update id of the book (the same on every
    connection and in REST ``/v5/market/orderbook``), ``seq`` the cross sequence. Level 1 is
    snapshot-only (since 2025-03-20), pushed on change and the same snapshot (same ``u``,
    ``seq`` and ``cts``) again every 3 s while unchanged. Deeper books send a ``snapshot`` of
    the engine's depth at (re)subscribe, then ``delta`` frames (:func:`cryptows.sim.depth.
    changes`: new or changed levels with their absolute size, removed ones with size ``"0"``),
    each from the previous push's book to the current ``u``: no gap, no overlap, although ``u``
    itself may skip numbers (it counts the engine's changes, several of which can fall between
    two pushes). Documented push frequencies 10, 20, 100 and 200 ms; the engine moves every
    50 ms, so levels 1 and 50 go out on every change and 200/1000 at most every 100/200 ms.
  - ``tickers.<SYM>``: spot snapshots without bid/ask, pushed at most every 50 ms when they
    change (a trade that moves only the last price and volume counts).
  - ``publicTrade.<SYM>``: the engine's tape from the subscription on, ``data`` a list of
    ``{"T", "s", "S" (taker side Buy/Sell), "v", "p", "L" (tick direction), "i" (trade id, a
    string), "BT": false, "RPI": false, "seq"}``, oldest first, every trade exactly once.
  - ``kline.<interval>.<SYM>`` (intervals ``1 3 5 15 30 60 120 240 360 720 D W M``): ``data``
    a one-candle list ``{"start", "end", "interval", "open", "close", "high", "low", "volume",
    "turnover", "confirm", "timestamp"}``, the running candle every second (``confirm``
    false); when an interval ends, the closed candle once more with ``confirm`` true.

- App ping ``{"req_id"?, "op": "ping"}`` -> ``{"success": true, "ret_msg": "pong", "conn_id",
  "req_id"?, "op": "ping"}`` (``op`` is ``ping``), unless ``faults.no_pong``.
- Prices carry the symbol's tick decimals, sizes its lot's; ``ts``/``cts``/``u``/``seq``/``cs``
  are integers, everything else a string.
- With neither pings nor data for 10 minutes the server closes the connection.
- Limits whose wording is not documented (the simulator's own text): invalid JSON, unknown
  ``op``, missing/empty ``args``, and more than 21,000 characters of args per connection
  (counted strictly, each topic with its JSON quotes and comma, over the topics subscribed).

REST on the same port, every answer HTTP 200 with the envelope ``{"retCode", "retMsg",
"result", "retExtInfo": {}, "time"}`` (errors too, as Bybit does):

- ``/v5/market/time``.
- ``/v5/market/instruments-info?category=spot`` (``Trading`` symbols only, unpaginated,
  ``symbol=`` filters, an unknown one giving an empty list): ``priceFilter.tickSize`` is the
  book's tick, ``lotSizeFilter.basePrecision`` and ``minOrderQty`` its lot.
  ``category=linear|inverse|option`` answer an empty list with ``nextPageCursor`` ``""``: the
  simulator lists no derivatives, and a client loading every category must not fail.
- ``/v5/market/tickers`` (spot shape, with ``bid1Price``... from the same book as the depth),
  ``/v5/market/orderbook`` (``limit`` 1-200, default 1; ``u`` as on the stream),
  ``/v5/market/recent-trade`` (``limit`` 1-60, default 60, newest first) and
  ``/v5/market/kline`` (``interval`` as on the stream, ``start``/``end``/``limit`` 1-1000,
  default 200, newest first). A non-spot category answers an empty list where the endpoint
  lists (no symbol asked for) and ``params error: symbol invalid`` where a symbol is named.
- Errors, retCode 10001 with the captured wording: no or another category ``Illegal
  category``; an unknown symbol ``Not supported symbols`` (tickers) or ``params error: symbol
  invalid`` (the others); an unknown kline interval ``Invalid period!``.
- Any other path: HTTP 404 with an empty body, as api.bybit.com answers one.

Why this module is over 400 lines: it is the venue's whole public spot surface, WebSocket and
REST, which share the formatting and the engine reads and must agree with each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response

from cryptows.clock import wall_ms
from cryptows.sim.depth import Level, changes
from cryptows.sim.market import Candle, Tape, TopOfBook, Trade, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer, raw_response
from cryptows.sim.tape import MONTH, WEEK, Interval, period_close, period_open
from cryptows.sim.universe import LISTINGS, lot_of, symbol_of, tick_of

_TOPIC = re.compile(r"(orderbook\.(?:1|50|200|1000)|tickers|publicTrade|kline\.([^.]+))\.([^.]+)")
"""A topic: group 1 the channel (``kline.5`` with its interval), 2 a kline's interval, 3 the
symbol."""
_MAX_ARGS = 10
_CROSS_SEQ_BASE = 40_000_000_000
"""``seq``/``cs`` are Bybit's cross sequence, a large integer; the engine's sequence is added."""
_MINUTE_MS = 60_000
_INTERVALS: dict[str, Interval] = {
    **{str(m): m * _MINUTE_MS for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
    "D": 1_440 * _MINUTE_MS,
    "W": WEEK,  # Monday 00:00 UTC on
    "M": MONTH,  # the 1st, 00:00 UTC on
}
"""Bybit's kline intervals (stream and REST): their length in ms, or a calendar period."""
_BOOK_PUSH_S: dict[str, float] = {
    "orderbook.1": 0.01,
    "orderbook.50": 0.02,
    "orderbook.200": 0.1,
    "orderbook.1000": 0.2,
}
"""Spot push frequencies by depth (docs, "Depths"): at most one push per this long."""
_NON_SPOT = ("linear", "inverse", "option")


def _price(value: float, tick: float) -> str:
    return f"{value:.{decimals(tick)}f}"


def _qty(value: float, lot: float) -> str:
    return f"{value:.{decimals(lot)}f}"


@dataclass(slots=True)
class _Sent:
    """What was last pushed on one book topic: the snapshot/delta chain continues from it."""

    u: int
    at: float
    """Monotonic time of the push."""
    cts: int
    bids: list[Level] = field(default_factory=list)
    asks: list[Level] = field(default_factory=list)


@dataclass(slots=True)
class _TradesSent:
    """Where one ``publicTrade`` topic stands on the tape."""

    last_id: int
    last_price: float | None
    rising: bool
    """Whether the last price change was up (for ``ZeroPlusTick``/``ZeroMinusTick``)."""


class BybitSession(Session):
    """One client connection to simulated Bybit spot."""

    push_interval_s: ClassVar[float] = 0.05
    """Spot tickers push every 50 ms, the engine's step; the books ride along."""
    book_resend_s: ClassVar[float] = 3.0
    """An unchanged ``orderbook.1`` snapshot is pushed again after this long."""
    kline_push_s: ClassVar[float] = 1.0
    """The running candle is pushed this often (documented: every 1-60 s)."""
    idle_cut_s: ClassVar[float] = 600.0
    """With neither a ping from the client nor data from the server for this long, the
    connection is closed."""
    max_args_chars: ClassVar[int] = 21_000
    """Characters of subscribed args one connection may hold."""
    partial_subscribe: ClassVar[bool] = False
    """Whether a request refused for some topics still subscribes its valid ones."""

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        self.conn_id = str(uuid.uuid4())
        self.topics: dict[str, tuple[str, str]] = {}
        """Subscribed topic -> (canonical symbol, channel), in subscription order."""
        self.last_activity = time.monotonic()
        """When the client last pinged or the server last sent something."""
        self._book_sent: dict[str, _Sent] = {}
        self._ticker_sent: dict[str, dict[str, str]] = {}
        """topic -> the last ``data`` pushed."""
        self._trades_sent: dict[str, _TradesSent] = {}
        self._kline_sent: dict[str, tuple[float, int]] = {}
        """topic -> (monotonic time, candle start) of the last kline push."""

    # -- outgoing ---------------------------------------------------------------------------

    def on_sent(self) -> None:
        self.last_activity = time.monotonic()

    async def _reply(self, success: bool, ret_msg: str, request: dict[str, Any], op: str) -> None:
        body: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": self.conn_id}
        if "req_id" in request:
            body["req_id"] = request["req_id"]
        if op:
            body["op"] = op
        await self.send_json(body)

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        return list(self.topics.values())

    def resend_due(self, channel: str) -> bool:
        # Every channel keeps its own bookkeeping in frames(): level 1 repeats after 3 s, deeper
        # books and klines have their own cadence, trades and tickers follow the tape (a trade
        # does not always change the book's seq). So frames() is asked on every tick.
        return True

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        symbol = book.symbol.canonical
        topic = f"{channel}.{symbol}"
        if topic not in self.topics:
            return []
        if channel == "tickers":
            return self._ticker_frames(book, topic)
        if channel == "publicTrade":
            return self._trade_frames(book, topic)
        if channel.startswith("kline."):
            return self._kline_frames(book, topic, channel.removeprefix("kline."))
        if channel == "orderbook.1":
            return self._top_frames(book, topic)
        return self._depth_frames(book, topic, channel)

    def _push(self, body: dict[str, Any]) -> list[str]:
        return [json.dumps(body, separators=(",", ":"))]

    def _book_body(
        self,
        topic: str,
        kind: str,
        book: TopOfBook,
        sides: tuple[list[Level], list[Level]],
        cts: int,
        ts: int,
    ) -> dict[str, Any]:
        tick, lot = book.tick, lot_of(book.symbol.canonical)
        bids, asks = sides
        return {
            "topic": topic,
            "ts": ts,
            "type": kind,
            "data": {
                "s": book.symbol.canonical,
                "b": [[_price(p, tick), _qty(q, lot)] for p, q in bids],
                "a": [[_price(p, tick), _qty(q, lot)] for p, q in asks],
                "u": book.seq,
                "seq": _CROSS_SEQ_BASE + book.seq,
            },
            "cts": cts,
        }

    def _top_frames(self, book: TopOfBook, topic: str) -> list[str]:
        now = time.monotonic()
        last = self._book_sent.get(topic)
        cts = book.ts_ms
        if last is not None and last.u == book.seq:
            if now - last.at < self.book_resend_s:
                return []
            cts = last.cts  # the same snapshot again
        self._book_sent[topic] = _Sent(book.seq, now, cts)
        sides = [(book.bid, book.bid_size)], [(book.ask, book.ask_size)]
        return self._push(self._book_body(topic, "snapshot", book, sides, cts, wall_ms()))

    def _depth_frames(self, book: TopOfBook, topic: str, channel: str) -> list[str]:
        now = time.monotonic()
        last = self._book_sent.get(topic)
        if last is not None and (last.u == book.seq or now - last.at < _BOOK_PUSH_S[channel]):
            return []
        stamp = wall_ms()  # taken with ``now``: ``ts`` shows the push frequency kept
        levels = int(channel.removeprefix("orderbook."))
        depth = self.engine.depth(self.server.name, book.symbol.canonical, book.ts_ms, levels)
        self._book_sent[topic] = _Sent(book.seq, now, book.ts_ms, depth.bids, depth.asks)
        if last is None:
            sides = depth.bids, depth.asks
            return self._push(self._book_body(topic, "snapshot", book, sides, book.ts_ms, stamp))
        sides = changes(last.bids, depth.bids), changes(last.asks, depth.asks)
        return self._push(self._book_body(topic, "delta", book, sides, book.ts_ms, stamp))

    def _ticker_frames(self, book: TopOfBook, topic: str) -> list[str]:
        data = _ticker_data(book, with_top=False)
        if self._ticker_sent.get(topic) == data:
            return []
        self._ticker_sent[topic] = data
        body = {
            "topic": topic,
            "ts": wall_ms(),
            "type": "snapshot",
            "cs": _CROSS_SEQ_BASE + book.seq,
            "data": data,
        }
        return self._push(body)

    def _trade_frames(self, book: TopOfBook, topic: str) -> list[str]:
        symbol = book.symbol.canonical
        tape = self.engine.tape(self.server.name, symbol, book.ts_ms)
        state = self._trades_sent.get(topic)
        if state is None:  # the stream starts at the subscription: no history
            self._trades_sent[topic] = _start_of(tape)
            return []
        new = tape.since(state.last_id)
        if not new:
            return []
        tick, lot = book.tick, lot_of(symbol)
        data: list[dict[str, Any]] = []
        for trade in new:
            data.append(
                {
                    "T": trade.ts_ms,
                    "s": symbol,
                    "S": "Buy" if trade.buyer_taker else "Sell",
                    "v": _qty(trade.size, lot),
                    "p": _price(trade.price, tick),
                    "L": _tick_direction(state, trade),
                    "i": str(trade.id),
                    "BT": False,
                    "RPI": False,
                    "seq": trade.id,
                }
            )
            state.last_id = trade.id
        return self._push({"topic": topic, "type": "snapshot", "ts": wall_ms(), "data": data})

    def _kline_frames(self, book: TopOfBook, topic: str, interval: str) -> list[str]:
        now = time.monotonic()
        last = self._kline_sent.get(topic)
        if last is not None and now - last[0] < self.kline_push_s:
            return []
        symbol = book.symbol.canonical
        tape = self.engine.tape(self.server.name, symbol, book.ts_ms)
        stamp = wall_ms()
        candles = tape.candles(_INTERVALS[interval], stamp, limit=2)
        current = candles[-1]
        out: list[str] = []
        if last is not None and last[1] < current.open_ms:  # an interval ended since
            closed = [c for c in candles[:-1] if c.open_ms == last[1]]
            for candle in closed:
                out += self._kline_push(topic, book, interval, candle, stamp, confirm=True)
        out += self._kline_push(topic, book, interval, current, stamp, confirm=False)
        self._kline_sent[topic] = (now, current.open_ms)
        return out

    def _kline_push(
        self,
        topic: str,
        book: TopOfBook,
        interval: str,
        candle: Candle,
        stamp: int,
        *,
        confirm: bool,
    ) -> list[str]:
        tick, lot = book.tick, lot_of(book.symbol.canonical)
        data = {
            "start": candle.open_ms,
            "end": period_close(candle.open_ms, _INTERVALS[interval]),
            "interval": interval,
            "open": _price(candle.open, tick),
            "close": _price(candle.close, tick),
            "high": _price(candle.high, tick),
            "low": _price(candle.low, tick),
            "volume": _qty(candle.volume, lot),
            "turnover": f"{candle.quote_volume:.8f}",
            "confirm": confirm,
            "timestamp": stamp,
        }
        return self._push({"topic": topic, "data": [data], "ts": stamp, "type": "snapshot"})

    # -- incoming ---------------------------------------------------------------------------

    async def on_message(self, message: str | bytes) -> None:
        try:
            request = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            await self._reply(False, "Invalid request: malformed JSON", {}, "")
            return
        if not isinstance(request, dict):
            await self._reply(False, "Invalid request: expected a JSON object", {}, "")
            return
        op = request.get("op")
        if op == "ping":
            if not self.server.faults.no_pong:
                self.last_activity = time.monotonic()
                await self._reply(True, "pong", request, "ping")
        elif op in ("subscribe", "unsubscribe"):
            await self._subscription(op, request)
        else:
            name = op if isinstance(op, str) else ""
            await self._reply(False, f"Invalid op :[{name}]", request, name)

    async def _subscription(self, op: str, request: dict[str, Any]) -> None:
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            await self._reply(False, "Invalid args: a non-empty list of topics", request, op)
            return
        if len(args) > _MAX_ARGS:
            await self._reply(False, f"args size >{_MAX_ARGS}", request, op)
            return
        topics = list(dict.fromkeys(args))
        if op == "unsubscribe":
            for topic in topics:  # before the ack: nothing of these topics follows it
                self._forget(topic)
            await self._reply(True, "unsubscribe", request, op)
            return
        parsed = {t: _TOPIC.fullmatch(t) for t in topics}
        bad_form = [t for t, m in parsed.items() if m is None]
        bad_interval = [
            t
            for t, m in parsed.items()
            if m is not None and m[2] is not None and m[2] not in _INTERVALS
        ]
        bad_symbol = [t for t, m in parsed.items() if m is not None and not self._accepts(m[3])]
        bad = set(bad_form) | set(bad_interval) | set(bad_symbol)
        good = [t for t in topics if t not in bad]
        if bad:
            if bad_form:
                text = f"Invalid topic :[{' '.join(bad_form)}]"
            elif bad_interval:
                text = f"Invalid kline type :[{' '.join(bad_interval)}]"
            else:
                text = f"Invalid symbol :[{' '.join(bad_symbol)}]"
            await self._reply(False, text, request, op)
            if self.partial_subscribe:
                self._add(good, parsed)
            return
        new = [t for t in good if t not in self.topics]
        if not new:
            return  # a duplicate subscribe gets no reply at all
        held = sum(_arg_chars(t) for t in self.topics)
        if held + sum(_arg_chars(t) for t in new) > self.max_args_chars:
            await self._reply(
                False,
                f"args length exceeds {self.max_args_chars} characters per connection",
                request,
                op,
            )
            return
        await self._reply(True, "subscribe", request, op)  # the ack comes before any push
        self._add(new, parsed)

    def _accepts(self, symbol: str) -> bool:
        return self.server.listed(symbol) and symbol not in self.server.faults.rejected

    def _add(self, topics: list[str], parsed: dict[str, re.Match[str] | None]) -> None:
        for topic in topics:
            match = parsed[topic]
            if match is not None and topic not in self.topics:
                self._forget(topic)  # a fresh snapshot (and trade start) comes at once
                self.topics[topic] = (match[3], match[1])

    def _forget(self, topic: str) -> None:
        """Drop ``topic`` and everything pushed on it."""
        gone = self.topics.pop(topic, None)
        if gone is not None:
            self._sent_seq.pop(gone, None)
        self._book_sent.pop(topic, None)
        self._ticker_sent.pop(topic, None)
        self._trades_sent.pop(topic, None)
        self._kline_sent.pop(topic, None)

    async def periodic(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_cut_s / 4))
            if time.monotonic() - self.last_activity > self.idle_cut_s:
                with contextlib.suppress(ConnectionClosed):
                    await self.ws.close(1000, "idle timeout")
                return


def _arg_chars(topic: str) -> int:
    """What one topic costs against the per-connection limit: itself, its quotes, a comma."""
    return len(topic) + 3


def _start_of(tape: Tape) -> _TradesSent:
    """A trade stream starting after the tape's last trade, knowing its tick direction."""
    trades = list(tape.trades)
    last = trades[-1].price if trades else None
    rising = True
    for before, after in zip(reversed(trades[:-1]), reversed(trades), strict=False):
        if after.price != before.price:
            rising = after.price > before.price
            break
    return _TradesSent(tape.last_id, last, rising)


def _tick_direction(state: _TradesSent, trade: Trade) -> str:
    """Bybit's ``L`` of ``trade`` after the trades ``state`` has seen, and note it there."""
    if state.last_price is not None and trade.price != state.last_price:
        state.rising = trade.price > state.last_price
        state.last_price = trade.price
        return "PlusTick" if state.rising else "MinusTick"
    state.last_price = trade.price
    return "ZeroPlusTick" if state.rising else "ZeroMinusTick"


def _ticker_data(book: TopOfBook, *, with_top: bool) -> dict[str, str]:
    """A spot ticker: the stream's (no bid/ask) or REST's (``bid1Price``... first)."""
    tick, lot = book.tick, lot_of(book.symbol.canonical)
    last, prev = book.last, book.open_24h
    data = {"symbol": book.symbol.canonical}
    if with_top:
        data |= {
            "bid1Price": _price(book.bid, tick),
            "bid1Size": _qty(book.bid_size, lot),
            "ask1Price": _price(book.ask, tick),
            "ask1Size": _qty(book.ask_size, lot),
        }
    stats = {
        "lastPrice": _price(last, tick),
        "highPrice24h": _price(book.high_24h, tick),
        "lowPrice24h": _price(book.low_24h, tick),
        "prevPrice24h": _price(prev, tick),
        "volume24h": _qty(book.volume_24h, lot),
        "turnover24h": f"{book.quote_volume_24h:.8f}",
        "price24hPcnt": f"{last / prev - 1:.4f}",  # a fraction, not percent
        # The base coin's USD index; "" for coins that are not collateral (here: any book not
        # quoted in a USD stablecoin).
        "usdIndexPrice": f"{last:.7f}" if book.symbol.quote in ("USDT", "USDC") else "",
    }
    return data | stats


class BybitSim(SimVenueServer):
    """Simulated ``stream.bybit.com`` (spot) + ``api.bybit.com`` on one loopback port."""

    name: ClassVar[str] = "bybit"
    profile: ClassVar[VenueProfile] = VenueProfile(
        listings=LISTINGS["bybit"],
        half_spread_bps=0.6,
        base_volume_usd=0.8e9,
    )
    """No USD books (USDT and USDC ones instead)."""
    session_class: ClassVar[type[Session]] = BybitSession
    ws_path: ClassVar[str] = "/v5/public/spot"

    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        args = {key: values[0] for key, values in query.items() if values}
        category = args.get("category", "")
        if path == "/v5/market/time":
            ns = time.time_ns() + self.faults.clock_skew_ms * 1_000_000
            now = {"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)}
            return 200, _envelope(0, "OK", now)
        handler = {
            "/v5/market/instruments-info": self._instruments,
            "/v5/market/tickers": self._tickers,
            "/v5/market/orderbook": self._orderbook,
            "/v5/market/recent-trade": self._recent_trades,
            "/v5/market/kline": self._klines,
        }.get(path)
        if handler is None:
            return None
        if category not in ("spot", *_NON_SPOT) or (
            path == "/v5/market/kline" and category == "option"
        ):
            return 200, _envelope(10001, "Illegal category", {})
        symbol = args.get("symbol", "")
        if category != "spot":
            # No derivatives here: a list of them is empty, a named one does not exist.
            if symbol or path in ("/v5/market/orderbook", "/v5/market/kline"):
                return 200, _envelope(10001, "params error: symbol invalid", {})
            empty: dict[str, Any] = {"category": category, "list": []}
            if path == "/v5/market/instruments-info":
                empty["nextPageCursor"] = ""
            return 200, _envelope(0, "OK", empty)
        return 200, handler(symbol, args)

    def not_found(self, path: str) -> Response:
        # api.bybit.com answers an unknown path with HTTP 404 and an empty body.
        return raw_response(404)

    # -- spot REST --------------------------------------------------------------------------

    def _instruments(self, wanted: str, args: dict[str, str]) -> dict[str, Any]:
        items = [
            self._instrument(s, number)
            for number, s in enumerate(sorted(self.engine.listings(self.name)), 1)
            if self.listed(s) and (not wanted or s == wanted)
        ]
        return _envelope(0, "OK", {"category": "spot", "list": items})

    def _tickers(self, wanted: str, args: dict[str, str]) -> dict[str, Any]:
        if wanted and not self.listed(wanted):
            return _envelope(10001, "Not supported symbols", {})
        now = wall_ms()
        symbols = [wanted] if wanted else self.listed_symbols()
        items = [_ticker_data(self.engine.book(self.name, s, now), with_top=True) for s in symbols]
        return _envelope(0, "OK", {"category": "spot", "list": items})

    def _orderbook(self, symbol: str, args: dict[str, str]) -> dict[str, Any]:
        if not self.listed(symbol):
            return _envelope(10001, "params error: symbol invalid", {})
        levels = min(200, max(1, _int(args.get("limit"), 1)))
        depth = self.engine.depth(self.name, symbol, wall_ms(), levels)
        tick, lot = tick_of(symbol), lot_of(symbol)
        result = {
            "s": symbol,
            "b": [[_price(p, tick), _qty(q, lot)] for p, q in depth.bids],
            "a": [[_price(p, tick), _qty(q, lot)] for p, q in depth.asks],
            "ts": wall_ms(),
            "u": depth.seq,
            "seq": _CROSS_SEQ_BASE + depth.seq,
            "cts": depth.ts_ms,
        }
        return _envelope(0, "OK", result)

    def _recent_trades(self, symbol: str, args: dict[str, str]) -> dict[str, Any]:
        if not self.listed(symbol):
            return _envelope(10001, "params error: symbol invalid", {})
        limit = min(60, max(1, _int(args.get("limit"), 60)))
        tape = self.engine.tape(self.name, symbol, wall_ms())
        tick, lot = tick_of(symbol), lot_of(symbol)
        items = [
            {
                "execId": str(t.id),
                "symbol": symbol,
                "price": _price(t.price, tick),
                "size": _qty(t.size, lot),
                "side": "Buy" if t.buyer_taker else "Sell",
                "time": str(t.ts_ms),
                "isBlockTrade": False,
            }
            for t in reversed(list(tape.trades)[-limit:])
        ]
        return _envelope(0, "OK", {"category": "spot", "list": items})

    def _klines(self, symbol: str, args: dict[str, str]) -> dict[str, Any]:
        if not self.listed(symbol):
            return _envelope(10001, "params error: symbol invalid", {})
        interval = args.get("interval", "")
        if interval not in _INTERVALS:
            return _envelope(10001, "Invalid period!", {})
        now = wall_ms()
        tape = self.engine.tape(self.name, symbol, now)
        start, end = args.get("start"), args.get("end")
        period = _INTERVALS[interval]
        candles = tape.candles(
            period,
            now,
            limit=min(1000, max(1, _int(args.get("limit"), 200))),
            start_ms=None if start is None else period_open(_int(start, 0), period),
            end_ms=None if end is None else _int(end, now),
        )
        tick, lot = tick_of(symbol), lot_of(symbol)
        rows = [
            [
                str(c.open_ms),
                _price(c.open, tick),
                _price(c.high, tick),
                _price(c.low, tick),
                _price(c.close, tick),
                _qty(c.volume, lot),
                f"{c.quote_volume:.8f}",
            ]
            for c in reversed(candles)
        ]
        return _envelope(0, "OK", {"category": "spot", "symbol": symbol, "list": rows})

    def _instrument(self, canonical: str, number: int) -> dict[str, Any]:
        sym, tick, lot = symbol_of(canonical), tick_of(canonical), lot_of(canonical)
        return {
            "symbolId": number,
            "symbol": canonical,
            "baseCoin": sym.base,
            "quoteCoin": sym.quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": _qty(lot, lot),
                "quotePrecision": "0.00000001",
                "minOrderQty": _qty(lot, lot),
                "maxOrderQty": "1000000",
                "minOrderAmt": "5",
                "maxOrderAmt": "8000000",
                "maxLimitOrderQty": "1000000",
                "maxMarketOrderQty": "500000",
                "postOnlyMaxLimitOrderSize": "1000000",
            },
            "priceFilter": {"tickSize": _price(tick, tick)},
            "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
            "symbolType": "",
        }


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _envelope(code: int, message: str, result: Any) -> dict[str, Any]:
    return {
        "retCode": code,
        "retMsg": message,
        "result": result,
        "retExtInfo": {},
        "time": wall_ms(),
    }


SIMULATOR = BybitSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
