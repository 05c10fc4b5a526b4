"""Simulated Coinbase Exchange speaks the real feed protocol: driven by websockets + the adapter."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.protocol import State

from cryptows.models import BadFrame, Channel, Heartbeat, Quote, SubscriptionAck, SubscriptionError
from cryptows.sim.coinbase import CoinbaseSession, CoinbaseSim
from cryptows.sim.market import MarketEngine
from cryptows.symbols import parse_symbols
from cryptows.venues import get_adapter
from tests.integration.conftest import bound, collect

FIXTURES = Path(__file__).parents[1] / "fixtures" / "coinbase"


def _fixture(name: str) -> Any:
    """A decoded fixture: an object for most frames, a list for REST listings."""
    return json.loads((FIXTURES / name).read_text())


async def _raw_for(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every frame received during ``seconds`` (decoded)."""
    frames: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            async for message in ws:
                frames.append(json.loads(message))
    return frames


async def _recv_json(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), bound(5)))
    return frame


async def test_rest_endpoints_parse_with_the_real_adapter(engine: MarketEngine) -> None:
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim, aiohttp.ClientSession() as http:
        async with http.get(sim.rest_url + adapter.rest_time_path) as resp:
            assert resp.status == 200
            body = await resp.read()
            assert adapter.parse_server_time(body) > 1_700_000_000_000
            assert set(json.loads(body)) == set(_fixture("rest/time.json"))
        sim.faults.delisted.add("SOLUSD")
        async with http.get(sim.rest_url + adapter.rest_symbols_path) as resp:
            body = await resp.read()
            listed = adapter.parse_symbol_list(body)
        async with http.get(sim.rest_url + "/products/BTC-USDT") as resp:
            product = await resp.json()
        async with http.get(sim.rest_url + "/products/SOL-USD") as resp:
            assert resp.status == 404
    assert {"BTCUSDT", "BTCUSD", "ETHUSD", "ETHBTC"} <= listed
    assert "SOLUSD" not in listed
    assert "SOLUSDT" in listed
    documented = _fixture("rest/products__excerpt.json")[1]
    assert list(product)[: len(documented)] == list(documented)
    assert product["id"] == "BTC-USDT"
    assert product["quote_increment"] == "0.01"
    assert product["status"] == "online"
    assert {p["id"] for p in json.loads(body)} >= {"BTC-USD", "BTC-USDT", "ETH-BTC"}


async def test_subscribe_ack_then_ticker_quotes_and_heartbeats(engine: MarketEngine) -> None:
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        for frame in adapter.subscribe(parse_symbols(["BTCUSDT", "BTCUSD"])):
            await ws.send(frame)

        def done(events):
            quotes = {e.symbol for e in events if isinstance(e, Quote)}
            beats = {e.symbol for e in events if isinstance(e, Heartbeat)}
            return quotes == beats == {"BTCUSDT", "BTCUSD"}

        events = await collect(ws, adapter, done, limit_s=3)
    assert isinstance(events[0], SubscriptionAck)
    assert events[0].symbols == ("BTCUSDT", "BTCUSD")
    assert set(events[0].topics) == {
        "ticker:BTC-USDT",
        "ticker:BTC-USD",
        "heartbeat:BTC-USDT",
        "heartbeat:BTC-USD",
    }
    assert not [e for e in events if isinstance(e, BadFrame | SubscriptionError)]
    quotes = [e for e in events if isinstance(e, Quote)]
    assert all(q.channel == Channel.TICKER for q in quotes)
    for q in quotes:
        assert q.bid is not None
        assert q.ask is not None
        assert q.bid < q.ask
        assert q.bid_size is not None
        assert q.ask_size is not None
        assert q.exchange_ts_ms is not None
        # The change comes from price and open_24h, the engine's 24 h open.
        opened = engine.book("coinbase", q.symbol, 0).open_24h
        assert q.last is not None
        assert q.change_24h_pct is not None
        assert -10 < q.change_24h_pct < 10
        assert q.change_24h_pct == pytest.approx((q.last - opened) / opened * 100)


