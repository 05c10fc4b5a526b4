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
- Heartbeat: the server sends a protocol ping every 20 s and the websockets library answers it.
  Client messages (pongs and pings included) are limited to 5 per second per connection.
- ``serverShutdown`` announces a disconnect: reconnect at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import msgspec

from cryptows.models import Channel, Event, Notice, NoticeKind, SubscriptionAck, SubscriptionError
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

_BOOK = "bookTicker"
_TICKER = "ticker"


class _Payload(msgspec.Struct):
    """Union of the payload shapes we read (bookTicker, 24hrTicker, miniTicker, serverShutdown)."""

    e: str | None = None
    E: int | str | None = None
    s: str | None = None
    u: int | None = None
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


_decoder = msgspec.json.Decoder(_Frame)


class BinanceAdapter(VenueAdapter):
    """Binance spot (``stream.binance.com``)."""

    name: ClassVar[str] = "binance"
    display_name: ClassVar[str] = "Binance"
    short_name: ClassVar[str] = "bin"
    default_ws_url: ClassVar[str] = "wss://stream.binance.com:9443/stream"
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
        # The server's own pings (every 20 s, answered by websockets) prove nothing about the
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
    )
    topics_per_symbol: ClassVar[int] = 2
    # An invalid stream fails the whole SUBSCRIBE, so the feed resubscribes the others.
    rejects_whole_request: ClassVar[bool] = True
    sample_quote_frame: ClassVar[bytes] = (
        b'{"stream":"btcusdt@bookTicker","data":{"u":7488717758,"s":"BTCUSDT",'
        b'"b":"28621.74000000","B":"1.43278800","a":"28621.75000000","A":"2.52500800"}}'
    )

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
        msg = _decoder.decode(frame)
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
        if p.e is not None:
            return []  # a stream we did not ask for (kline, trade, ...): not ours to judge
        raise FrameError("unrecognised frame: neither an event, an ack nor an error")

    # -- REST ---------------------------------------------------------------------------------

    def parse_server_time(self, body: bytes | str) -> int:
        return decode_rest(body, _ServerTime, "/api/v3/time").serverTime

    def parse_symbol_list(self, body: bytes | str) -> frozenset[str]:
        info = decode_rest(body, _ExchangeInfo, "/api/v3/exchangeInfo")
        return frozenset(s.symbol.upper() for s in info.symbols if s.status == "TRADING")


def _int_or_none(value: int | str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None
