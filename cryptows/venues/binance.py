"""Binance spot public market data: ``<sym>@bookTicker`` (best bid/ask) + ``<sym>@ticker`` (24 h).

Protocol (developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):

- The client opens the combined endpoint ``/stream`` and sends ``SUBSCRIBE``; every event then
  arrives wrapped as ``{"stream": name, "data": payload}``. ``parse`` also takes the raw ``/ws``
  form (the bare payload), so recordings of either endpoint replay.
- Acks are ``{"result": null, "id": N}``; errors ``{"error": {"code", "msg"}, "id": N}`` (no ``id``
  when the server could not read it).
- An unknown but well-formed symbol is acked and then silent: symbols must be checked against
  ``/api/v3/exchangeInfo`` before subscribing (the feed does that).
- Spot ``bookTicker`` has no event type or time (keys ``u s b B a A``); it is routed by key set.
- The 24 h change: ``24hrTicker`` sends it in percent (``P``); ``24hrMiniTicker`` has none, so
  it is computed from ``c`` (last) and ``o`` (open of the rolling window).
- Heartbeat: the server sends a protocol ping every 20 s and the reader answers it.
  Client messages (pongs and pings included) are limited to 5 per second per connection.
- ``serverShutdown`` announces a disconnect: reconnect at once.
- Events of streams we did not ask for (``depthUpdate``, ``kline``, ``trade``, ``aggTrade``, ...)
  are ignored, whatever their fields hold; so is a combined partial-depth frame
  (``<sym>@depth5``), whose payload has no event type but whose stream name says what it is.
- The fast path (:meth:`BinanceAdapter._parse_fast`) takes ``bookTicker``, ``24hrTicker`` and
  ``24hrMiniTicker`` frames, combined or raw, with one typed decode each.

Why this module is over 400 lines: it holds the venue's whole wire protocol, and the fast path
(typed per-kind decoding, :meth:`_parse_fast`) sits next to the full path it must agree with,
so a change to one is seen beside the other (``tests/unit/test_fast_parse.py`` compares them).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, ClassVar

import msgspec

from cryptows.models import (
    Channel,
    Event,
    Notice,
    NoticeKind,
    Quote,
    SubscriptionAck,
    SubscriptionError,
)
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
    decode_rest,
    require,
)
from cryptows.venues.wire import WirePrice

_BOOK = "bookTicker"
_TICKER = "ticker"


class _Payload(msgspec.Struct):
    """Union of the payload shapes we read (bookTicker, 24hrTicker, miniTicker, serverShutdown).

    ``u`` (an integer or absent) is checked in Python, not by the decoder, and ``E`` may be any
    number: so both paths judge the value a frame ends up with, duplicate keys and all (the fast
    path's lax decoding cannot tell 1.0 from 1 the way a strict ``int`` field does).
    """

    e: str | None = None
    E: int | float | str | None = None
    s: str | None = None
    u: int | float | str | None = None
    b: Number = None
    B: Number = None
    a: Number = None
    A: Number = None
    c: Number = None
    o: Number = None
    P: Number = None
    v: Number = None


class _Error(msgspec.Struct):
    code: int | str | None = None
    msg: str = ""


class _Frame(_Payload):
    """A raw payload, a combined ``{"stream","data"}`` envelope, an ack or an error."""

    stream: str | None = None
    data: _Payload | None = None
    result: list[str] | None | msgspec.UnsetType = msgspec.UNSET
    id: int | str | None = None
    error: _Error | None = None


class _ServerTime(msgspec.Struct):
    serverTime: int


class _SymbolInfo(msgspec.Struct):
    symbol: str
    status: str
    baseAsset: str = ""
    quoteAsset: str = ""


class _ExchangeInfo(msgspec.Struct):
    symbols: list[_SymbolInfo]


class _Lenient(msgspec.Struct):
    """Just enough of any frame to tell an event of a stream we did not ask for."""

    e: object = None
    stream: object = None
    data: object = None
    result: object = msgspec.UNSET
    error: object = None


_decoder = msgspec.json.Decoder(_Frame)
_lenient_decoder = msgspec.json.Decoder(_Lenient)
_OUR_EVENTS = frozenset({"24hrTicker", "24hrMiniTicker", "serverShutdown"})
_OUR_KINDS = frozenset({_BOOK, _TICKER, "miniTicker"})


# -- fast path (see ``BinanceAdapter._parse_fast``) ----------------------------------------------
#
# Decoded with ``strict=False``, so that "28621.74" becomes a checked float in C. Lax decoding also
# coerces other types, which only the float fields may see: an ``int`` field would take 1.0, "123"
# or "1e3" (the full path refuses them), an ``X | None`` field would take the string "null" as
# None. So update ids and event times are typed ``int | float | str`` (a union with ``str`` keeps
# every value as sent) and only an ``int`` is taken, optional prices are required here (absent or
# null declines), and the fields the full path only type-checks keep its types (``Number``). Every
# value a fast type accepts, the full path's type accepts too, so even a duplicate key (the last
# one wins in both) cannot make them differ. The envelopes and bookTicker forbid unknown keys; the
# tickers declare every key the full path reads or checks and skip the rest, as it does.

_FINITE = sys.float_info.max
_WireQty = Annotated[float, msgspec.Meta(gt=0, le=_FINITE)]
"""A size or volume, here positive: a zero declines, as its sign is the full path's to give
(``float("-0")`` is -0.0, and lax decoding reads "-0" as 0.0)."""
_WireSigned = Annotated[float, msgspec.Meta(ge=-_FINITE, le=_FINITE)]
"""A finite number of either sign (the 24 h change; a zero declines, as a size does)."""
_WireInt = int | float | str
"""An update id as sent: only an ``int`` is what the full path takes."""
_WireTime = Annotated[int, msgspec.Meta(ge=0, le=2**53)] | float | str
"""An event time as sent: only an ``int`` up to 2**53 is taken, below which ``int(float(E))``
(what the full path computes) is ``E``."""


class _FastBook(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A spot bookTicker payload: exactly its documented keys."""

    u: _WireInt
    s: str
    b: WirePrice
    B: _WireQty
    a: WirePrice
    A: _WireQty


class _FastBookStream(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    stream: str
    data: _FastBook


class _FastTicker(msgspec.Struct, tag_field="e", tag="24hrTicker", gc=False):
    """A 24hrTicker payload."""

    E: _WireTime
    s: str
    b: WirePrice
    B: _WireQty
    a: WirePrice
    A: _WireQty
    c: WirePrice
    v: _WireQty
    P: _WireSigned
    o: Number = None  # only checked, as u
    u: _WireInt | None = None


class _FastMini(msgspec.Struct, tag_field="e", tag="24hrMiniTicker", gc=False):
    """A 24hrMiniTicker payload."""

    E: _WireTime
    s: str
    c: WirePrice
    o: _WireQty
    v: _WireQty
    b: Number = None  # only checked, as the rest
    B: Number = None
    a: Number = None
    A: Number = None
    P: Number = None
    u: _WireInt | None = None


class _FastTickerStream(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    stream: str
    data: _FastTicker | _FastMini  # told apart by "e", in C


# A raw (``/ws``) event is the top level of the frame, where these keys would take the full path
# elsewhere or be checked: any of them declines.


class _FastTickerRaw(_FastTicker, tag="24hrTicker"):
    stream: object = msgspec.UNSET
    data: object = msgspec.UNSET
    result: object = msgspec.UNSET
    id: object = msgspec.UNSET
    error: object = msgspec.UNSET


class _FastMiniRaw(_FastMini, tag="24hrMiniTicker"):
    stream: object = msgspec.UNSET
    data: object = msgspec.UNSET
    result: object = msgspec.UNSET
    id: object = msgspec.UNSET
    error: object = msgspec.UNSET


_fast_book_stream = msgspec.json.Decoder(_FastBookStream, strict=False)
_fast_book = msgspec.json.Decoder(_FastBook, strict=False)
_fast_ticker_stream = msgspec.json.Decoder(_FastTickerStream, strict=False)
_fast_ticker = msgspec.json.Decoder(_FastTickerRaw | _FastMiniRaw, strict=False)

# Enum members are slow class attributes in Python 3.11 (~90 ns each): read them once.
_BOOK_CHANNEL = Channel.BOOK
_TICKER_CHANNEL = Channel.TICKER

_copy = msgspec.structs.replace
"""Fast-path quotes are copies of a blank quote per symbol and channel (only venue, symbol and
channel set): cheaper than building one with every keyword."""
_BLANKS_MAX = 4096
"""A cache of blank quotes is emptied when this full, so garbage symbols cannot grow it."""


def _bare(p: _FastTickerRaw | _FastMiniRaw) -> bool:
    """Whether a raw event has none of the top-level keys that take the full path elsewhere."""
    return p.stream is p.data is p.result is p.id is p.error is msgspec.UNSET


class BinanceAdapter(VenueAdapter):
    """Binance spot (``stream.binance.com``)."""

    name: ClassVar[str] = "binance"
    display_name: ClassVar[str] = "Binance"
    short_name: ClassVar[str] = "bin"
    default_ws_url: ClassVar[str] = "wss://stream.binance.com:9443/stream"
    # "The base endpoint is: wss://stream.binance.com:9443 or wss://stream.binance.com:443";
    # "wss://data-stream.binance.vision can be subscribed to receive only market data messages"
    # (developers.binance.com, WebSocket Streams, General WSS information).
    alternative_ws_urls: ClassVar[tuple[str, ...]] = (
        "wss://stream.binance.com:443/stream",
        "wss://data-stream.binance.vision/stream",
    )
    default_rest_url: ClassVar[str] = "https://api.binance.com"
    # binance.com fee schedule: regular user (VIP 0) spot taker 0.1000 %.
    default_taker_fee_pct: ClassVar[float] = 0.10
    fee_source: ClassVar[str] = (
        "Source: binance.com/en/fee/schedule, regular user (VIP 0) spot taker 0.1000 %."
    )
    endpoint_note: ClassVar[str] = "(combined-stream endpoint)"
    rest_time_path: ClassVar[str] = "/api/v3/time"
    rest_symbols_path: ClassVar[str] = "/api/v3/exchangeInfo"
    heartbeat: ClassVar[HeartbeatPolicy] = HeartbeatPolicy(
        # The server's own pings (every 20 s, answered by the reader) prove nothing about the
        # stream reaching us, so a silent connection gets our protocol ping after
        # dead_after_s / 2.5 (2 s at the default 5 s bound) and its pong must come back. Pings
        # count against the 5 incoming messages/s per connection: sent only into silence and
        # spaced by min_send_interval_s, they cost at most 0.5 message/s at the default bound.
        probe=Probe.PROTOCOL,
        answer="pong",
    )
    limits: ClassVar[VenueLimits] = VenueLimits(
        # No documented per-request cap; 200 streams keeps a SUBSCRIBE small.
        max_topics_per_request=200,
        max_topics_per_connection=1024,
        min_send_interval_s=0.25,  # 5 incoming messages/s per connection, with a margin
        # 300 connection attempts per 5 minutes per IP (web-socket-streams, "WebSocket Limits").
        max_connects=250,
        connect_window_s=300.0,
    )
    topics_per_symbol: ClassVar[int] = 2
    # An invalid stream fails the whole SUBSCRIBE, so the feed resubscribes the others.
    rejects_whole_request: ClassVar[bool] = True
    sample_quote_frame: ClassVar[bytes] = (
        b'{"stream":"btcusdt@bookTicker","data":{"u":7488717758,"s":"BTCUSDT",'
        b'"b":"28621.74000000","B":"1.43278800","a":"28621.75000000","A":"2.52500800"}}'
    )

    def __init__(self) -> None:
        super().__init__()
        self._blank_books: dict[str, Quote] = {}
        """Wire symbol -> blank book quote, for the fast path (see ``_copy``)."""
        self._blank_tickers: dict[str, Quote] = {}
        """Wire symbol -> blank ticker quote, for the fast path."""

    def venue_symbol(self, symbol: Symbol) -> str:
        """Stream-name spelling: lower case, no separator (``btcusdt``)."""
        return symbol.canonical.lower()

    def streams(self, symbols: Sequence[Symbol]) -> list[str]:
        """Stream names for ``symbols``: ``<sym>@bookTicker`` and ``<sym>@ticker`` each."""
        return [f"{self.venue_symbol(s)}@{kind}" for s in symbols for kind in (_BOOK, _TICKER)]

    def _request_body(
        self, op: Op, batch: Sequence[Symbol], req_id: int | None
    ) -> dict[str, object]:
        return {"method": op.upper(), "params": self.streams(batch), "id": req_id}

    # -- parsing ----------------------------------------------------------------------------

    def _parse(self, frame: Frame) -> list[Event]:
        try:
            msg = _decoder.decode(frame)
        except msgspec.ValidationError:
            # Fields of other streams share our keys with other types (depthUpdate's "b" and
            # "a" are arrays): such an event is not ours to judge, whatever it holds.
            if _foreign_event(frame):
                return []
            raise
        if msg.error is not None:
            return [self._error(msg)]
        if msg.result is not msgspec.UNSET:
            return [self._ack(msg)]
        if msg.stream is not None:
            if msg.data is None:
                raise FrameError(f"combined frame for {msg.stream!r} has no data")
            return self._payload(msg.data, msg.stream)
        return self._payload(msg, None)

    def _error(self, msg: _Frame) -> SubscriptionError:
        assert msg.error is not None
        req_id = None if msg.id is None else str(msg.id)
        code = None if msg.error.code is None else str(msg.error.code)
        return SubscriptionError(
            venue=self.name,
            message=msg.error.msg,
            symbol=self.request_symbol(req_id),
            code=code,
            req_id=req_id,
        )

    def _ack(self, msg: _Frame) -> SubscriptionAck:
        req_id = None if msg.id is None else str(msg.id)
        if isinstance(msg.result, list):
            topics = tuple(msg.result)
            symbols = tuple(dict.fromkeys(t.split("@", 1)[0].upper() for t in topics))
            return SubscriptionAck(
                venue=self.name, op="list", req_id=req_id, symbols=symbols, topics=topics
            )
        return self.ack(req_id)

    def _payload(self, p: _Payload, stream: str | None) -> list[Event]:
        kind = stream.rsplit("@", 1)[-1] if stream else None
        if p.e is not None and p.e not in _OUR_EVENTS:
            return []  # a stream we did not ask for (kline, trade, ...): not ours to judge
        if p.u is not None and type(p.u) is not int:
            raise FrameError(f"update id is not an integer: {p.u!r:.40}")
        if p.e == "serverShutdown":
            return [
                Notice(
                    venue=self.name,
                    kind=NoticeKind.RECONNECT,
                    message="Binance server shutting down",
                    exchange_ts_ms=_int_or_none(p.E),
                )
            ]
        if p.e == "24hrTicker":
            require(p, "24hrTicker", "s", "c", "v")
            return [
                self.quote(
                    alnum_symbol(p.s),
                    Channel.TICKER,
                    bid=p.b,
                    bid_size=p.B,
                    ask=p.a,
                    ask_size=p.A,
                    last=p.c,
                    volume_24h=p.v,
                    change_24h_pct=p.P,  # already in percent ("-0.372" is -0.372 %)
                    exchange_ts_ms=p.E,
                )
            ]
        if p.e == "24hrMiniTicker":
            require(p, "24hrMiniTicker", "s", "c", "v")
            return [
                self.quote(
                    alnum_symbol(p.s), Channel.TICKER, last=p.c, volume_24h=p.v, open_24h=p.o,
                    exchange_ts_ms=p.E,
                )
            ]  # fmt: skip
        if p.e is None and (kind == _BOOK or p.u is not None):
            require(p, "bookTicker", "s", "b", "B", "a", "A")
            return [
                self.quote(
                    alnum_symbol(p.s),
                    Channel.BOOK,
                    bid=p.b,
                    bid_size=p.B,
                    ask=p.a,
                    ask_size=p.A,
                    exchange_ts_ms=p.E,  # spot sends none; futures-style frames do
                )
            ]
        if kind is not None and kind not in _OUR_KINDS and p.u is None:
            return []  # a combined stream we did not ask for without event type (depth5, ...)
        raise FrameError("unrecognised frame: neither an event, an ack nor an error")

    def _parse_fast(self, frame: Frame) -> list[Event] | None:
        """bookTicker, 24hrTicker and 24hrMiniTicker frames (combined or raw) in one typed decode.

        A substring test picks the decoder: a hint only (escapes can hide or fake any text), made
        on ``str`` because ``in`` on ``bytes`` costs five times as much as decoding the frame.
        Prices, sizes and the change are decoded and checked in C (:data:`WirePrice`,
        :data:`_WireQty`, :data:`_WireSigned`). What is left in Python is what the full path would
        refuse or compute: ids and times that are not integers, a crossed book, the symbol
        (cached), the mini ticker's change. Anything else declines (``None``, or a decoding
        error), and the full path gives the events or the reason.
        """
        text = frame.decode() if isinstance(frame, bytes) else frame
        if "@bookTicker" in text:  # combined bookTicker: the bulk of the traffic
            book = _fast_book_stream.decode(text).data
        elif "24hr" in text:  # 24hrTicker or 24hrMiniTicker
            if "@" in text:  # combined: {"stream": "<sym>@ticker", "data": ...}
                event = _fast_ticker_stream.decode(text).data
            else:
                event = _fast_ticker.decode(text)
                if not _bare(event):
                    return None
            if type(event.E) is not int or not (event.u is None or type(event.u) is int):
                return None
            if isinstance(event, _FastMini):
                return self._fast_mini(event)
            return self._fast_ticker(event)
        elif '"e"' in text and _foreign_event(text):
            return []  # depthUpdate, kline, trade ...: one lenient decode, as the full path ends
        elif '"u"' in text:  # a raw bookTicker has no other mark
            book = _fast_book.decode(text)
        else:
            return None
        if type(book.u) is not int or book.b > book.a:
            return None  # the full path refuses these, with its reason
        try:
            blank = self._blank_books[book.s]
        except KeyError:
            blank = self._blank(self._blank_books, book.s, _BOOK_CHANNEL)
        return [
            _copy(
                blank,
                bid=book.b,
                bid_size=book.B,
                ask=book.a,
                ask_size=book.A,
                recv_mono_ns=self._recv_mono_ns,
                recv_wall_ms=self._recv_wall_ms,
            )
        ]

    def _fast_ticker(self, p: _FastTicker) -> list[Event] | None:
        if p.b > p.a or not p.P:  # crossed, or a zero change (whose sign is not known here)
            return None
        try:
            blank = self._blank_tickers[p.s]
        except KeyError:
            blank = self._blank(self._blank_tickers, p.s, _TICKER_CHANNEL)
        return [
            _copy(
                blank,
                bid=p.b,
                bid_size=p.B,
                ask=p.a,
                ask_size=p.A,
                last=p.c,
                volume_24h=p.v,
                change_24h_pct=p.P,
                exchange_ts_ms=p.E,
                recv_mono_ns=self._recv_mono_ns,
                recv_wall_ms=self._recv_wall_ms,
            )
        ]

    def _fast_mini(self, p: _FastMini) -> list[Event]:
        last, opened = p.c, p.o
        change = (last - opened) / opened * 100  # as change_pct(); the open is above zero
        try:
            blank = self._blank_tickers[p.s]
        except KeyError:
            blank = self._blank(self._blank_tickers, p.s, _TICKER_CHANNEL)
        return [
            _copy(
                blank,
                last=last,
                volume_24h=p.v,
                # an overflow (from a tiny open) is no change, as in change_pct()
                change_24h_pct=change if -_FINITE <= change <= _FINITE else None,
                exchange_ts_ms=p.E,
                recv_mono_ns=self._recv_mono_ns,
                recv_wall_ms=self._recv_wall_ms,
            )
        ]

    def _blank(self, blanks: dict[str, Quote], s: str, channel: Channel) -> Quote:
        """The blank quote of wire symbol ``s``, made and kept in ``blanks``; raises
        ``FrameError`` for a symbol :func:`alnum_symbol` refuses."""
        blank = Quote(venue=self.name, symbol=alnum_symbol(s), channel=channel)
        if len(blanks) >= _BLANKS_MAX:
            blanks.clear()
        blanks[s] = blank
        return blank

    # -- REST ---------------------------------------------------------------------------------

    def parse_server_time(self, body: bytes | str) -> int:
        return decode_rest(body, _ServerTime, "/api/v3/time").serverTime

    def parse_symbol_list(self, body: bytes | str) -> frozenset[str]:
        info = decode_rest(body, _ExchangeInfo, "/api/v3/exchangeInfo")
        return frozenset(s.symbol.upper() for s in info.symbols if s.status == "TRADING")


def _foreign_event(frame: Frame) -> bool:
    """Whether ``frame`` (valid JSON) is an event of a stream we did not ask for: one with an
    event type of its own, raw or combined, and nothing that makes it an ack or an error."""
    try:
        msg = _lenient_decoder.decode(frame)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    if msg.error is not None or msg.result is not msgspec.UNSET:
        return False
    if msg.stream is None:
        event = msg.e
    elif isinstance(msg.stream, str) and isinstance(msg.data, dict):
        event = msg.data.get("e")
    else:
        return False
    return isinstance(event, str) and event not in _OUR_EVENTS


def _int_or_none(value: float | str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


ADAPTER = BinanceAdapter
"""This venue's adapter (found by :data:`cryptows.venues.ADAPTERS`)."""
