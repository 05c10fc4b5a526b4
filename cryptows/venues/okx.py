"""OKX v5 public market data: the ``tickers`` channel (best bid/ask, last, 24 h volume).

Protocol (okx.com/docs-v5/en, "WebSocket" overview and "Order book trading > Market data"):

- The client opens ``/ws/v5/public`` and sends
  ``{"id": "7", "op": "subscribe", "args": [{"channel": "tickers", "instId": "BTC-USDT"}, ...]}``.
  ``id`` is optional (up to 32 alphanumerics); we always send our numeric request id so that
  acks and errors can be attributed. The channels of one request may total at most 64 KB; we
  send at most 100 args per request (a few KB).
- Each arg is acked on its own: ``{"event": "subscribe", "arg": {...}, "connId": ..., "id"?}``
  (also ``unsubscribe``). We report topics as ``"<channel>:<instId>"`` (``"tickers:BTC-USDT"``).
- Errors are ``{"event": "error", "code": "60018", "msg": ..., "connId"?, "id"?}`` and carry no
  ``arg``: the symbol comes from our echoed request id, else from ``instId:<X>`` in ``msg``
  (its wording changed in 2024, so only the code is relied upon). 60018: unknown instrument,
  60012: malformed request.
- ``{"event": "notice", "code": "64008"}`` announces a disconnect for a service upgrade in 60 s:
  reconnect at once. Other events (``channel-conn-count``, ``login``, unknown notices) are
  ignored.
- Pushes are ``{"arg": {"channel", "instId"}, "data": [{...}, ...]}``; every ticker value is a
  string, ``ts`` (epoch ms) included. Ticker bid/ask/last are ``bidPx/bidSz``, ``askPx/askSz``
  and ``last``; ``vol24h`` is base-currency volume on SPOT (``volCcy24h`` is quote currency).
  There is no change field: the 24 h change is computed from ``last`` and ``open24h``.
  ``bbo-tbt`` and ``books5`` (order-book snapshots, levels ``[px, sz, "0", orderCount]``) are
  read as book quotes from their first level when a recording carries them; we do not subscribe
  to them. Only spot ids (``BASE-QUOTE``) become quotes: swaps, futures and options give ``[]``.
  Pushes of other channels (``trades``, ``candle1m`` whose rows are arrays, ...) give ``[]``
  whatever their ``data`` holds: nobody asked for them, so they are not bad frames either.
- Heartbeat: the server closes a connection that has received nothing for 30 s (close code
  4004). The rule is to restart an N < 30 s timer on every received message and send the text
  frame ``ping`` when it fires; the answer is the text frame ``pong`` (neither is JSON).
- Limits: 3 connection attempts per second per IP; 480 subscribe/unsubscribe/login requests per
  hour per connection; close codes 4008/4009 mean too many channels, 1009 a frame too large.

Parsing: :meth:`OkxAdapter._parse_fast` reads pushes, acks, events and ``pong`` with one lax typed
decode (prices and sizes become floats and are checked in C) and builds quotes directly; it
declines whatever it cannot read exactly as :meth:`OkxAdapter._parse` does, which then decides.

Why this module is over 400 lines: it holds the venue's whole wire protocol, and the fast path
(typed per-kind decoding, :meth:`_parse_fast`) sits next to the full path it must agree with,
so a change to one is seen beside the other (``tests/unit/test_fast_parse.py`` compares them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from math import isfinite
from typing import Annotated, ClassVar

import msgspec

from cryptows.models import (
    Channel,
    Event,
    Heartbeat,
    HeartbeatKind,
    Notice,
    NoticeKind,
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
    timestamp_ms,
)
from cryptows.venues.wire import Absent, WirePrice, WireSize

_TICKERS = "tickers"
_BOOK_CHANNELS = frozenset({"bbo-tbt", "books5"})
"""Order-book channels whose pushes are full snapshots, so their first level is the top of book.
(``books`` and the ``-l2-tbt`` channels send incremental updates and are not read.)"""
_RECONNECT_NOTICE = "64008"
_PONG = "pong"
_PONG_BYTES = b"pong"

_INST_ID = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
"""Any OKX instrument id: spot ``BTC-USDT``, swap ``BTC-USDT-SWAP``, future ``BTC-USD-200327``."""
_MSG_INST_ID = re.compile(r"instId:([A-Za-z0-9]+(?:-[A-Za-z0-9]+)+)")
"""``instId:NMR-USDT`` inside a 60018 ``msg`` (both the 2023 and the 2024 wording have it)."""


class _Arg(msgspec.Struct):
    channel: str = ""
    instId: str | None = None


class _Item(msgspec.Struct):
    """Union of the ``data`` items we read: a ticker or an order-book snapshot."""

    instType: str | None = None
    instId: str | None = None
    bidPx: Number = None
    bidSz: Number = None
    askPx: Number = None
    askSz: Number = None
    last: Number = None
    open24h: Number = None
    vol24h: Number = None
    bids: list[list[Number]] | None = None
    asks: list[list[Number]] | None = None
    ts: Number = None


class _Frame(msgspec.Struct):
    """A push (``arg`` + ``data``) or an event (ack, error, notice, ...).

    ``data`` is kept raw and decoded only for the channels we read: other channels' items need
    not look like ours (``candle1m`` items are arrays), and they are ignored, not bad frames.
    """

    event: str | None = None
    arg: _Arg | None = None
    data: msgspec.Raw = msgspec.Raw()
    code: str | int | None = None
    msg: str = ""
    id: str | int | None = None


# -- fast path (see ``OkxAdapter._parse_fast``) ---------------------------------------------------

_WireTs = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
"""An epoch-ms timestamp, lax-decoded (``"1597026383085"``). Every integer up to 2**53 is exactly a
float, so it equals what the full path's ``int(float(ts))`` gives; anything larger declines."""

