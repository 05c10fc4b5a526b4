"""OKX v5 adapter: every fixture frame, the requests we build, bad frames and the REST parsers."""

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
    Notice,
    NoticeKind,
    Quote,
    SubscriptionAck,
    SubscriptionError,
)
from cryptows.symbols import Symbol
from cryptows.venues.base import FrameError, Probe
from cryptows.venues.okx import OkxAdapter
from tests.conftest import fixture_bytes, fixture_names

VENUE = "okx"
BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")

# -- every server -> client fixture, with the exact events it must give ----------------------

EXPECTED: dict[str, list[Event]] = {
    "tickers.json": [
        Quote(
            venue=VENUE,
            symbol="BTCUSDT",
            channel=Channel.TICKER,
            bid=8888.88,
            bid_size=5.0,
            ask=9999.99,
            ask_size=11.0,
            last=9999.99,
            volume_24h=2222.0,
            # No percent field: (last - open24h) / open24h; sodUtc0/sodUtc8 ("2222") are unused.
            change_24h_pct=(9999.99 - 9000) / 9000 * 100,  # +11.11 %
            exchange_ts_ms=1597026383085,
        )
    ],
    "bbo_tbt__spot_2022.json": [
        Quote(
            venue=VENUE,
            symbol="BTCUSDT",
            channel=Channel.BOOK,
            bid=36232.1,
            bid_size=0.00572212,
            ask=36232.2,
            ask_size=1.8826134,
            exchange_ts_ms=1651826598363,
        )
    ],
    # The docs' order-book examples are BCH-USDT-SWAP: not spot, so nothing.
    "bbo_tbt.json": [],
    "books5.json": [],
    "subscribe_ack.json": [
        SubscriptionAck(
            venue=VENUE,
            op="subscribe",
            req_id=None,
            symbols=("BTCUSDT",),
            topics=("tickers:BTC-USDT",),
        )
    ],
    "subscribe_ack__with_id.json": [
        SubscriptionAck(
            venue=VENUE,
            op="subscribe",
            req_id="1512",
            symbols=("BTCUSDT",),
            topics=("tickers:BTC-USDT",),
        )
    ],
    "unsubscribe_ack.json": [
        SubscriptionAck(
            venue=VENUE,
            op="unsubscribe",
            req_id=None,
            symbols=("BTCUSDT",),
            topics=("tickers:BTC-USDT",),
        )
    ],
    "subscribe_error__unknown_symbol.json": [
        SubscriptionError(
            venue=VENUE,
            message=(
                "Wrong URL or channel:tickers,instId:NMR-USDT doesn't exist. Please use the "
                "correct URL, channel and parameters referring to API document."
            ),
            symbol="NMRUSDT",
            code="60018",
            req_id=None,
        )
    ],
    "subscribe_error__unknown_symbol_legacy.json": [
        SubscriptionError(
            venue=VENUE,
            message="channel:tickers,instId:LTC-USD doesn't exist",
            symbol="LTCUSD",
            code="60018",
            req_id=None,
        )
    ],
    "subscribe_error__invalid_request.json": [
        SubscriptionError(
            venue=VENUE,
            message=(
                'Invalid request: {"op": "subscribe", "argss":[{ "channel" : "tickers", '
                '"instId" : "LTC-USD-200327"}]}'
            ),
            symbol=None,  # id 1512 is not one of ours, and the msg names no spot instId
            code="60012",
            req_id="1512",
        )
    ],
    "notice__service_upgrade.json": [
        Notice(
            venue=VENUE,
            kind=NoticeKind.RECONNECT,
            message="The connection will soon be closed for a service upgrade. Please reconnect.",
        )
    ],
    "pong.txt": [Heartbeat(venue=VENUE, kind=HeartbeatKind.PONG)],
}

REQUESTS = {
    "subscribe_request.json",
    "subscribe_request__with_id.json",
    "unsubscribe_request.json",
    "ping.txt",
}


def test_every_fixture_is_covered() -> None:
    names = set(fixture_names(VENUE)) - {"SOURCES.md"}
    rest = {n for n in names if n.startswith("rest/")}
    assert names - rest == set(EXPECTED) | REQUESTS


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "str"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_frame(name: str, as_text: bool) -> None:
    raw = fixture_bytes(VENUE, name)
    frame: bytes | str = raw.decode() if as_text else raw
    assert OkxAdapter().parse(frame) == EXPECTED[name]


