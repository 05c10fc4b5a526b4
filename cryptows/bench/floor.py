"""The floor: a typed msgspec decode of each kind of frame, and nothing else.

For every kind of :data:`cryptows.bench.stream.KINDS` a ``msgspec.Struct`` holds the fields
the adapter reads from that kind, typed as they are on the wire (``str`` for decimal strings,
``int`` for integer timestamps): decoding alone, no conversion, no validation beyond the JSON
types, and the kind known in advance (no routing). It is the least a parser of these frames
could cost in Python, so ``parse / floor`` says how much the adapters add to it. OKX's ``pong``
is no JSON (the bare text ``pong``): its floor is the byte comparison that recognises it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

# -- Binance (combined stream: {"stream", "data"}) --------------------------------------------


class BinanceBookData(msgspec.Struct):
    u: int
    s: str
    b: str
    B: str
    a: str
    A: str


class BinanceBook(msgspec.Struct):
    stream: str
    data: BinanceBookData


class BinanceTickerData(msgspec.Struct):
    e: str
    E: int
    s: str
    P: str
    c: str
    b: str
    B: str
    a: str
    A: str
    v: str


class BinanceTicker(msgspec.Struct):
    stream: str
    data: BinanceTickerData


class BinanceMiniTickerData(msgspec.Struct):
    e: str
    E: int
    s: str
    c: str
    o: str
    v: str


class BinanceMiniTicker(msgspec.Struct):
    stream: str
    data: BinanceMiniTickerData


class BinanceEventType(msgspec.Struct):
    e: str


class BinanceOther(msgspec.Struct):
    """A stream cryptows ignores: its event type is all that is read."""

    stream: str
    data: BinanceEventType


class BinanceAck(msgspec.Struct):
    result: None
    id: int


# -- Bybit --------------------------------------------------------------------------------------


class BybitBookData(msgspec.Struct):
    s: str
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]


class BybitBook(msgspec.Struct):
    topic: str
    ts: int
    type: str
    data: BybitBookData


class BybitTickerData(msgspec.Struct):
    symbol: str
    lastPrice: str
    volume24h: str
    price24hPcnt: str


class BybitTicker(msgspec.Struct):
    topic: str
    ts: int
    type: str
    data: BybitTickerData


class BybitTopic(msgspec.Struct):
    """A topic cryptows ignores: the topic is all that is read."""

    topic: str


class BybitReply(msgspec.Struct):
    """A pong or an ack."""

    success: bool
    ret_msg: str
    op: str
    req_id: str


# -- OKX ----------------------------------------------------------------------------------------


class OkxArg(msgspec.Struct):
    channel: str
    instId: str


class OkxTickerItem(msgspec.Struct):
    instType: str
    instId: str
    last: str
    askPx: str
    askSz: str
    bidPx: str
    bidSz: str
    open24h: str
    vol24h: str
    ts: str


class OkxTicker(msgspec.Struct):
    arg: OkxArg
    data: list[OkxTickerItem]


class OkxBookItem(msgspec.Struct):
    asks: list[list[str]]
    bids: list[list[str]]
    ts: str


class OkxBook(msgspec.Struct):
    arg: OkxArg
    data: list[OkxBookItem]


class OkxOther(msgspec.Struct):
    """A channel cryptows ignores: the channel is all that is read."""

    arg: OkxArg


class OkxAck(msgspec.Struct):
    id: str
    event: str
    arg: OkxArg


def okx_pong(frame: bytes) -> bool:
    """OKX's pong is the bare text ``pong``: recognising it is a comparison."""
    return frame == b"pong"


# -- Coinbase -----------------------------------------------------------------------------------


class CoinbaseTicker(msgspec.Struct):
    type: str
    product_id: str
    price: str
    open_24h: str
    volume_24h: str
    best_bid: str
    best_bid_size: str
    best_ask: str
    best_ask_size: str
    time: str


class CoinbaseHeartbeat(msgspec.Struct):
    type: str
    product_id: str
    time: str


class CoinbaseType(msgspec.Struct):
    """A message type cryptows ignores: the type is all that is read."""

    type: str


class CoinbaseChannel(msgspec.Struct):
    name: str
    product_ids: list[str]


class CoinbaseSubscriptions(msgspec.Struct):
    type: str
    channels: list[CoinbaseChannel]


class CoinbaseError(msgspec.Struct):
    type: str
    message: str
    reason: str


FLOOR_TYPES: Mapping[str, type[msgspec.Struct] | None] = {
    "binance/bookTicker": BinanceBook,
    "binance/24hrTicker": BinanceTicker,
    "binance/24hrMiniTicker": BinanceMiniTicker,
    "binance/depthUpdate": BinanceOther,
    "binance/kline": BinanceOther,
    "binance/ack": BinanceAck,
    "bybit/orderbook.1": BybitBook,
    "bybit/tickers": BybitTicker,
    "bybit/publicTrade": BybitTopic,
    "bybit/kline": BybitTopic,
    "bybit/pong": BybitReply,
    "bybit/ack": BybitReply,
    "okx/tickers": OkxTicker,
    "okx/bbo-tbt": OkxBook,
    "okx/books5": OkxBook,
    "okx/candle1m": OkxOther,
    "okx/pong": None,  # not JSON: see okx_pong
    "okx/ack": OkxAck,
    "coinbase/ticker": CoinbaseTicker,
    "coinbase/heartbeat": CoinbaseHeartbeat,
    "coinbase/match": CoinbaseType,
    "coinbase/last_match": CoinbaseType,
    "coinbase/subscriptions": CoinbaseSubscriptions,
    "coinbase/error": CoinbaseError,
}
"""Kind label -> the struct its floor decodes to."""


def floor_decoders() -> dict[str, Callable[[bytes], object]]:
    """Kind label -> the floor's decode function for frames of that kind."""
    decoders: dict[str, Callable[[bytes], object]] = {}
    for label, struct in FLOOR_TYPES.items():
        decoders[label] = okx_pong if struct is None else msgspec.json.Decoder(struct).decode
    return decoders