_Level = tuple[WirePrice, WireSize, Number, Number]
"""A book level ``[px, sz, "0", orderCount]``; another length declines."""


class _FastItem(msgspec.Struct, kw_only=True):
    """:class:`_Item` with the values we read decoded and checked in C (``""`` declines); the
    fields follow OKX's key order, which msgspec matches fastest."""

    instType: str | None = None
    instId: str | None = None
    last: Absent[WirePrice] = None
    askPx: Absent[WirePrice] = None
    askSz: Absent[WireSize] = None
    bidPx: Absent[WirePrice] = None
    bidSz: Absent[WireSize] = None
    open24h: Absent[WireSize] = None
    vol24h: Absent[WireSize] = None
    asks: Absent[list[_Level]] = None
    bids: Absent[list[_Level]] = None
    ts: _WireTs  # absent or null: the full path's "missing ts"


class _FastFrame(msgspec.Struct):
    """:class:`_Frame` with typed ``data``: every field at least as strict as the full path's.

    ``code`` and ``id`` are strings only (as OKX sends them): a lax decoder would read a JSON
    ``5.0`` into ``str | int`` as ``5``, which the full path refuses.
    """

    arg: Absent[_Arg] = None
    data: Absent[list[_FastItem]] = None
    event: str | None = None
    code: str | None = None
    msg: str = ""
    id: str | None = None


class _TimeItem(msgspec.Struct):
    ts: str | int


class _Instrument(msgspec.Struct):
    instId: str
    instType: str = ""
    state: str = ""


class _TimeAnswer(msgspec.Struct):
    code: str | int
    data: list[_TimeItem] = []
    msg: str = ""


class _InstrumentsAnswer(msgspec.Struct):
    code: str | int
    data: list[_Instrument] = []
    msg: str = ""


_decoder = msgspec.json.Decoder(_Frame)
_items_decoder = msgspec.json.Decoder(list[_Item] | None)
_fast_decoder = msgspec.json.Decoder(_FastFrame, strict=False)

_TICKER = Channel.TICKER
_BOOK = Channel.BOOK  # enum members read once: on Python 3.11 each Channel.X costs a lookup
_PONG_KIND = HeartbeatKind.PONG