def test_receive_stamps_are_carried() -> None:
    events = OkxAdapter().parse(
        fixture_bytes(VENUE, "tickers.json"), recv_mono_ns=123, recv_wall_ms=456
    )
    assert len(events) == 1
    quote = events[0]
    assert isinstance(quote, Quote)
    assert (quote.recv_mono_ns, quote.recv_wall_ms) == (123, 456)


# -- client -> server frames --------------------------------------------------------------------


def _decoded(frame: str) -> dict[str, Any]:
    body = json.loads(frame)
    assert isinstance(body, dict)
    return body


def _fixture_json(name: str) -> dict[str, Any]:
    body = json.loads(fixture_bytes(VENUE, name))
    assert isinstance(body, dict)
    return body


def _check_id(body: dict[str, Any]) -> str:
    req_id = body.pop("id")
    assert isinstance(req_id, str)
    assert req_id.isalnum()
    assert req_id.isascii()
    assert len(req_id) <= 32
    return req_id


def test_subscribe_matches_documented_request() -> None:
    frames = OkxAdapter().subscribe([BTC, ETH])
    assert len(frames) == 1
    body = _decoded(frames[0])
    _check_id(body)
    assert body == _fixture_json("subscribe_request.json")


def test_subscribe_with_id_matches_documented_request() -> None:
    frames = OkxAdapter().subscribe([BTC])
    assert len(frames) == 1
    ours = _decoded(frames[0])
    theirs = _fixture_json("subscribe_request__with_id.json")
    assert list(ours) == list(theirs)  # same keys, same order: id, op, args
    _check_id(ours)
    theirs.pop("id")
    assert ours == theirs


def test_unsubscribe_matches_documented_request() -> None:
    frames = OkxAdapter().unsubscribe([BTC])
    assert len(frames) == 1
    body = _decoded(frames[0])
    _check_id(body)
    assert body == _fixture_json("unsubscribe_request.json")


def test_ping_frame_is_the_text_ping() -> None:
    adapter = OkxAdapter()
    assert adapter.ping_frame() == "ping"
    assert adapter.ping_frame().encode() == fixture_bytes(VENUE, "ping.txt")


@pytest.mark.parametrize("op", ["subscribe", "unsubscribe"])
def test_batching_many_symbols(op: str) -> None:
    adapter = OkxAdapter()
    symbols = [Symbol(f"C{i}", "USDT") for i in range(250)]
    frames = adapter.subscribe(symbols) if op == "subscribe" else adapter.unsubscribe(symbols)
    assert len(frames) == 3
    bodies = [_decoded(f) for f in frames]
    ids = [_check_id(b) for b in bodies]
    assert len(set(ids)) == len(ids)
    args: list[dict[str, str]] = []
    for frame, body in zip(frames, bodies, strict=True):
        assert body["op"] == op
        assert len(body["args"]) <= adapter.limits.max_topics_per_request
        assert len(frame.encode()) < 64 * 1024
        args.extend(body["args"])
    assert [len(b["args"]) for b in bodies] == [100, 100, 50]
    assert args == [{"channel": "tickers", "instId": f"C{i}-USDT"} for i in range(250)]
    for req_id, body in zip(ids, bodies, strict=True):
        request = adapter.request(req_id)
        assert request is not None
        assert request.op == op
        assert request.symbols == tuple(a["instId"].replace("-", "") for a in body["args"])


def test_no_symbols_no_frames() -> None:
    assert OkxAdapter().subscribe([]) == []


def test_venue_symbol_and_topic() -> None:
    adapter = OkxAdapter()
    assert adapter.venue_symbol(BTC) == "BTC-USDT"
    assert adapter.topic(BTC) == "tickers:BTC-USDT"


