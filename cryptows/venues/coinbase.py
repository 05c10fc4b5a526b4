"""Coinbase Exchange public market data: the ``ticker`` channel (best bid/ask + last + 24 h) and
the ``heartbeat`` channel (liveness), on ``wss://ws-feed.exchange.coinbase.com``.

This is the Coinbase *Exchange* feed, not Advanced Trade (whose frames are not interchangeable).
Protocol (docs.cdp.coinbase.com/exchange/websocket-feed/{overview,channels,rate-limits,errors}):

- Products are spelled ``BASE-QUOTE`` (``BTC-USD``, ``BTC-USDT``); USD and USDT are separate
  books. The client sends ``{"type":"subscribe","product_ids":[...],"channels":["ticker",
  "heartbeat"]}``; root ``product_ids`` apply to every channel named as a string. ``unsubscribe``
  has the same shape. Nothing carries a request id, so this adapter issues none (the base class's
  id bookkeeping could never be matched to a reply and would only grow).
- The reply is ``{"type":"subscriptions","channels":[{"name","product_ids"}...]}``: the
  connection's whole, cumulative subscription state, sent after unsubscribes too. It becomes a
  ``SubscriptionAck(op="subscribe")`` naming every product (canonical) and ``channel:PRODUCT``
  topic. Extra keys in ``channels[]`` are ignored.
- Errors are ``{"type":"error","message":"Failed to subscribe","reason":...}``; they become a
  ``SubscriptionError`` whose message is ``"<message>: <reason>"`` (each part verbatim; just one
  of them if the other is absent) and whose symbol is read from a reason of the form
  ``"<ID> is not a valid product"`` (an empty id, seen when a channel object had
  ``product_ids: []``, gives no symbol). **One bad product id makes the server ignore the whole
  subscribe message**, valid ids included: the feed checks ids against REST ``/products`` first.
- ``ticker`` is sent on every match (batched during cascades) and, with no authentication, is
  the venue's only real-time best bid/ask: one frame carries book and ticker fields, so it gives
  one quote on ``Channel.TICKER`` with bid/ask (+ sizes), last, 24 h volume, the 24 h change
  (computed from ``price`` and ``open_24h``; the frame has no percent) and ``time``. Older
  frames (2020) lack ``best_bid_size``/``best_ask_size``; the first ticker after subscribing
  has historically lacked ``time`` (both become ``None``). Decimals are JSON strings; ``time`` is
  RFC 3339 with a ``Z`` and a fraction of varying precision (or none).
- ``heartbeat`` sends one frame per subscribed product per second. Its arrival is the liveness
  signal (``last_trade_id`` is reported stuck at 0, so it is not read). No app-level ping exists.
- Clients must ignore message types they do not know: those give ``[]``. That includes the
  channels this adapter never asks for (``match``/``last_match``, ``snapshot``/``l2update``,
  ``status``, ...), should they arrive anyway: ignored, not counted as bad frames.
- The fast path (:meth:`CoinbaseAdapter._parse_fast`) takes ``ticker`` and ``heartbeat`` frames,
  the bulk of the stream: one typed decode of both kinds (tag dispatch, decimals to checked floats
  in C), ``time`` decoded strictly on its own, a product-id cache, and the event built directly.
  It declines anything it cannot read exactly as the full path would.
- Limits: 100 client messages/s per IP, 10 subscriptions per product per channel (each
  connection uses one; two overlap during a reconnect), subscribe within 5 s of connecting or be
  disconnected; slow readers (``ErrSlowConsume``) and oversized messages are disconnected.
- REST: ``/time`` gives ``{"iso","epoch"}`` (epoch in float seconds); ``/products`` lists products
  with ``base_currency``/``quote_currency`` (ids such as ``BTCAUCTION-USD`` exist, so the id's
  prefix is not the base) and ``status`` (online/offline/internal/delisted).

Why this module is over 400 lines: it holds the venue's whole wire protocol, and the fast path
(typed per-kind decoding, :meth:`_parse_fast`) sits next to the full path it must agree with,
so a change to one is seen beside the other (``tests/unit/test_fast_parse.py`` compares them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, ClassVar

import msgspec

from cryptows.models import (
    Channel,
    Event,
    Heartbeat,
    HeartbeatKind,
    Quote,
    SubscriptionAck,
    SubscriptionError,
)
from cryptows.symbols import Symbol, canonical_from_pair
from cryptows.venues.base import (
    Frame,
    FrameError,
    HeartbeatPolicy,
    Number,
    Op,
    Probe,
    VenueAdapter,
    VenueLimits,
    decode_rest,
    require,
)
from cryptows.venues.wire import Absent, WirePrice, WireSize

_CHANNELS = ("ticker", "heartbeat")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_INVALID_PRODUCT = re.compile(r"(\S*) is not a valid product")
_ASSET = re.compile(r"[A-Z0-9]{1,20}")

_Time = Annotated[datetime, msgspec.Meta(tz=True)]
"""An RFC 3339 time with an offset; msgspec parses it (any fraction precision, or none) and
rejects anything else, which makes the frame a ``BadFrame``."""


class _Ticker(msgspec.Struct, tag_field="type", tag="ticker"):
    product_id: str | None = None
    price: Number = None
    open_24h: Number = None
    best_bid: Number = None
    best_bid_size: Number = None
    best_ask: Number = None
    best_ask_size: Number = None
    volume_24h: Number = None
    time: _Time | None = None


class _Heartbeat(msgspec.Struct, tag_field="type", tag="heartbeat"):
    product_id: str | None = None
    time: _Time | None = None


class _ChannelInfo(msgspec.Struct):
    """One entry of a ``subscriptions`` reply; other keys (``account_ids``, ...) are ignored."""

    name: str
    product_ids: list[str] = []


class _Subscriptions(msgspec.Struct, tag_field="type", tag="subscriptions"):
    channels: list[_ChannelInfo] = []


class _Error(msgspec.Struct, tag_field="type", tag="error"):
    message: str = ""
    reason: str = ""


class _Typed(msgspec.Struct):
    """Only the ``type`` of a frame: read when the full decode fails, to tell an unknown message
    type (to be ignored) from a malformed known one (a bad frame)."""

    type: str


_KNOWN_TYPES = frozenset({"ticker", "heartbeat", "subscriptions", "error"})


class _ServerTime(msgspec.Struct):
    iso: _Time | None = None
    epoch: float | None = None


class _Product(msgspec.Struct):
    id: str
    base_currency: str
    quote_currency: str
    status: str
    trading_disabled: bool | None = None


_decoder = msgspec.json.Decoder(_Ticker | _Heartbeat | _Subscriptions | _Error)
_type_decoder = msgspec.json.Decoder(_Typed)  # only on the failure path, never per quote


# -- fast path ------------------------------------------------------------------------------
# The full path's field sets exactly (so whatever field it would refuse, the fast decode refuses
# too), typed so that the checks run in C, in the order the venue sends them (msgspec tries the
# next field first). Whatever these refuse, the fast path declines and the full path gives the
# reason. Both decode laxly (``strict=False``: decimal strings become floats), so ``time`` is
# kept raw and decoded strictly on its own: a lax ``datetime`` would also take a number or a
# numeric string as epoch seconds, which the full path refuses. No cycles: ``gc=False``.

_NULL = msgspec.Raw(b"null")


class _FastTicker(msgspec.Struct, tag_field="type", tag="ticker", kw_only=True, gc=False):
    """A ``ticker`` frame with a product id, a price and both sides of the book, all in range."""

    product_id: str
    price: WirePrice
    open_24h: Absent[WireSize] = None
    volume_24h: Absent[WireSize] = None
    best_bid: WirePrice
    best_bid_size: Absent[WireSize] = None
    best_ask: WirePrice
    best_ask_size: Absent[WireSize] = None
    time: msgspec.Raw = _NULL


class _FastHeartbeat(msgspec.Struct, tag_field="type", tag="heartbeat", gc=False):
    """A ``heartbeat`` frame with a product id."""

    product_id: str
    time: msgspec.Raw = _NULL


_fast_decoder = msgspec.json.Decoder(_FastTicker | _FastHeartbeat, strict=False)
"""One decode dispatches on the tag in C; any other frame raises, which declines it."""
_time_decoder = msgspec.json.Decoder(_Time | None)
"""The full path's own ``time`` decoding (strict), applied to the raw value."""
_TICKER = Channel.TICKER
_HEARTBEAT = HeartbeatKind.HEARTBEAT
"""Enum members read once: a member lookup on the class costs more than a global."""
_INF = math.inf

