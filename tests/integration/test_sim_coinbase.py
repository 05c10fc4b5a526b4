"""Simulated Coinbase Exchange speaks the real feed protocol: driven by websockets + the adapter."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.protocol import State

from cryptows.clock import wall_ms
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


async def test_wrong_path_is_404(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim:
        with pytest.raises(InvalidStatus) as info:
            async with connect(sim.ws_url + "ws", open_timeout=bound(5)):
                pass
    assert info.value.response.status_code == 404


def _sub(channels: list[Any], products: list[str], **extra: Any) -> str:
    return json.dumps({"type": "subscribe", "product_ids": products, "channels": channels} | extra)


def _signature(**changes: Any) -> dict[str, Any]:
    """Well-formed authentication fields (the simulator cannot check the secret)."""
    fields = {
        "signature": base64.b64encode(bytes(range(32))).decode(),
        "key": "simulated-key",
        "passphrase": "simulated-passphrase",
        "timestamp": str(time.time()),
    }
    return fields | changes


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        return resp.status, await resp.json()


async def test_sequence_is_per_product_and_the_same_on_every_connection(
    engine: MarketEngine,
) -> None:
    request = _sub(["matches", "ticker", "heartbeat"], ["BTC-USD", "ETH-USD"])
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as a, connect(sim.ws_url) as b:
        await a.send(request)
        await b.send(request)
        assert (await _recv_json(a))["type"] == (await _recv_json(b))["type"] == "subscriptions"
        first, second = await asyncio.gather(_raw_for(a, 1.5), _raw_for(b, 1.5))
    by_trade: dict[tuple[str, int], set[int]] = defaultdict(set)
    for frames in (first, second):
        per_product: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in frames:
            per_product[f["product_id"]].append(f)
            if f["type"] in ("match", "last_match"):
                by_trade[(f["product_id"], f["trade_id"])].add(f["sequence"])
        assert set(per_product) == {"BTC-USD", "ETH-USD"}
        for items in per_product.values():
            seqs = [f["sequence"] for f in items]
            assert seqs == sorted(seqs)  # a heartbeat repeats the latest number
            matches = [f["sequence"] for f in items if f["type"] == "match"]
            tickers = [f["sequence"] for f in items if f["type"] == "ticker"]
            assert len(set(matches)) == len(matches)
            assert len(set(tickers)) == len(tickers)
    shared = [seqs for key, seqs in by_trade.items()]
    assert len(shared) >= 3
    # The same trade carries the same sequence on both connections.
    assert all(len(seqs) == 1 for seqs in shared), by_trade


async def test_matches_send_last_match_then_every_trade_with_the_maker_side(
    engine: MarketEngine,
) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(_sub(["matches"], ["BTC-USDT"]))
        assert (await _recv_json(ws))["type"] == "subscriptions"
        frames = await _raw_for(ws, 1.5)
        tape = {t.id: t for t in engine.tape("coinbase", "BTCUSDT", 0).trades}
    assert frames[0]["type"] == "last_match"
    assert all(f["type"] == "match" for f in frames[1:])
    assert len(frames) >= 3
    assert list(frames[1]) == [
        "type", "trade_id", "sequence", "maker_order_id", "taker_order_id", "time",
        "product_id", "size", "price", "side",
    ]  # fmt: skip
    ids = [f["trade_id"] for f in frames]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # every trade, in order
    for f in frames:
        trade = tape[f["trade_id"]]
        assert f["side"] == ("sell" if trade.buyer_taker else "buy")  # the maker's side
        assert float(f["price"]) == trade.price
        assert float(f["size"]) == trade.size
        assert f["maker_order_id"] != f["taker_order_id"]
        assert f["time"].endswith("Z")


async def test_level2_batch_snapshot_then_updates_keep_the_book(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(_sub(["level2_batch"], ["ETH-USD"]))
        assert (await _recv_json(ws))["type"] == "subscriptions"
        snapshot = await _recv_json(ws)
        assert list(snapshot) == ["type", "product_id", "bids", "asks"]
        assert snapshot["type"] == "snapshot"
        book = {
            side: {float(p): float(s) for p, s in snapshot[key]}
            for side, key in (("buy", "bids"), ("sell", "asks"))
        }
        updates = await _raw_for(ws, 1.0)
        sim.faults.quiet = True  # freeze, then drain what is in flight
        updates += await _raw_for(ws, 0.3)
        [session] = sim.sessions
        assert isinstance(session, CoinbaseSession)
        sent = session.ladders[("level2_batch", "ETH-USD")]
    assert len(updates) >= 5
    for update in updates:
        assert update["type"] == "l2update"
        assert list(update) == ["type", "product_id", "changes", "time"]
        for side, price, size in update["changes"]:
            if float(size) == 0:
                del book[side][float(price)]  # only levels the book has are removed
            else:
                book[side][float(price)] = float(size)
    assert sorted(book["buy"].items(), reverse=True) == sent.bids
    assert sorted(book["sell"].items()) == sent.asks
    assert sent.bids[0][0] < sent.asks[0][0]


async def test_level2_needs_a_well_formed_signature(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(_sub(["level2"], ["BTC-USD"]))
        assert await _recv_json(ws) == _fixture("error__level2_requires_auth.json")
        for bad in (
            _signature(signature="not base64!"),
            _signature(key=""),
            _signature(timestamp=str(time.time() - 60)),
        ):
            await ws.send(_sub(["level2"], ["BTC-USD"], **bad))
            error = await _recv_json(ws)
            assert (error["type"], error["message"]) == ("error", "Authentication Failed")
        await ws.send(_sub(["level3"], ["BTC-USD"], **_signature()))  # not served, even signed
        assert await _recv_json(ws) == _fixture("error__level2_requires_auth.json")
        await ws.send(_sub(["level2"], ["BTC-USD"], **_signature()))
        ack = await _recv_json(ws)
        snapshot = await _recv_json(ws)
    assert ack == {
        "type": "subscriptions",
        "channels": [{"name": "level2", "product_ids": ["BTC-USD"]}],
    }
    assert snapshot["type"] == "snapshot"
    assert snapshot["product_id"] == "BTC-USD"


async def test_unknown_channels_are_refused_not_acked(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, connect(sim.ws_url) as ws:
        for name in ("trades", "last_match", "user"):
            await ws.send(_sub([name], ["BTC-USD"]))
            assert await _recv_json(ws) == {
                "type": "error",
                "message": "Failed to subscribe",
                "reason": f"{name} is not a valid channel",
            }
        await ws.send(_sub(["ticker_batch", "status"], ["BTC-USD"]))
        assert (await _recv_json(ws))["type"] == "subscriptions"
        kinds = {f["type"] for f in await _raw_for(ws, 1.0)}
    assert kinds == {"ticker", "status"}  # served at once, not acked then silent


async def test_rest_reference_data_and_errors(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, aiohttp.ClientSession() as http:
        status, currencies = await _get(http, sim.rest_url + "/currencies")
        assert status == 200
        codes = {c["id"] for c in currencies}
        assert {"BTC", "ETH", "USD", "USDT", "USDC"} <= codes
        status, btc = await _get(http, sim.rest_url + "/currencies/BTC")
        assert status == 200
        assert btc["id"] == "BTC"
        assert btc["details"]["type"] == "crypto"
        status, product = await _get(http, sim.rest_url + "/products/BTC-USDT")
        assert (product["quote_increment"], product["base_increment"]) == ("0.01", "0.000001")
        for path in ("/currencies/NOPE", "/nope", "/products/FOO-USD/book", "/products/BTC-USD/x"):
            assert await _get(http, sim.rest_url + path) == (404, {"message": "NotFound"}), path


async def test_rest_book_levels_and_sequence(engine: MarketEngine) -> None:
    async with CoinbaseSim(engine) as sim, aiohttp.ClientSession() as http:
        async with connect(sim.ws_url) as ws:
            await ws.send(_sub(["heartbeat"], ["BTC-USD"]))
            await _recv_json(ws)
            beat = await _recv_json(ws)
            _, level2 = await _get(http, sim.rest_url + "/products/BTC-USD/book?level=2")
            next_beat = await _recv_json(ws)
        for _ in range(50):  # two answers from the same book (it may move between them)
            _, level1 = await _get(http, sim.rest_url + "/products/BTC-USD/book")
            _, level3 = await _get(http, sim.rest_url + "/products/BTC-USD/book?level=3")
            if level1["sequence"] == level3["sequence"]:
                break
        assert level1["sequence"] == level3["sequence"]
        assert (await _get(http, sim.rest_url + "/products/BTC-USD/book?level=4"))[0] == 400
    assert beat["sequence"] <= level2["sequence"] <= next_beat["sequence"]
    assert list(level2) == ["bids", "asks", "sequence", "auction_mode", "auction", "time"]
    assert len(level1["bids"]) == len(level1["asks"]) == 1
    assert len(level2["bids"]) > 10
    price, size, orders = level2["bids"][0]
    assert isinstance(price, str)
    assert isinstance(size, str)
    assert orders >= 1
    assert float(level2["bids"][0][0]) < float(level2["asks"][0][0])
    # Level 3: one entry per order; the orders of a level add up to it.
    price3, _, order_id = level3["bids"][0]
    assert isinstance(order_id, str)
    assert len(order_id) == 36
    top = [o for o in level3["bids"] if o[0] == price3]
    assert sum(float(o[1]) for o in top) == pytest.approx(float(level1["bids"][0][1]))


async def test_rest_ticker_trades_candles_stats() -> None:
    # A market that started 5 minutes ago: several 1 m candles to order.
    engine = MarketEngine(seed=11, start_ms=wall_ms() - 300_000, dislocations=False)
    async with CoinbaseSim(engine) as sim, aiohttp.ClientSession() as http:
        base = sim.rest_url + "/products/BTC-USDT"
        async with asyncio.timeout(bound(10)):
            while len(engine.tape("coinbase", "BTCUSDT", wall_ms()).trades) < 10:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            # The tape keeps printing: read the ticker on both sides of the trades and
            # retry until no trade landed in between, so the two can be compared exactly.
            while True:
                _, ticker = await _get(http, base + "/ticker")
                _, trades = await _get(http, base + "/trades?limit=5")
                _, after = await _get(http, base + "/ticker")
                if after["trade_id"] == ticker["trade_id"]:
                    break
        _, older = await _get(http, base + f"/trades?limit=5&after={trades[-1]['trade_id']}")
        _, candles = await _get(http, base + "/candles?granularity=60")
        _, stats = await _get(http, base + "/stats")
        bad = await _get(http, base + "/candles?granularity=120")
        now = time.time()
        too_many = await _get(
            http, base + f"/candles?granularity=60&start={now - 400 * 60}&end={now}"
        )
    assert list(ticker) == list(_fixture("rest/product_ticker.json"))
    assert ticker["trade_id"] == trades[0]["trade_id"]
    ids = [t["trade_id"] for t in trades + older]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 10
    assert list(trades[0]) == ["time", "trade_id", "price", "size", "side"]
    assert len(candles) >= 4
    assert all(len(c) == 6 for c in candles)
    stamps = [c[0] for c in candles]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] % 60 == 0
    _, low, high, open_, close, volume = candles[0]
    assert low <= min(open_, close) <= max(open_, close) <= high
    assert volume > 0
    assert list(stats) == list(_fixture("rest/product_stats.json"))
    assert bad == (400, {"message": "Unsupported granularity"})
    assert too_many[0] == 400
    assert "exceeds 300" in too_many[1]["message"]
