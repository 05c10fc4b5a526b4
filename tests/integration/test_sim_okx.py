"""Simulated OKX speaks the real v5 protocol: driven by a plain websockets client + the adapter."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import zlib
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
from cryptows.sim.okx import OkxSession, OkxSim, checksum
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


# -- order books, trades, candles, and the REST market data ----------------------------------


def _crc(bids: list[list[str]], asks: list[list[str]]) -> int:
    """The docs' checksum, written out again here: ``bid1px:bid1sz:ask1px:ask1sz:...`` over the
    top 25 of each side, CRC32 as a signed 32-bit int."""
    parts: list[str] = []
    for i in range(25):
        parts += bids[i][:2] if i < len(bids) else []
        parts += asks[i][:2] if i < len(asks) else []
    value = zlib.crc32(":".join(parts).encode())
    return value - 2**32 if value >= 2**31 else value


def test_checksum_of_the_docs_examples() -> None:
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    both = (bids, asks)
    one_bid = (bids[:1], [*asks, ["3372", "8", "3", "4"]])
    assert checksum(*both) == _crc(*both) == -1881014294
    assert checksum(*one_bid) == _crc(*one_bid) == 831078360


def _apply(side: dict[str, list[str]], rows: list[list[str]]) -> None:
    for row in rows:
        if row[1] == "0":
            del side[row[0]]  # a removed level must have been there
        else:
            side[row[0]] = row


def _sorted(side: dict[str, list[str]], *, bids: bool) -> list[list[str]]:
    return sorted(side.values(), key=lambda row: float(row[0]), reverse=bids)


async def test_books_snapshot_then_deltas_rebuild_the_book(engine: MarketEngine) -> None:
    request = {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps(request))
        assert json.loads(await _recv(ws))["event"] == "subscribe"
        snapshot = json.loads(await _recv(ws))
        assert list(snapshot) == list(_fixture("ws/books__snapshot.json"))
        [item] = snapshot["data"]
        assert list(item) == list(_fixture("ws/books__snapshot.json")["data"][0])
        assert (snapshot["action"], item["prevSeqId"]) == ("snapshot", -1)
        assert len(item["bids"]) == len(item["asks"]) == 400
        bids = {row[0]: row for row in item["bids"]}
        asks = {row[0]: row for row in item["asks"]}
        last_seq, synced = item["seqId"], 0
        assert item["checksum"] == _crc(item["bids"], item["asks"])
        for _ in range(10):
            update = json.loads(await _recv(ws))
            [item] = update["data"]
            assert update["action"] == "update"
            assert item["prevSeqId"] == last_seq < item["seqId"]
            last_seq = item["seqId"]
            _apply(bids, item["bids"])
            _apply(asks, item["asks"])
            book_bids, book_asks = _sorted(bids, bids=True), _sorted(asks, bids=False)
            assert item["checksum"] == _crc(book_bids, book_asks)
            assert len(book_bids) == len(book_asks) == 400
            now = engine.depth("okx", "BTCUSDT", int(time.time() * 1000), 400)
            if now.seq == last_seq:  # the engine has not moved on: the very same book
                synced += 1
                assert [(float(r[0]), float(r[1])) for r in book_bids] == now.bids
                assert [(float(r[0]), float(r[1])) for r in book_asks] == now.asks
                async with aiohttp.ClientSession() as http:
                    query = "?instId=BTC-USDT&sz=400"
                    async with http.get(sim.rest_url + "/api/v5/market/books" + query) as resp:
                        [rest] = (await resp.json())["data"]
                if rest["seqId"] == last_seq:
                    assert (rest["bids"], rest["asks"]) == (book_bids, book_asks)
    assert synced


async def test_books5_trades_and_login_only_books(engine: MarketEngine) -> None:
    request = {
        "id": "9",
        "op": "subscribe",
        "args": [
            {"channel": "books50-l2-tbt", "instId": "BTC-USDT"},
            {"channel": "books-l2-tbt", "instId": "BTC-USDT"},
            {"channel": "books5", "instId": "ETH-USDT"},
            {"channel": "trades", "instId": "BTC-USDT"},
        ],
    }
    async with OkxSim(engine) as sim, connect(sim.ws_url) as ws:
        # A market that pushes nothing for a while (the engine is not even asked): the trades
        # since the subscription come in one round when it wakes up, every one, in order.
        sim.faults.quiet = True
        await ws.send(json.dumps(request))
        answers = [json.loads(await _recv(ws)) for _ in range(4)]
        subscribed_at = engine.tape("okx", "BTCUSDT", 0).last_id  # (0: not moving it on)
        await asyncio.sleep(2.5)
        sim.faults.quiet = False
        books5: list[dict[str, Any]] = []
        trades: list[dict[str, Any]] = []
        async with asyncio.timeout(bound(10)):
            while len(books5) < 3 or len(trades) < 6:
                push = json.loads(await _recv(ws))
                (books5 if push["arg"]["channel"] == "books5" else trades).append(push)
    for answer in answers[:2]:
        assert (answer["id"], answer["event"], answer["code"]) == ("9", "error", "60011")
        assert answer["msg"] == "Please log in"
        assert "arg" not in answer
    assert [a["event"] for a in answers[2:]] == ["subscribe", "subscribe"]
    for push in books5:
        [item] = push["data"]
        assert list(item) == list(_fixture("books5.json")["data"][0])
        assert len(item["bids"]) == len(item["asks"]) == 5
        assert float(item["bids"][0][0]) < float(item["asks"][0][0])
    assert [p["data"][0]["seqId"] for p in books5] == sorted(
        {p["data"][0]["seqId"] for p in books5}
    )
    items = [item for push in trades for item in push["data"]]
    assert all(list(item) == list(_fixture("ws/trades.json")["data"][0]) for item in items)
    ids = [int(item["tradeId"]) for item in items]
    assert ids == list(range(subscribed_at + 1, subscribed_at + 1 + len(ids)))  # all, in order
    tape = {t.id: t for t in engine.tape("okx", "BTCUSDT", 0).trades}
    for item in items:
        trade = tape[int(item["tradeId"])]
        assert (float(item["px"]), float(item["sz"])) == (trade.price, trade.size)
        assert item["side"] == ("buy" if trade.buyer_taker else "sell")
        assert item["count"] == "1"


async def test_candles_on_business_only(engine: MarketEngine) -> None:
    request = {
        "op": "subscribe",
        "args": [
            {"channel": "candle1m", "instId": "BTC-USDT"},
            {"channel": "candle1D", "instId": "BTC-USDT"},
            {"channel": "candle1s", "instId": "BTC-USDT"},
            {"channel": "tickers", "instId": "BTC-USDT"},
        ],
    }
    async with OkxSim(engine) as sim:
        business = f"ws://{sim.host}:{sim.port}/ws/v5/business"
        async with connect(business) as ws:
            await ws.send(json.dumps(request))
            answers = [json.loads(await _recv(ws)) for _ in range(4)]
            pushes = [json.loads(await _recv(ws)) for _ in range(2)]
        async with connect(sim.ws_url) as ws:
            await ws.send(json.dumps({"op": "subscribe", "args": request["args"][:1]}))
            on_public = json.loads(await _recv(ws))
    assert [a["event"] for a in answers] == ["subscribe", "subscribe", "error", "error"]
    assert "channel:candle1s,instId:BTC-USDT doesn't exist" in answers[2]["msg"]
    assert "channel:tickers,instId:BTC-USDT doesn't exist" in answers[3]["msg"]
    assert (on_public["event"], on_public["code"]) == ("error", "60018")
    by_channel = {p["arg"]["channel"]: p["data"] for p in pushes}
    [minute], [day] = by_channel["candle1m"], by_channel["candle1D"]
    for row in (minute, day):
        assert len(row) == len(_fixture("ws/candle.json")["data"][0])
        assert row[-1] == "0"
        assert all(isinstance(value, str) for value in row)
        assert float(row[3]) <= min(float(row[1]), float(row[4])) <= float(row[2])
    assert int(minute[0]) % 60_000 == 0
    assert int(day[0]) % 86_400_000 == 16 * 3_600_000  # 00:00 in UTC+8
    last = engine.book("okx", "BTCUSDT", 0).last
    assert float(minute[4]) == float(day[4]) == last


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        return resp.status, await resp.json()


async def test_rest_market_data(engine: MarketEngine) -> None:
    async with OkxSim(engine) as sim, aiohttp.ClientSession() as http:
        base = sim.rest_url + "/api/v5/"
        await asyncio.sleep(1)  # let the tape record a few trades
        status, ticker = await _get(http, base + "market/ticker?instId=BTC-USDT")
        assert status == 200
        assert list(ticker) == list(_fixture("rest/ticker.json"))
        assert list(ticker["data"][0]) == list(_fixture("rest/ticker.json")["data"][0])
        _, tickers = await _get(http, base + "market/tickers?instType=SPOT")
        assert "BTC-USDT" in {t["instId"] for t in tickers["data"]}
        _, books = await _get(http, base + "market/books?instId=BTC-USDT")
        [book] = books["data"]
        assert list(book) == list(_fixture("rest/books.json")["data"][0])
        assert len(book["bids"]) == len(book["asks"]) == 1  # sz defaults to 1
        _, books = await _get(http, base + "market/books?instId=BTC-USDT&sz=1000")
        assert len(books["data"][0]["bids"]) == 400
        _, full = await _get(http, base + "market/books-full?instId=BTC-USDT&sz=1000")
        assert len(full["data"][0]["asks"]) == 1000
        assert len(full["data"][0]["asks"][0]) == 3
        assert "seqId" not in full["data"][0]
        _, trades = await _get(http, base + "market/trades?instId=BTC-USDT&limit=3")
        assert list(trades["data"][0]) == list(_fixture("rest/trades.json")["data"][0])
        ids = [int(t["tradeId"]) for t in trades["data"]]
        assert ids == sorted(ids, reverse=True)
        assert len(ids) == 3
        query = f"?instId=BTC-USDT&after={ids[0]}&limit=2"
        _, older = await _get(http, base + "market/history-trades" + query)
        assert [int(t["tradeId"]) for t in older["data"]] == ids[1:]
        query = f"?instId=BTC-USDT&before={ids[2]}"
        _, newer = await _get(http, base + "market/history-trades" + query)
        assert [int(t["tradeId"]) for t in newer["data"]][-2:] == ids[:2]
        for path in ("market/candles", "market/history-candles"):
            _, candles = await _get(http, base + path + "?instId=BTC-USDT&bar=1m")
            rows = candles["data"]
            assert len(rows[0]) == len(_fixture("rest/candles.json")["data"][0])
            assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
            assert rows[0][-1] == "0"
            assert all(r[-1] == "1" for r in rows[1:])
            assert float(rows[0][4]) == engine.book("okx", "BTCUSDT", 0).last


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("market/ticker?instId=BTC-USDT-SWAP", 200, "51001"),
        ("market/books?instId=NMR-USDT", 200, "51001"),
        ("market/trades", 400, "50014"),
        ("market/candles?instId=BTC-USDT&bar=1s", 400, "51000"),
        ("market/candles?instId=BTC-USDT&limit=x", 400, "51000"),
        ("market/tickers", 400, "50014"),
        ("public/instruments?instType=SPOT&instId=FOO-BAR", 200, "51001"),
        ("public/instruments?instType=OPTION", 400, "50014"),
        ("asset/currencies", 401, "50103"),
    ],
)
async def test_rest_errors(engine: MarketEngine, query: str, status: int, code: str) -> None:
    async with OkxSim(engine) as sim, aiohttp.ClientSession() as http:
        got_status, body = await _get(http, sim.rest_url + "/api/v5/" + query)
    assert (got_status, body["code"], body["data"]) == (status, code, [])
    assert body["msg"]


async def test_rest_instruments_filter_and_other_types(engine: MarketEngine) -> None:
    async with OkxSim(engine) as sim, aiohttp.ClientSession() as http:
        base = sim.rest_url + "/api/v5/public/instruments?instType="
        _, one = await _get(http, base + "SPOT&instId=DOGE-USDT")
        for inst_type in ("MARGIN", "SWAP", "FUTURES", "OPTION&uly=BTC-USD"):
            assert await _get(http, base + inst_type) == (200, {"code": "0", "msg": "", "data": []})
        status, missing = await _get(http, sim.rest_url + "/api/v5/market/nothing-here")
    [doge] = one["data"]
    assert doge["instId"] == "DOGE-USDT"
    assert (doge["tickSz"], doge["lotSz"], doge["minSz"]) == ("0.00001", "0.000001", "0.000001")
    assert status == 404
    assert (missing["msg"], missing["code"]) == ("Not Found", 404)
