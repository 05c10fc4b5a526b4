"""Bybit's fast path beyond ``test_fast_parse.py``: topics nobody asked for, and the corners where
lax decoding (``strict=False``) reads a frame differently from the full path.

Lax mode does more than read ``"97000.12"`` as a float: it turns ``"true"`` or ``1`` into a
``bool`` and ``"null"`` into the ``None`` of an optional non-str type. And a fast struct that
forgets a key the full path reads accepts what the full path refuses. The shared test never spells
``"null"`` and never adds a key, so both slips pass it; this one does both.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cryptows.models import BadFrame, Channel, Event, Heartbeat, Quote, SubscriptionAck
from cryptows.symbols import parse_symbol
from cryptows.venues import bybit
from cryptows.venues.bybit import BybitAdapter
from tests.conftest import fixture_bytes

_SYMBOLS = [parse_symbol(s) for s in ("BTCUSDT", "ETHUSDT")]


def _adapter(*, fast: bool) -> BybitAdapter:
    adapter = BybitAdapter()
    adapter.fast_path = fast
    adapter.subscribe(_SYMBOLS)  # request ids "1", on both sides alike
    return adapter


def _parse(frame: bytes | str, *, fast: bool) -> list[Event]:
    return _adapter(fast=fast).parse(frame, recv_mono_ns=123, recv_wall_ms=456)


def _taken(frame: bytes | str) -> list[Event] | None:
    """What the fast path alone gives; ``None`` if it declines (returns ``None`` or raises)."""
    adapter = _adapter(fast=True)
    adapter._recv_mono_ns, adapter._recv_wall_ms = 123, 456  # as parse() stores them
    try:
        return adapter._parse_fast(frame)
    except Exception:  # noqa: BLE001 - declining, as VenueAdapter.parse reads it
        return None


def _assert_same(frame: bytes | str) -> list[Event]:
    fast, full = _parse(frame, fast=True), _parse(frame, fast=False)
    assert fast == full, f"fast path differs on {frame!r:.300}"
    return full


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _spellings(obj: Any) -> list[bytes | str]:
    """``obj`` as the venue sends it (compact bytes), as text, pretty-printed and reordered."""
    compact = _compact(obj)
    reordered = json.dumps(dict(reversed(obj.items())), separators=(",", ":"))
    return [compact, compact.decode(), json.dumps(obj, indent=4).encode(), reordered]


# -- topics nobody asked for ------------------------------------------------------------------

# Pushes as Bybit v5 sends them for topics we never subscribe to (bybit-exchange.github.io/docs,
# v5/websocket/public/...). trade and kline are the docs' response examples; orderbook-rpi is the
# docs' example, its "cts" (cut off in the copy at hand) filled in: its levels have three
# elements (price, non-RPI size, RPI size), which the full path used to count as a bad frame.
PUBLIC_TRADE = {
    "topic": "publicTrade.BTCUSDT",
    "type": "snapshot",
    "ts": 1672304486868,
    "data": [
        {
            "T": 1672304486865,
            "s": "BTCUSDT",
            "S": "Buy",
            "v": "0.001",
            "p": "16578.50",
            "L": "PlusTick",
            "i": "20f43950-d8dd-5b31-9112-a178eb6023af",
            "BT": False,
            "seq": 1783284617,
        }
    ],
}
KLINE = {
    "topic": "kline.5.BTCUSDT",
    "data": [
        {
            "start": 1672324800000,
            "end": 1672325099999,
            "interval": "5",
            "open": "16649.5",
            "close": "16677",
            "high": "16677",
            "low": "16608",
            "volume": "2.081",
            "turnover": "34666.4005",
            "confirm": False,
            "timestamp": 1672324988882,
        }
    ],
    "ts": 1672324988882,
    "type": "snapshot",
}
ORDERBOOK_RPI = {
    "topic": "orderbook.rpi.BTCUSDT",
    "ts": 1752472188075,
    "type": "delta",
    "data": {
        "s": "BTCUSDT",
        "b": [["121975.1", "0.114259", "0"], ["121969.9", "0", "0"], ["121960.5", "0", "0.163986"]],
        "a": [["121990.8", "0.441585", "0.78821"], ["121996.1", "0.016393", "0"]],
        "u": 2258980,
        "seq": 79683241099,
    },
    "cts": 1752472188067,
}
ORDERBOOK_50 = json.loads(fixture_bytes("bybit", "orderbook_50__delta.json"))
ORDERBOOK_200 = ORDERBOOK_50 | {"topic": "orderbook.200.BTCUSDT", "type": "snapshot"}

IGNORED = {
    "publicTrade": PUBLIC_TRADE,
    "kline": KLINE,
    "orderbook.rpi": ORDERBOOK_RPI,
    "orderbook.50": ORDERBOOK_50,
    "orderbook.200": ORDERBOOK_200,
}


@pytest.mark.parametrize("name", IGNORED)
def test_pushes_of_topics_nobody_asked_for_are_ignored(name: str) -> None:
    for frame in _spellings(IGNORED[name]):
        assert _parse(frame, fast=False) == [], frame
        assert _parse(frame, fast=True) == [], frame
        assert _taken(frame) in (None, []), frame


def test_an_ignored_topic_with_a_bad_envelope_is_still_a_bad_frame() -> None:
    for bad in ({"success": "yes"}, {"ts": [1]}, {"op": 5}):
        frame = _compact(ORDERBOOK_RPI | bad)
        events = _assert_same(frame)
        assert len(events) == 1
        assert isinstance(events[0], BadFrame)
    truncated = _compact(ORDERBOOK_RPI)[:-30]
    assert isinstance(_assert_same(truncated)[0], BadFrame)


# -- the fast path takes what it is for --------------------------------------------------------

BOOK = json.loads(BybitAdapter.sample_quote_frame)
TICKER_SPOT = json.loads(fixture_bytes("bybit", "tickers__spot.json"))
TICKER_LINEAR = json.loads(fixture_bytes("bybit", "tickers__linear.json"))
QUOTE_FRAMES = {"book": BOOK, "ticker_spot": TICKER_SPOT, "ticker_linear": TICKER_LINEAR}


@pytest.mark.parametrize("name", QUOTE_FRAMES)
def test_the_fast_path_takes_pushes_however_spelled(name: str) -> None:
    for frame in _spellings(QUOTE_FRAMES[name]):
        taken = _taken(frame)
        assert taken is not None, frame
        assert len(taken) == 1
        assert isinstance(taken[0], Quote)
        assert _assert_same(frame) == taken


def test_the_fast_path_reads_a_book_exactly() -> None:
    [quote] = _parse(BybitAdapter.sample_quote_frame, fast=True)
    assert quote == Quote(
        venue="bybit",
        symbol="BTCUSDT",
        channel=Channel.BOOK,
        bid=106285.8,
        bid_size=0.794865,
        ask=106285.9,
        ask_size=1.269905,
        exchange_ts_ms=1748980103101,
        recv_mono_ns=123,
        recv_wall_ms=456,
    )


def test_the_fast_path_takes_pongs_and_acks() -> None:
    pong = _compact(json.loads(fixture_bytes("bybit", "pong.json")))
    assert _taken(pong) == [Heartbeat(venue="bybit")]
    ack = {"success": True, "ret_msg": "", "conn_id": "c", "req_id": "1", "op": "subscribe"}
    taken = _taken(_compact(ack))
    assert taken == [
        SubscriptionAck(venue="bybit", op="subscribe", req_id="1", symbols=("BTCUSDT", "ETHUSDT"))
    ]
    for frame in (pong, _compact(ack)):
        _assert_same(frame)


def _book(b: Any, a: Any, **data: Any) -> bytes:
    return _compact(BOOK | {"data": BOOK["data"] | {"b": b, "a": a} | data})


@pytest.mark.parametrize(
    ("b", "a", "bid", "ask"),
    [
        ([["100", "1"]], [["100", "2"]], 100.0, 100.0),  # bid == ask is not crossed
        ([], [["101", "2"]], None, 101.0),
        ([["100", "1"]], [], 100.0, None),
        ([["100", "0"]], [["101", "2"]], None, 101.0),  # size 0: the side is absent
        ([["100", "1"]], [["101", "0.0"]], 100.0, None),
        ([["100", "1"], ["99", "5"]], [["101", "2"], ["102", "0"]], 100.0, 101.0),
        ([[100, 1]], [[101.5, 2]], 100.0, 101.5),  # JSON numbers, as the full path reads them
    ],
)
def test_book_sides_as_the_full_path_reads_them(b: Any, a: Any, bid: Any, ask: Any) -> None:
    [quote] = _assert_same(_book(b, a))
    assert isinstance(quote, Quote)
    assert (quote.bid, quote.ask) == (bid, ask)
    assert _taken(_book(b, a)) is not None


@pytest.mark.parametrize(
    ("b", "a", "reason"),
    [
        ([["101", "1"]], [["100", "2"]], "crossed book"),
        ([], [], "no price in frame"),
        ([["100", "0"]], [["101", "0"]], "no price in frame"),
        ([["100", "1", "7"]], [["101", "2"]], "undecodable"),
        ([["", "1"]], [["101", "2"]], "bid level has no price"),
    ],
)
def test_bad_books_are_left_to_the_full_path(b: Any, a: Any, reason: str) -> None:
    frame = _book(b, a)
    assert _taken(frame) is None
    [bad] = _assert_same(frame)
    assert isinstance(bad, BadFrame)
    assert bad.reason.startswith(reason)


@pytest.mark.parametrize(
    ("s", "topic", "symbol"),
    [
        ("BTCUSDT", "orderbook.1.BTCUSDT", "BTCUSDT"),
        ("btcusdt", "orderbook.1.btcusdt", "BTCUSDT"),
        ("ETHUSDT", "orderbook.1.BTCUSDT", "ETHUSDT"),  # data names the symbol, not the topic
        ("", "orderbook.1.ETHUSDT", "ETHUSDT"),  # no symbol in data: the topic's
        ("BTC-USDT", "orderbook.1.BTC-USDT", None),  # not a Bybit spelling: a bad frame
    ],
)
def test_book_symbols_as_the_full_path_reads_them(s: str, topic: str, symbol: str | None) -> None:
    frame = _compact(BOOK | {"topic": topic, "data": BOOK["data"] | {"s": s}})
    for _ in range(2):  # the second time from the symbol cache
        [event] = _assert_same(frame)
        assert getattr(event, "symbol", None) == symbol


def test_the_symbol_cache_stays_bounded() -> None:
    adapter = _adapter(fast=True)
    for i in range(bybit._SYMBOLS_MAX + 10):
        name = f"X{i}USDT"
        data = BOOK["data"] | {"s": name}
        frame = _compact(BOOK | {"topic": f"orderbook.1.{name}", "data": data})
        [quote] = adapter.parse(frame)
        assert isinstance(quote, Quote)
        assert quote.symbol == name
    assert len(bybit._BOOK_SYMBOLS) <= bybit._SYMBOLS_MAX


def test_ticker_deltas_as_the_full_path_reads_them() -> None:
    base = {"topic": "tickers.BTCUSDT", "type": "delta", "ts": 1}
    for data in (
        {"symbol": "BTCUSDT", "fundingRate": "1"},  # no price: nothing
        {"symbol": "BTCUSDT", "bid1Price": "5"},
        {"symbol": "BTCUSDT", "bid1Price": "5", "ask1Price": "4"},  # crossed
        {"symbol": "BTCUSDT", "lastPrice": "5", "price24hPcnt": "-0.5"},
        {"symbol": "BTCUSDT", "lastPrice": "5", "price24hPcnt": "1e300"},
        {"symbol": "BTCUSDT", "lastPrice": "5", "price24hPcnt": "1e307"},  # x 100 overflows
    ):
        _assert_same(_compact(base | {"data": data}))


# -- where lax decoding differs from the full path ----------------------------------------------

# Values lax mode reads differently from strict mode or from float(): "null" is None for an
# optional non-str type, "true"/"1"/1 a bool, "1" an int, "1.0"/1.0 an int where integral ...
_LAX_SPELLINGS: list[Any] = [
    "null", "Null", "NULL", "None", "true", "false", "True", "1", "0", "1.0", "-0", "-0.0",
    "1e2", 1.0, 0.0, -0.0, 1e-320, "9007199254740993", 9007199254740993, 2**53, -(2**63),
    2**64 + 1, "", " ", "[]", "{}", [], {}, [1], ["1", "2"], ["1", "2", "3"], [[]],
    [["1", "2"]], None, True, False,
]  # fmt: skip


def _leaf_paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [path] + [p for k, v in obj.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(obj, list):
        return [path] + [p for i, v in enumerate(obj) for p in _leaf_paths(v, (*path, i))]
    return [path]


def _replaced(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        return obj | {head: _replaced(obj[head], rest, value)}
    return [*obj[:head], _replaced(obj[head], rest, value), *obj[head + 1 :]]


@pytest.mark.parametrize("name", QUOTE_FRAMES)
def test_lax_spellings_anywhere_give_the_same_events(name: str) -> None:
    original = QUOTE_FRAMES[name]
    paths = [p for p in _leaf_paths(original) if p]
    for path in paths:
        for spelling in _LAX_SPELLINGS:
            _assert_same(_compact(_replaced(original, path, spelling)))


# Every key the full path reads (bybit._Frame and bybit._Data), and a few it does not.
_TOP_KEYS = ["topic", "type", "ts", "data", "success", "ret_msg", "op", "req_id", "cts", "id"]
_DATA_KEYS = [
    "s", "b", "a", "symbol", "lastPrice", "volume24h", "price24hPcnt", "bid1Price", "bid1Size",
    "ask1Price", "ask1Size", "u", "seq",
]  # fmt: skip
_ADDED_VALUES: list[Any] = [
    None, "", "x", "null", "true", "1", 1, 1.5, True, [], {}, [["1", "2"]], "BTCUSDT",
    "tickers.BTCUSDT", "orderbook.1.BTCUSDT", "publicTrade.BTCUSDT", "delta",
]  # fmt: skip


@pytest.mark.parametrize("name", QUOTE_FRAMES)
def test_any_key_added_or_replaced_gives_the_same_events(name: str) -> None:
    original = QUOTE_FRAMES[name]
    for value in _ADDED_VALUES:
        for key in _TOP_KEYS:
            _assert_same(_compact(original | {key: value}))
        for key in _DATA_KEYS:
            _assert_same(_compact(original | {"data": original["data"] | {key: value}}))


def test_duplicate_keys_give_the_same_events() -> None:
    book = BybitAdapter.sample_quote_frame.decode()
    ticker = _compact(TICKER_SPOT).decode()
    for frame in (book, ticker):
        for extra in (
            '"topic":"tickers.BTCUSDT"',
            '"topic":"orderbook.1.BTCUSDT"',
            '"topic":"orderbook.50.BTCUSDT"',
            '"topic":"publicTrade.BTCUSDT"',
            '"topic":null',
            '"data":{}',
            '"data":[]',
            '"ts":"x"',
            '"type":"delta"',
            '"success":true',
        ):
            _assert_same(frame[:-1] + "," + extra + "}")  # the later one wins ...
            _assert_same("{" + extra + "," + frame[1:])  # ... and is checked too
    for extra in ('"s":"ETHUSDT"', '"s":""', '"b":[]', '"a":[["1","0"]]', '"b":"null"'):
        _assert_same(book.replace('"data":{', '"data":{' + extra + ",", 1))
        _assert_same(book.replace(',"u":', "," + extra + ',"u":', 1))
