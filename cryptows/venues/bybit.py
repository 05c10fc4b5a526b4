"""Bybit v5 spot public market data: ``orderbook.1.<SYM>`` (best bid/ask) + ``tickers.<SYM>``.

Protocol (bybit-exchange.github.io/docs/v5/ws/connect, .../v5/websocket/public/orderbook and
.../ticker; unofficial details from live captures are listed in tests/fixtures/bybit/SOURCES.md):

- Requests are ``{"req_id": "<id>", "op": "subscribe"|"unsubscribe", "args": [topic, ...]}``;
  spot takes at most 10 args per request, and one public connection at most 21,000 characters
  of args. Topics are case-sensitive: the symbol is upper case (``orderbook.1.BTCUSDT``).
- The spot ack is ``{"success": true, "ret_msg": "subscribe", "conn_id", "req_id", "op"}``
  (``ret_msg`` is empty on linear/inverse), so acks are told by ``op`` + ``success``. A refusal
  (undocumented) has ``"success": false`` and, on spot, ``ret_msg`` like ``Invalid symbol
  :[orderbook.1.NOPEUSDT]``; some refusals (``args size >10``) name no topic. A duplicate
  subscribe gets no reply at all.
- Heartbeat: the docs recommend an app-level ``{"req_id", "op": "ping"}`` every 20 s. The spot
  pong is ``{"success": true, "ret_msg": "pong", "conn_id", "op": "ping"}`` -- ``op`` is
  ``ping``, not ``pong`` -- with ``req_id`` echoed when sent; ``"op": "pong"`` (option, private)
  is accepted too. With neither pings nor data the server cuts a connection after ~10 min.
- ``orderbook.1`` is snapshot-only since 2025-03-20 and pushed every 10 ms on change (the same
  snapshot again every 3 s when nothing changes); older level-1 ``delta`` frames with one side
  empty (``"b": []``) are still read, the empty side giving ``None``. A level of size ``"0"``
  means the side is absent. Deeper books (``orderbook.50`` ...) are not ours: their deltas give
  no top of book without local book state, so they yield nothing.
- A push of any topic we do not read (``publicTrade``, ``kline``, ``orderbook.50``,
  ``orderbook.rpi`` whose levels have three elements, ...) yields nothing whatever its ``data``
  holds, provided the rest of the frame is well formed.
- Spot ``tickers`` (snapshot-only, every 50 ms) carry last price and 24 h volume but **no**
  bid/ask; ``bid1Price``/``ask1Price`` (linear/inverse shape) are read when present. ``""``
  means missing, never zero. ``ts`` (event time, ms) is top-level, outside ``data``.
  ``price24hPcnt`` is a fraction despite its name (``"0.0196"`` is +1.96 %: it equals
  ``lastPrice / prevPrice24h - 1`` in the docs' examples and in live captures).
- Numbers are strings (prices, sizes, volumes) or JSON integers (``ts``, ``u``, ``seq``).
- REST answers are ``{"retCode": 0, "retMsg": "OK", "result": ..., "time": <ms>}``; a non-zero
  ``retCode`` is an error. Spot instruments-info returns only ``Trading`` symbols, unpaginated.

Why this module is over 400 lines: it holds the venue's whole wire protocol, and the fast path
(typed per-kind decoding, :meth:`_parse_fast`) sits next to the full path it must agree with,
so a change to one is seen beside the other (``tests/unit/test_fast_parse.py`` compares them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from cryptows.models import Channel, Event, Heartbeat, HeartbeatKind, Quote, SubscriptionError
from cryptows.symbols import Symbol
from cryptows.venues.base import (
    Frame,
    FrameError,
    HeartbeatPolicy,
    Number,
    Op,
    Probe,
    VenueAdapter,
    VenueLimits,
    alnum_symbol,
    amount,
    decode_rest,
    require,
    signed,
)
from cryptows.venues.wire import WirePrice, WireSize

_BOOK_PREFIX = "orderbook."
_BOOK_DEPTH = "1"
_TICKER_PREFIX = "tickers."

_Value = str | float | int
"""A number inside a book level: a decimal string, or (tolerated) a JSON number."""

_TOPIC_IN_MESSAGE = re.compile(r"\[([^\]\s,]+)|topic:([^\s,\]]+)")
"""The topic named in an error text: ``Invalid symbol :[orderbook.1.X]`` (spot) or
``error:handler not found,topic:orderbook.50.X`` (linear)."""


class _Data(msgspec.Struct):
    """Union of the ``data`` objects we read (orderbook, tickers); other keys are ignored."""

    s: str | None = None
    b: list[tuple[_Value, _Value]] | None = None
    a: list[tuple[_Value, _Value]] | None = None
    symbol: str | None = None
    lastPrice: Number = None
    volume24h: Number = None
    price24hPcnt: Number = None
    bid1Price: Number = None
    bid1Size: Number = None
    ask1Price: Number = None
    ask1Size: Number = None


class _Envelope(msgspec.Struct):
    """Everything of a frame but its ``data``."""

    topic: str | None = None
    type: str | None = None
    ts: Number = None
    success: bool | None = None
    ret_msg: str = ""
    op: str | None = None
    req_id: str | int | None = None


class _Frame(_Envelope):
    """A topic push, an ack, an error or a pong."""

    # Spot data is an object; some topics we never ask for (publicTrade, kline) send an array.
    data: _Data | list[msgspec.Raw] | None = None


class _Head(_Envelope):
    """A frame with its ``data`` left undecoded: enough to ignore a topic we do not read whatever
    its data holds (``orderbook.rpi`` levels have three elements), and to read a reply."""

    data: msgspec.Raw | UnsetType = UNSET


# -- fast path (see ``BybitAdapter._parse_fast``) ----------------------------------------------
#
# Decoded with ``strict=False``: "106285.8" becomes a float, checked in C. Every field is at least
# as strict as the full path's, so whatever the fast path decodes the full path decodes too; a
# value the fast types refuse (``""``, ``"NaN"``, padded or Python-only spellings, ``null``)
# declines the frame, and the full path gives its reason. Beware lax mode's other coercions:
# "true" or 1 decode into a ``bool``, "null" into the ``None`` of an optional non-str type, so
# neither appears here (no ``bool``; see _MaybePrice). ``gc=False``: these structs live for one
# frame and hold no cycles.

_Absent = UnsetType
"""The type of a key the full path reads but a push never carries: absent it is ``UNSET``, and
any value fails the decode, so the frame declines to the full path."""

_WireTs = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
"""An epoch-ms timestamp (``1748980103101`` or ``"1748980103101"``). Up to 2**53 every integer
is a float, so it equals the full path's ``int(float(ts))``; anything larger declines."""

