"""CoinbaseAdapter: every recorded/documented frame, the requests we build, bad frames, REST."""

from __future__ import annotations

import json
from typing import Any

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
from cryptows.symbols import Symbol, parse_symbols
from cryptows.venues.base import FrameError, Probe
from cryptows.venues.coinbase import CoinbaseAdapter
from tests.conftest import fixture_bytes, fixture_names

V = "coinbase"


def _fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(V, name))


def _ticker_frame(**changes: Any) -> str:
    """The docs' ETH-USD ticker with fields replaced (a value of ``None`` drops the key)."""
    body = _fixture_json("ticker.json")
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body)


def _assert_one_bad_frame(frame: str | bytes) -> BadFrame:
    events = CoinbaseAdapter().parse(frame)
    assert len(events) == 1
    assert isinstance(events[0], BadFrame)
    assert events[0].venue == V
    assert events[0].reason
    return events[0]


# -- every server frame fixture -------------------------------------------------------------

EXPECTED: dict[str, list[Event]] = {
    "ticker.json": [
        Quote(
            venue=V,
            symbol="ETHUSD",
            channel=Channel.TICKER,
            bid=1285.04,
            bid_size=0.46688654,
            ask=1285.27,
            ask_size=1.56637040,
            last=1285.22,
            volume_24h=245532.79269678,
            change_24h_pct=(1285.22 - 1310.79) / 1310.79 * 100,  # (price - open_24h): -1.95 %
            exchange_ts_ms=1666222102061,  # 2022-10-19T23:28:22.061769Z, truncated to ms
        )
    ],
    "ticker__btc_usdt.json": [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            channel=Channel.TICKER,
            bid=22345.67,
            bid_size=0.10647825,
            ask=22349.68,
            ask_size=0.03131702,
            last=22345.67,
            volume_24h=470.21123644,
            change_24h_pct=(22345.67 - 22308.13) / 22308.13 * 100,  # +0.17 %
            exchange_ts_ms=1677901040799,  # 2023-03-04T03:37:20.799258Z
        )
    ],
    "ticker__legacy_no_sizes.json": [
        Quote(
            venue=V,
            symbol="BTCUSD",
            channel=Channel.TICKER,
            bid=9380.54,
            bid_size=None,
            ask=9380.55,
            ask_size=None,
            last=9380.55,
            volume_24h=9611.79166047,
            change_24h_pct=(9380.55 - 9450.81) / 9450.81 * 100,  # -0.74 %
            exchange_ts_ms=1580521216253,  # 2020-02-01T01:40:16.253563Z
        )
    ],
    "heartbeat.json": [
        # 2014-11-07T08:19:28.464459Z
        Heartbeat(
            venue=V, kind=HeartbeatKind.HEARTBEAT, symbol="BTCUSD", exchange_ts_ms=1415348368464
        )
    ],
    "heartbeat__recorded_2018.json": [
        # 2018-12-08T12:08:47.713000Z
        Heartbeat(
            venue=V, kind=HeartbeatKind.HEARTBEAT, symbol="BTCUSD", exchange_ts_ms=1544270927713
        )
    ],
    "subscriptions_ack.json": [
        SubscriptionAck(
            venue=V,
            op="subscribe",
            req_id=None,
            symbols=("ETHUSD", "ETHEUR", "ETHBTC"),
            topics=(
                "level2:ETH-USD",
                "level2:ETH-EUR",
                "heartbeat:ETH-USD",
                "heartbeat:ETH-EUR",
                "ticker:ETH-USD",
                "ticker:ETH-EUR",
                "ticker:ETH-BTC",
            ),
        )
    ],
    "subscribe_error__unknown_product.json": [
        SubscriptionError(
            venue=V,
            message="Failed to subscribe: GIBBERISH-USD is not a valid product",
            symbol="GIBBERISHUSD",
            code=None,
            req_id=None,
        )
    ],
    "subscribe_error__empty_product_id.json": [
        SubscriptionError(
            venue=V,
            message="Failed to subscribe:  is not a valid product",
            symbol=None,
            code=None,
            req_id=None,
        )
    ],
    "error__no_channels_provided.json": [
        SubscriptionError(
            venue=V, message="Failed to subscribe: No channels provided", symbol=None, code=None
        )
    ],
    "error__level2_requires_auth.json": [
        SubscriptionError(
            venue=V,
            message=(
                "Failed to subscribe: level2, level3, and full channels now require "
                "authentication. https://docs.cloud.coinbase.com/exchange/docs/websocket-auth"
            ),
            symbol=None,
            code=None,
        )
    ],
}