async def test_frames_copy_the_documented_shapes(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps(_fixture("subscribe_request.json")))
        ack = await _recv_json(ws)
        assert ack == {
            "type": "subscriptions",
            "channels": [
                {"name": "ticker", "product_ids": ["BTC-USD", "ETH-USD"]},
                {"name": "heartbeat", "product_ids": ["BTC-USD", "ETH-USD"]},
            ],
        }
        seen: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(bound(3)):
            while len(seen) < 2:
                frame = await _recv_json(ws)
                seen.setdefault(frame["type"], frame)
    ticker, heartbeat = seen["ticker"], seen["heartbeat"]
    documented = _fixture("ticker.json")
    assert list(ticker) == list(documented)
    for key, value in documented.items():
        assert type(ticker[key]) is type(value), key
    assert ticker["side"] in ("buy", "sell")
    assert ticker["time"].endswith("Z")
    assert len(ticker["time"].split(".")[1]) == 7
    assert len(ticker["best_bid_size"].split(".")[1]) == 8
    assert len(ticker["best_bid"].split(".")[1]) == 2  # BTC-USD's tick is 0.01
    # Key order of the recorded frame (heartbeat__recorded_2018.json); same key set as the docs.
    assert list(heartbeat) == list(_fixture("heartbeat__recorded_2018.json"))
    assert set(heartbeat) == set(_fixture("heartbeat.json"))
    assert isinstance(heartbeat["sequence"], int)
    assert isinstance(heartbeat["last_trade_id"], int)


async def test_channel_objects_carry_their_own_product_ids(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "product_ids": ["ETH-USD"],
                    "channels": [
                        "heartbeat",
                        {"name": "ticker", "product_ids": ["ETH-BTC", "ETH-USD"]},
                    ],
                }
            )
        )
        ack = await _recv_json(ws)
        # Cumulative: a second subscribe adds to what the connection has.
        await ws.send(
            json.dumps({"type": "subscribe", "channels": [{"name": "ticker", "product_ids": []}],
                        "product_ids": ["SOL-USD"]})
        )  # fmt: skip
        while (second := await _recv_json(ws))["type"] != "subscriptions":
            pass
    assert ack["channels"] == [
        {"name": "heartbeat", "product_ids": ["ETH-USD"]},
        {"name": "ticker", "product_ids": ["ETH-USD", "ETH-BTC"]},
    ]
    assert second["channels"] == [
        {"name": "heartbeat", "product_ids": ["ETH-USD"]},
        {"name": "ticker", "product_ids": ["ETH-USD", "ETH-BTC", "SOL-USD"]},
    ]


async def test_one_unknown_product_voids_the_whole_subscribe(engine: MarketEngine) -> None:
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        [frame] = adapter.subscribe(parse_symbols(["BTCUSD", "FOOUSD"]))
        await ws.send(frame)
        [event] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(5)))
        assert isinstance(event, SubscriptionError)
        assert event.symbol == "FOOUSD"
        assert event.message == "Failed to subscribe: FOO-USD is not a valid product"
        assert await _raw_for(ws, 1.0) == []  # not even BTC-USD


async def test_rejected_symbol_gets_the_real_error_frame(engine: MarketEngine) -> None:
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        sim.faults.rejected.add("ETHUSD")
        [frame] = adapter.subscribe(parse_symbols(["BTCUSD", "ETHUSD"]))
        await ws.send(frame)
        raw = await _recv_json(ws)
        [event] = adapter.parse(json.dumps(raw))
    assert list(raw) == list(_fixture("subscribe_error__unknown_product.json"))
    assert isinstance(event, SubscriptionError)
    assert event.symbol == "ETHUSD"


async def test_no_channels_and_auth_only_channels_are_refused(engine: MarketEngine) -> None:
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        for request in (
            {"type": "subscribe", "product_ids": ["BTC-USD"], "channels": []},
            {"type": "subscribe", "product_ids": ["BTC-USD"]},
        ):
            await ws.send(json.dumps(request))
            reply = await _recv_json(ws)
            assert reply == _fixture("error__no_channels_provided.json")
            [event] = adapter.parse(json.dumps(reply))
            assert isinstance(event, SubscriptionError)
            assert event.message == "Failed to subscribe: No channels provided"
        await ws.send(
            json.dumps({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["level2"]})
        )
        assert await _recv_json(ws) == _fixture("error__level2_requires_auth.json")
        await ws.send(json.dumps({"type": "subscribe", "channels": [{"name": "ticker"}]}))
        assert await _recv_json(ws) == _fixture("subscribe_error__empty_product_id.json")