_WireFraction = Annotated[float, msgspec.Meta(ge=-1e300, le=1e300)]
"""A 24 h change as a fraction, of any sign, small enough that its percent (x 100) is finite for
sure; a larger one (absurd, or an overflow the full path reports) declines."""

_Level = tuple[WirePrice, WireSize]
"""A book level ``[price, size]``; another length declines."""

if TYPE_CHECKING:
    _MaybePrice = WirePrice | None
    _MaybeSize = WireSize | None
    _MaybeFraction = _WireFraction | None
    _MaybeLevels = list[_Level] | None
else:
    # msgspec sees the bare type with a default of None: None means the key is absent, while
    # null or "null" fail the decode. (With ``| None``, lax mode turns the string "null" into
    # None, where the full path refuses it.) mypy sees the ``| None``.
    _MaybePrice = WirePrice
    _MaybeSize = WireSize
    _MaybeFraction = _WireFraction
    _MaybeLevels = list[_Level]


class _FastData(msgspec.Struct, gc=False):
    """:class:`_Data` with the numbers decoded: an orderbook (``b`` set) or a tickers object."""

    b: _MaybeLevels = None
    a: _MaybeLevels = None
    s: str = ""
    symbol: str = ""
    lastPrice: _MaybePrice = None
    volume24h: _MaybeSize = None
    price24hPcnt: _MaybeFraction = None
    bid1Price: _MaybePrice = None
    bid1Size: _MaybeSize = None
    ask1Price: _MaybePrice = None
    ask1Size: _MaybeSize = None


