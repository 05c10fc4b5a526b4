"""Binance spot adapter: every fixture frame, request shapes, batching and bad frames."""

from __future__ import annotations

import json

import pytest

from cryptows.models import (
    BadFrame,
    Channel,
    Event,
    Notice,
    NoticeKind,
    Quote,
    SubscriptionAck,
    SubscriptionError,
)
from cryptows.symbols import parse_symbol
from cryptows.venues.base import FrameError
from cryptows.venues.binance import BinanceAdapter
from tests.conftest import fixture_bytes, fixture_names

V = "binance"

BOOK_BTC = Quote(
    venue=V,
    symbol="BTCUSDT",
    channel=Channel.BOOK,
    bid=28621.74,
    bid_size=1.432788,
    ask=28621.75,
    ask_size=2.525008,
)


def _err(code: str, msg: str, req_id: str | None) -> SubscriptionError:
    return SubscriptionError(venue=V, message=msg, code=code, req_id=req_id)


EXPECTED: dict[str, list[Event]] = {
    "book_ticker__raw.json": [
        Quote(
            venue=V,
            symbol="BNBUSDT",
            channel=Channel.BOOK,
            bid=25.3519,
            bid_size=31.21,
            ask=25.3652,
            ask_size=40.66,
        )
    ],
    "book_ticker__raw_btcusdt.json": [BOOK_BTC],
    "book_ticker__combined.json": [BOOK_BTC],
    "ticker_24hr__raw.json": [
        Quote(
            venue=V,
            symbol="BNBBTC",
            channel=Channel.TICKER,
            bid=0.0024,
            bid_size=10.0,
            ask=0.0026,
            ask_size=100.0,
            last=0.0025,
            volume_24h=10000.0,
            # "P" as sent, although the docs' example values give (c - o) / o = +150 %
            change_24h_pct=250.0,
            exchange_ts_ms=1672515782136,
        )
    ],
    "ticker_24hr__combined.json": [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            channel=Channel.TICKER,
            bid=9338.03,
            bid_size=0.182346,
            ask=9339.70,
            ask_size=0.140976,
            last=9338.96,
            volume_24h=72229.53692,
            change_24h_pct=4.72,  # "P": "4.720" (and p / o = 420.97 / 8917.99 = 4.7205 %)
            exchange_ts_ms=1580254809477,
        )
    ],
    "mini_ticker.json": [
        Quote(
            venue=V,
            symbol="BNBBTC",
            channel=Channel.TICKER,
            last=0.0025,
            volume_24h=10000.0,
            change_24h_pct=(0.0025 - 0.0010) / 0.0010 * 100,  # no "P": (c - o) / o
            exchange_ts_ms=1672515782136,
        )
    ],
    "mini_ticker__combined.json": [
        Quote(
            venue=V,
            symbol="XRPAUD",
            channel=Channel.TICKER,
            last=0.5716,
            volume_24h=935293.6,
            change_24h_pct=(0.5716 - 0.5317) / 0.5317 * 100,  # +7.50 %
            exchange_ts_ms=1614619259130,
        )
    ],
    "server_shutdown.json": [
        Notice(
            venue=V,
            kind=NoticeKind.RECONNECT,
            message="Binance server shutting down",
            exchange_ts_ms=1770123456789,
        )
    ],
    "server_shutdown__combined.json": [
        Notice(
            venue=V,
            kind=NoticeKind.RECONNECT,
            message="Binance server shutting down",
            exchange_ts_ms=1770123456789,
        )
    ],
    "subscribe_ack.json": [SubscriptionAck(venue=V, op="unknown", req_id="1")],
    "subscribe_ack__unknown_symbol.json": [SubscriptionAck(venue=V, op="unknown", req_id="2")],
    "unsubscribe_ack.json": [SubscriptionAck(venue=V, op="unknown", req_id="312")],
    "list_subscriptions_ack.json": [
        SubscriptionAck(
            venue=V, op="list", req_id="3", symbols=("BTCUSDT",), topics=("btcusdt@aggTrade",)
        )
    ],
    "error__invalid_json.json": [
        _err("3", "Invalid JSON: expected value at line 1 column 1", None)
    ],
    "error__invalid_request_id.json": [
        _err("2", "Invalid request: request ID must be an unsigned integer", None)
    ],
    "error__invalid_stream.json": [_err("2", "Invalid request: invalid stream", "1")],
    "error__invalid_value_type.json": [_err("1", "Invalid value type: expected Boolean", "5")],
    "error__missing_method.json": [
        _err("2", "Invalid request: missing field `method` at line 1 column 73", "1")
    ],
    "error__property_name_not_string.json": [
        _err("2", "Invalid request: property name must be a string", "2")
    ],
    "error__too_many_parameters.json": [_err("2", "Invalid request: too many parameters", "5")],
    "error__unknown_method.json": [
        _err(
            "2",
            "Invalid request: unknown variant `SUBSCRIB`, expected one of `SUBSCRIBE`, "
            "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` "
            "at line 1 column 28",
            "1",
        )
    ],
    "error__unknown_property.json": [_err("0", "Unknown property", "5")],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_frame(name: str) -> None:
    assert BinanceAdapter().parse(fixture_bytes(V, name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_frame_as_text(name: str) -> None:
    assert BinanceAdapter().parse(fixture_bytes(V, name).decode()) == EXPECTED[name]


def test_every_server_fixture_is_covered() -> None:
    names = fixture_names(V, "*.json")
    requests = {n for n in names if n.removesuffix(".json").split("__")[0].endswith("_request")}
    assert set(names) - requests == set(EXPECTED)


def test_receipt_times_are_stamped() -> None:
    [q] = BinanceAdapter().parse(
        fixture_bytes(V, "book_ticker__raw_btcusdt.json"), recv_mono_ns=5, recv_wall_ms=7
    )
    assert isinstance(q, Quote)
    assert (q.recv_mono_ns, q.recv_wall_ms) == (5, 7)


def test_subscribe_matches_documented_request() -> None:
    adapter = BinanceAdapter()
    frames = adapter.subscribe([parse_symbol("BTCUSDT"), parse_symbol("eth-usdt")])
    assert [json.loads(f) for f in frames] == [
        json.loads(fixture_bytes(V, "subscribe_request.json"))
    ]


def test_unsubscribe_shape_and_ack_attribution() -> None:
    adapter = BinanceAdapter()
    [frame] = adapter.unsubscribe([parse_symbol("BTCUSDT")])
    body = json.loads(frame)
    documented = json.loads(fixture_bytes(V, "unsubscribe_request.json"))
    assert body.keys() == documented.keys()
    assert body["method"] == "UNSUBSCRIBE"
    assert body["params"] == ["btcusdt@bookTicker", "btcusdt@ticker"]
    ack = adapter.parse(json.dumps({"result": None, "id": body["id"]}))
    assert ack == [
        SubscriptionAck(venue=V, op="unsubscribe", req_id=str(body["id"]), symbols=("BTCUSDT",))
    ]


def test_subscribe_batches_within_limits_with_distinct_ids() -> None:
    adapter = BinanceAdapter()
    symbols = [parse_symbol(f"C{i}USDT") for i in range(250)]
    bodies = [json.loads(f) for f in adapter.subscribe(symbols)]
    assert len(bodies) == 3
    assert all(len(b["params"]) <= adapter.limits.max_topics_per_request for b in bodies)
    params = [p for b in bodies for p in b["params"]]
    assert len(params) == len(set(params)) == 500
    assert len({b["id"] for b in bodies}) == 3


def test_error_for_single_symbol_request_names_the_symbol() -> None:
    adapter = BinanceAdapter()
    [frame] = adapter.subscribe([parse_symbol("XRPXRP")])
    req_id = json.loads(frame)["id"]
    events = adapter.parse(
        json.dumps({"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": req_id})
    )
    assert events == [
        SubscriptionError(
            venue=V,
            message="Invalid request: invalid stream",
            symbol="XRPXRP",
            code="2",
            req_id=str(req_id),
        )
    ]


def test_unknown_stream_types_are_ignored() -> None:
    kline = {"stream": "btcusdt@kline_1m", "data": {"e": "kline", "E": 1, "s": "BTCUSDT"}}
    assert BinanceAdapter().parse(json.dumps(kline)) == []


BOOK = {"u": 1, "s": "BTCUSDT", "b": "100.0", "B": "1", "a": "101.0", "A": "2"}
TICKER = {"e": "24hrTicker", "E": 1, "s": "BTCUSDT", "c": "100.0", "v": "5", "P": "-0.372"}
MINI = {"e": "24hrMiniTicker", "E": 1, "s": "BTCUSDT", "c": "99.0", "o": "100.0", "v": "5"}


def _change(frame: dict[str, object]) -> float | None:
    [q] = BinanceAdapter().parse(json.dumps(frame))
    assert isinstance(q, Quote)
    return q.change_24h_pct


def test_ticker_change_is_the_percent_as_sent() -> None:
    assert _change(TICKER) == -0.372
    assert _change(TICKER | {"P": "0.000"}) == 0.0
    assert _change(TICKER | {"P": 1.5}) == 1.5


@pytest.mark.parametrize("value", [None, ""])
def test_ticker_without_change_percent_has_none(value: str | None) -> None:
    frame = {k: v for k, v in TICKER.items() if k != "P"}
    assert _change(frame if value is None else frame | {"P": value}) is None


def test_mini_ticker_change_is_computed_from_open_and_close() -> None:
    assert _change(MINI) == pytest.approx(-1.0)
    assert _change(MINI | {"c": "100.0"}) == 0.0


@pytest.mark.parametrize("open_price", [None, "", "0", "0.00000000"])
def test_mini_ticker_without_usable_open_has_no_change(open_price: str | None) -> None:
    frame = {k: v for k, v in MINI.items() if k != "o"}
    assert _change(frame if open_price is None else frame | {"o": open_price}) is None


BAD_FRAMES: dict[str, str | bytes] = {
    "not json": "hello",
    "binary garbage": b"\xff\xfe\x00\x81",
    "json array": "[1, 2, 3]",
    "json scalar": "42",
    "empty object": "{}",
    "combined without data": json.dumps({"stream": "btcusdt@bookTicker"}),
    "missing bid": json.dumps({k: v for k, v in BOOK.items() if k != "b"}),
    "missing symbol": json.dumps({k: v for k, v in BOOK.items() if k != "s"}),
    "zero price": json.dumps(BOOK | {"b": "0.00000000"}),
    "negative price": json.dumps(BOOK | {"a": "-5"}),
    "nan price": json.dumps(BOOK | {"b": "NaN"}),
    "infinite price": json.dumps(BOOK | {"a": "Infinity"}),
    "not a number": json.dumps(BOOK | {"b": "abc"}),
    "negative size": json.dumps(BOOK | {"B": "-1"}),
    "crossed book": json.dumps(BOOK | {"b": "102.0"}),
    "wrong type": json.dumps(BOOK | {"u": "x"}),
    "ticker without last": json.dumps({"e": "24hrTicker", "E": 1, "s": "BTCUSDT", "v": "1"}),
    "bool price": json.dumps(BOOK | {"b": True}),
    "change not a number": json.dumps(TICKER | {"P": "abc"}),
    "change not finite": json.dumps(TICKER | {"P": "NaN"}),
    "mini ticker negative open": json.dumps(MINI | {"o": "-1"}),
    "mini ticker open not a number": json.dumps(MINI | {"o": "abc"}),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_bad_frame_is_counted_not_raised(name: str) -> None:
    events = BinanceAdapter().parse(BAD_FRAMES[name])
    assert len(events) == 1
    assert isinstance(events[0], BadFrame)
    assert events[0].venue == V
    assert events[0].reason


def test_numbers_may_also_arrive_as_json_numbers() -> None:
    [q] = BinanceAdapter().parse(json.dumps(BOOK | {"b": 100.5, "a": 101}))
    assert isinstance(q, Quote)
    assert (q.bid, q.ask) == (100.5, 101.0)


def test_rest_server_time_and_symbols() -> None:
    adapter = BinanceAdapter()
    assert adapter.parse_server_time(fixture_bytes(V, "rest/time.json")) == 1499827319559
    assert adapter.parse_symbol_list(fixture_bytes(V, "rest/exchange_info__excerpt.json")) == {
        "BTCUSDT"
    }


def test_rest_geo_block_body_is_an_error() -> None:
    with pytest.raises(FrameError):
        BinanceAdapter().parse_symbol_list(
            fixture_bytes(V, "rest/error__restricted_location_451.json")
        )
