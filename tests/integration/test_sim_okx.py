"""Simulated OKX speaks the real v5 protocol: driven by a plain websockets client + the adapter."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

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
from cryptows.sim.market import MarketEngine
from cryptows.sim.okx import OkxSession, OkxSim
from cryptows.symbols import parse_symbols
from cryptows.venues import get_adapter
from tests.integration.conftest import bound, collect

FIXTURES = Path(__file__).parent.parent / "fixtures" / "okx"


def _fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return body


async def _recv(ws: ClientConnection, limit_s: float = 5.0) -> str:
    async with asyncio.timeout(bound(limit_s)):
        message = await ws.recv()
    assert isinstance(message, str)
    return message


async def _until_closed(ws: ClientConnection, limit_s: float) -> None:
    """Read (and drop) frames until the server closes the connection."""
    async with asyncio.timeout(bound(limit_s)):
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()


async def test_rest_endpoints_parse_with_the_real_adapter(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    async with OkxSim(engine) as sim, aiohttp.ClientSession() as http:
        async with http.get(sim.rest_url + adapter.rest_time_path) as resp:
            assert resp.status == 200
            assert adapter.parse_server_time(await resp.read()) > 1_700_000_000_000
        sim.faults.delisted.add("SOLUSDT")
        async with http.get(sim.rest_url + adapter.rest_symbols_path) as resp:
            assert resp.status == 200
            body = await resp.read()
        listed = adapter.parse_symbol_list(body)
        [first, *_] = json.loads(body)["data"]
        docs_example = _fixture("rest/instruments__spot_excerpt.json")["data"][0]
        assert list(first) == list(docs_example)
        for query, code in (("", "50014"), ("?instType=SPOTS", "51000")):
            async with http.get(sim.rest_url + "/api/v5/public/instruments" + query) as resp:
                assert resp.status == 400
                assert (await resp.json())["code"] == code
    assert {"BTCUSDT", "ETHUSDT", "ETHBTC"} <= listed
    assert "SOLUSDT" not in listed


async def test_subscribe_acks_each_arg_then_ticker_quotes(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        [frame] = adapter.subscribe(parse_symbols(["BTCUSDT", "ETHUSDT"]))
        await ws.send(frame)
        raw_acks = [json.loads(await _recv(ws)) for _ in range(2)]
        for raw in raw_acks:
            assert list(raw) == list(_fixture("subscribe_ack__with_id.json"))
            assert raw["id"] == json.loads(frame)["id"]
            assert len(raw["connId"]) == 8
            int(raw["connId"], 16)
        assert [raw["arg"]["instId"] for raw in raw_acks] == ["BTC-USDT", "ETH-USDT"]
        push = json.loads(await _recv(ws))
        [item] = push["data"]
        assert list(item) == list(_fixture("tickers.json")["data"][0])
        assert all(isinstance(value, str) for value in item.values())

        def done(events: list[Event]) -> bool:
            return {e.symbol for e in events if isinstance(e, Quote)} == {"BTCUSDT", "ETHUSDT"}

        events = await collect(ws, adapter, done)
    acks = [adapter.parse(json.dumps(raw)) for raw in raw_acks]
    assert [[(a.op, a.symbols) for a in ack if isinstance(a, SubscriptionAck)] for ack in acks] == [
        [("subscribe", ("BTCUSDT",))],
        [("subscribe", ("ETHUSDT",))],
    ]
    quotes = [e for e in events if isinstance(e, Quote)]
    assert all(q.channel is Channel.TICKER for q in quotes)
    assert all(q.bid is not None and q.ask is not None and q.bid < q.ask for q in quotes)
    assert all(q.volume_24h and q.exchange_ts_ms for q in quotes)
    assert not [e for e in events if isinstance(e, BadFrame)]
    assert float(item["open24h"]) == engine.book("okx", "BTCUSDT", 0).open_24h
    for q in quotes:
        opened = engine.book("okx", q.symbol, 0).open_24h
        assert q.last is not None
        assert q.change_24h_pct is not None
        assert -10 < q.change_24h_pct < 10
        assert q.change_24h_pct == pytest.approx((q.last - opened) / opened * 100)


async def test_bbo_tbt_snapshots_parse_as_book_quotes(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    request = {"op": "subscribe", "args": [{"channel": "bbo-tbt", "instId": "XRP-USDT"}]}
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps(request))
        ack = json.loads(await _recv(ws))
        assert list(ack) == list(_fixture("subscribe_ack.json"))
        push = await _recv(ws)
    [item] = json.loads(push)["data"]
    assert list(item) == list(_fixture("bbo_tbt.json")["data"][0])
    assert isinstance(item["seqId"], int)
    assert item["asks"][0][2] == "0"
    [quote] = adapter.parse(push)
    assert isinstance(quote, Quote)
    assert quote.channel is Channel.BOOK
    assert quote.symbol == "XRPUSDT"


async def test_ping_pong_and_no_pong_fault(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(adapter.ping_frame() or "")
        pong = await _recv(ws)
        assert pong == "pong"
        assert adapter.parse(pong) == [Heartbeat(venue="okx", kind=HeartbeatKind.PONG)]
        sim.faults.no_pong = True
        await ws.send("ping")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await ws.recv()


async def test_unknown_inst_id_is_60018_while_the_rest_streams(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        [mixed] = adapter.subscribe(parse_symbols(["NMRUSDT", "BTCUSDT"]))
        [alone] = adapter.subscribe(parse_symbols(["ETHEUR"]))
        await ws.send(mixed)
        await ws.send(alone)
        raw_error = json.loads(await _recv(ws))
        assert "arg" not in raw_error
        assert list(raw_error) == ["id", *_fixture("subscribe_error__unknown_symbol.json")]
        assert raw_error["msg"] == _fixture("subscribe_error__unknown_symbol.json")["msg"]
        first = adapter.parse(json.dumps(raw_error))

        def done(events: list[Event]) -> bool:
            errors = [e for e in first + events if isinstance(e, SubscriptionError)]
            return len(errors) == 2 and any(isinstance(e, Quote) for e in events)

        events = first + await collect(ws, adapter, done)
    errors = [e for e in events if isinstance(e, SubscriptionError)]
    assert [(e.code, e.symbol) for e in errors] == [("60018", "NMRUSDT"), ("60018", "ETHEUR")]
    assert [e.req_id for e in errors] == [json.loads(f)["id"] for f in (mixed, alone)]
    assert {e.symbol for e in events if isinstance(e, Quote)} == {"BTCUSDT"}
    assert not [e for e in events if isinstance(e, BadFrame)]


async def test_swap_inst_id_and_unknown_channel_are_60018(engine: MarketEngine) -> None:
    request = {
        "id": "77",
        "op": "subscribe",
        "args": [
            {"channel": "tickers", "instId": "BTC-USDT-SWAP"},
            {"channel": "candle1m", "instId": "BTC-USDT"},
        ],
    }
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps(request))
        errors = [json.loads(await _recv(ws)) for _ in range(2)]
    assert [(e["id"], e["code"]) for e in errors] == [("77", "60018"), ("77", "60018")]
    assert "channel:tickers,instId:BTC-USDT-SWAP doesn't exist" in errors[0]["msg"]
    assert "channel:candle1m,instId:BTC-USDT doesn't exist" in errors[1]["msg"]


async def test_rejected_symbol_fault(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        sim.faults.rejected.add("ETHUSDT")
        [frame] = adapter.subscribe(parse_symbols(["ETHUSDT"]))
        await ws.send(frame)
        [event] = adapter.parse(await _recv(ws))
    assert isinstance(event, SubscriptionError)
    assert (event.code, event.symbol, event.req_id) == ("60018", "ETHUSDT", json.loads(frame)["id"])


async def test_malformed_requests_are_60012(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    bad_key = (
        '{"id": "1512", "op": "subscribe", '
        '"argss":[{ "channel" : "tickers", "instId" : "LTC-USD-200327"}]}'
    )
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(bad_key)
        raw = json.loads(await _recv(ws))
        assert list(raw) == list(_fixture("subscribe_error__invalid_request.json"))
        assert raw["msg"] == f"Invalid request: {bad_key}"
        [err] = adapter.parse(json.dumps(raw))
        assert isinstance(err, SubscriptionError)
        assert (err.code, err.req_id) == ("60012", "1512")
        for junk in ("not json", '{"op": "subscrib", "args": []}', '{"op": "subscribe"}'):
            await ws.send(junk)
            raw = json.loads(await _recv(ws))
            assert (raw["code"], raw["msg"]) == ("60012", f"Invalid request: {junk}")
            assert "id" not in raw


async def test_no_subscription_is_closed_with_4004(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OkxSession, "idle_close_s", 0.5)
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send("ping")  # a pong is data, but pings do not stand in for a subscription
        assert await _recv(ws) == "pong"
        await _until_closed(ws, limit_s=3)
    assert ws.close_code == 4004
    assert ws.close_reason == "No data received in 30s."


async def test_unsubscribing_everything_starts_the_4004_clock(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OkxSession, "idle_close_s", 0.6)
    adapter = get_adapter("okx")
    symbols = parse_symbols(["BTCUSDT"])
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        [subscribe] = adapter.subscribe(symbols)
        await ws.send(subscribe)
        await asyncio.sleep(0.9)  # subscribed on a moving market: past the bound, still open
        [unsubscribe] = adapter.unsubscribe(symbols)
        await ws.send(unsubscribe)

        def unsubscribed(events: list[Event]) -> bool:
            return any(isinstance(e, SubscriptionAck) and e.op == "unsubscribe" for e in events)

        await collect(ws, adapter, unsubscribed)
        await _until_closed(ws, limit_s=3)
    assert ws.close_code == 4004


async def test_service_upgrade_notice_then_drop(engine: MarketEngine) -> None:
    adapter = get_adapter("okx")
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send("ping")
        assert await _recv(ws) == "pong"  # the server-side session exists by now
        await sim.announce_upgrade(disconnect_after_s=0.2)
        raw = await _recv(ws)
        assert list(json.loads(raw)) == list(_fixture("notice__service_upgrade.json"))
        assert adapter.parse(raw) == [
            Notice(venue="okx", kind=NoticeKind.RECONNECT, message=json.loads(raw)["msg"])
        ]
        await _until_closed(ws, limit_s=3)
    assert ws.close_code == 1006


@pytest.mark.parametrize("path", ["/ws/v5/private", "/ws", "/"])
async def test_wrong_path_is_404(engine: MarketEngine, path: str) -> None:
    async with OkxSim(engine) as sim:
        with pytest.raises(InvalidStatus) as info:
            async with connect(f"ws://{sim.host}:{sim.port}{path}", open_timeout=bound(5)):
                pass
    assert info.value.response.status_code == 404