class _FastPush(msgspec.Struct, gc=False):
    """An ``orderbook.1`` or ``tickers`` push (``ts`` required: every real one has it)."""

    topic: str
    ts: _WireTs
    data: _FastData
    type: str | None = None
    success: _Absent = UNSET
    ret_msg: _Absent = UNSET
    op: _Absent = UNSET
    req_id: _Absent = UNSET


class _TimeResult(msgspec.Struct):
    timeSecond: str | None = None
    timeNano: str | None = None


class _TimeAnswer(msgspec.Struct):
    retCode: int
    retMsg: str = ""
    result: _TimeResult | None = None
    time: int | None = None


class _Instrument(msgspec.Struct):
    symbol: str
    status: str


class _InstrumentList(msgspec.Struct):
    items: list[_Instrument] = msgspec.field(default_factory=list, name="list")


class _InstrumentsAnswer(msgspec.Struct):
    retCode: int
    retMsg: str = ""
    result: _InstrumentList | None = None


_decoder = msgspec.json.Decoder(_Frame)
_head_decoder = msgspec.json.Decoder(_Head)
_fast_decoder = msgspec.json.Decoder(_FastPush, strict=False)

_BOOK_TOPIC = f"{_BOOK_PREFIX}{_BOOK_DEPTH}."
_TOPIC_AT = len('{"topic":"')
_PUSH_MARKS = frozenset(
    {_BOOK_TOPIC[0], _TICKER_PREFIX[0], ord(_BOOK_TOPIC[0]), ord(_TICKER_PREFIX[0])}
)
"""The fast path's hint that a frame is a book or ticker push: ``frame[_TOPIC_AT]`` is the first
letter of the topic as the venue sends pushes (compact, topic first), ``o`` or ``t`` (an int in
bytes, a str in a str). Only a hint, cheaper than ``startswith``: the decoded topic decides (a
compact ``orderbook.50`` push is decoded too, then ignored or declined). Other frames (replies,
pretty-printed or reordered pushes) take the detour through :class:`_Head`."""

_BOOK_SYMBOLS: dict[str, tuple[str, str]] = {}
_TICKER_SYMBOLS: dict[str, tuple[str, str]] = {}
"""Fast-path caches: the symbol a push names in its data -> (the topic such a push has, the
canonical symbol), for valid symbols only."""
_SYMBOLS_MAX = 4096

_BOOK = Channel.BOOK
_TICKER = Channel.TICKER
"""Looked up once: looking up an enum member costs as much as a dict lookup."""


