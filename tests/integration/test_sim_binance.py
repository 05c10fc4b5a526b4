"""Simulated Binance speaks the real protocol: driven by a plain websockets client + the adapter."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

import cryptows.sim.binance
import cryptows.sim.server
from cryptows.clock import wall_ms
from cryptows.models import BadFrame, Channel, Quote, SubscriptionAck, SubscriptionError
from cryptows.sim.binance import BinanceSim
from cryptows.sim.market import MarketEngine
from cryptows.sim.universe import lot_of, tick_of
from cryptows.symbols import parse_symbols
from cryptows.venues import get_adapter
from tests.integration.conftest import bound, collect


async def test_rest_endpoints_parse_with_the_real_adapter(engine: MarketEngine) -> None:
    adapter = get_adapter("binance")
    async with BinanceSim(engine) as sim, aiohttp.ClientSession() as http:
        async with http.get(sim.rest_url + adapter.rest_time_path) as resp:
            assert resp.status == 200
            assert adapter.parse_server_time(await resp.read()) > 1_700_000_000_000
        sim.faults.delisted.add("SOLUSDT")
        async with http.get(sim.rest_url + adapter.rest_symbols_path) as resp:
            listed = adapter.parse_symbol_list(await resp.read())
    assert {"BTCUSDT", "ETHUSDT"} <= listed
    assert "SOLUSDT" not in listed


async def test_subscribe_ack_then_book_and_ticker_quotes(engine: MarketEngine) -> None:
    adapter = get_adapter("binance")
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        for frame in adapter.subscribe(parse_symbols(["BTCUSDT", "ETHUSDT"])):
            await ws.send(frame)

        def done(events):
            kinds = {(e.symbol, e.channel) for e in events if isinstance(e, Quote)}
            return len(kinds) == 4

        events = await collect(ws, adapter, done)
    assert isinstance(events[0], SubscriptionAck)
    assert events[0].symbols == ("BTCUSDT", "ETHUSDT")
    assert not [e for e in events if isinstance(e, BadFrame)]
    tickers = [e for e in events if isinstance(e, Quote) and e.channel is Channel.TICKER]
    assert tickers
    for q in tickers:
        # "P" (percent, 3 decimals) agrees with the last price and the engine's 24 h open.
        opened = engine.book("binance", q.symbol, 0).open_24h
        assert q.last is not None
        assert q.change_24h_pct is not None
        assert -10 < q.change_24h_pct < 10
        assert q.change_24h_pct == pytest.approx((q.last - opened) / opened * 100, abs=1e-3)


async def test_raw_and_combined_url_forms(engine: MarketEngine) -> None:
    adapter = get_adapter("binance")
    async with BinanceSim(engine) as sim:
        base = f"ws://{sim.host}:{sim.port}"
        for path in ("/ws/btcusdt@bookTicker", "/stream?streams=btcusdt@bookTicker/ethusdt@ticker"):
            async with connect(base + path) as ws:
                raw = await asyncio.wait_for(ws.recv(), bound(5))
                body = json.loads(raw)
                assert ("stream" in body) == path.startswith("/stream")
                assert all(isinstance(e, Quote) for e in adapter.parse(raw))


async def test_unknown_symbol_is_acked_then_silent(engine: MarketEngine) -> None:
    adapter = get_adapter("binance")
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        [frame] = adapter.subscribe(parse_symbols(["XRPXRP"]))
        await ws.send(frame)
        ack = adapter.parse(await asyncio.wait_for(ws.recv(), bound(5)))
        assert isinstance(ack[0], SubscriptionAck)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.6):
                await ws.recv()


async def test_rejected_symbol_is_acked_then_silent_like_an_unknown_one(
    engine: MarketEngine,
) -> None:
    adapter = get_adapter("binance")
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        sim.faults.rejected.add("ETHUSDT")
        [frame] = adapter.subscribe(parse_symbols(["ETHUSDT", "BTCUSDT"]))
        await ws.send(frame)

        def btc_seen(events):
            return any(isinstance(e, Quote) and e.symbol == "BTCUSDT" for e in events)

        events = await collect(ws, adapter, btc_seen)
    assert isinstance(events[0], SubscriptionAck)
    assert not [e for e in events if isinstance(e, Quote) and e.symbol == "ETHUSDT"]


async def test_malformed_stream_name_fails_the_request(engine: MarketEngine) -> None:
    adapter = get_adapter("binance")
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["BTC USDT@x"], "id": 4}))
        [event] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(5)))
    assert isinstance(event, SubscriptionError)
    assert event.message == "Invalid request: invalid stream"
    assert event.req_id == "4"


async def test_invalid_json_and_unknown_method_errors(engine: MarketEngine) -> None:
    adapter = get_adapter("binance")
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send("not json")
        [err] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(5)))
        assert isinstance(err, SubscriptionError)
        assert err.code == "3"
        assert err.req_id is None
        await ws.send(json.dumps({"method": "SUBSCRIB", "params": [], "id": 9}))
        [err] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(5)))
        assert isinstance(err, SubscriptionError)
        assert err.code == "2"
        assert err.req_id == "9"


async def test_more_than_five_messages_a_second_disconnects(engine: MarketEngine) -> None:
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        for i in range(7):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        async with asyncio.timeout(bound(5)):
            await ws.wait_closed()
        assert ws.close_code == 1008


# -- the public market-data surface beyond the adapter's streams --------------------------------

FIXTURES = Path(__file__).parent.parent / "fixtures" / "binance"


class Clock:
    """A wall clock the test moves by hand (patched into the simulator's modules)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = wall_ms()
        monkeypatch.setattr(cryptows.sim.binance, "wall_ms", lambda: self.now)
        monkeypatch.setattr(cryptows.sim.server, "wall_ms", lambda: self.now)


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


def apply(book: dict[float, float], levels: list[list[str]]) -> None:
    for price, size in levels:
        if float(size) == 0:
            book.pop(float(price), None)
        else:
            book[float(price)] = float(size)


async def test_diff_depth_rebuilds_a_snapshot_taken_inside_a_diffs_range(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The documented recipe (buffer diffs, fetch /api/v3/depth, drop u <= lastUpdateId, apply
    # the rest, each U = previous u + 1) rebuilds the book exactly, even when the snapshot was
    # taken between a diff's U and u, so it shows levels neither end of that diff has.
    clock = Clock(monkeypatch)
    async with BinanceSim(engine) as sim, aiohttp.ClientSession() as http:
        async with connect(f"ws://{sim.host}:{sim.port}/ws") as ws:
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth"], "id": 1}))
            assert json.loads(await asyncio.wait_for(ws.recv(), bound(5))) == {
                "result": None,
                "id": 1,
            }
            await asyncio.sleep(0.3)  # the first (empty) 1000 ms round has passed
            clock.now += 600
            status, snap = await get(http, sim.rest_url + "/api/v3/depth?symbol=BTCUSDT&limit=1000")
            assert status == 200
            clock.now += 600
            diffs: list[dict[str, Any]] = []
            async with asyncio.timeout(bound(3)):
                while not diffs or diffs[-1]["u"] <= snap["lastUpdateId"]:
                    diffs.append(json.loads(await ws.recv()))
        status, fresh = await get(http, sim.rest_url + "/api/v3/depth?symbol=BTCUSDT&limit=1000")
    assert all(d["e"] == "depthUpdate" and d["s"] == "BTCUSDT" for d in diffs)
    assert [d["U"] for d in diffs[1:]] == [d["u"] + 1 for d in diffs[:-1]]
    live = [d for d in diffs if d["u"] > snap["lastUpdateId"]]
    assert live[0]["U"] <= snap["lastUpdateId"] + 1 <= live[0]["u"]
    assert live[0]["U"] <= snap["lastUpdateId"]  # the snapshot is inside the diff's range
    bids = {float(p): float(s) for p, s in snap["bids"]}
    asks = {float(p): float(s) for p, s in snap["asks"]}
    for diff in live:
        apply(bids, diff["b"])
        apply(asks, diff["a"])
    assert fresh["lastUpdateId"] == live[-1]["u"]
    assert sorted(bids.items(), reverse=True) == [(float(p), float(s)) for p, s in fresh["bids"]]
    assert sorted(asks.items()) == [(float(p), float(s)) for p, s in fresh["asks"]]


STREAMS = [
    "btcusdt@depth@100ms", "btcusdt@depth5@100ms", "btcusdt@depth10", "btcusdt@trade",
    "btcusdt@aggTrade", "btcusdt@kline_1m", "btcusdt@kline_1s", "btcusdt@miniTicker",
    "btcusdt@ticker", "btcusdt@ticker_1h", "btcusdt@avgPrice", "btcusdt@bookTicker",
]  # fmt: skip


async def test_every_documented_stream_is_served_with_its_payload_and_cadence(
    engine: MarketEngine,
) -> None:
    tick = tick_of("BTCUSDT")
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": STREAMS, "id": 7}))
        assert json.loads(await asyncio.wait_for(ws.recv(), bound(5))) == {"result": None, "id": 7}
        frames: dict[str, list[dict[str, Any]]] = {s: [] for s in STREAMS}
        started = time.monotonic()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.5):
                async for raw in ws:
                    body = json.loads(raw)
                    frames[body["stream"]].append(body["data"])
        elapsed = time.monotonic() - started
    assert all(frames.values()), [s for s, got in frames.items() if not got]
    for stream in ("btcusdt@miniTicker", "btcusdt@ticker", "btcusdt@ticker_1h", "btcusdt@avgPrice"):
        assert len(frames[stream]) <= elapsed + 1, stream  # every 1000 ms, not on every change
    assert len(frames["btcusdt@depth10"]) <= elapsed + 1
    # every 100 ms: more than the 1000 ms form could send (not 10 per second: a loaded machine
    # slows the push loop)
    assert len(frames["btcusdt@depth5@100ms"]) > elapsed + 1
    # every 2000 ms; a minute that ends in the window adds its final kline and the new one's first
    klines = frames["btcusdt@kline_1m"]
    rollovers = len({k["k"]["t"] for k in klines}) - 1
    assert len(klines) <= elapsed / 2 + 2 + 2 * rollovers
    diff = frames["btcusdt@depth@100ms"][0]
    assert list(diff) == ["e", "E", "s", "U", "u", "b", "a"]
    assert diff["e"] == "depthUpdate"
    partial = frames["btcusdt@depth5@100ms"][-1]
    assert list(partial) == ["lastUpdateId", "bids", "asks"]
    assert len(partial["bids"]) == len(partial["asks"]) == 5
    trade = frames["btcusdt@trade"][0]
    assert list(trade) == ["e", "E", "s", "t", "p", "q", "T", "m", "M"]
    ids = [t["t"] for t in frames["btcusdt@trade"]]
    assert ids == sorted(set(ids))
    assert [a["a"] for a in frames["btcusdt@aggTrade"]] == ids[: len(frames["btcusdt@aggTrade"])]
    assert all(_on_tick(t["p"], tick) for t in frames["btcusdt@trade"])
    kline = frames["btcusdt@kline_1m"][0]["k"]
    assert kline["i"] == "1m"
    assert kline["T"] == kline["t"] + 59_999
    assert kline["t"] % 60_000 == 0
    assert frames["btcusdt@ticker_1h"][0]["e"] == "1hTicker"
    assert set(frames["btcusdt@avgPrice"][0]) == {"e", "E", "s", "i", "w", "T"}
    ticker = frames["btcusdt@ticker"][0]
    assert all(_on_tick(ticker[k], tick) for k in "pwxcbaohl")


async def test_a_kline_is_sent_closed_when_its_interval_ends(engine: MarketEngine) -> None:
    async with BinanceSim(engine) as sim:
        async with connect(f"ws://{sim.host}:{sim.port}/ws/btcusdt@kline_1s") as ws:
            klines: list[dict[str, Any]] = []
            async with asyncio.timeout(bound(5)):
                while not any(k["x"] for k in klines):
                    klines.append(json.loads(await ws.recv())["k"])
    closed = next(k for k in klines if k["x"])
    assert closed["t"] in [k["t"] for k in klines if not k["x"]]  # the candle sent before
    assert closed["T"] == closed["t"] + 999


@pytest.mark.parametrize(
    "stream", ["btcusdt@depth7", "btcusdt@kline_7m", "btcusdt@ticker_2h", "btcusdt@depth@10ms"]
)
async def test_undocumented_stream_names_are_invalid(engine: MarketEngine, stream: str) -> None:
    async with BinanceSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": [stream], "id": 3}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), bound(5)))
    assert reply == {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 3}


async def test_rest_errors_are_binances(engine: MarketEngine) -> None:
    async with BinanceSim(engine) as sim, aiohttp.ClientSession() as http:
        base = sim.rest_url
        invalid = (400, {"code": -1121, "msg": "Invalid symbol."})
        assert await get(http, base + "/api/v3/exchangeInfo?symbol=NOPEUSDT") == invalid
        assert await get(http, base + '/api/v3/exchangeInfo?symbols=["BTCUSDT","NOPE"]') == invalid
        assert await get(http, base + "/api/v3/depth?symbol=NOPEUSDT") == invalid
        assert await get(http, base + "/api/v3/ticker/24hr?symbol=NOPEUSDT") == invalid
        status, body = await get(http, base + "/api/v3/depth")
        assert (status, body["code"]) == (400, -1102)
        assert await get(http, base + "/api/v3/klines?symbol=BTCUSDT&interval=7m") == (
            400,
            {"code": -1120, "msg": "Invalid interval."},
        )
        status, page = await get(http, base + "/api/v3/nothing")
        assert status == 404
        assert "<title>404 Not Found</title>" in page
        assert "nginx" in page


async def test_futures_and_options_hosts_list_no_instruments(engine: MarketEngine) -> None:
    async with BinanceSim(engine) as sim, aiohttp.ClientSession() as http:
        for path, key in [
            ("/fapi/v1/exchangeInfo", "symbols"),
            ("/dapi/v1/exchangeInfo", "symbols"),
            ("/eapi/v1/exchangeInfo", "optionSymbols"),
        ]:
            status, body = await get(http, sim.rest_url + path)
            assert status == 200, path
            assert body[key] == [], path
            assert body["timezone"] == "UTC"


async def test_exchange_info_has_the_documented_shape_and_the_books_filters(
    engine: MarketEngine,
) -> None:
    recorded = json.loads((FIXTURES / "rest" / "exchange_info__excerpt.json").read_text())
    [want] = recorded["symbols"]
    async with BinanceSim(engine) as sim, aiohttp.ClientSession() as http:
        url = sim.rest_url + '/api/v3/exchangeInfo?symbols=["ETHBTC","BTCUSDT"]'
        status, info = await get(http, url)
    assert status == 200
    assert list(info) == list(recorded)
    assert [s["symbol"] for s in info["symbols"]] == ["ETHBTC", "BTCUSDT"]
    got = info["symbols"][1]
    assert list(got) == list(want)
    assert [f["filterType"] for f in got["filters"]] == [f["filterType"] for f in want["filters"]]
    for symbol in info["symbols"]:
        filters = {f["filterType"]: f for f in symbol["filters"]}
        assert float(filters["PRICE_FILTER"]["tickSize"]) == tick_of(symbol["symbol"])
        assert float(filters["LOT_SIZE"]["stepSize"]) == lot_of(symbol["symbol"])


async def test_rest_market_data_agrees_with_the_engine(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    tick = tick_of("BTCUSDT")
    async with BinanceSim(engine) as sim, aiohttp.ClientSession() as http:
        base = sim.rest_url + "/api/v3/"
        clock.now += 5_000  # some trades
        top = engine.book("binance", "BTCUSDT", clock.now)
        _, depth = await get(http, base + "depth?symbol=BTCUSDT&limit=5")
        _, book = await get(http, base + "ticker/bookTicker?symbol=BTCUSDT")
        _, ticker = await get(http, base + "ticker/24hr?symbol=BTCUSDT")
        _, price = await get(http, base + "ticker/price?symbol=BTCUSDT")
        _, rolling = await get(http, base + "ticker?symbol=BTCUSDT&windowSize=1h")
        _, trades = await get(http, base + "trades?symbol=BTCUSDT&limit=5")
        _, aggs = await get(http, base + "aggTrades?symbol=BTCUSDT&limit=5")
        _, klines = await get(http, base + "klines?symbol=BTCUSDT&interval=1m&limit=2")
        _, avg = await get(http, base + "avgPrice?symbol=BTCUSDT")
        assert await get(http, base + "ping") == (200, {})
    assert depth["lastUpdateId"] == top.seq
    assert len(depth["bids"]) == 5
    assert depth["bids"][0] == [book["bidPrice"], book["bidQty"]]
    assert depth["asks"][0] == [book["askPrice"], book["askQty"]]
    assert (float(book["bidPrice"]), float(book["askPrice"])) == (top.bid, top.ask)
    assert float(ticker["lastPrice"]) == float(price["price"]) == top.last
    assert all(
        _on_tick(ticker[k], tick) for k in ticker if k.endswith("Price") or k == "priceChange"
    )
    assert ticker["count"] == ticker["lastId"] - ticker["firstId"] + 1
    assert rolling["openTime"] % 60_000 == 0
    assert rolling["closeTime"] == top.ts_ms
    assert len(trades) == len(aggs) == 5
    assert [t["id"] for t in trades] == [a["a"] for a in aggs] == sorted({t["id"] for t in trades})
    assert float(trades[-1]["price"]) == top.last  # a trade sets the last price
    assert klines[-1][4] == trades[-1]["price"]
    assert klines[-1][0] % 60_000 == 0
    assert len(klines[-1]) == 12
    assert avg["mins"] == 5


def _on_tick(value: str, tick: float) -> bool:
    ratio = float(value) / tick
    return abs(ratio - round(ratio)) < 1e-6
