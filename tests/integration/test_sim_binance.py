"""Simulated Binance speaks the real protocol: driven by a plain websockets client + the adapter."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from websockets.asyncio.client import connect

from cryptows.models import BadFrame, Channel, Quote, SubscriptionAck, SubscriptionError
from cryptows.sim.binance import BinanceSim
from cryptows.sim.market import MarketEngine
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