REQUEST_FIXTURES = {
    "subscribe_request.json",
    "subscribe_request__docs_overview.json",
    "unsubscribe_request.json",
    "unsubscribe_request__with_product_ids.json",
}


def test_every_fixture_is_covered() -> None:
    assert set(fixture_names(V, "*.json")) == set(EXPECTED) | REQUEST_FIXTURES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_frame(name: str) -> None:
    assert CoinbaseAdapter().parse(fixture_bytes(V, name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_str_and_bytes_give_the_same_events(name: str) -> None:
    raw = fixture_bytes(V, name)
    adapter = CoinbaseAdapter()
    assert adapter.parse(raw.decode("utf-8")) == adapter.parse(raw) == EXPECTED[name]


def test_receive_stamps_are_carried_onto_quotes() -> None:
    [quote] = CoinbaseAdapter().parse(
        fixture_bytes(V, "ticker.json"), recv_mono_ns=123, recv_wall_ms=456
    )
    assert isinstance(quote, Quote)
    assert (quote.recv_mono_ns, quote.recv_wall_ms) == (123, 456)


# -- time formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "expected_ms"),
    [
        ("2022-10-19T23:28:22.061769Z", 1666222102061),
        ("2022-10-19T23:28:22.061Z", 1666222102061),  # milliseconds (l2update style)
        ("2022-10-19T23:28:22.06Z", 1666222102060),
        ("2022-10-19T23:28:22.0Z", 1666222102000),
        ("2022-10-19T23:28:22Z", 1666222102000),  # no fraction
        ("2022-10-19T23:28:22.061769000Z", 1666222102061),  # nanoseconds
        ("2022-10-19T23:28:22.061769+00:00", 1666222102061),
    ],
)
def test_ticker_time_precisions(time: str, expected_ms: int) -> None:
    [quote] = CoinbaseAdapter().parse(_ticker_frame(time=time))
    assert isinstance(quote, Quote)
    assert quote.exchange_ts_ms == expected_ms


def test_ticker_without_time_has_no_exchange_timestamp() -> None:
    # The first ticker after subscribing has historically come without time/trade_id/side.
    [quote] = CoinbaseAdapter().parse(
        _ticker_frame(time=None, trade_id=None, side=None, last_size=None)
    )
    assert isinstance(quote, Quote)
    assert quote.exchange_ts_ms is None
    assert (quote.bid, quote.ask, quote.last) == (1285.04, 1285.27, 1285.22)


@pytest.mark.parametrize(
    ("price", "open_24h", "pct"),
    [("101", "100", 1.0), ("99", "100", -1.0), ("100", "100.00000000", 0.0)],
)
def test_ticker_change_is_computed_from_open_24h(price: str, open_24h: str, pct: float) -> None:
    frame = _ticker_frame(price=price, open_24h=open_24h, best_bid="98", best_ask="102")
    [quote] = CoinbaseAdapter().parse(frame)
    assert isinstance(quote, Quote)
    assert quote.change_24h_pct == pytest.approx(pct)


@pytest.mark.parametrize("open_24h", [None, "", "0"])
def test_ticker_without_usable_open_24h_has_no_change(open_24h: str | None) -> None:
    [quote] = CoinbaseAdapter().parse(_ticker_frame(open_24h=open_24h))
    assert isinstance(quote, Quote)
    assert quote.change_24h_pct is None
    assert quote.last == 1285.22


def test_heartbeat_time_with_millisecond_fraction() -> None:
    frame = '{"type":"heartbeat","sequence":1,"last_trade_id":0,"product_id":"BTC-USDT",'
    frame += '"time":"2019-08-14T20:42:27.265Z"}'
    assert CoinbaseAdapter().parse(frame) == [
        Heartbeat(
            venue=V, kind=HeartbeatKind.HEARTBEAT, symbol="BTCUSDT", exchange_ts_ms=1565815347265
        )
    ]


# -- other valid frames -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"status","products":[],"currencies":[]}',
        '{"type":"l2update","product_id":"BTC-USD","changes":[["buy","1","2"]],'
        '"time":"2019-08-14T20:42:27.265Z"}',
        '{"type":"last_match","price":{"odd":"shape"},"time":"not a time"}',
        '{"type":"subscribe","product_ids":["BTC-USD"],"channels":["ticker"]}',
        '{"type":"something_new"}',
    ],
)
def test_unknown_message_types_are_ignored(frame: str) -> None:
    assert CoinbaseAdapter().parse(frame) == []