def test_class_attributes() -> None:
    assert OkxAdapter.name == "okx"
    assert OkxAdapter.display_name == "OKX"
    assert OkxAdapter.default_ws_url == "wss://ws.okx.com:8443/ws/v5/public"
    assert OkxAdapter.default_rest_url == "https://openapi.okx.com"
    assert OkxAdapter.default_taker_fee_pct == 0.10
    assert OkxAdapter.rest_time_path == "/api/v5/public/time"
    assert OkxAdapter.rest_symbols_path == "/api/v5/public/instruments?instType=SPOT"
    assert OkxAdapter.topics_per_symbol == 1
    hb = OkxAdapter.heartbeat
    assert hb.probe is Probe.APP  # the text "ping", sent only into silence
    assert hb.keepalive_s is None
    # The ping comes well before the server's own cut after 30 s without data, at any bound.
    assert hb.probe_after(5.0) == 2.0
    assert hb.probe_after(300.0) < 30
    limits = OkxAdapter.limits
    assert limits.max_topics_per_request <= limits.max_topics_per_connection
    # The initial subscription of a full connection must be a small share of 480 requests/hour.
    assert limits.max_topics_per_connection // limits.max_topics_per_request <= 10


# -- acks and errors attributed through our own request ids -------------------------------------


def test_error_attributed_through_our_request_id() -> None:
    adapter = OkxAdapter()
    [frame] = adapter.subscribe([Symbol("NMR", "USDT")])
    req_id = _decoded(frame)["id"]
    error = {"id": req_id, "event": "error", "code": "60018", "msg": "some new wording"}
    assert adapter.parse(json.dumps(error)) == [
        SubscriptionError(
            venue=VENUE, message="some new wording", symbol="NMRUSDT", code="60018", req_id=req_id
        )
    ]


def test_error_for_multi_symbol_request_falls_back_on_msg() -> None:
    adapter = OkxAdapter()
    [frame] = adapter.subscribe([BTC, Symbol("NMR", "USDT")])
    req_id = _decoded(frame)["id"]
    msg = "Wrong URL or channel:tickers,instId:NMR-USDT doesn't exist."
    error = {"event": "error", "code": "60018", "msg": msg, "id": req_id, "connId": "x"}
    assert adapter.parse(json.dumps(error)) == [
        SubscriptionError(venue=VENUE, message=msg, symbol="NMRUSDT", code="60018", req_id=req_id)
    ]
    vague = {"event": "error", "code": "60018", "msg": "no such thing", "id": req_id}
    assert adapter.parse(json.dumps(vague)) == [
        SubscriptionError(
            venue=VENUE, message="no such thing", symbol=None, code="60018", req_id=req_id
        )
    ]


def test_invalid_request_error_attributed_through_our_id() -> None:
    adapter = OkxAdapter()
    [frame] = adapter.subscribe([ETH])
    req_id = _decoded(frame)["id"]
    error = {"id": req_id, "event": "error", "code": "60012", "msg": "Invalid request: ..."}
    [event] = adapter.parse(json.dumps(error).encode())
    assert event == SubscriptionError(
        venue=VENUE, message="Invalid request: ...", symbol="ETHUSDT", code="60012", req_id=req_id
    )


def test_ack_echoes_our_request_id() -> None:
    adapter = OkxAdapter()
    [frame] = adapter.subscribe([BTC, ETH])
    req_id = _decoded(frame)["id"]
    ack = {"id": req_id, "event": "subscribe", "arg": {"channel": "tickers", "instId": "ETH-USDT"}}
    assert adapter.parse(json.dumps(ack)) == [
        SubscriptionAck(
            venue=VENUE,
            op="subscribe",
            req_id=req_id,
            symbols=("ETHUSDT",),
            topics=("tickers:ETH-USDT",),
        )
    ]


# -- other well-formed frames we do not use -----------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        {"event": "channel-conn-count", "channel": "tickers", "connCount": "2", "connId": "a"},
        {"event": "notice", "code": "64099", "msg": "something else", "connId": "a"},
        {"event": "login", "code": "0", "msg": "", "connId": "a"},
        {"arg": {"channel": "trades", "instId": "BTC-USDT"}, "data": [{"px": "1", "ts": "1"}]},
        {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "snapshot", "data": [{}]},
    ],
    ids=["conn-count", "other-notice", "login", "trades", "books-incremental"],
)
def test_frames_we_ignore(frame: dict[str, Any]) -> None:
    assert OkxAdapter().parse(json.dumps(frame)) == []