class BybitAdapter(VenueAdapter):
    """Bybit v5 spot (``stream.bybit.com/v5/public/spot``)."""

    name: ClassVar[str] = "bybit"
    display_name: ClassVar[str] = "Bybit"
    short_name: ClassVar[str] = "byb"
    default_ws_url: ClassVar[str] = "wss://stream.bybit.com/v5/public/spot"
    default_rest_url: ClassVar[str] = "https://api.bybit.com"
    # bybit.com fee schedule: VIP 0 (regular user) spot taker 0.1000 %.
    default_taker_fee_pct: ClassVar[float] = 0.10
    fee_source: ClassVar[str] = (
        "Source: bybit.com/en/help-center/article/Trading-Fee-Structure, VIP 0 spot taker 0.1000 %."
    )
    rest_time_path: ClassVar[str] = "/v5/market/time"
    rest_symbols_path: ClassVar[str] = "/v5/market/instruments-info?category=spot"
    heartbeat: ClassVar[HeartbeatPolicy] = HeartbeatPolicy(
        # The docs recommend {"op": "ping"} every 20 s (the keepalive); a silent connection is
        # also pinged after dead_after_s / 2.5 (2 s by default) and its pong must come back. No
        # limit on pings is documented, and orderbook.1 repeats itself every 3 s on a quiet
        # market, so a live connection rarely needs more than one probe per 3 s.
        probe=Probe.APP,
        answer="pong",
        keepalive_s=20.0,
    )
    limits: ClassVar[VenueLimits] = VenueLimits(
        max_topics_per_request=10,  # spot: at most 10 args per subscribe request
        # At most 21,000 characters of args per public connection. The longest canonical symbol
        # is 25 characters (20-character base + 5-character quote, see symbols.py), so one
        # symbol costs at most len('"orderbook.1.<25>",') + len('"tickers.<25>",') = 40 + 36
        # = 76 characters, counted with JSON quotes and commas however the server measures:
        # 250 symbols (500 topics) is at most 19,000, a 10 % margin under the limit.
        max_topics_per_connection=500,
        # No client message rate is documented for public streams; 10 messages/s keeps a
        # 250-symbol connection's 50 subscribe requests to 5 s without bursting.
        min_send_interval_s=0.1,
        # "Do not establish more than 500 connections within a 5-minute window" per IP
        # (v5/rate-limit, WebSocket IP limit).
        max_connects=400,
        connect_window_s=300.0,
    )
    topics_per_symbol: ClassVar[int] = 2
    # The docs do not say whether one bad topic fails the rest of its request; assume it does
    # (resubscribing a topic that did subscribe only earns a silent duplicate).
    rejects_whole_request: ClassVar[bool] = True
    sample_quote_frame: ClassVar[bytes] = (
        b'{"topic":"orderbook.1.BTCUSDT","ts":1748980103101,"type":"snapshot","data":'
        b'{"s":"BTCUSDT","b":[["106285.8","0.794865"]],"a":[["106285.9","1.269905"]],'
        b'"u":943951,"seq":75829523783},"cts":1748980103098}'
    )

    def __init__(self) -> None:
        super().__init__()
        self._pings = 0
        """Pings sent; pings get ids of their own (``ping-N``), never recorded as requests."""
        self._pong = Heartbeat(venue=self.name, kind=HeartbeatKind.PONG)
        """The event every pong gives (immutable, so built once)."""

    def venue_symbol(self, symbol: Symbol) -> str:
        """Topic spelling: the canonical form, upper case (``BTCUSDT``); topics are
        case-sensitive."""
        return symbol.canonical

    def topics(self, symbols: Sequence[Symbol]) -> list[str]:
        """Topics for ``symbols``: ``orderbook.1.<SYM>`` and ``tickers.<SYM>`` each."""
        return [
            topic
            for s in symbols
            for topic in (
                f"{_BOOK_PREFIX}{_BOOK_DEPTH}.{self.venue_symbol(s)}",
                f"{_TICKER_PREFIX}{self.venue_symbol(s)}",
            )
        ]

    def _request_body(
        self, op: Op, batch: Sequence[Symbol], req_id: int | None
    ) -> dict[str, object]:
        return {"req_id": str(req_id), "op": op, "args": self.topics(batch)}

    def ping_frame(self) -> str:
        """``{"req_id": "ping-N", "op": "ping"}`` with a fresh ``N`` each time."""
        self._pings += 1
        return msgspec.json.encode({"req_id": f"ping-{self._pings}", "op": "ping"}).decode()

    # -- parsing ----------------------------------------------------------------------------

    def _parse_fast(self, frame: Frame) -> list[Event] | None:
        """Book and ticker pushes decoded straight into floats; replies and ignored topics with
        their data left undecoded; anything unusual declines (``None`` or an exception)."""
        if frame[_TOPIC_AT] in _PUSH_MARKS:
            msg = _fast_decoder.decode(frame)
        else:
            head = _head_decoder.decode(frame)
            topic = head.topic
            if topic is None:
                if head.data is not UNSET:
                    return None  # a reply with data: the full path checks it against _Data
                return self._reply(head)  # the full path's _Frame holds the same values
            if _ignored(topic):
                return []  # the full path ignores it too, whatever its data holds
            msg = _fast_decoder.decode(frame)  # one of ours, pretty-printed or reordered
        d = msg.data
        b = d.b
        if b is None:
            return self._fast_ticker(msg, d)
        # An orderbook.1 push (the topic is checked with the symbol), read as _book reads it.
        cached_topic: str | None
        try:
            cached_topic, symbol = _BOOK_SYMBOLS[d.s]
        except KeyError:
            cached_topic = None
        if cached_topic != msg.topic:
            if _ignored(msg.topic):
                return []  # orderbook.50 ...: decoded here, so the full path ignores it too
            symbol = _symbol(msg.topic, d.s, _BOOK_TOPIC, _BOOK_SYMBOLS)
        a = d.a
        if a:
            if b:
                bid, bid_size = b[0]
                ask, ask_size = a[0]
                if bid_size and ask_size:  # the usual case: both sides
                    if bid > ask:
                        return None  # crossed book
                    return [
                        Quote(
                            venue=self.name,
                            symbol=symbol,
                            channel=_BOOK,
                            bid=bid,
                            bid_size=bid_size,
                            ask=ask,
                            ask_size=ask_size,
                            exchange_ts_ms=msg.ts,
                            recv_mono_ns=self._recv_mono_ns,
                            recv_wall_ms=self._recv_wall_ms,
                        )
                    ]
        elif a is None:
            return None  # the full path names the missing side
        return self._book_quote(symbol, _top(b), _top(a), msg.ts)

    def _book_quote(
        self, symbol: str, bid: _Level | None, ask: _Level | None, ts: int
    ) -> list[Event] | None:
        """The fast path's book quote when a side may be absent (``None``)."""
        if bid is None and ask is None:
            return None  # no price in frame
        if bid is not None and ask is not None and bid[0] > ask[0]:
            return None  # crossed book
        return [
            Quote(
                venue=self.name,
                symbol=symbol,
                channel=_BOOK,
                bid=None if bid is None else bid[0],
                bid_size=None if bid is None else bid[1],
                ask=None if ask is None else ask[0],
                ask_size=None if ask is None else ask[1],
                exchange_ts_ms=ts,
                recv_mono_ns=self._recv_mono_ns,
                recv_wall_ms=self._recv_wall_ms,
            )
        ]

    def _fast_ticker(self, msg: _FastPush, d: _FastData) -> list[Event] | None:
        """A tickers push (the topic is checked with the symbol), read as _ticker reads it;
        ``d`` is its data."""
        cached_topic: str | None
        try:
            cached_topic, symbol = _TICKER_SYMBOLS[d.symbol]
        except KeyError:
            cached_topic = None
        if cached_topic != msg.topic:
            if _ignored(msg.topic):
                return []  # decoded here, so the full path ignores it too
            symbol = _symbol(msg.topic, d.symbol, _TICKER_PREFIX, _TICKER_SYMBOLS)
        last = d.lastPrice
        bid = d.bid1Price
        ask = d.ask1Price
        if msg.type == "delta":
            if last is None and bid is None and ask is None:
                return []  # a linear delta without a price says nothing
        elif last is None or d.volume24h is None:
            return None  # the full path names what is missing
        if bid is not None and ask is not None and bid > ask:
            return None  # crossed book
        change = d.price24hPcnt
        if change is not None:
            change *= 100  # a fraction: "0.0123" is +1.23 %
        return [
            Quote(
                venue=self.name,
                symbol=symbol,
                channel=_TICKER,
                bid=bid,
                bid_size=d.bid1Size,
                ask=ask,
                ask_size=d.ask1Size,
                last=last,
                volume_24h=d.volume24h,
                change_24h_pct=change,
                exchange_ts_ms=msg.ts,
                recv_mono_ns=self._recv_mono_ns,
                recv_wall_ms=self._recv_wall_ms,
            )
        ]

    def _parse(self, frame: Frame) -> list[Event]:
        try:
            msg = _decoder.decode(frame)
        except msgspec.ValidationError:
            if _ignored_push(frame):
                return []  # e.g. orderbook.rpi, whose levels do not fit _Data
            raise
        if msg.topic is not None:
            return self._push(msg, msg.topic)
        return self._reply(msg)

    def _reply(self, msg: _Envelope) -> list[Event]:
        """A frame without a topic: an error, a pong, an ack, or something not ours."""
        if msg.success is False:
            return [self._error(msg)]
        if msg.op == "pong" or (msg.op == "ping" and msg.success is True):
            return [self._pong]
        if msg.success is True and msg.op in ("subscribe", "unsubscribe"):
            return [self.ack(self._req_id(msg), msg.op)]
        if msg.op is not None or msg.type is not None:
            return []  # auth replies, option COMMAND_RESP, ...: well formed, not ours
        raise FrameError("unrecognised frame: neither a topic push, a reply nor a pong")

    def _req_id(self, msg: _Envelope) -> str | None:
        # Linear/inverse replies carry "req_id": "" when the request had none.
        return None if msg.req_id is None or msg.req_id == "" else str(msg.req_id)

    def _error(self, msg: _Envelope) -> SubscriptionError:
        req_id = self._req_id(msg)
        symbol = _symbol_in_message(msg.ret_msg)
        if symbol is None:
            symbol = self.request_symbol(req_id)
        return SubscriptionError(venue=self.name, message=msg.ret_msg, symbol=symbol, req_id=req_id)

    def _push(self, msg: _Frame, topic: str) -> list[Event]:
        if _ignored(topic):
            return []
        is_book = topic.startswith(_BOOK_PREFIX)
        if msg.data is None:
            raise FrameError(f"push for {topic!r} has no data")
        if isinstance(msg.data, list):
            raise FrameError(f"push for {topic!r} has an array as data")
        fallback = topic.rsplit(".", 1)[-1]
        if is_book:
            return [self._book(msg.data, fallback, msg.ts)]
        return self._ticker(msg.data, fallback, msg.type, msg.ts)

    def _book(self, d: _Data, fallback: str, ts: Number) -> Event:
        if d.b is None or d.a is None:
            raise FrameError(f"orderbook frame missing {'b' if d.b is None else 'a'}")
        bid, bid_size = _best(d.b, "bid")
        ask, ask_size = _best(d.a, "ask")
        return self.quote(
            alnum_symbol(d.s or fallback),
            Channel.BOOK,
            bid=bid,
            bid_size=bid_size,
            ask=ask,
            ask_size=ask_size,
            exchange_ts_ms=ts,
        )

    def _ticker(self, d: _Data, fallback: str, kind: str | None, ts: Number) -> list[Event]:
        if kind == "delta":
            # Linear/inverse deltas omit unchanged fields; one without any price says nothing.
            if all(v in (None, "") for v in (d.lastPrice, d.bid1Price, d.ask1Price)):
                return []
        else:
            require(d, "tickers", "lastPrice", "volume24h")
        fraction = signed(d.price24hPcnt, "price24hPcnt")  # a fraction: "0.0123" is +1.23 %
        return [
            self.quote(
                alnum_symbol(d.symbol or fallback),
                Channel.TICKER,
                bid=d.bid1Price,
                bid_size=d.bid1Size,
                ask=d.ask1Price,
                ask_size=d.ask1Size,
                last=d.lastPrice,
                volume_24h=d.volume24h,
                change_24h_pct=None if fraction is None else fraction * 100,
                exchange_ts_ms=ts,
            )
        ]

    # -- REST ---------------------------------------------------------------------------------

    def parse_server_time(self, body: bytes | str) -> int:
        """Server time from ``result.timeNano`` (the endpoint's answer), else the envelope's
        ``time`` (when the answer was made), both in ms."""
        answer = decode_rest(body, _TimeAnswer, self.rest_time_path)
        _check_ret_code(answer.retCode, answer.retMsg, self.rest_time_path)
        nano = answer.result.timeNano if answer.result else None
        if nano:
            if not nano.isdigit():
                raise FrameError(f"unexpected {self.rest_time_path} answer: timeNano {nano!r:.40}")
            return int(nano) // 1_000_000
        if answer.time is None:
            raise FrameError(f"unexpected {self.rest_time_path} answer: no time in it")
        return answer.time

    def parse_symbol_list(self, body: bytes | str) -> frozenset[str]:
        answer = decode_rest(body, _InstrumentsAnswer, "/v5/market/instruments-info")
        _check_ret_code(answer.retCode, answer.retMsg, "/v5/market/instruments-info")
        if answer.result is None:
            raise FrameError("unexpected /v5/market/instruments-info answer: no result")
        # ``symbol`` is the spelling topics accept, which is what a subscription needs.
        return frozenset(i.symbol.upper() for i in answer.result.items if i.status == "Trading")