_SYMBOLS: dict[str, str] = {}
"""Product id (as sent) -> canonical symbol, for the fast path: a handful of products per
connection, so a lookup replaces two regex matches per frame."""
_SYMBOLS_MAX = 4096
"""Ids beyond this many are not cached (they still parse): a venue sending endless new ids
cannot make the cache grow without bound."""


class CoinbaseAdapter(VenueAdapter):
    """Coinbase Exchange (``ws-feed.exchange.coinbase.com``)."""

    name: ClassVar[str] = "coinbase"
    display_name: ClassVar[str] = "Coinbase"
    short_name: ClassVar[str] = "cb"
    default_ws_url: ClassVar[str] = "wss://ws-feed.exchange.coinbase.com"
    default_rest_url: ClassVar[str] = "https://api.exchange.coinbase.com"
    # Coinbase Exchange fee schedule: lowest 30-day-volume tier 0.60 % taker / 0.40 % maker.
    default_taker_fee_pct: ClassVar[float] = 0.60
    fee_source: ClassVar[str] = (
        "Source: help.coinbase.com/en/exchange/trading-and-funding/exchange-fees, Coinbase "
        "Exchange lowest tier ($0-$10K 30-day volume) taker 60 bps (maker 40 bps)."
    )
    rest_time_path: ClassVar[str] = "/time"
    rest_symbols_path: ClassVar[str] = "/products"
    heartbeat: ClassVar[HeartbeatPolicy] = HeartbeatPolicy(
        # The heartbeat channel sends one message per subscribed product per second, so at the
        # default 5 s bound a dead feed is five missed heartbeats in a row, with no client
        # message needed. A protocol ping goes out only after dead_after_s / 2.5 of total
        # silence (never while heartbeats flow): it covers a connection left with no product
        # and a bound shrunk near the heartbeat period, within 100 client messages/s.
        probe=Probe.PROTOCOL,
        answer="heartbeat",
    )
    limits: ClassVar[VenueLimits] = VenueLimits(
        # 50 products (x 2 channels) per message: no documented cap, but one bad id voids the
        # whole message, so modest batches bound the damage, stay far from "Message too big"
        # (~700 bytes each) and still cover a connection in a few messages, well inside 5 s.
        max_topics_per_request=100,
        # No documented per-connection cap; 200 products = ~200 heartbeats/s plus tickers,
        # comfortably read without tripping ErrSlowConsume, in 4 subscribe messages.
        max_topics_per_connection=400,
        # 100 client messages/s per IP: 20/s per connection leaves room for five connections
        # subscribing at once (plus protocol pings) without reaching the limit.
        min_send_interval_s=0.05,
        # 8 requests per second per IP, bursts of 20 (exchange/websocket-feed/rate-limits);
        # half of it for connections, the rest for their subscribe messages.
        max_connects=4,
        connect_window_s=1.0,
    )
    topics_per_symbol: ClassVar[int] = 2
    rejects_whole_request: ClassVar[bool] = True
    issues_request_ids: ClassVar[bool] = False  # nothing carries one (see the module docstring)
    sample_quote_frame: ClassVar[bytes] = (
        b'{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22",'
        b'"open_24h":"1310.79","volume_24h":"245532.79269678","low_24h":"1280.52",'
        b'"high_24h":"1313.8","volume_30d":"9788783.60117027","best_bid":"1285.04",'
        b'"best_bid_size":"0.46688654","best_ask":"1285.27","best_ask_size":"1.56637040",'
        b'"side":"buy","time":"2022-10-19T23:28:22.061769Z","trade_id":370843401,'
        b'"last_size":"11.4396987"}'
    )

    def venue_symbol(self, symbol: Symbol) -> str:
        """Product-id spelling: ``BASE-QUOTE`` (``BTC-USDT``; ``BTC-USD`` is another product)."""
        return f"{symbol.base}-{symbol.quote}"

    def _request_body(
        self, op: Op, batch: Sequence[Symbol], req_id: int | None
    ) -> dict[str, object]:
        product_ids = [self.venue_symbol(s) for s in batch]
        return {"type": op, "product_ids": product_ids, "channels": list(_CHANNELS)}

    # -- parsing ----------------------------------------------------------------------------

    def _parse_fast(self, frame: Frame) -> list[Event] | None:
        """``ticker`` and ``heartbeat`` frames, exactly as :meth:`_parse` reads them; ``None``
        or a decode error declines everything else, malformed frames included. A type we do
        not read (``match``, ``last_match`` ...) gives ``[]`` as the full path does, with one
        decode of the type alone."""
        try:
            msg = _fast_decoder.decode(frame)
        except msgspec.ValidationError:
            if _type_decoder.decode(frame).type not in _KNOWN_TYPES:
                return []
            raise
        try:
            symbol = _SYMBOLS[msg.product_id]
        except KeyError:
            new_symbol = _cache_symbol(msg.product_id)
            if new_symbol is None:
                return None
            symbol = new_symbol
        time = _time_decoder.decode(msg.time)
        ts_ms = None
        if time is not None:
            d = time - _EPOCH  # (time - _EPOCH) // _MS, without its big-int arithmetic
            ts_ms = d.days * 86_400_000 + d.seconds * 1000 + d.microseconds // 1000
        if type(msg) is not _FastTicker:  # (``isinstance`` is slower on Struct classes)
            return [
                Heartbeat(venue=self.name, kind=_HEARTBEAT, symbol=symbol, exchange_ts_ms=ts_ms)
            ]
        bid = msg.best_bid
        ask = msg.best_ask
        if bid > ask:
            return None  # a crossed book: the full path names it
        if ts_ms is not None and ts_ms < 0:
            return None  # before 1970: the full path refuses the timestamp of a quote
        last = msg.price
        opened = msg.open_24h
        change = None
        if opened:  # as change_pct(): no change against a missing or zero open
            change = (last - opened) / opened * 100  # finite inputs: never NaN nor -inf
            if change == _INF:
                change = None
        return [
            Quote(
                venue=self.name,
                symbol=symbol,
                channel=_TICKER,
                bid=bid,
                bid_size=msg.best_bid_size,
                ask=ask,
                ask_size=msg.best_ask_size,
                last=last,
                volume_24h=msg.volume_24h,
                change_24h_pct=change,
                exchange_ts_ms=ts_ms,
                recv_mono_ns=self._recv_mono_ns,
                recv_wall_ms=self._recv_wall_ms,
            )
        ]

    def _parse(self, frame: Frame) -> list[Event]:
        try:
            msg = _decoder.decode(frame)
        except msgspec.ValidationError:
            # Not one of our four shapes: an unknown type is to be ignored; anything else (no
            # type, not an object, a known type with bad fields) re-raises as a bad frame.
            if _type_decoder.decode(frame).type not in _KNOWN_TYPES:
                return []
            raise
        if isinstance(msg, _Ticker):
            return [self._ticker(msg)]
        if isinstance(msg, _Heartbeat):
            if not msg.product_id:
                raise FrameError("heartbeat frame missing product_id")
            return [
                Heartbeat(
                    venue=self.name,
                    kind=HeartbeatKind.HEARTBEAT,
                    symbol=_canonical(msg.product_id),
                    exchange_ts_ms=_epoch_ms(msg.time),
                )
            ]
        if isinstance(msg, _Subscriptions):
            return [self._ack(msg)]
        return [self._error(msg)]

    def _ticker(self, t: _Ticker) -> Event:
        require(t, "ticker", "product_id", "price", "best_bid", "best_ask")
        assert t.product_id is not None  # checked by require(), for the type checker
        return self.quote(
            _canonical(t.product_id),
            Channel.TICKER,
            bid=t.best_bid,
            bid_size=t.best_bid_size,
            ask=t.best_ask,
            ask_size=t.best_ask_size,
            last=t.price,
            volume_24h=t.volume_24h,
            open_24h=t.open_24h,  # no percent on the wire: the change is computed against it
            exchange_ts_ms=_epoch_ms(t.time),
        )

    def _ack(self, msg: _Subscriptions) -> SubscriptionAck:
        products = [pid for ch in msg.channels for pid in ch.product_ids]
        symbols = tuple(dict.fromkeys(_canonical(pid) for pid in products))
        topics: list[str] = []
        for ch in msg.channels:
            if ch.product_ids:
                topics.extend(f"{ch.name}:{pid}" for pid in ch.product_ids)
            else:  # a channel without products (e.g. ``status``) is a topic by itself
                topics.append(ch.name)
        return SubscriptionAck(
            venue=self.name, op="subscribe", symbols=symbols, topics=tuple(topics)
        )

    def _error(self, msg: _Error) -> SubscriptionError:
        parts = [p for p in (msg.message, msg.reason) if p]
        message = ": ".join(parts) if parts else "error frame without message or reason"
        match = _INVALID_PRODUCT.fullmatch(msg.reason)
        symbol = _canonical_or_none(match.group(1)) if match else None
        return SubscriptionError(venue=self.name, message=message, symbol=symbol)

    # -- REST ---------------------------------------------------------------------------------

    def parse_server_time(self, body: bytes | str) -> int:
        answer = decode_rest(body, _ServerTime, "/time")
        if answer.epoch is not None:
            if not math.isfinite(answer.epoch) or answer.epoch < 0:
                raise FrameError(f"unexpected /time answer: epoch {answer.epoch!r}")
            return round(answer.epoch * 1000)
        if answer.iso is not None:
            return (answer.iso - _EPOCH) // _MS
        raise FrameError("unexpected /time answer: neither epoch nor iso")

    def parse_symbol_list(self, body: bytes | str) -> frozenset[str]:
        products = decode_rest(body, list[_Product], "/products")
        return frozenset(
            canonical_from_pair(p.base_currency, p.quote_currency)
            for p in products
            if p.status == "online" and not p.trading_disabled
        )


def _canonical_or_none(product_id: str) -> str | None:
    base, sep, quote = product_id.upper().partition("-")
    if not sep or not _ASSET.fullmatch(base) or not _ASSET.fullmatch(quote):
        return None
    return canonical_from_pair(base, quote)


def _cache_symbol(product_id: str) -> str | None:
    """The canonical symbol of ``product_id`` (``None`` if malformed), remembered for the fast
    path."""
    symbol = _canonical_or_none(product_id)
    if symbol is not None and len(_SYMBOLS) < _SYMBOLS_MAX:
        _SYMBOLS[product_id] = symbol
    return symbol


def _canonical(product_id: str) -> str:
    """``ETH-USD`` -> ``ETHUSD``; a product id not shaped ``BASE-QUOTE`` is a bad frame."""
    symbol = _canonical_or_none(product_id)
    if symbol is None:
        raise FrameError(f"bad product_id {product_id!r:.40}")
    return symbol


def _epoch_ms(time: datetime | None) -> int | None:
    """Epoch ms (truncated) of an aware time, computed exactly (no float rounding)."""
    return None if time is None else (time - _EPOCH) // _MS


ADAPTER = CoinbaseAdapter
"""This venue's adapter (found by :data:`cryptows.venues.ADAPTERS`)."""