def _ticker(**fields: Any) -> dict[str, Any]:
    item = {
        "instType": "SPOT",
        "instId": "BTC-USDT",
        "last": "100.5",
        "askPx": "101",
        "askSz": "2",
        "bidPx": "100",
        "bidSz": "3",
        "vol24h": "42",
        "volCcy24h": "4200",
        "ts": "1700000000000",
    }
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def _push(*items: dict[str, Any], inst_id: str = "BTC-USDT") -> dict[str, Any]:
    return {"arg": {"channel": "tickers", "instId": inst_id}, "data": list(items)}


def test_ticker_push_with_several_items_skips_non_spot() -> None:
    swap = _ticker(instType="SWAP", instId="BTC-USDT-SWAP")
    eth = _ticker(instId="ETH-USDT", bidPx="", bidSz="", last="")
    events = OkxAdapter().parse(json.dumps(_push(_ticker(), swap, eth)))
    assert events == [
        Quote(
            venue=VENUE,
            symbol="BTCUSDT",
            channel=Channel.TICKER,
            bid=100.0,
            bid_size=3.0,
            ask=101.0,
            ask_size=2.0,
            last=100.5,
            volume_24h=42.0,
            exchange_ts_ms=1700000000000,
        ),
        Quote(
            venue=VENUE,
            symbol="ETHUSDT",
            channel=Channel.TICKER,
            ask=101.0,
            ask_size=2.0,
            volume_24h=42.0,
            exchange_ts_ms=1700000000000,
        ),
    ]


def _change(item: dict[str, Any]) -> float | None:
    [q] = OkxAdapter().parse(json.dumps(_push(item)))
    assert isinstance(q, Quote)
    return q.change_24h_pct


def test_ticker_change_is_computed_from_open24h_not_the_day_opens() -> None:
    item = _ticker(last="99", open24h="100", sodUtc0="50", sodUtc8="200")
    assert _change(item) == pytest.approx(-1.0)
    assert _change(_ticker(last="100", open24h="100")) == 0.0


@pytest.mark.parametrize("open24h", [None, "", "0"])
def test_ticker_without_usable_open24h_has_no_change(open24h: str | None) -> None:
    assert _change(_ticker(open24h=open24h)) is None


def test_ticker_without_last_has_no_change() -> None:
    assert _change(_ticker(last="", open24h="100")) is None


def test_ticker_change_too_large_for_a_float_is_none() -> None:
    assert _change(_ticker(last="1e308", open24h="1e-300")) is None


def test_futures_ticker_is_ignored() -> None:
    item = _ticker(instType="FUTURES", instId="BTC-USD-200327")
    assert OkxAdapter().parse(json.dumps(_push(item, inst_id="BTC-USD-200327"))) == []


def test_book_push_with_one_empty_side() -> None:
    frame = {
        "arg": {"channel": "books5", "instId": "ETH-BTC"},
        "data": [{"asks": [["0.05", "1.5", "0", "3"]], "bids": [], "ts": "1700000000001"}],
    }
    assert OkxAdapter().parse(json.dumps(frame)) == [
        Quote(
            venue=VENUE,
            symbol="ETHBTC",
            channel=Channel.BOOK,
            ask=0.05,
            ask_size=1.5,
            exchange_ts_ms=1700000000001,
        )
    ]


# -- bad frames: exactly one BadFrame, never an exception ---------------------------------------


def _book(bids: Any, asks: Any) -> dict[str, Any]:
    return {
        "arg": {"channel": "bbo-tbt", "instId": "BTC-USDT"},
        "data": [{"asks": asks, "bids": bids, "ts": "1700000000000"}],
    }


