"""Bybit v5 spot adapter: every fixture frame, request shapes, batching and bad frames."""

from __future__ import annotations

import json

import pytest

from cryptows.models import (
    BadFrame,
    Channel,
    Event,
    Heartbeat,
    HeartbeatKind,
    Quote,
    SubscriptionAck,
    SubscriptionError,
)
from cryptows.symbols import parse_symbol
from cryptows.venues.base import FrameError
from cryptows.venues.bybit import BybitAdapter
from tests.conftest import fixture_bytes, fixture_names

V = "bybit"

EXPECTED: dict[str, list[Event]] = {
    "orderbook_1__snapshot.json": [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            channel=Channel.BOOK,
            bid=106285.8,
            bid_size=0.794865,
            ask=106285.9,
            ask_size=1.269905,
            exchange_ts_ms=1748980103101,
        )
    ],
    # Deeper books are never subscribed to, and a delta gives no top of book without state.
    "orderbook_50__delta.json": [],
    "orderbook_50__delta_docs.json": [],
    "tickers__spot.json": [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            channel=Channel.TICKER,
            last=21109.77,
            volume_24h=6780.866843,
            change_24h_pct=0.0196 * 100,  # "price24hPcnt": "0.0196" is a fraction: +1.96 %
            exchange_ts_ms=1673853746003,
        )
    ],
    "tickers__linear.json": [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            channel=Channel.TICKER,
            bid=66666.60,
            bid_size=23789.165,
            ask=66666.70,
            ask_size=23775.469,
            last=66666.60,
            volume_24h=73191.3870,
            change_24h_pct=-0.158315 * 100,  # "-0.158315": 66666.6 / 79206.2 - 1
            exchange_ts_ms=1760325052630,
        )
    ],
    "pong.json": [Heartbeat(venue=V, kind=HeartbeatKind.PONG)],
    "subscribe_ack.json": [SubscriptionAck(venue=V, op="subscribe", req_id="10001")],
    "subscribe_error__unknown_symbol.json": [
        SubscriptionError(
            venue=V,
            message="Invalid symbol :[orderbook.1.NOPEUSDT]",
            symbol="NOPEUSDT",
            req_id="test",
        )
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_frame(name: str) -> None:
    assert BybitAdapter().parse(fixture_bytes(V, name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_frame_as_text(name: str) -> None:
    assert BybitAdapter().parse(fixture_bytes(V, name).decode()) == EXPECTED[name]


def test_every_server_fixture_is_covered() -> None:
    names = fixture_names(V, "*.json")
    requests = {n for n in names if n.removesuffix(".json").split("__")[0].endswith("_request")}
    assert requests == {"subscribe_request.json", "unsubscribe_request.json", "ping_request.json"}
    assert set(names) - requests == set(EXPECTED)


def test_receipt_times_are_stamped() -> None:
    [q] = BybitAdapter().parse(
        fixture_bytes(V, "orderbook_1__snapshot.json"), recv_mono_ns=5, recv_wall_ms=7
    )
    assert isinstance(q, Quote)
    assert (q.recv_mono_ns, q.recv_wall_ms) == (5, 7)


# -- requests ---------------------------------------------------------------------------------


def _structure(body: dict[str, object]) -> dict[str, object]:
    """A request body with its id taken out, keys in order."""
    return {k: v for k, v in body.items() if k != "req_id"}


def test_subscribe_matches_documented_request() -> None:
    [frame] = BybitAdapter().subscribe([parse_symbol("BTCUSDT")])
    body = json.loads(frame)
    documented = json.loads(fixture_bytes(V, "subscribe_request.json"))
    assert list(body) == list(documented)
    assert _structure(body) == _structure(documented)
    assert isinstance(body["req_id"], str)


def test_unsubscribe_shape_and_ack_attribution() -> None:
    adapter = BybitAdapter()
    [frame] = adapter.unsubscribe([parse_symbol("eth-usdt")])
    body = json.loads(frame)
    documented = json.loads(fixture_bytes(V, "unsubscribe_request.json"))
    assert sorted(body) == sorted(documented)
    assert body["op"] == documented["op"] == "unsubscribe"
    assert body["args"] == ["orderbook.1.ETHUSDT", "tickers.ETHUSDT"]
    assert isinstance(body["req_id"], str)
    reply = {"success": True, "ret_msg": "", "conn_id": "c", "req_id": body["req_id"]}
    assert adapter.parse(json.dumps(reply | {"op": "unsubscribe"})) == [
        SubscriptionAck(venue=V, op="unsubscribe", req_id=body["req_id"], symbols=("ETHUSDT",))
    ]


def test_subscribe_ack_names_the_requested_symbols() -> None:
    adapter = BybitAdapter()
    [frame] = adapter.subscribe([parse_symbol("BTCUSDT"), parse_symbol("SOL/USDC")])
    req_id = json.loads(frame)["req_id"]
    ack = json.loads(fixture_bytes(V, "subscribe_ack.json")) | {"req_id": req_id}
    assert adapter.parse(json.dumps(ack)) == [
        SubscriptionAck(venue=V, op="subscribe", req_id=req_id, symbols=("BTCUSDT", "SOLUSDC"))
    ]


def test_linear_style_ack_with_empty_ret_msg_and_req_id() -> None:
    ack = {"success": True, "ret_msg": "", "conn_id": "c", "req_id": "", "op": "subscribe"}
    assert BybitAdapter().parse(json.dumps(ack)) == [SubscriptionAck(venue=V, op="subscribe")]


def test_ping_matches_documented_request_with_fresh_ids() -> None:
    adapter = BybitAdapter()
    first, second = adapter.ping_frame(), adapter.ping_frame()
    documented = json.loads(fixture_bytes(V, "ping_request.json"))
    for frame in (first, second):
        body = json.loads(frame)
        assert list(body) == list(documented)
        assert _structure(body) == _structure(documented) == {"op": "ping"}
        assert isinstance(body["req_id"], str)
    assert json.loads(first)["req_id"] != json.loads(second)["req_id"]
    assert adapter.request(json.loads(first)["req_id"]) is None  # pings are not requests


def test_ping_ids_do_not_collide_with_subscription_ids() -> None:
    adapter = BybitAdapter()
    ping_id = json.loads(adapter.ping_frame())["req_id"]
    sub_ids = {json.loads(f)["req_id"] for f in adapter.subscribe([parse_symbol("BTCUSDT")])}
    assert ping_id not in sub_ids


def test_subscribe_batches_within_limits_with_distinct_ids() -> None:
    adapter = BybitAdapter()
    symbols = [parse_symbol(f"C{i}USDT") for i in range(12)]
    bodies = [json.loads(f) for f in adapter.subscribe(symbols)]
    assert [len(b["args"]) for b in bodies] == [10, 10, 4]
    assert all(len(b["args"]) <= adapter.limits.max_topics_per_request for b in bodies)
    args = [a for b in bodies for a in b["args"]]
    assert len(args) == len(set(args)) == 24
    assert set(args) == set(adapter.topics(symbols))
    assert len({b["req_id"] for b in bodies}) == 3
    assert all(b["op"] == "subscribe" for b in bodies)


def test_connection_topic_limit_fits_the_args_character_budget() -> None:
    adapter = BybitAdapter()
    longest = parse_symbol(f"{'X' * 20}-FDUSD")  # the longest symbol a user can write
    symbols = [longest] * (adapter.limits.max_topics_per_connection // adapter.topics_per_symbol)
    assert len(json.dumps(adapter.topics(symbols), separators=(",", ":"))) <= 21_000


def test_no_symbols_no_frames() -> None:
    assert BybitAdapter().subscribe([]) == []


# -- replies ----------------------------------------------------------------------------------


def test_pong_with_echoed_req_id_and_op_pong_variants() -> None:
    adapter = BybitAdapter()
    spot = json.loads(fixture_bytes(V, "pong.json")) | {"req_id": "ping-3"}
    linear = json.loads(fixture_bytes(V, "pong.json")) | {"req_id": ""}
    option = {"args": ["1672916271846"], "op": "pong"}
    private = {"req_id": "test", "op": "pong", "args": ["1675418560633"], "conn_id": "c"}
    for reply in (spot, linear, option, private):
        assert adapter.parse(json.dumps(reply)) == [Heartbeat(venue=V, kind=HeartbeatKind.PONG)]


def test_error_without_topic_names_the_single_requested_symbol() -> None:
    adapter = BybitAdapter()
    [frame] = adapter.subscribe([parse_symbol("XRPUSDT")])
    req_id = json.loads(frame)["req_id"]
    reply = {"success": False, "ret_msg": "args size >10", "conn_id": "c", "req_id": req_id}
    assert adapter.parse(json.dumps(reply | {"op": "subscribe"})) == [
        SubscriptionError(venue=V, message="args size >10", symbol="XRPUSDT", req_id=req_id)
    ]


def test_error_without_topic_for_several_symbols_names_none() -> None:
    adapter = BybitAdapter()
    [frame] = adapter.subscribe([parse_symbol("XRPUSDT"), parse_symbol("ETHUSDT")])
    req_id = json.loads(frame)["req_id"]
    reply = {"success": False, "ret_msg": "args size >10", "req_id": req_id, "op": "subscribe"}
    assert adapter.parse(json.dumps(reply)) == [
        SubscriptionError(venue=V, message="args size >10", symbol=None, req_id=req_id)
    ]


def test_error_topic_beats_the_request_symbols() -> None:
    adapter = BybitAdapter()
    [frame] = adapter.subscribe([parse_symbol("BTCUSDT"), parse_symbol("NOPEUSDT")])
    req_id = json.loads(frame)["req_id"]
    message = "Invalid symbol :[tickers.NOPEUSDT]"
    reply = {"success": False, "ret_msg": message, "req_id": req_id, "op": "subscribe"}
    assert adapter.parse(json.dumps(reply)) == [
        SubscriptionError(venue=V, message=message, symbol="NOPEUSDT", req_id=req_id)
    ]


def test_linear_worded_error_names_its_topic_symbol() -> None:
    message = "error:handler not found,topic:orderbook.50.NOPEUSDT"
    reply = {"success": False, "ret_msg": message, "req_id": "", "op": "subscribe"}
    assert BybitAdapter().parse(json.dumps(reply)) == [
        SubscriptionError(venue=V, message=message, symbol="NOPEUSDT")
    ]


def test_other_replies_and_topics_are_ignored() -> None:
    adapter = BybitAdapter()
    trade = {"topic": "publicTrade.BTCUSDT", "ts": 1, "type": "snapshot", "data": [{"p": "1"}]}
    option_ack = {"success": True, "conn_id": "c", "type": "COMMAND_RESP", "data": {}}
    auth = {"success": True, "ret_msg": "", "op": "auth", "conn_id": "c"}
    for frame in (trade, option_ack, auth):
        assert adapter.parse(json.dumps(frame)) == []


def test_our_own_requests_are_not_mistaken_for_replies() -> None:
    adapter = BybitAdapter()
    for name in ("subscribe_request.json", "unsubscribe_request.json", "ping_request.json"):
        assert adapter.parse(fixture_bytes(V, name)) == []


# -- book and ticker edge cases ---------------------------------------------------------------

BOOK_DATA: dict[str, object] = {
    "s": "BTCUSDT",
    "b": [["100.0", "1"]],
    "a": [["101.0", "2"]],
    "u": 1,
    "seq": 1,
}
BOOK: dict[str, object] = {
    "topic": "orderbook.1.BTCUSDT",
    "ts": 1748980103101,
    "type": "snapshot",
    "data": BOOK_DATA,
    "cts": 1748980103098,
}


def _book(**data: object) -> str:
    """The level-1 book frame above with some ``data`` fields replaced."""
    return json.dumps(BOOK | {"data": BOOK_DATA | data})


def _without(d: dict[str, object], key: str) -> dict[str, object]:
    return {k: v for k, v in d.items() if k != key}


def test_old_level1_delta_with_one_side_empty() -> None:
    data = {"s": "BTCUSDT", "b": [], "a": [["101.0", "2"]], "u": 7}
    frame = json.dumps(BOOK | {"type": "delta", "data": data})
    assert BybitAdapter().parse(frame) == [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            channel=Channel.BOOK,
            ask=101.0,
            ask_size=2.0,
            exchange_ts_ms=1748980103101,
        )
    ]


def test_zero_size_at_level1_means_that_side_is_absent() -> None:
    assert BybitAdapter().parse(_book(b=[["100.0", "0"]])) == [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            channel=Channel.BOOK,
            ask=101.0,
            ask_size=2.0,
            exchange_ts_ms=1748980103101,
        )
    ]


def test_book_symbol_falls_back_to_the_topic() -> None:
    [q] = BybitAdapter().parse(json.dumps(BOOK | {"data": _without(BOOK_DATA, "s")}))
    assert isinstance(q, Quote)
    assert q.symbol == "BTCUSDT"


def test_book_numbers_may_also_arrive_as_json_numbers() -> None:
    [q] = BybitAdapter().parse(_book(b=[[100.5, 1]], a=[[101, 2.5]]))
    assert isinstance(q, Quote)
    assert (q.bid, q.bid_size, q.ask, q.ask_size) == (100.5, 1.0, 101.0, 2.5)


TICKER_DATA: dict[str, object] = {
    "symbol": "ETHUSDT",
    "lastPrice": "2000.5",
    "volume24h": "10",
    "usdIndexPrice": "",
}
TICKER: dict[str, object] = {
    "topic": "tickers.ETHUSDT",
    "ts": 1673853746003,
    "type": "snapshot",
    "cs": 1,
    "data": TICKER_DATA,
}


def _ticker(**data: object) -> str:
    """The spot ticker frame above with some ``data`` fields replaced."""
    return json.dumps(TICKER | {"data": TICKER_DATA | data})


def test_empty_ticker_fields_mean_missing_not_zero() -> None:
    frame = _ticker(bid1Price="", bid1Size="", ask1Price="2001", ask1Size="")
    assert BybitAdapter().parse(frame) == [
        Quote(
            venue=V,
            symbol="ETHUSDT",
            channel=Channel.TICKER,
            ask=2001.0,
            last=2000.5,
            volume_24h=10.0,
            exchange_ts_ms=1673853746003,
        )
    ]


def _change(frame: str) -> float | None:
    [q] = BybitAdapter().parse(frame)
    assert isinstance(q, Quote)
    return q.change_24h_pct


@pytest.mark.parametrize(
    ("fraction", "pct"), [("0.0123", 1.23), ("-0.0049", -0.49), ("0", 0.0), (0.5, 50.0)]
)
def test_ticker_change_fraction_becomes_percent(fraction: object, pct: float) -> None:
    assert _change(_ticker(price24hPcnt=fraction)) == pytest.approx(pct)


def test_ticker_without_change_has_none() -> None:
    assert _change(_ticker()) is None
    assert _change(_ticker(price24hPcnt="")) is None


def test_linear_ticker_delta_without_prices_says_nothing() -> None:
    delta = {"topic": "tickers.BTCUSDT", "type": "delta", "ts": 1, "data": {"fundingRate": "1"}}
    assert BybitAdapter().parse(json.dumps(delta)) == []


def test_linear_ticker_delta_with_a_price_is_a_partial_quote() -> None:
    delta = {"topic": "tickers.BTCUSDT", "type": "delta", "ts": 1, "data": {"bid1Price": "5"}}
    assert BybitAdapter().parse(json.dumps(delta)) == [
        Quote(venue=V, symbol="BTCUSDT", channel=Channel.TICKER, bid=5.0, exchange_ts_ms=1)
    ]


# -- bad frames -------------------------------------------------------------------------------

BAD_FRAMES: dict[str, str | bytes] = {
    "not json": "hello",
    "binary garbage": b"\xff\xfe\x00\x81",
    "json array": "[1, 2, 3]",
    "json scalar": "42",
    "empty object": "{}",
    "topic frame without data": json.dumps(_without(BOOK, "data")),
    "ticker frame without data": json.dumps({"topic": "tickers.BTCUSDT", "ts": 1}),
    "book data is an array": json.dumps(BOOK | {"data": [1]}),
    "missing bid side": json.dumps(BOOK | {"data": _without(BOOK_DATA, "b")}),
    "missing bid price": _book(b=[["", "1"]]),
    "short level": _book(b=[["100.0"]]),
    "null price": _book(b=[[None, "1"]]),
    "negative price": _book(a=[["-5", "1"]]),
    "nan price": _book(b=[["NaN", "1"]]),
    "infinite price": _book(a=[["Infinity", "1"]]),
    "zero price": _book(b=[["0", "1"]]),
    "not a number": _book(b=[["abc", "1"]]),
    "negative size": _book(b=[["100.0", "-1"]]),
    "crossed book": _book(b=[["102.0", "1"]]),
    "both sides empty": _book(b=[], a=[]),
    "bad symbol": _book(s="BTC-USDT"),
    "ticker without last": json.dumps(TICKER | {"data": _without(TICKER_DATA, "lastPrice")}),
    "ticker zero last": _ticker(lastPrice="0"),
    "ticker nan volume": _ticker(volume24h="NaN"),
    "ticker change not a number": _ticker(price24hPcnt="abc"),
    "ticker change not finite": _ticker(price24hPcnt="Infinity"),
    "wrong type": json.dumps({"success": "yes", "op": "subscribe"}),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_bad_frame_is_counted_not_raised(name: str) -> None:
    events = BybitAdapter().parse(BAD_FRAMES[name])
    assert len(events) == 1
    assert isinstance(events[0], BadFrame)
    assert events[0].venue == V
    assert events[0].reason


# -- REST -------------------------------------------------------------------------------------


def test_rest_server_time() -> None:
    assert BybitAdapter().parse_server_time(fixture_bytes(V, "rest/time.json")) == 1688639403423


def test_rest_server_time_from_envelope_when_result_lacks_it() -> None:
    body = {"retCode": 0, "retMsg": "OK", "result": {}, "retExtInfo": {}, "time": 1688639403999}
    assert BybitAdapter().parse_server_time(json.dumps(body)) == 1688639403999


def test_rest_symbol_list() -> None:
    body = fixture_bytes(V, "rest/instruments_info__spot_excerpt.json")
    assert BybitAdapter().parse_symbol_list(body) == {"BTCUSDT"}


def test_rest_symbol_list_keeps_trading_symbols_only() -> None:
    body = json.loads(fixture_bytes(V, "rest/instruments_info__spot_excerpt.json"))
    [btc] = body["result"]["list"]
    body["result"]["list"] = [btc, btc | {"symbol": "OLDUSDT", "status": "Closed"}]
    assert BybitAdapter().parse_symbol_list(json.dumps(body)) == {"BTCUSDT"}


ERROR_BODY = {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "time": 1}


@pytest.mark.parametrize(
    ("parser", "body"),
    [
        ("parse_server_time", json.dumps(ERROR_BODY)),
        ("parse_symbol_list", json.dumps(ERROR_BODY)),
        ("parse_server_time", "<html>403 Forbidden</html>"),
        ("parse_symbol_list", json.dumps({"retCode": 0, "retMsg": "OK"})),
        ("parse_server_time", json.dumps({"retCode": 0, "result": {"timeNano": "soon"}})),
    ],
)
def test_rest_error_bodies_raise_frame_error(parser: str, body: str) -> None:
    with pytest.raises(FrameError):
        getattr(BybitAdapter(), parser)(body)