async def test_invalid_json_and_unknown_type_get_error_frames(engine: MarketEngine) -> None:
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send("not json")
        [err] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(5)))
        assert isinstance(err, SubscriptionError)
        assert err.message.startswith("Malformed JSON")
        await ws.send(json.dumps({"type": "subscrib", "channels": ["ticker"]}))
        [err] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(5)))
        assert isinstance(err, SubscriptionError)
        assert err.message == (
            "Failed to subscribe: Type has to be either subscribe or unsubscribe"
        )
        assert ws.state is State.OPEN


async def test_unsubscribe_updates_subscriptions_and_stops_pushes(engine: MarketEngine) -> None:
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        [frame] = adapter.subscribe(parse_symbols(["BTCUSD", "ETHUSD"]))
        await ws.send(frame)
        assert (await _recv_json(ws))["type"] == "subscriptions"
        [frame] = adapter.unsubscribe(parse_symbols(["ETHUSD"]))
        await ws.send(frame)
        while (reply := await _recv_json(ws))["type"] != "subscriptions":
            pass
        assert reply["channels"] == [
            {"name": "ticker", "product_ids": ["BTC-USD"]},
            {"name": "heartbeat", "product_ids": ["BTC-USD"]},
        ]
        [event] = adapter.parse(json.dumps(reply))
        assert isinstance(event, SubscriptionAck)
        assert event.symbols == ("BTCUSD",)
        frames = await _raw_for(ws, 1.2)
        assert {f["product_id"] for f in frames} == {"BTC-USD"}
        # Leaving a whole channel: no product ids.
        await ws.send(json.dumps(_fixture("unsubscribe_request.json")))
        while (reply := await _recv_json(ws))["type"] != "subscriptions":
            pass
        assert reply["channels"] == [{"name": "ticker", "product_ids": ["BTC-USD"]}]


async def test_no_subscribe_in_time_disconnects(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CoinbaseSession, "subscribe_timeout_s", 0.4)
    adapter = get_adapter("coinbase")
    async with CoinbaseSim(engine) as sim:
        async with connect(sim.ws_url) as idle:
            async with asyncio.timeout(bound(3)):
                await idle.wait_closed()
        async with connect(sim.ws_url) as active:
            for frame in adapter.subscribe(parse_symbols(["BTCUSD"])):
                await active.send(frame)
            await asyncio.sleep(0.8)
            assert active.state is State.OPEN
    assert idle.state is State.CLOSED


async def test_heartbeats_once_a_second_per_product(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(
            json.dumps(
                {"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USDT"],
                 "channels": ["heartbeat"]}
            )
        )  # fmt: skip
        assert (await _recv_json(ws))["type"] == "subscriptions"
        frames = await _raw_for(ws, 2.5)
    counts: dict[str, int] = defaultdict(int)
    for f in frames:
        assert f["type"] == "heartbeat"
        counts[f["product_id"]] += 1
    assert set(counts) == {"BTC-USD", "ETH-USDT"}
    # ~1 per second each: never a burst (a slow machine may deliver fewer, never more)
    assert all(1 <= n <= 4 for n in counts.values()), counts


async def test_sequence_grows_by_one_per_product(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps(_fixture("subscribe_request.json")))
        assert (await _recv_json(ws))["type"] == "subscriptions"
        frames = await _raw_for(ws, 1.5)
    by_product: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for f in frames:
        by_product[f["product_id"]].append((f["type"], f["sequence"]))
    assert set(by_product) == {"BTC-USD", "ETH-USD"}
    for product, items in by_product.items():
        seqs = [s for _, s in items]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), product
        assert {kind for kind, _ in items} == {"ticker", "heartbeat"}


async def test_wrong_path_is_404(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim:
        with pytest.raises(InvalidStatus) as info:
            async with connect(sim.ws_url + "ws", open_timeout=bound(5)):
                pass
    assert info.value.response.status_code == 404
