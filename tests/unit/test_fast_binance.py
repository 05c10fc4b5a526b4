"""Binance's fast path: what it takes, where it must decline, and streams nobody asked for.

``test_fast_parse.py`` compares the fast and full paths over fixtures, mutations and fuzzing;
these are the cases it does not reach: duplicate and escaped keys, spellings that lax decoding
reads differently from the full path, raw frames with envelope keys, and events of other streams
(whose fields share our keys with other types) that both paths must ignore.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from cryptows.models import BadFrame, Channel, Event, Quote
from cryptows.symbols import parse_symbol
from cryptows.venues.binance import BinanceAdapter
from tests.conftest import fixture_bytes

V = "binance"

BOOK = {"u": 7488717758, "s": "BTCUSDT", "b": "28621.74", "B": "1.43", "a": "28621.75", "A": "2.5"}
TICKER = json.loads(fixture_bytes(V, "ticker_24hr__raw.json"))
MINI = json.loads(fixture_bytes(V, "mini_ticker.json"))

# The documented diff-depth payload: developers.binance.com/docs/binance-spot-api-docs/
# web-socket-streams#diff-depth-stream ("b" and "a" are arrays where our streams have numbers).
DEPTH_UPDATE = {
    "e": "depthUpdate",
    "E": 1672515782136,
    "s": "BNBBTC",
    "U": 157,
    "u": 160,
    "b": [["0.0024", "10"]],
    "a": [["0.0026", "100"]],
}
# #partial-book-depth-streams: no event type, no symbol; only the stream name says what it is.
PARTIAL_DEPTH = {"lastUpdateId": 160, "bids": [["0.0024", "10"]], "asks": [["0.0026", "100"]]}
# #trade-streams, #aggregate-trade-streams, #klinecandlestick-streams (kline shortened).
TRADE = {
    "e": "trade", "E": 1672515782136, "s": "BNBBTC", "t": 12345, "p": "0.001", "q": "100",
    "T": 1672515782136, "m": True, "M": True,
}  # fmt: skip
AGG_TRADE = {
    "e": "aggTrade", "E": 1672515782136, "s": "BNBBTC", "a": 12345, "p": "0.001", "q": "100",
    "f": 100, "l": 105, "T": 1672515782136, "m": True, "M": True,
}  # fmt: skip
KLINE = {"e": "kline", "E": 1672515782136, "s": "BNBBTC", "k": {"t": 1672515780000, "o": "0.0010"}}


def _combined(stream: str, data: Any) -> dict[str, Any]:
    return {"stream": stream, "data": data}


def _adapter(*, fast: bool) -> BinanceAdapter:
    adapter = BinanceAdapter()
    adapter.fast_path = fast
    adapter.subscribe([parse_symbol("BTCUSDT"), parse_symbol("BNBBTC")])
    return adapter


def _compact(frame: Any) -> str:
    return frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":"))


def _both(frame: Any) -> tuple[list[Event], list[Event]]:
    text = _compact(frame)
    fast = _adapter(fast=True).parse(text, recv_mono_ns=11, recv_wall_ms=22)
    full = _adapter(fast=False).parse(text, recv_mono_ns=11, recv_wall_ms=22)
    return fast, full


def _taken(frame: Any) -> list[Event] | None:
    """What the fast path gives; ``None`` when it declines (by returning it or by raising)."""
    try:
        return _adapter(fast=True)._parse_fast(_compact(frame))
    except Exception:  # noqa: BLE001 - raising is declining
        return None


def _same_bits(a: list[Event], b: list[Event]) -> bool:
    """Equal, and every float field with the same sign (``0.0 == -0.0``, but they print apart)."""

    def signs(events: list[Event]) -> list[float]:
        return [
            math.copysign(1.0, v)
            for e in events
            if isinstance(e, Quote)
            for v in (e.bid, e.bid_size, e.ask, e.ask_size, e.last, e.volume_24h, e.change_24h_pct)
            if v is not None
        ]

    return a == b and signs(a) == signs(b)


# -- streams nobody asked for ------------------------------------------------------------------

UNASKED = {
    "depthUpdate raw": DEPTH_UPDATE,
    "depthUpdate combined": _combined("bnbbtc@depth", DEPTH_UPDATE),
    "depthUpdate combined 100ms": _combined("bnbbtc@depth@100ms", DEPTH_UPDATE),
    "partial depth combined": _combined("bnbbtc@depth5", PARTIAL_DEPTH),
    "partial depth combined 100ms": _combined("bnbbtc@depth5@100ms", PARTIAL_DEPTH),
    "trade raw": TRADE,
    "trade combined": _combined("bnbbtc@trade", TRADE),
    "aggTrade raw": AGG_TRADE,
    "aggTrade combined": _combined("bnbbtc@aggTrade", AGG_TRADE),
    "kline raw": KLINE,
    "kline combined": _combined("bnbbtc@kline_1m", KLINE),
}


@pytest.mark.parametrize("name", sorted(UNASKED))
def test_streams_nobody_asked_for_are_ignored_not_bad(name: str) -> None:
    frame = UNASKED[name]
    fast, full = _both(frame)
    assert full == []
    assert fast == []
    assert _both(json.dumps(frame, indent=2))[0] == []  # pretty-printed as well


def test_a_depth_update_with_an_ack_or_error_key_is_still_judged() -> None:
    # An event type of its own makes a frame ignorable, but not one that is also an ack/error.
    for extra in ({"result": None}, {"error": {"code": 2, "msg": "x"}}):
        fast, full = _both(DEPTH_UPDATE | extra)
        assert fast == full
        assert full != []


@pytest.mark.parametrize("event", ["24hrTicker", "24hrMiniTicker", "serverShutdown"])
def test_our_own_events_with_arrays_for_numbers_stay_bad_frames(event: str) -> None:
    fast, full = _both(DEPTH_UPDATE | {"e": event})
    assert fast == full
    assert len(full) == 1
    assert isinstance(full[0], BadFrame)


# -- what the fast path takes --------------------------------------------------------------

TAKEN = {
    "book combined": _combined("btcusdt@bookTicker", BOOK),
    "book raw": BOOK,
    "ticker combined": _combined("bnbbtc@ticker", TICKER),
    "ticker raw": TICKER,
    "mini combined": _combined("bnbbtc@miniTicker", MINI),
    "mini raw": MINI,
    "book, numbers as JSON numbers": BOOK | {"b": 100.5, "B": 1, "a": 101, "A": 2.0},
    "book lower-case symbol": BOOK | {"s": "btcusdt"},
    "book bid equals ask": BOOK | {"b": "5", "a": "5"},
    "ticker without u or o": {k: v for k, v in TICKER.items() if k != "o"},
    "ticker with a checked-only u": TICKER | {"u": 5},
    "mini with checked-only fields": MINI | {"b": "x", "B": 1.5, "a": None, "A": "", "P": 3},
    "mini tiny open: change overflows": MINI | {"o": "1e-320", "c": "1e300"},
    "ticker time at 2**53": TICKER | {"E": 2**53},
}


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_the_fast_path_takes_these_and_agrees(name: str) -> None:
    frame = TAKEN[name]
    assert _taken(frame) is not None
    fast, full = _both(frame)
    assert _same_bits(fast, full)
    assert len(full) == 1
    assert isinstance(full[0], Quote)
    assert (full[0].recv_mono_ns, full[0].recv_wall_ms) == (11, 22)


def test_takes_bytes_and_str_alike() -> None:
    frame = BinanceAdapter.sample_quote_frame
    adapter = _adapter(fast=True)
    assert adapter._parse_fast(frame) == adapter._parse_fast(frame.decode()) is not None


def test_the_quote_values() -> None:
    [q] = _adapter(fast=True).parse(_compact(TAKEN["book combined"]), recv_mono_ns=1)
    assert q == Quote(
        venue=V,
        symbol="BTCUSDT",
        channel=Channel.BOOK,
        bid=28621.74,
        bid_size=1.43,
        ask=28621.75,
        ask_size=2.5,
        recv_mono_ns=1,
    )
    [t] = _adapter(fast=True).parse(_compact(TAKEN["mini raw"]))
    assert isinstance(t, Quote)
    assert t.change_24h_pct == (0.0025 - 0.0010) / 0.0010 * 100
    assert t.exchange_ts_ms == 1672515782136


# -- where it must decline (and the full path decide) ---------------------------------------

DECLINED = {
    "crossed book": BOOK | {"b": "28621.76"},
    "crossed ticker": TICKER | {"b": "0.0027"},
    "u a float": BOOK | {"u": 1.0},
    "u a string": BOOK | {"u": "7488717758"},
    "u null": BOOK | {"u": None},
    "ticker u a float": TICKER | {"u": 1.0},
    "E a float": TICKER | {"E": 1672515782136.0},
    "E a string": TICKER | {"E": "1672515782136"},
    "E beyond 2**53": TICKER | {"E": 2**53 + 1},
    "E negative": MINI | {"E": -1},
    "book with E": BOOK | {"E": 1},
    "book with e": BOOK | {"e": None},
    "size -0": BOOK | {"B": "-0"},  # lax decoding reads 0.0, float("-0") is -0.0
    "size 0": BOOK | {"A": "0"},
    "change -0": TICKER | {"P": "-0"},
    "change 0.000": TICKER | {"P": "0.000"},
    "mini open 0": MINI | {"o": "0"},
    "string null for a price": TICKER | {"b": "null"},
    "ticker without bid": {k: v for k, v in TICKER.items() if k != "b"},
    "empty symbol": BOOK | {"s": ""},
    "symbol not alnum": BOOK | {"s": "BTC-USDT"},
    "raw ticker with result": TICKER | {"result": None},
    "raw ticker with id": TICKER | {"id": 5},
    "raw mini with error null": MINI | {"error": None},
    "raw mini with stream null": MINI | {"stream": None},
    "raw ticker with data": TICKER | {"data": None},
    "envelope with id": _combined("btcusdt@bookTicker", BOOK) | {"id": 1},
    "envelope with e": _combined("bnbbtc@ticker", TICKER) | {"e": "x"},
    "stream null": {"stream": None, "data": BOOK},
    "e neither ticker": _combined("bnbbtc@ticker", TICKER | {"e": "24hrTickers"}),
}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_declines_and_the_full_path_decides(name: str) -> None:
    frame = DECLINED[name]
    assert _taken(frame) is None
    fast, full = _both(frame)
    assert _same_bits(fast, full)


# Text the json module would not write: duplicate keys (the last one wins in msgspec, on both
# paths) and escaped keys, which hide from the substring hints.
RAW_TEXT = {
    "duplicate u, float first": (
        '{"stream":"btcusdt@bookTicker","data":{"u":1.0,"u":1,"s":"BTCUSDT","b":"1","B":"1",'
        '"a":"2","A":"1"}}'
    ),
    "duplicate u, string first": ('{"u":"x","u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}'),
    "duplicate E, float first": (
        '{"e":"24hrMiniTicker","E":1.5,"E":5,"s":"BNBBTC","c":"2","o":"1","v":"1"}'
    ),
    "duplicate bid, the last crossed": (
        '{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1","b":"3"}'
    ),
    "duplicate bid, the first not a number": (
        '{"u":1,"s":"BTCUSDT","b":"abc","B":"1","a":"2","A":"1","b":"1"}'
    ),
    "duplicate symbol": '{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1","s":"ETHUSDT"}',
    "duplicate data": (
        '{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2",'
        '"A":"1"},"data":{"u":1,"s":"ETHUSDT","b":"1","B":"1","a":"2","A":"1"}}'
    ),
    "duplicate event type": (
        '{"e":"24hrTicker","e":"24hrMiniTicker","E":5,"s":"BNBBTC","c":"2","o":"1","v":"1"}'
    ),
    "escaped stream key on a raw ticker": (
        '{"str\\u0065am":"x","e":"24hrMiniTicker","E":5,"s":"BNBBTC","c":"2","o":"1","v":"1"}'
    ),
    "escaped event value": (
        '{"e":"24hr\\u0054icker","E":5,"s":"BNBBTC","c":"2","o":"1","v":"1","b":"1","B":"1",'
        '"a":"2","A":"1","P":"1"}'
    ),
    "escaped digits in a price": '{"u":1,"s":"BTCUSDT","b":"\\u0031","B":"1","a":"2","A":"1"}',
    "pretty-printed combined book": json.dumps(_combined("btcusdt@bookTicker", BOOK), indent=4),
}


@pytest.mark.parametrize("name", sorted(RAW_TEXT))
def test_text_json_would_not_write_gives_the_same_events(name: str) -> None:
    frame = RAW_TEXT[name]
    for form in (frame, frame.encode()):
        fast = _adapter(fast=True).parse(form, recv_mono_ns=11, recv_wall_ms=22)
        full = _adapter(fast=False).parse(form, recv_mono_ns=11, recv_wall_ms=22)
        assert _same_bits(fast, full), (fast, full)


def test_symbols_are_cached_per_adapter_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import cryptows.venues.binance as binance

    monkeypatch.setattr(binance, "_BLANKS_MAX", 3)
    adapter = _adapter(fast=True)
    for i in range(10):
        [q] = adapter.parse(_compact(_combined("x@bookTicker", BOOK | {"s": f"sym{i}"})))
        assert isinstance(q, Quote)
        assert q.symbol == f"SYM{i}"
    assert 0 < len(adapter._blank_books) <= 3