BAD_FRAMES: dict[str, bytes | str] = {
    "not-json": "hello there",
    "server-ping-text": "ping",
    "bytes-garbage": b"\xff\xfe\x00\x81garbage",
    "json-array": "[1, 2, 3]",
    "json-string": '"pong"',
    "empty-object": "{}",
    "push-missing-data": json.dumps({"arg": {"channel": "tickers", "instId": "BTC-USDT"}}),
    "push-empty-data": json.dumps(_push()),
    "push-data-not-a-list": json.dumps({"arg": {"channel": "tickers"}, "data": {"a": 1}}),
    "push-missing-inst-id": json.dumps(
        {"arg": {"channel": "tickers"}, "data": [_ticker(instId=None)]}
    ),
    "push-bad-inst-id": json.dumps(_push(_ticker(instId="BTC USDT"), inst_id="BTC USDT")),
    "no-prices": json.dumps(_push(_ticker(bidPx=None, askPx=None, last=None))),
    "negative-price": json.dumps(_push(_ticker(bidPx="-100"))),
    "nan-price": json.dumps(_push(_ticker(askPx="NaN"))),
    "infinite-price": json.dumps(_push(_ticker(last="Infinity"))),
    "zero-price": json.dumps(_push(_ticker(bidPx="0"))),
    "crossed-ticker": json.dumps(_push(_ticker(bidPx="102", askPx="101"))),
    "crossed-book": json.dumps(_book([["102", "1", "0", "1"]], [["101", "1", "0", "1"]])),
    "ts-not-a-number": json.dumps(_push(_ticker(ts="yesterday"))),
    "ts-missing": json.dumps(_push(_ticker(ts=None))),
    "negative-size": json.dumps(_push(_ticker(bidSz="-1"))),
    "price-not-a-number": json.dumps(_push(_ticker(last="abc"))),
    "price-wrong-type": json.dumps(_push(_ticker(last=[1]))),
    "open24h-not-a-number": json.dumps(_push(_ticker(open24h="abc"))),
    "open24h-negative": json.dumps(_push(_ticker(open24h="-100"))),
    "book-missing-asks": json.dumps(
        {"arg": {"channel": "bbo-tbt", "instId": "BTC-USDT"}, "data": [{"bids": [], "ts": "1"}]}
    ),
    "book-short-level": json.dumps(_book([["100"]], [["101", "1", "0", "1"]])),
    "book-both-sides-empty": json.dumps(_book([], [])),
}


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_bad_frame(name: str, as_bytes: bool) -> None:
    frame = BAD_FRAMES[name]
    if as_bytes and isinstance(frame, str):
        frame = frame.encode()
    events = OkxAdapter().parse(frame)
    assert len(events) == 1
    bad = events[0]
    assert isinstance(bad, BadFrame)
    assert bad.venue == VENUE
    assert bad.reason


# -- REST -----------------------------------------------------------------------------------------


def test_parse_server_time() -> None:
    assert OkxAdapter().parse_server_time(fixture_bytes(VENUE, "rest/time.json")) == 1597026383085


def test_parse_symbol_list() -> None:
    body = fixture_bytes(VENUE, "rest/instruments__spot_excerpt.json")
    assert OkxAdapter().parse_symbol_list(body) == frozenset({"BTCUSDT"})


def test_parse_symbol_list_keeps_live_spot_only() -> None:
    body = _fixture_json("rest/instruments__spot_excerpt.json")
    [btc] = body["data"]
    body["data"] = [
        btc,
        {**btc, "instId": "ETH-USDT", "baseCcy": "ETH"},
        {**btc, "instId": "OLD-USDT", "baseCcy": "OLD", "state": "suspend"},
        {**btc, "instId": "NEW-USDT", "baseCcy": "NEW", "state": "preopen"},
        {**btc, "instId": "BTC-USDT-SWAP", "instType": "SWAP"},
    ]
    assert OkxAdapter().parse_symbol_list(json.dumps(body)) == frozenset({"BTCUSDT", "ETHUSDT"})


ERROR_BODY = '{"code": "50011", "msg": "Too Many Requests", "data": []}'


def test_server_time_error_code() -> None:
    with pytest.raises(FrameError, match="50011"):
        OkxAdapter().parse_server_time(ERROR_BODY)


def test_symbol_list_error_code() -> None:
    with pytest.raises(FrameError, match="50011"):
        OkxAdapter().parse_symbol_list(ERROR_BODY.encode())


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"code": "0", "data": []}', '{"code": "0", "data": [{"ts": "x"}]}'],
    ids=["not-json", "array", "no-data", "bad-ts"],
)
def test_server_time_bad_body(body: str) -> None:
    with pytest.raises(FrameError):
        OkxAdapter().parse_server_time(body)


def test_symbol_list_bad_body() -> None:
    with pytest.raises(FrameError):
        OkxAdapter().parse_symbol_list('{"code": "0", "data": [{"state": "live"}]}')