def test_subscriptions_tolerates_extra_keys_and_channels_without_products() -> None:
    frame = json.dumps(
        {
            "type": "subscriptions",
            "channels": [
                {"name": "ticker", "product_ids": ["BTC-USD", "BTC-USDT"], "extra": 1},
                {"name": "heartbeat", "product_ids": ["BTC-USD", "BTC-USDT"]},
                {"name": "balance", "product_ids": [], "account_ids": ["x"]},
                {"name": "status"},
            ],
        }
    )
    assert CoinbaseAdapter().parse(frame) == [
        SubscriptionAck(
            venue=V,
            op="subscribe",
            symbols=("BTCUSD", "BTCUSDT"),
            topics=(
                "ticker:BTC-USD",
                "ticker:BTC-USDT",
                "heartbeat:BTC-USD",
                "heartbeat:BTC-USDT",
                "balance",
                "status",
            ),
        )
    ]


def test_subscriptions_after_unsubscribing_everything() -> None:
    assert CoinbaseAdapter().parse('{"type":"subscriptions","channels":[]}') == [
        SubscriptionAck(venue=V, op="subscribe", symbols=(), topics=())
    ]


def test_error_without_reason_keeps_message() -> None:
    assert CoinbaseAdapter().parse('{"type":"error","message":"Invalid product ID provided"}') == [
        SubscriptionError(venue=V, message="Invalid product ID provided", symbol=None)
    ]


def test_error_about_an_unknown_usdt_product() -> None:
    frame = '{"type":"error","message":"Failed to subscribe","reason":"BTC-USDX is not a valid '
    frame += 'product"}'
    [error] = CoinbaseAdapter().parse(frame)
    assert isinstance(error, SubscriptionError)
    assert error.symbol == "BTCUSDX"


# -- requests --------------------------------------------------------------------------------


def test_venue_symbol_keeps_usd_and_usdt_apart() -> None:
    adapter = CoinbaseAdapter()
    assert adapter.venue_symbol(Symbol("BTC", "USDT")) == "BTC-USDT"
    assert adapter.venue_symbol(Symbol("BTC", "USD")) == "BTC-USD"


def test_subscribe_matches_the_request_fixture_exactly() -> None:
    [frame] = CoinbaseAdapter().subscribe(parse_symbols(["BTC-USD", "ETH-USD"]))
    assert json.loads(frame) == _fixture_json("subscribe_request.json")


def test_subscribe_has_the_docs_example_keys() -> None:
    [frame] = CoinbaseAdapter().subscribe(parse_symbols(["ETH-USD", "ETH-EUR"]))
    ours = json.loads(frame)
    docs = _fixture_json("subscribe_request__docs_overview.json")
    assert ours.keys() == docs.keys()
    assert ours["type"] == docs["type"]
    assert ours["product_ids"] == docs["product_ids"]
    assert all(isinstance(c, str) for c in ours["channels"])
    assert set(ours["channels"]) == {"ticker", "heartbeat"}


def test_unsubscribe_matches_the_docs_shape() -> None:
    [frame] = CoinbaseAdapter().unsubscribe(parse_symbols(["ETH-USD", "ETH-EUR"]))
    ours = json.loads(frame)
    with_ids = _fixture_json("unsubscribe_request__with_product_ids.json")
    assert ours.keys() == with_ids.keys()
    assert ours["type"] == with_ids["type"] == "unsubscribe"
    assert ours["product_ids"] == with_ids["product_ids"]
    assert ours["channels"] == ["ticker", "heartbeat"]
    whole_channel = _fixture_json("unsubscribe_request.json")
    assert whole_channel.keys() <= ours.keys()
    assert whole_channel["type"] == ours["type"]