def _ignored(topic: str) -> bool:
    """Whether a push of ``topic`` is not ours: anything but ``orderbook.1`` and ``tickers``
    (publicTrade, kline, ...; orderbook.50/200/1000/rpi, whose deltas need a local book to give a
    top of book, while level 1 carries the best bid/ask whole in every frame)."""
    if topic.startswith(_BOOK_PREFIX):
        return topic.split(".")[1:2] != [_BOOK_DEPTH]
    return not topic.startswith(_TICKER_PREFIX)


def _ignored_push(frame: Frame) -> bool:
    """Whether ``frame``, which does not fit :class:`_Frame`, is a push of a topic we ignore
    with everything but its data well formed."""
    try:
        head = _head_decoder.decode(frame)
    except msgspec.DecodeError:
        return False
    return head.topic is not None and _ignored(head.topic)


def _symbol(topic: str, named: str, prefix: str, cache: dict[str, tuple[str, str]]) -> str:
    """The canonical symbol of a fast-path push of ``topic`` whose data names ``named``, as the
    full path reads it (``named``, else the topic's last part); raises ``FrameError`` (which
    declines) for a topic not under ``prefix`` or an invalid symbol. Caches the usual case."""
    if not topic.startswith(prefix):
        raise FrameError(f"not a {prefix} topic")
    symbol = alnum_symbol(named or topic.rsplit(".", 1)[-1])
    if named and topic == prefix + named:
        if len(cache) >= _SYMBOLS_MAX:
            cache.clear()
        cache[named] = (topic, symbol)
    return symbol