_SYMBOLS: dict[str, str] = {}
"""Fast-path cache: valid instId -> canonical spot symbol, or ``""`` for a swap, future, ..."""
_SYMBOLS_MAX = 4096


class OkxAdapter(VenueAdapter):
    """OKX v5 spot (``ws.okx.com``)."""

    name: ClassVar[str] = "okx"
    display_name: ClassVar[str] = "OKX"
    short_name: ClassVar[str] = "okx"
    # The docs also list wss://wsus.okx.com / wss://wseea.okx.com for US/AU and EEA accounts.
    default_ws_url: ClassVar[str] = "wss://ws.okx.com:8443/ws/v5/public"
    # Current docs; https://www.okx.com is the older host, and us.okx.com / eea.okx.com serve
    # regional (US/AU, EEA) accounts.
    default_rest_url: ClassVar[str] = "https://openapi.okx.com"
    # okx.com fee schedule: regular user Lv1 spot taker 0.10 %.
    default_taker_fee_pct: ClassVar[float] = 0.10
    fee_source: ClassVar[str] = "Source: okx.com/fees, regular user (Lv1) spot taker 0.100 %."
    endpoint_note: ClassVar[str] = (
        "(US/AU and EEA accounts: wss://wsus.okx.com:8443 / wss://wseea.okx.com:8443, "
        "REST us.okx.com / eea.okx.com)"
    )
    rest_time_path: ClassVar[str] = "/api/v5/public/time"
    rest_symbols_path: ClassVar[str] = "/api/v5/public/instruments?instType=SPOT"
    heartbeat: ClassVar[HeartbeatPolicy] = HeartbeatPolicy(
        # OKX's rule: restart an N < 30 s timer on every received message and send "ping" when
        # it fires, expecting "pong". N = dead_after_s / 2.5 (2 s by default), and never more
        # than 20 s, so the server's own cut after 30 s without data never comes first.
        probe=Probe.APP,
        answer="pong",
        probe_by_s=20.0,
    )
    limits: ClassVar[VenueLimits] = VenueLimits(
        # The channels of one request may total 64 KB; 100 args is about 5 KB.
        max_topics_per_request=100,
        # No documented figure, only close codes 4008/4009 for "too many channels". 300 is a
        # conservative count that also costs only 3 of the 480 requests/hour/connection budget.
        max_topics_per_connection=300,
        # The hard limit is a count (480 subscribe/unsubscribe/login requests per hour per
        # connection, i.e. 8 a minute on average), not a rate. With at most 3 requests per
        # connection for the initial subscription, a short spacing is safe; 0.5 s also stays
        # below the 3-per-second connection-attempt rate in case the server counts alike.
        min_send_interval_s=0.5,
        # 3 connection requests per second per IP (docs-v5, WebSocket connection limit).
        max_connects=2,
        connect_window_s=1.0,
    )
    topics_per_symbol: ClassVar[int] = 1
    sample_quote_frame: ClassVar[bytes] = (
        b'{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT",'
        b'"instId":"BTC-USDT","last":"9999.99","lastSz":"0.1","askPx":"9999.99","askSz":"11",'
        b'"bidPx":"8888.88","bidSz":"5","open24h":"9000","high24h":"10000","low24h":"8888.88",'
        b'"volCcy24h":"2222","vol24h":"2222","sodUtc0":"2222","sodUtc8":"2222",'
        b'"ts":"1597026383085"}]}'
    )

    def venue_symbol(self, symbol: Symbol) -> str:
        """Instrument id: upper case, dash-separated (``BTC-USDT``)."""
        return f"{symbol.base}-{symbol.quote}".upper()

    def topic(self, symbol: Symbol) -> str:
        """Our name for the one topic ``symbol`` costs: ``tickers:BTC-USDT``."""
        return _topic(_TICKERS, self.venue_symbol(symbol))

    def _request_body(
        self, op: Op, batch: Sequence[Symbol], req_id: int | None
    ) -> dict[str, object]:
        args = [{"channel": _TICKERS, "instId": self.venue_symbol(s)} for s in batch]
        return {"id": str(req_id), "op": op, "args": args}

    def ping_frame(self) -> str:
        return "ping"

    # -- parsing ----------------------------------------------------------------------------

    def _parse(self, frame: Frame) -> list[Event]:
        # "pong" is a bare text frame, not JSON: test for it before decoding.
        if frame == (_PONG_BYTES if isinstance(frame, bytes) else _PONG):
            return [Heartbeat(venue=self.name, kind=HeartbeatKind.PONG)]
        msg = _decoder.decode(frame)
        if msg.event is not None:
            return self._event(msg)
        if msg.arg is not None:
            return self._push(msg.arg, msg.data)
        raise FrameError("unrecognised frame: neither an event nor a push")

    def _parse_fast(self, frame: Frame) -> list[Event] | None:
        """``tickers`` and book pushes, acks and events, and ``pong``, from one lax typed decode.

        Prices and sizes are decoded and checked in C (:data:`WirePrice`, :data:`WireSize`), so
        whatever they refuse raises and declines: ``"NaN"``, a negative price, but also ``""``,
        which the full path reads as absent (rare: an empty side of an illiquid book). A crossed
        book, a push without prices or data, or an invalid instId declines too; the full path
        then gives the reason. Every other value is typed as in :class:`_Frame` and
        :class:`_Item`, so nothing the full path refuses gets through. Channels we do not read
        give ``[]`` when their items decode as objects (``trades``); candle rows are arrays and
        are left to the full path, which ignores them as well.
        """
        if len(frame) == 4 and frame == (_PONG_BYTES if isinstance(frame, bytes) else _PONG):
            return [Heartbeat(venue=self.name, kind=_PONG_KIND)]
        if b'"candle' in frame if isinstance(frame, bytes) else '"candle' in frame:
            return self._parse(frame)  # rows are arrays: the full path's raw data ignores them
        msg = _fast_decoder.decode(frame)
        if msg.event is not None:
            return self._event(msg)  # the full path's own reading of the same values
        arg = msg.arg
        if arg is None:
            return None
        channel = arg.channel
        if channel == _TICKERS:
            book = False
        elif channel in _BOOK_CHANNELS:
            book = True
        else:
            return []  # a channel we do not read (the full path does not look at its data)
        data = msg.data
        if not data:
            return None
        venue = self.name
        recv_mono_ns = self._recv_mono_ns
        recv_wall_ms = self._recv_wall_ms
        events: list[Event] = []
        for item in data:
            inst_id = item.instId or arg.instId
            if not inst_id:
                return None
            symbol = _SYMBOLS.get(inst_id)
            if symbol is None:
                symbol = _cache_symbol(inst_id)
                if symbol is None:
                    return None
            if not symbol or (item.instType is not None and item.instType != "SPOT"):
                continue
            if book:
                bids = item.bids
                asks = item.asks
                if bids is None or asks is None:
                    return None
                bid, bid_size = (bids[0][0], bids[0][1]) if bids else (None, None)
                ask, ask_size = (asks[0][0], asks[0][1]) if asks else (None, None)
                if bid is None:
                    if ask is None:
                        return None  # no price at all
                elif ask is not None and bid > ask:
                    return None  # crossed
                events.append(
                    Quote(
                        venue=venue,
                        symbol=symbol,
                        channel=_BOOK,
                        bid=bid,
                        bid_size=bid_size,
                        ask=ask,
                        ask_size=ask_size,
                        exchange_ts_ms=item.ts,
                        recv_mono_ns=recv_mono_ns,
                        recv_wall_ms=recv_wall_ms,
                    )
                )
                continue
            bid = item.bidPx
            ask = item.askPx
            last = item.last
            if bid is None:
                if ask is None and last is None:
                    return None  # no price at all
            elif ask is not None and bid > ask:
                return None  # crossed
            opened = item.open24h
            change = None
            if last is not None and opened:  # no open, or 0: nothing to compare with
                change = (last - opened) / opened * 100  # as change_pct() computes it
                if not isfinite(change):
                    change = None
            events.append(
                Quote(
                    venue=venue,
                    symbol=symbol,
                    channel=_TICKER,
                    bid=bid,
                    bid_size=item.bidSz,
                    ask=ask,
                    ask_size=item.askSz,
                    last=last,
                    volume_24h=item.vol24h,
                    change_24h_pct=change,
                    exchange_ts_ms=item.ts,
                    recv_mono_ns=recv_mono_ns,
                    recv_wall_ms=recv_wall_ms,
                )
            )
        return events

    def _event(self, msg: _Frame | _FastFrame) -> list[Event]:
        req_id = None if msg.id is None or msg.id == "" else str(msg.id)
        if msg.event in ("subscribe", "unsubscribe"):
            return [self._ack(msg.event, msg.arg, req_id)]
        if msg.event == "error":
            return [self._error(msg, req_id)]
        if msg.event == "notice" and _code(msg.code) == _RECONNECT_NOTICE:
            return [Notice(venue=self.name, kind=NoticeKind.RECONNECT, message=msg.msg)]
        return []  # channel-conn-count, login, other notices: nothing we act on

    def _ack(self, op: str, arg: _Arg | None, req_id: str | None) -> SubscriptionAck:
        if arg is None or not arg.instId:
            return self.ack(req_id, op)  # not seen in practice: what our request asked for
        spot = _SYMBOLS.get(arg.instId)
        if spot is None:
            spot = _cache_symbol(arg.instId)  # None: no instId at all, so no spot symbol either
        return SubscriptionAck(
            venue=self.name,
            op=op,
            req_id=req_id,
            symbols=(spot,) if spot else (),
            topics=(_topic(arg.channel, arg.instId),),
        )

    def _error(self, msg: _Frame | _FastFrame, req_id: str | None) -> SubscriptionError:
        symbol = self.request_symbol(req_id)
        if symbol is None:
            # The error frame has no "arg"; the 60018 text names the instrument (best effort).
            found = _MSG_INST_ID.search(msg.msg)
            symbol = _spot_symbol(found.group(1)) if found else None
        return SubscriptionError(
            venue=self.name, message=msg.msg, symbol=symbol, code=_code(msg.code), req_id=req_id
        )

    def _push(self, arg: _Arg, raw: msgspec.Raw) -> list[Event]:
        if arg.channel != _TICKERS and arg.channel not in _BOOK_CHANNELS:
            return []  # a channel we did not ask for (trades, candles, books, ...): not read
        data = _decode_items(raw) if raw else None  # an empty Raw: no "data" key
        if not data:
            raise FrameError(f"{arg.channel} push without data")
        events: list[Event] = []
        for item in data:
            inst_id = item.instId or arg.instId
            if not inst_id:
                raise FrameError(f"{arg.channel} push without instId")
            if item.ts is None or item.ts == "":
                raise FrameError(f"{arg.channel} push missing ts")
            if not _INST_ID.fullmatch(inst_id):
                raise FrameError(f"bad instId {inst_id!r:.40}")
            symbol = _spot_symbol(inst_id)
            if symbol is None or (item.instType is not None and item.instType != "SPOT"):
                continue  # swaps, futures, options: we only quote spot
            if arg.channel == _TICKERS:
                events.append(self._ticker(symbol, item))
            else:
                events.append(self._book(symbol, item))
        return events

    def _ticker(self, symbol: str, item: _Item) -> Quote:
        # OKX notes that best ask < best bid can legally occur before the open; quote() refuses
        # a crossed book as a bad frame all the same, since it is no usable quote.
        return self.quote(
            symbol,
            Channel.TICKER,
            bid=item.bidPx,
            bid_size=item.bidSz,
            ask=item.askPx,
            ask_size=item.askSz,
            last=item.last,
            volume_24h=item.vol24h,  # base currency on SPOT (volCcy24h is quote currency)
            # No percent on the wire. open24h is the rolling 24 h open; sodUtc0/sodUtc8 are the
            # opens of the UTC+0 / UTC+8 day, not a 24 h window.
            open_24h=item.open24h,
            exchange_ts_ms=item.ts,
        )

    def _book(self, symbol: str, item: _Item) -> Quote:
        if item.bids is None or item.asks is None:
            raise FrameError("order-book push missing bids or asks")
        bid, bid_size = _top_level(item.bids, "bid")
        ask, ask_size = _top_level(item.asks, "ask")
        return self.quote(
            symbol,
            Channel.BOOK,
            bid=bid,
            bid_size=bid_size,
            ask=ask,
            ask_size=ask_size,
            exchange_ts_ms=item.ts,  # matching-engine time
        )

    # -- REST ---------------------------------------------------------------------------------

    def parse_server_time(self, body: bytes | str) -> int:
        answer = decode_rest(body, _TimeAnswer, self.rest_time_path)
        _check_code(answer.code, answer.msg, self.rest_time_path)
        if not answer.data:
            raise FrameError(f"unexpected {self.rest_time_path} answer: no data")
        ts = timestamp_ms(answer.data[0].ts)
        if ts is None:
            raise FrameError(f"unexpected {self.rest_time_path} answer: empty ts")
        return ts

    def parse_symbol_list(self, body: bytes | str) -> frozenset[str]:
        path = "/api/v5/public/instruments"
        answer = decode_rest(body, _InstrumentsAnswer, path)
        _check_code(answer.code, answer.msg, path)
        symbols = (
            _spot_symbol(i.instId)
            for i in answer.data
            if i.state == "live" and i.instType == "SPOT"
        )
        return frozenset(s for s in symbols if s)


