"""Simulated Binance spot: the server side of ``cryptows.venues.binance``, and a drop-in
``stream.binance.com`` + ``api.binance.com`` for any client (ccxt included).

Speaks the real protocol (developers.binance.com, spot ``web-socket-streams`` and ``rest-api``
docs): raw streams on ``/ws`` and ``/ws/<stream>`` (``/ws/<anything>`` is accepted, as ccxt's
``/ws/0`` is), combined streams on ``/stream`` and ``/stream?streams=a/b`` (events wrapped as
``{"stream", "data"}``); ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` with
``{"result": null, "id": N}`` acks and ``{"error": {"code", "msg"}, "id"}`` errors; a stream name
that is not one of the documented ones gets ``Invalid request: invalid stream``; an unknown but
well-formed symbol (or one ``rejected`` by a fault) is acked and then silent, as on the real
venue; more than 5 client messages in a second (ping and pong frames included) closes the
connection; protocol pings every 20 s.

Streams (all from the one market engine, prices on the book's tick as decimal strings):

- ``<s>@bookTicker``: on every change of the top of book (``u`` is the book's update id; spot
  carries no event time);
- ``<s>@ticker``, ``<s>@miniTicker``, ``<s>@ticker_<1h|4h|1d>`` (rolling window),
  ``<s>@avgPrice``: every 1000 ms;
- ``<s>@depth`` / ``<s>@depth@100ms``: ``depthUpdate`` diffs every 1000 / 100 ms, each from the
  previous one's ``u`` + 1 (``U``) to the book's current update id (``u``), so a client that
  buffers them and applies them after a REST ``/api/v3/depth`` snapshot (whose ``lastUpdateId``
  is that same id) rebuilds the book exactly. A diff also takes every book the server handed
  out between its ``U`` and ``u`` to ``u`` (see :meth:`BinanceSim.between`), so a snapshot
  taken in the middle of a diff's range is corrected too;
- ``<s>@depth<5|10|20>[@100ms]``: the top levels, ``{lastUpdateId, bids, asks}``;
- ``<s>@trade`` and ``<s>@aggTrade``: every trade of the engine's tape, ids as the tape's (one
  aggregate per trade: ``a`` = ``f`` = ``l``);
- ``<s>@kline_<interval>``: the running candle every 2000 ms (1000 ms for ``1s``), and the
  closed one with ``x: true`` as soon as its interval ends.

The simulated books are 1000 levels deep a side (the depth a diff stream maintains); REST depth
returns at most that many, as the real one does for a thin book.

REST (``application/json``; errors ``{"code", "msg"}`` with HTTP 400, e.g. an unknown symbol is
``-1121 Invalid symbol.``): ``/api/v3/ping``, ``time``, ``exchangeInfo`` (filters from the
book's tick and lot, ``?symbol=`` / ``?symbols=``), ``depth``, ``trades``, ``aggTrades``,
``klines``, ``uiKlines``, ``avgPrice``, ``ticker/24hr``, ``ticker/price``,
``ticker/bookTicker``, ``ticker`` (rolling window). The futures and options hosts a client asks
at start-up answer on the same port with no instruments (``/fapi/v1/exchangeInfo``,
``/dapi/v1/exchangeInfo``, ``/eapi/v1/exchangeInfo``); any other path gets the real host's
nginx ``404 Not Found`` HTML page.

Why this module is over 400 lines: it is the venue's whole public market-data surface, WebSocket
and REST, which must agree with each other (update ids, trade ids, candles), so it is kept in
one place.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.frames import Opcode
from websockets.http11 import Response

from cryptows.clock import wall_ms
from cryptows.sim.depth import Depth, Level, changes
from cryptows.sim.market import Candle, Tape, TopOfBook, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer, raw_response
from cryptows.sim.tape import MONTH, WEEK, Interval, choose, period_close, period_open
from cryptows.sim.universe import LISTINGS, lot_of, symbol_of, tick_of

_INTERVALS: dict[str, Interval] = {
    "1s": 1_000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000,
    "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000,
    "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000,
    "1w": WEEK, "1M": MONTH,
}  # fmt: skip
"""Kline intervals (web-socket-streams, Kline/Candlestick Streams): their length in ms, or a
calendar period (weeks from Monday 00:00 UTC, months)."""
_DAY_MS = 86_400_000
_STREAM = re.compile(
    r"([a-z0-9]+)@(bookTicker|ticker|miniTicker|avgPrice|aggTrade|trade"
    r"|depth(?:5|10|20)?(?:@100ms)?|ticker_(?:1h|4h|1d)"
    r"|kline_(?:" + "|".join(_INTERVALS) + "))"
)
"""Every documented per-symbol stream name; anything else is an invalid stream."""
_MAX_MESSAGES_PER_S = 5
_BOOK_LEVELS = 1000
"""Levels a side of a simulated book: what diff streams maintain and REST depth returns."""
_KEEP_LADDERS = 64
"""Recent books (by update id) kept per symbol, for the levels a diff must also carry."""
_MAX_DEPTH_LIMIT = 5000
_NOT_FOUND_HTML = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
"""What api.binance.com answers for a path it does not serve (nginx's page, as quoted in
sammchardy/python-binance#1316)."""
_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
_ORDER_TYPES = [
    "LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]  # fmt: skip
_WINDOW = re.compile(r"([1-9][0-9]?)([mhd])")
_WINDOW_MAX = {"m": 59, "h": 23, "d": 7}
_WINDOW_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": _DAY_MS}


def _num(value: float, places: int = 8) -> str:
    return f"{value:.{places}f}"


def _px(value: float, tick: float) -> str:
    """``value`` on the tick grid, written with Binance's 8 decimals (more for a finer tick)."""
    return _num(round(value / tick) * tick, max(8, decimals(tick)))


def _levels(levels: Iterable[Level], tick: float) -> list[list[str]]:
    return [[_px(price, tick), _num(size)] for price, size in levels]


class _BadRequest(Exception):
    """A REST request Binance refuses: HTTP 400 with ``{"code", "msg"}``."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def _mandatory(name: str) -> _BadRequest:
    return _BadRequest(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


class BinanceSession(Session):
    """One client connection to simulated Binance."""

    push_interval_s: ClassVar[float] = 0.1

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        assert isinstance(server, BinanceSim)
        self.sim = server
        parts = urlsplit(ws.request.path if ws.request else "/ws")
        self.combined = parts.path.startswith("/stream")
        self.streams: list[str] = []
        self._recent: deque[float] = deque()
        self._closing: asyncio.Task[None] | None = None
        self._pushed: dict[str, float] = {}
        """Stream -> monotonic time of its last timed push."""
        self._diff: dict[str, tuple[int, list[Level], list[Level]]] = {}
        """Diff stream -> (update id, bids, asks) of what it last brought the client to."""
        self._trade_id: dict[str, int] = {}
        """Trade stream -> id of the last trade sent."""
        self._kline_open: dict[str, int] = {}
        """Kline stream -> open time of the candle last sent."""
        self._parsed: dict[str, tuple[str, str] | None] = {}
        """Stream name -> (canonical symbol, channel) it streams, ``None`` if none we serve."""
        initial: list[str] = []
        if parts.path.startswith("/ws/"):
            initial = parts.path.removeprefix("/ws/").split("/")
        elif self.combined:
            initial = "/".join(parse_qs(parts.query).get("streams", [])).split("/")
        for stream in initial:
            if _STREAM.fullmatch(stream) and stream not in self.streams:
                self.streams.append(stream)
                self._prime(stream)

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        rejected = self.server.faults.rejected
        for stream in self.streams:
            if stream not in self._parsed:
                match = _STREAM.fullmatch(stream)
                self._parsed[stream] = (
                    (match.group(1).upper(), match.group(2)) if match is not None else None
                )
            pair = self._parsed[stream]
            if pair is not None and pair[0] not in rejected:
                yield pair

    def resend_due(self, channel: str) -> bool:
        # Only bookTicker follows the book's update id; every other stream has a cadence of its
        # own or follows the tape, and ``frames`` decides.
        return channel != "bookTicker"

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        stream = f"{book.symbol.canonical.lower()}@{channel}"
        payloads = self._payloads(book, channel, stream)
        if self.combined:
            return [_dumps({"stream": stream, "data": p}) for p in payloads]
        return [_dumps(p) for p in payloads]

    def _payloads(self, book: TopOfBook, channel: str, stream: str) -> list[dict[str, Any]]:
        symbol = book.symbol.canonical
        if channel == "bookTicker":
            return [_book_ticker(book)]
        if channel in ("ticker", "miniTicker", "avgPrice") or channel.startswith("ticker_"):
            if not self._due(stream, 1.0):  # the real streams update every 1000 ms
                return []
            if channel == "avgPrice":
                tape = self.engine.tape(self.server.name, symbol, book.ts_ms)
                price, last_ms = _average(tape, book, wall_ms())
                w = _num(price, max(8, decimals(book.tick)))
                return [
                    {"e": "avgPrice", "E": wall_ms(), "s": symbol, "i": "5m", "w": w, "T": last_ms}
                ]
            return [self.sim.ticker_event(book, channel)]
        if channel.startswith("depth"):
            if not self._due(stream, 0.1 if channel.endswith("@100ms") else 1.0):
                return []
            levels = channel.removeprefix("depth").removesuffix("@100ms")
            if levels:
                ladder = self.sim.ladder(symbol, wall_ms())
                n = int(levels)
                return [
                    {
                        "lastUpdateId": ladder.seq,
                        "bids": _levels(ladder.bids[:n], book.tick),
                        "asks": _levels(ladder.asks[:n], book.tick),
                    }
                ]
            return self._depth_update(symbol, stream, book.tick)
        if channel in ("trade", "aggTrade"):
            return self._trades(symbol, stream, channel)
        return self._klines(symbol, stream, channel.removeprefix("kline_"))

    def _due(self, stream: str, period_s: float) -> bool:
        now = time.monotonic()
        last = self._pushed.get(stream)
        if last is not None and now - last < period_s - 0.01:
            return False
        self._pushed[stream] = now
        return True

    def _prime(self, stream: str) -> None:
        """Start ``stream``'s state at subscribe time: a diff stream starts from the book as it
        is now (so its first ``U`` is at most a snapshot's ``lastUpdateId`` + 1 for any
        snapshot taken after the ack), a trade stream after the latest trade."""
        match = _STREAM.fullmatch(stream)
        if match is None:
            return
        symbol, channel = match.group(1).upper(), match.group(2)
        if not self.server.listed(symbol):
            return
        if channel in ("depth", "depth@100ms"):
            ladder = self.sim.ladder(symbol, wall_ms())
            self._diff[stream] = (ladder.seq, ladder.bids, ladder.asks)
        elif channel in ("trade", "aggTrade"):
            self._trade_id[stream] = self.engine.tape(self.server.name, symbol, wall_ms()).last_id

    def _depth_update(self, symbol: str, stream: str, tick: float) -> list[dict[str, Any]]:
        ladder = self.sim.ladder(symbol, wall_ms())
        state = self._diff.get(stream)
        self._diff[stream] = (ladder.seq, ladder.bids, ladder.asks)
        if state is None or state[0] >= ladder.seq:
            return []  # (re)started now, or nothing changed since the last diff
        seq, bids, asks = state
        between_bids, between_asks = self.sim.between(symbol, seq, ladder.seq)
        return [
            {
                "e": "depthUpdate",
                "E": wall_ms(),
                "s": symbol,
                "U": seq + 1,
                "u": ladder.seq,
                "b": _levels(_delta(bids, ladder.bids, between_bids), tick),
                "a": _levels(_delta(asks, ladder.asks, between_asks), tick),
            }
        ]

    def _trades(self, symbol: str, stream: str, channel: str) -> list[dict[str, Any]]:
        tape = self.engine.tape(self.server.name, symbol, wall_ms())
        after = self._trade_id.get(stream)
        self._trade_id[stream] = tape.last_id
        if after is None:
            return []
        tick, now = tick_of(symbol), wall_ms()
        out: list[dict[str, Any]] = []
        for t in tape.since(after):
            if channel == "trade":
                out.append(
                    {"e": "trade", "E": now, "s": symbol, "t": t.id, "p": _px(t.price, tick),
                     "q": _num(t.size), "T": t.ts_ms, "m": not t.buyer_taker, "M": True}
                )  # fmt: skip
            else:
                out.append(
                    {"e": "aggTrade", "E": now, "s": symbol, "a": t.id, "p": _px(t.price, tick),
                     "q": _num(t.size), "f": t.id, "l": t.id, "T": t.ts_ms,
                     "m": not t.buyer_taker, "M": True}
                )  # fmt: skip
        return out

    def _klines(self, symbol: str, stream: str, interval: str) -> list[dict[str, Any]]:
        now = wall_ms()
        tape = self.engine.tape(self.server.name, symbol, now)
        [current] = _candles(tape, interval, now, limit=1)
        opened = self._kline_open.get(stream)
        out: list[dict[str, Any]] = []
        if opened is not None and current.open_ms > opened:
            # The candle last sent has closed: send its final form at once, marked closed.
            [closed] = _candles(tape, interval, now, start_ms=opened, end_ms=opened, limit=1)
            out.append(_kline_event(symbol, interval, closed, tape, now, closed=True))
            self._pushed.pop(stream, None)
        if self._due(stream, 1.0 if interval == "1s" else 2.0):
            out.append(_kline_event(symbol, interval, current, tape, now, closed=False))
            self._kline_open[stream] = current.open_ms
        return out

    async def on_message(self, message: str | bytes) -> None:
        if not self._within_rate_limit():
            await self.ws.close(1008, "Too many requests")
            return
        try:
            request = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            await self._error(3, "Invalid JSON: expected value at line 1 column 1", None)
            return
        if not isinstance(request, dict):
            await self._error(2, "Invalid request: expected an object", None)
            return
        req_id = request.get("id")
        if not _valid_id(req_id) or "id" not in request:
            await self._error(2, "Invalid request: request ID must be an unsigned integer", None)
            return
        method = request.get("method")
        if method is None:
            await self._error(2, "Invalid request: missing field `method`", req_id)
        elif method == "LIST_SUBSCRIPTIONS":
            await self.send_json({"result": list(self.streams), "id": req_id})
        elif method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            await self._subscription(method, request.get("params"), req_id)
        else:
            await self._error(
                2,
                f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                req_id,
            )

    async def _subscription(self, method: str, params: object, req_id: object) -> None:
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            await self._error(2, "Invalid request: invalid stream", req_id)
            return
        if not all(_STREAM.fullmatch(stream) for stream in params):
            await self._error(2, "Invalid request: invalid stream", req_id)
            return
        if method == "SUBSCRIBE":
            for stream in params:
                if stream not in self.streams:
                    self.streams.append(stream)
                    self._prime(stream)
        else:
            self.streams = [s for s in self.streams if s not in params]
            for stream in params:
                for state in (self._diff, self._trade_id, self._kline_open, self._pushed):
                    state.pop(stream, None)
        # A well-formed stream for a symbol that is not listed (or is `rejected` by a fault) is
        # acked and then stays silent: Binance's real reaction to an unknown symbol.
        await self.send_json({"result": None, "id": req_id})

    async def _error(self, code: int, msg: str, req_id: object) -> None:
        body: dict[str, Any] = {"error": {"code": code, "msg": msg}}
        if req_id is not None:
            body["id"] = req_id
        await self.send_json(body)

    def on_control_frame(self, opcode: Opcode) -> None:
        # "A message is considered: a PING frame, a PONG frame, a JSON controlled message".
        if not self._within_rate_limit() and self._closing is None:
            self._closing = asyncio.create_task(self.ws.close(1008, "Too many requests"))

    def _within_rate_limit(self) -> bool:
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > 1.0:
            self._recent.popleft()
        return len(self._recent) <= _MAX_MESSAGES_PER_S


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def _valid_id(req_id: object) -> bool:
    if req_id is None:
        return True
    if isinstance(req_id, bool):
        return False
    if isinstance(req_id, int):
        return -(2**63) <= req_id < 2**63
    return isinstance(req_id, str) and len(req_id) <= 36 and req_id.isalnum()


def _delta(old: list[Level], new: list[Level], between: list[list[Level]]) -> list[Level]:
    """The levels that take ``old`` to ``new``, and also take each book ``between`` them (one
    some client may hold as its snapshot) to ``new``: its levels gone from ``new`` at 0, and the
    levels of ``new`` it lacks or shows at another size."""
    out = dict(changes(old, new))
    for ladder in between:
        for price, size in changes(ladder, new):
            out.setdefault(price, size)
    return list(out.items())


def _book_ticker(book: TopOfBook) -> dict[str, Any]:
    return {
        "u": book.seq,
        "s": book.symbol.canonical,
        "b": _px(book.bid, book.tick),
        "B": _num(book.bid_size),
        "a": _px(book.ask, book.tick),
        "A": _num(book.ask_size),
    }


def _trade_span(tape: Tape) -> tuple[int, int, int]:
    """(first id, last id, count) of the trades the tape keeps; ``-1, -1, 0`` before any."""
    if not tape.trades:
        return -1, -1, 0
    first = tape.trades[0].id
    return first, tape.last_id, tape.last_id - first + 1


def _average(tape: Tape, book: TopOfBook, now_ms: int) -> tuple[float, int]:
    """The 5-minute volume-weighted average price and the last trade's time (``avgPrice``)."""
    recent = [t for t in tape.trades if t.ts_ms > now_ms - 300_000]
    volume = sum(t.size for t in recent)
    if not recent or volume <= 0:
        return book.last, tape.trades[-1].ts_ms if tape.trades else book.ts_ms
    return sum(t.price * t.size for t in recent) / volume, recent[-1].ts_ms


def _period_start(ts_ms: int, interval: str) -> int:
    """Open time of the ``interval`` candle holding ``ts_ms``."""
    return period_open(ts_ms, _INTERVALS[interval])


def _close_ms(open_ms: int, interval: str) -> int:
    return period_close(open_ms, _INTERVALS[interval])


def _candles(
    tape: Tape,
    interval: str,
    now_ms: int,
    *,
    limit: int,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> list[Candle]:
    """The tape's ``interval`` candles, oldest first, the last one running at ``now_ms``, chosen
    as :meth:`Tape.candles` chooses them (1 s candles from the trades the tape keeps)."""
    if interval == "1s":
        seconds = _second_candles(tape, now_ms)
        return choose(seconds, limit=limit, start_ms=start_ms, end_ms=end_ms)
    period = _INTERVALS[interval]
    return tape.candles(period, now_ms, limit=limit, start_ms=start_ms, end_ms=end_ms)


def _second_candles(tape: Tape, now_ms: int) -> list[Candle]:
    """1 s candles over the trades the tape keeps (flat seconds repeat the previous close), up to
    the second running at ``now_ms``."""
    trades = list(tape.trades)
    if not trades:
        [minute] = tape.candles(60_000, now_ms, limit=1)
        second = now_ms - now_ms % 1000
        return [Candle(second, *(minute.close,) * 4, 0.0, 0.0, 0)]
    out: list[Candle] = []
    second = trades[0].ts_ms - trades[0].ts_ms % 1000
    last_second = now_ms - now_ms % 1000
    i, price = 0, trades[0].price
    while second <= last_second:
        o = h = lo = c = price
        volume = quote = 0.0
        n = 0
        while i < len(trades) and trades[i].ts_ms < second + 1000:
            t = trades[i]
            if n == 0:
                o = h = lo = t.price
            h, lo, c = max(h, t.price), min(lo, t.price), t.price
            volume += t.size
            quote += t.size * t.price
            n += 1
            i += 1
        out.append(Candle(second, o, h, lo, c, volume, quote, n))
        price = c
        second += 1000
    return out


def _taker_buys(tape: Tape, open_ms: int, close_ms: int) -> tuple[float, float, int, int]:
    """Taker-buy base and quote volume, first and last trade id in a candle (from the trades the
    tape keeps; ids -1 when it holds none)."""
    inside = [t for t in tape.trades if open_ms <= t.ts_ms <= close_ms]
    base = sum(t.size for t in inside if t.buyer_taker)
    quote = sum(t.size * t.price for t in inside if t.buyer_taker)
    if not inside:
        return base, quote, -1, -1
    return base, quote, inside[0].id, inside[-1].id


def _kline_event(
    symbol: str, interval: str, c: Candle, tape: Tape, now_ms: int, *, closed: bool
) -> dict[str, Any]:
    tick = tick_of(symbol)
    close_ms = _close_ms(c.open_ms, interval)
    base, quote, first, last = _taker_buys(tape, c.open_ms, close_ms)
    return {
        "e": "kline",
        "E": now_ms,
        "s": symbol,
        "k": {
            "t": c.open_ms, "T": close_ms, "s": symbol, "i": interval, "f": first, "L": last,
            "o": _px(c.open, tick), "c": _px(c.close, tick), "h": _px(c.high, tick),
            "l": _px(c.low, tick), "v": _num(c.volume), "n": c.trades, "x": closed,
            "q": _num(c.quote_volume), "V": _num(base), "Q": _num(quote), "B": "0",
        },
    }  # fmt: skip


def _kline_row(symbol: str, interval: str, c: Candle, tape: Tape) -> list[Any]:
    tick = tick_of(symbol)
    close_ms = _close_ms(c.open_ms, interval)
    base, quote, _, _ = _taker_buys(tape, c.open_ms, close_ms)
    return [
        c.open_ms, _px(c.open, tick), _px(c.high, tick), _px(c.low, tick), _px(c.close, tick),
        _num(c.volume), close_ms, _num(c.quote_volume), c.trades, _num(base), _num(quote), "0",
    ]  # fmt: skip


class BinanceSim(SimVenueServer):
    """Simulated ``stream.binance.com`` + ``api.binance.com`` on one loopback port."""

    name: ClassVar[str] = "binance"
    profile: ClassVar[VenueProfile] = VenueProfile(
        listings=LISTINGS["binance"],
        half_spread_bps=0.4,
        base_volume_usd=2.0e9,
    )
    """No USD books (USDT, USDC and BTC ones instead), and the deepest, tightest books and the
    longest list of the four."""
    session_class: ClassVar[type[Session]] = BinanceSession
    ws_path: ClassVar[str] = "/stream"
    ping_interval_s: ClassVar[float | None] = 20.0
    ping_timeout_s: ClassVar[float | None] = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ladders: dict[str, OrderedDict[int, Depth]] = {}

    def accepts_path(self, path: str) -> bool:
        route = urlsplit(path).path
        return route in ("/ws", "/stream") or route.startswith("/ws/")

    # -- the books every stream and REST call share ----------------------------------------------

    def ladder(self, symbol: str, now_ms: int) -> Depth:
        """``symbol``'s whole book (:data:`_BOOK_LEVELS` a side) at ``now_ms``; kept by update
        id, so every connection and REST call that sees the same id sees the same book."""
        seq = self.engine.book(self.name, symbol, now_ms).seq
        kept = self._ladders.setdefault(symbol, OrderedDict())
        ladder = kept.get(seq)
        if ladder is None:
            ladder = self.engine.depth(self.name, symbol, now_ms, _BOOK_LEVELS)
            kept[ladder.seq] = ladder
            while len(kept) > _KEEP_LADDERS:
                kept.popitem(last=False)
        return ladder

    def between(
        self, symbol: str, after: int, before: int
    ) -> tuple[list[list[Level]], list[list[Level]]]:
        """The bid and ask sides of the books handed out with an update id strictly between
        ``after`` and ``before``: a diff from one to the other must also take each of them to
        ``before``, or a client that took its snapshot there keeps a level the book no longer
        has, or misses one it has again."""
        bids: list[list[Level]] = []
        asks: list[list[Level]] = []
        for seq, ladder in self._ladders.get(symbol, {}).items():
            if after < seq < before:
                bids.append(ladder.bids)
                asks.append(ladder.asks)
        return bids, asks

    # -- REST -----------------------------------------------------------------------------------

    def not_found(self, path: str) -> Response:
        # Binance answers an unknown path with nginx's HTML page, not JSON.
        return raw_response(404, _NOT_FOUND_HTML.encode(), "text/html")

    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        handler = _ROUTES.get(path)
        if handler is None:
            return None
        try:
            return 200, handler(self, {k: v[-1] for k, v in query.items() if v})
        except _BadRequest as err:
            return 400, {"code": err.code, "msg": err.msg}

    def _symbol(self, query: dict[str, str]) -> str:
        symbol = query.get("symbol")
        if not symbol:
            raise _mandatory("symbol")
        if not self.listed(symbol):
            raise _BadRequest(-1121, "Invalid symbol.")
        return symbol

    def _symbols(self, query: dict[str, str]) -> list[str] | None:
        """``symbol=`` or ``symbols=["A","B"]`` (each listed), or ``None`` when neither is sent."""
        if "symbol" in query:
            return [self._symbol(query)]
        raw = query.get("symbols")
        if raw is None:
            return None
        try:
            names = json.loads(raw)
        except ValueError:
            names = None
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise _BadRequest(-1100, "Illegal characters found in parameter 'symbols'.")
        for name in names:
            if not self.listed(name):
                raise _BadRequest(-1121, "Invalid symbol.")
        return list(dict.fromkeys(names))

    def _limit(self, query: dict[str, str], default: int, most: int) -> int:
        raw = query.get("limit")
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _BadRequest(-1100, "Illegal characters found in parameter 'limit'.") from None
        return max(1, min(value, most))

    def _time(self, query: dict[str, str], name: str) -> int | None:
        raw = query.get(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            raise _BadRequest(-1100, f"Illegal characters found in parameter '{name}'.") from None

    def _exchange_info(self, query: dict[str, str]) -> dict[str, Any]:
        chosen = self._symbols(query)
        names = chosen if chosen is not None else self.listed_symbols()
        return {
            "timezone": "UTC",
            "serverTime": self.server_time_ms(),
            "rateLimits": _RATE_LIMITS,
            "exchangeFilters": [],
            "symbols": [_symbol_info(name) for name in names],
        }

    def _depth(self, query: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(query)
        limit = self._limit(query, 100, _MAX_DEPTH_LIMIT)
        ladder = self.ladder(symbol, wall_ms())
        tick = tick_of(symbol)
        return {
            "lastUpdateId": ladder.seq,
            "bids": _levels(ladder.bids[:limit], tick),
            "asks": _levels(ladder.asks[:limit], tick),
        }

    def _recent_trades(self, query: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(query)
        limit = self._limit(query, 500, 1000)
        tape = self.engine.tape(self.name, symbol, wall_ms())
        tick = tick_of(symbol)
        return [
            {"id": t.id, "price": _px(t.price, tick), "qty": _num(t.size),
             "quoteQty": _num(t.price * t.size), "time": t.ts_ms,
             "isBuyerMaker": not t.buyer_taker, "isBestMatch": True}
            for t in list(tape.trades)[-limit:]
        ]  # fmt: skip

    def _agg_trades(self, query: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(query)
        limit = self._limit(query, 500, 1000)
        start, end = self._time(query, "startTime"), self._time(query, "endTime")
        from_id = self._time(query, "fromId")
        tape = self.engine.tape(self.name, symbol, wall_ms())
        tick = tick_of(symbol)
        trades = list(tape.trades)
        if from_id is not None:
            trades = [t for t in trades if t.id >= from_id][:limit]
        elif start is not None or end is not None:
            trades = [
                t
                for t in trades
                if (start is None or t.ts_ms >= start) and (end is None or t.ts_ms <= end)
            ][:limit]
        else:
            trades = trades[-limit:]
        return [
            {"a": t.id, "p": _px(t.price, tick), "q": _num(t.size), "f": t.id, "l": t.id,
             "T": t.ts_ms, "m": not t.buyer_taker, "M": True}
            for t in trades
        ]  # fmt: skip

    def _klines(self, query: dict[str, str]) -> list[list[Any]]:
        symbol = self._symbol(query)
        interval = query.get("interval")
        if not interval:
            raise _mandatory("interval")
        if interval not in _INTERVALS:
            raise _BadRequest(-1120, "Invalid interval.")
        limit = self._limit(query, 500, 1000)
        start, end = self._time(query, "startTime"), self._time(query, "endTime")
        now = wall_ms()
        tape = self.engine.tape(self.name, symbol, now)
        if start is not None:  # the first candle opening at or after it
            opened = _period_start(start, interval)
            start = opened if opened == start else _close_ms(opened, interval) + 1
        candles = _candles(tape, interval, now, limit=limit, start_ms=start, end_ms=end)
        return [_kline_row(symbol, interval, c, tape) for c in candles]

    def _avg_price(self, query: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(query)
        now = wall_ms()
        book = self.engine.book(self.name, symbol, now)
        price, last_ms = _average(self.engine.tape(self.name, symbol, now), book, now)
        return {"mins": 5, "price": _num(price, max(8, decimals(book.tick))), "closeTime": last_ms}

    def _each(self, query: dict[str, str], one: Any) -> Any:
        """``one(book)`` for the asked symbol (an object), or for each (a list)."""
        chosen = self._symbols(query)
        now = wall_ms()
        names = chosen if chosen is not None else self.listed_symbols()
        items = [one(self.engine.book(self.name, name, now)) for name in names]
        return items[0] if "symbol" in query else items

    def _ticker_24hr(self, query: dict[str, str]) -> Any:
        kind = query.get("type", "FULL")
        if kind not in ("FULL", "MINI"):
            raise _BadRequest(-1139, "Invalid ticker type.")
        return self._each(query, lambda book: self._stats(book, _DAY_MS, kind, full_day=True))

    def _ticker_rolling(self, query: dict[str, str]) -> Any:
        if "symbol" not in query and "symbols" not in query:
            raise _BadRequest(
                -1102, "Param 'symbol' or 'symbols' must be sent, but both were empty/null!"
            )
        kind = query.get("type", "FULL")
        if kind not in ("FULL", "MINI"):
            raise _BadRequest(-1139, "Invalid ticker type.")
        match = _WINDOW.fullmatch(query.get("windowSize", "1d"))
        if match is None or int(match.group(1)) > _WINDOW_MAX[match.group(2)]:
            raise _BadRequest(-1100, "Illegal characters found in parameter 'windowSize'.")
        window = int(match.group(1)) * _WINDOW_UNIT_MS[match.group(2)]
        return self._each(query, lambda book: self._stats(book, window, kind, full_day=False))

    def _price(self, query: dict[str, str]) -> Any:
        return self._each(
            query, lambda b: {"symbol": b.symbol.canonical, "price": _px(b.last, b.tick)}
        )

    def _book_ticker(self, query: dict[str, str]) -> Any:
        return self._each(
            query,
            lambda b: {
                "symbol": b.symbol.canonical,
                "bidPrice": _px(b.bid, b.tick),
                "bidQty": _num(b.bid_size),
                "askPrice": _px(b.ask, b.tick),
                "askQty": _num(b.ask_size),
            },
        )

    def window(self, book: TopOfBook, window_ms: int) -> dict[str, Any]:
        """Statistics of ``book`` over the rolling window: the engine's 24 h figures for a day or
        more (the tape keeps about a day), else the tape's minute candles since the window's
        opening minute."""
        symbol, now = book.symbol.canonical, book.ts_ms
        tape = self.engine.tape(self.name, symbol, now)
        first, last, count = _trade_span(tape)
        if window_ms >= _DAY_MS:
            return {
                "open": book.open_24h, "high": book.high_24h, "low": book.low_24h,
                "volume": book.volume_24h, "quote": book.quote_volume_24h,
                "open_ms": now - _DAY_MS, "first": first, "last": last, "count": count,
            }  # fmt: skip
        opened = now - window_ms
        opened -= opened % 60_000
        candles = tape.candles(60_000, now, limit=100_000, start_ms=opened)
        inside = [t for t in tape.trades if t.ts_ms >= opened]
        return {
            "open": candles[0].open if candles else book.last,
            "high": max((c.high for c in candles), default=book.last),
            "low": min((c.low for c in candles), default=book.last),
            "volume": sum(c.volume for c in candles),
            "quote": sum(c.quote_volume for c in candles),
            "open_ms": opened,
            "first": inside[0].id if inside else -1,
            "last": inside[-1].id if inside else -1,
            "count": len(inside),
        }

    def _stats(self, book: TopOfBook, window_ms: int, kind: str, *, full_day: bool) -> Any:
        s = self.window(book, window_ms)
        tick, last = book.tick, book.last
        volume, quote = s["volume"], s["quote"]
        body: dict[str, Any] = {"symbol": book.symbol.canonical}
        if kind == "FULL":
            body |= {
                "priceChange": _px(last - s["open"], tick),
                "priceChangePercent": f"{(last / s['open'] - 1) * 100:.3f}",
                "weightedAvgPrice": _px(quote / volume if volume > 0 else last, tick),
            }
            if full_day:
                tape = self.engine.tape(self.name, book.symbol.canonical, book.ts_ms)
                body |= {
                    "prevClosePrice": _px(s["open"], tick),
                    "lastPrice": _px(last, tick),
                    "lastQty": _num(tape.trades[-1].size if tape.trades else 0.0),
                    "bidPrice": _px(book.bid, tick),
                    "bidQty": _num(book.bid_size),
                    "askPrice": _px(book.ask, tick),
                    "askQty": _num(book.ask_size),
                }
        body |= {
            "openPrice": _px(s["open"], tick),
            "highPrice": _px(s["high"], tick),
            "lowPrice": _px(s["low"], tick),
            "lastPrice": _px(last, tick),
            "volume": _num(volume),
            "quoteVolume": _num(quote),
            "openTime": s["open_ms"],
            "closeTime": book.ts_ms,
            "firstId": s["first"],
            "lastId": s["last"],
            "count": s["count"],
        }
        return body

    def ticker_event(self, book: TopOfBook, channel: str) -> dict[str, Any]:
        """The ``24hrTicker``, ``24hrMiniTicker`` or ``<window>Ticker`` event of ``book``."""
        tick, last, now = book.tick, book.last, max(book.ts_ms, wall_ms())
        symbol = book.symbol.canonical
        window = _DAY_MS if channel in ("ticker", "miniTicker") else {
            "ticker_1h": 3_600_000, "ticker_4h": 14_400_000, "ticker_1d": _DAY_MS
        }[channel]  # fmt: skip
        s = self.window(book, window)
        common = {
            "E": now,  # the push time: pushed every second
            "s": symbol,
            "c": _px(last, tick),
            "o": _px(s["open"], tick),
            "h": _px(s["high"], tick),
            "l": _px(s["low"], tick),
            "v": _num(s["volume"]),
            "q": _num(s["quote"]),
        }
        if channel == "miniTicker":
            return {"e": "24hrMiniTicker", **common}
        change = {
            "p": _px(last - s["open"], tick),
            "P": f"{(last / s['open'] - 1) * 100:.3f}",  # already in percent
            "w": _px(s["quote"] / s["volume"] if s["volume"] > 0 else last, tick),
        }
        counts = {
            "O": s["open_ms"],
            "C": book.ts_ms,
            "F": s["first"],
            "L": s["last"],
            "n": s["count"],
        }
        if channel != "ticker":
            return {"e": channel.removeprefix("ticker_") + "Ticker", "E": now, "s": symbol,
                    **change, **{k: common[k] for k in "ohlcvq"}, **counts}  # fmt: skip
        tape = self.engine.tape(self.name, symbol, book.ts_ms)
        return {
            "e": "24hrTicker", "E": now, "s": symbol, **change,
            "x": _px(s["open"], tick), "c": common["c"],
            "Q": _num(tape.trades[-1].size if tape.trades else 0.0),
            "b": _px(book.bid, tick), "B": _num(book.bid_size),
            "a": _px(book.ask, tick), "A": _num(book.ask_size),
            **{k: common[k] for k in "ohlvq"}, **counts,
        }  # fmt: skip


def _symbol_info(canonical: str) -> dict[str, Any]:
    """One ``exchangeInfo`` symbol, in the documented shape, its filters from the book's tick and
    lot (key order and the other values as in the recorded BTCUSDT entry)."""
    sym = symbol_of(canonical)
    tick, lot = tick_of(canonical), lot_of(canonical)
    places = max(8, decimals(tick))
    btc_quoted = sym.quote == "BTC"
    return {
        "symbol": canonical,
        "status": "TRADING",
        "baseAsset": sym.base,
        "baseAssetPrecision": 8,
        "quoteAsset": sym.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": _ORDER_TYPES,
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "amendAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": _num(tick, places),
                "maxPrice": _num(1000.0 if btc_quoted else 1_000_000.0, places),
                "tickSize": _num(tick, places),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": _num(lot),
                "maxQty": "9000000.00000000",
                "stepSize": _num(lot),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": "9000000.00000000",
                "stepSize": "0.00000000",
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "5",
                "bidMultiplierDown": "0.2",
                "askMultiplierUp": "5",
                "askMultiplierDown": "0.2",
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": "0.00010000" if btc_quoted else "5.00000000",
                "applyMinToMarket": True,
                "maxNotional": "100.00000000" if btc_quoted else "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],  # fmt: skip
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": [
            "EXPIRE_TAKER",
            "EXPIRE_MAKER",
            "EXPIRE_BOTH",
            "DECREMENT",
        ],  # fmt: skip
    }


def _no_instruments(kind: str) -> Any:
    """A futures or options host's ``exchangeInfo`` listing nothing (the simulator is spot)."""

    def answer(sim: BinanceSim, query: dict[str, str]) -> dict[str, Any]:
        base: dict[str, Any] = {"timezone": "UTC", "serverTime": sim.server_time_ms()}
        if kind == "eapi":
            return base | {"optionContracts": [], "optionAssets": [], "optionSymbols": [],
                           "rateLimits": _RATE_LIMITS}  # fmt: skip
        extra = {"futuresType": "U_MARGINED", "assets": []} if kind == "fapi" else {}
        return base | extra | {"rateLimits": _RATE_LIMITS, "exchangeFilters": [], "symbols": []}

    return answer


_ROUTES: dict[str, Any] = {
    "/api/v3/ping": lambda sim, q: {},
    "/api/v3/time": lambda sim, q: {"serverTime": sim.server_time_ms()},
    "/api/v3/exchangeInfo": BinanceSim._exchange_info,
    "/api/v3/depth": BinanceSim._depth,
    "/api/v3/trades": BinanceSim._recent_trades,
    "/api/v3/aggTrades": BinanceSim._agg_trades,
    "/api/v3/klines": BinanceSim._klines,
    "/api/v3/uiKlines": BinanceSim._klines,
    "/api/v3/avgPrice": BinanceSim._avg_price,
    "/api/v3/ticker/24hr": BinanceSim._ticker_24hr,
    "/api/v3/ticker/price": BinanceSim._price,
    "/api/v3/ticker/bookTicker": BinanceSim._book_ticker,
    "/api/v3/ticker": BinanceSim._ticker_rolling,
    "/fapi/v1/exchangeInfo": _no_instruments("fapi"),
    "/dapi/v1/exchangeInfo": _no_instruments("dapi"),
    "/eapi/v1/exchangeInfo": _no_instruments("eapi"),
}
"""REST paths served, each ``(sim, query) -> JSON body`` (raising :class:`_BadRequest`)."""


SIMULATOR = BinanceSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