def _top(levels: list[_Level]) -> _Level | None:
    """The first level of a fast-path side, or ``None`` if the side is absent (as :func:`_best`
    reads it: empty, or a first level of size 0)."""
    return levels[0] if levels and levels[0][1] else None


def _best(levels: list[tuple[_Value, _Value]], side: str) -> tuple[_Value | None, _Value | None]:
    """Price and size of the first level; ``(None, None)`` when the side is empty or its size
    is 0 (level 1 has nothing on that side)."""
    if not levels:
        return None, None
    level_price, size = levels[0]
    if level_price == "":
        raise FrameError(f"{side} level has no price")
    if amount(size, f"{side} size") == 0:
        return None, None
    return level_price, size


def _symbol_in_message(message: str) -> str | None:
    """The symbol of the topic an error text names, if it names one."""
    match = _TOPIC_IN_MESSAGE.search(message)
    if match is None:
        return None
    topic = match.group(1) or match.group(2)
    symbol = topic.rsplit(".", 1)[-1]
    return symbol.upper() if "." in topic and symbol.isalnum() else None


def _check_ret_code(code: int, message: str, what: str) -> None:
    if code != 0:
        raise FrameError(f"{what} answered retCode {code}: {message:.100}")


ADAPTER = BybitAdapter
"""This venue's adapter (found by :data:`cryptows.venues.ADAPTERS`)."""