def _decode_items(raw: msgspec.Raw) -> list[_Item] | None:
    """The ``data`` of a push we read; a refusal names its place in the frame (``$.data[0]``)."""
    try:
        return _items_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        head, sep, path = text.rpartition(" - at `$")
        where = f"{head} - at `$.data{path}" if sep else f"{text} - at `$.data`"
        raise msgspec.ValidationError(where) from None


def _cache_symbol(inst_id: str) -> str | None:
    """What :data:`_SYMBOLS` says of ``inst_id`` (now cached); ``None`` if it is no instId."""
    if not _INST_ID.fullmatch(inst_id):
        return None  # not cached: the full path reports it
    if len(_SYMBOLS) >= _SYMBOLS_MAX:
        _SYMBOLS.clear()  # a bound against a stream of made-up ids
    symbol = _SYMBOLS[inst_id] = _spot_symbol(inst_id) or ""
    return symbol


def _topic(channel: str, inst_id: str) -> str:
    return f"{channel}:{inst_id}"


def _spot_symbol(inst_id: str) -> str | None:
    """Canonical symbol of a spot instrument id (``BTC-USDT`` -> ``BTCUSDT``), else ``None``."""
    base, _, quote = inst_id.partition("-")  # a second "-" stays in quote, which it spoils
    if not (base.isalnum() and quote.isalnum() and base.isascii() and quote.isascii()):
        return None
    return canonical_from_pair(base, quote)


def _top_level(levels: list[list[Number]], side: str) -> tuple[Number, Number]:
    """Price and size of the first ``[px, sz, "0", count]`` level; ``None``s for an empty side."""
    if not levels:
        return None, None
    level = levels[0]
    if len(level) < 2:
        raise FrameError(f"malformed {side} level: {level!r:.60}")
    return level[0], level[1]


def _code(code: str | int | None) -> str | None:
    return None if code is None else str(code)


def _check_code(code: str | int, message: str, path: str) -> None:
    if str(code) != "0":
        raise FrameError(f"{path} answered code {code}: {message:.100}")


ADAPTER = OkxAdapter
"""This venue's adapter (found by :data:`cryptows.venues.ADAPTERS`)."""