def test_requests_are_text_and_carry_no_request_id() -> None:
    adapter = CoinbaseAdapter()
    for frame in adapter.subscribe(parse_symbols(["BTC-USD"])) + adapter.unsubscribe(
        parse_symbols(["BTC-USD"])
    ):
        assert isinstance(frame, str)
        assert "id" not in json.loads(frame)


def _symbols(n: int) -> list[Symbol]:
    return [Symbol(f"C{i}", "USD") for i in range(n)]


@pytest.mark.parametrize("op", ["subscribe", "unsubscribe"])
def test_batching(op: str) -> None:
    adapter = CoinbaseAdapter()
    symbols = _symbols(120)
    frames = getattr(adapter, op)(symbols)
    bodies = [json.loads(f) for f in frames]
    assert [len(b["product_ids"]) for b in bodies] == [50, 50, 20]
    assert [pid for b in bodies for pid in b["product_ids"]] == [f"C{i}-USD" for i in range(120)]
    for body in bodies:
        assert body["type"] == op
        assert body["channels"] == ["ticker", "heartbeat"]
        assert len(body["product_ids"]) * adapter.topics_per_symbol <= (
            adapter.limits.max_topics_per_request
        )


@pytest.mark.parametrize(("count", "frames"), [(0, 0), (1, 1), (50, 1), (51, 2), (100, 2)])
def test_batch_boundaries(count: int, frames: int) -> None:
    assert len(CoinbaseAdapter().subscribe(_symbols(count))) == frames


def test_a_full_connection_subscribes_well_within_five_seconds() -> None:
    adapter = CoinbaseAdapter()
    per_connection = adapter.limits.max_topics_per_connection // adapter.topics_per_symbol
    frames = adapter.subscribe(_symbols(per_connection))
    assert len(frames) * adapter.limits.min_send_interval_s < 1.0
    assert 1 / adapter.limits.min_send_interval_s <= 100  # 100 client messages/s per IP


def test_no_app_ping_and_heartbeat_policy() -> None:
    adapter = CoinbaseAdapter()
    assert adapter.ping_frame() is None
    # One heartbeat per product per second is the sign of life; a protocol ping goes out only
    # after 2/5 of the liveness bound without any (never while heartbeats flow).
    assert adapter.heartbeat.probe is Probe.PROTOCOL
    assert adapter.heartbeat.answer == "heartbeat"
    assert adapter.heartbeat.keepalive_s is None
    assert adapter.heartbeat.probe_after(5.0) > 1.0


def test_class_attributes() -> None:
    assert CoinbaseAdapter.name == "coinbase"
    assert CoinbaseAdapter.display_name == "Coinbase"
    assert CoinbaseAdapter.default_ws_url == "wss://ws-feed.exchange.coinbase.com"
    assert CoinbaseAdapter.default_rest_url == "https://api.exchange.coinbase.com"
    assert CoinbaseAdapter.default_taker_fee_pct == 0.60
    assert CoinbaseAdapter.rest_time_path == "/time"
    assert CoinbaseAdapter.rest_symbols_path == "/products"
    assert CoinbaseAdapter.topics_per_symbol == 2


# -- bad frames ------------------------------------------------------------------------------


def test_bad_not_json() -> None:
    _assert_one_bad_frame("this is not json")


def test_bad_bytes_garbage() -> None:
    _assert_one_bad_frame(b"\xff\xfe\x00garbage")


def test_bad_json_array() -> None:
    _assert_one_bad_frame(b'[{"type":"ticker"}]')


def test_bad_missing_type() -> None:
    _assert_one_bad_frame('{"product_id":"BTC-USD","price":"1"}')


def test_bad_non_string_type() -> None:
    _assert_one_bad_frame('{"type":7}')


def test_bad_ticker_missing_product_id() -> None:
    bad = _assert_one_bad_frame(_ticker_frame(product_id=None))
    assert "product_id" in bad.reason


def test_bad_ticker_missing_price() -> None:
    bad = _assert_one_bad_frame(_ticker_frame(price=None))
    assert "price" in bad.reason


def test_bad_ticker_missing_best_bid() -> None:
    _assert_one_bad_frame(_ticker_frame(best_bid=None))


def test_bad_ticker_malformed_product_id() -> None:
    _assert_one_bad_frame(_ticker_frame(product_id="ETHUSD"))


def test_bad_negative_price() -> None:
    _assert_one_bad_frame(_ticker_frame(price="-1285.22"))


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "nan"])
def test_bad_non_finite_price(value: str) -> None:
    _assert_one_bad_frame(_ticker_frame(best_ask=value))


def test_bad_zero_price() -> None:
    _assert_one_bad_frame(_ticker_frame(best_bid="0"))


def test_bad_negative_size() -> None:
    _assert_one_bad_frame(_ticker_frame(best_bid_size="-1"))


@pytest.mark.parametrize("open_24h", ["abc", "-1310.79", "NaN"])
def test_bad_open_24h(open_24h: str) -> None:
    bad = _assert_one_bad_frame(_ticker_frame(open_24h=open_24h))
    assert "24h open" in bad.reason


def test_bad_crossed_book() -> None:
    bad = _assert_one_bad_frame(_ticker_frame(best_bid="1300", best_ask="1285.27"))
    assert "crossed" in bad.reason


@pytest.mark.parametrize(
    "time", ["yesterday", "2022-10-19T23:28:22.061769", "2022-13-19T23:28:22Z", "", "1666222102"]
)
def test_bad_time_string(time: str) -> None:
    _assert_one_bad_frame(_ticker_frame(time=time))


def test_bad_heartbeat_time() -> None:
    frame = '{"type":"heartbeat","product_id":"BTC-USD","time":"2014-11-07 sometime"}'
    _assert_one_bad_frame(frame)


def test_bad_heartbeat_missing_product_id() -> None:
    _assert_one_bad_frame('{"type":"heartbeat","time":"2014-11-07T08:19:28.464459Z"}')


def test_bad_subscriptions_shape() -> None:
    _assert_one_bad_frame('{"type":"subscriptions","channels":"ticker"}')


# -- REST ------------------------------------------------------------------------------------


def test_server_time_from_fixture() -> None:
    # {"iso": "2020-05-12T08:00:51.504Z", "epoch": 1589270451.504}
    assert CoinbaseAdapter().parse_server_time(fixture_bytes(V, "rest/time.json")) == (
        1589270451504
    )


def test_server_time_from_iso_only() -> None:
    body = '{"iso": "2020-05-12T08:00:51.504Z"}'
    assert CoinbaseAdapter().parse_server_time(body) == 1589270451504


@pytest.mark.parametrize(
    "body",
    ["", "not json", "[]", "{}", '{"epoch": "soon"}', '{"iso": "yesterday"}', '{"epoch": -1}'],
)
def test_server_time_malformed(body: str) -> None:
    with pytest.raises(FrameError):
        CoinbaseAdapter().parse_server_time(body)


def test_symbol_list_from_fixture() -> None:
    body = fixture_bytes(V, "rest/products__excerpt.json")
    assert CoinbaseAdapter().parse_symbol_list(body) == frozenset({"BTCUSD", "BTCUSDT"})


def _product(pid: str, base: str, quote: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "base_currency": base, "quote_currency": quote, "status": "online"} | extra


def test_symbol_list_filters_and_uses_currencies_not_the_id() -> None:
    body = json.dumps(
        [
            _product("ETH-USD", "ETH", "USD"),
            _product("LTC-USD", "LTC", "USD", status="delisted"),
            _product("XRP-USD", "XRP", "USD", status="offline"),
            _product("DOGE-USD", "DOGE", "USD", trading_disabled=True),
            _product("SOL-USD", "SOL", "USD", trading_disabled=False),
            _product("BTCAUCTION-EUR", "BTC", "EUR"),
        ]
    )
    assert CoinbaseAdapter().parse_symbol_list(body) == frozenset({"ETHUSD", "SOLUSD", "BTCEUR"})


@pytest.mark.parametrize(
    "body",
    ["not json", "{}", '{"products": []}', '[{"id": "BTC-USD"}]', '[{"id": 1}]'],
)
def test_symbol_list_malformed(body: str) -> None:
    with pytest.raises(FrameError):
        CoinbaseAdapter().parse_symbol_list(body)
