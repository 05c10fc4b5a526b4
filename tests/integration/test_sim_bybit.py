"""Simulated Bybit speaks the real v5 spot protocol: driven by a plain websockets client + the
adapter."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from cryptows.clock import wall_ms
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
from cryptows.sim.bybit import BybitSession, BybitSim
from cryptows.sim.market import MarketEngine
from cryptows.symbols import parse_symbols
from cryptows.venues import get_adapter
from cryptows.venues.base import FrameError, VenueAdapter
from tests.integration.conftest import bound, collect
from tests.integration.test_sim_common import FrozenEngine

FIXTURES = Path(__file__).parent.parent / "fixtures" / "bybit"


async def _raw(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every frame received within ``seconds`` (a fixed window, for asserting silence)."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return frames


async def _reply(ws: ClientConnection, limit_s: float = 3.0) -> dict[str, Any]:
    """The next frame that is not a topic push."""
    async with asyncio.timeout(bound(limit_s)):
        while True:
            body: dict[str, Any] = json.loads(await ws.recv())
            if "topic" not in body:
                return body


def _replies(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if "topic" not in f]


def _ping(adapter: VenueAdapter) -> str:
    frame = adapter.ping_frame()
    assert frame is not None  # Bybit has an app-level ping
    return frame


def _keys(path: str) -> tuple[list[str], list[str]]:
    body = json.loads((FIXTURES / path).read_text())
    return list(body), list(body["data"])


async def test_rest_endpoints_parse_with_the_real_adapter(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    async with BybitSim(engine) as sim, aiohttp.ClientSession() as http:
        async with http.get(sim.rest_url + adapter.rest_time_path) as resp:
            assert resp.status == 200
            assert abs(adapter.parse_server_time(await resp.read()) - time.time() * 1000) < 5_000
        sim.faults.delisted.add("SOLUSDT")
        async with http.get(sim.rest_url + adapter.rest_symbols_path) as resp:
            assert resp.status == 200
            body = await resp.read()
        listed = adapter.parse_symbol_list(body)
        expected = json.loads(
            (FIXTURES / "rest" / "instruments_info__spot_excerpt.json").read_text()
        )
        item = json.loads(body)["result"]["list"][0]
        assert list(item) == list(expected["result"]["list"][0])
        async with http.get(sim.rest_url + "/v5/market/instruments-info") as resp:
            assert resp.status == 200  # Bybit answers errors with HTTP 200 and a retCode
            answer = await resp.read()
        with pytest.raises(FrameError, match="10001"):
            adapter.parse_symbol_list(answer)
    assert {"BTCUSDT", "ETHUSDT", "ETHBTC"} <= listed
    assert "SOLUSDT" not in listed


async def test_subscribe_ack_then_book_and_ticker_quotes(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    raw: list[dict[str, Any]] = []
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        for frame in adapter.subscribe(parse_symbols(["BTCUSDT", "ETHUSDT"])):
            await ws.send(frame)

        def done(events: list[Event]) -> bool:
            kinds = {(e.symbol, e.channel) for e in events if isinstance(e, Quote)}
            return len(kinds) == 4

        events: list[Event] = []
        async with asyncio.timeout(bound(3)):
            async for message in ws:
                raw.append(json.loads(message))
                events.extend(adapter.parse(message))
                if done(events):
                    break
    assert isinstance(events[0], SubscriptionAck)
    assert events[0].symbols == ("BTCUSDT", "ETHUSDT")
    assert not [e for e in events if isinstance(e, BadFrame)]
    ack = raw[0]
    assert list(ack) == ["success", "ret_msg", "conn_id", "req_id", "op"]
    assert (ack["success"], ack["ret_msg"], ack["op"]) == (True, "subscribe", "subscribe")
    # Pushes have the captured key sets, order and types.
    book = next(f for f in raw if f.get("topic") == "orderbook.1.BTCUSDT")
    ticker = next(f for f in raw if f.get("topic") == "tickers.ETHUSDT")
    assert (list(book), list(book["data"])) == _keys("orderbook_1__snapshot.json")
    assert (list(ticker), list(ticker["data"])) == _keys("tickers__spot.json")
    assert all(isinstance(book[k], int) for k in ("ts", "cts"))
    assert all(isinstance(book["data"][k], int) for k in ("u", "seq"))
    assert isinstance(ticker["cs"], int)
    assert all(isinstance(v, str) for v in ticker["data"].values())
    [[bid, bid_size]] = book["data"]["b"]
    assert len(bid.split(".")[1]) == 2  # BTCUSDT's tick is 0.01
    assert len(bid_size.split(".")[1]) == 6
    ticker_quote = next(e for e in events if isinstance(e, Quote) and e.channel == Channel.TICKER)
    # Spot tickers carry no bid/ask.
    assert ticker_quote.bid is None
    assert ticker_quote.ask is None
    # price24hPcnt is a fraction (4 decimals) of the move from prevPrice24h (the engine's 24 h
    # open) to lastPrice; the client reads it as percent.
    fraction = float(ticker["data"]["price24hPcnt"])
    prev, last = float(ticker["data"]["prevPrice24h"]), float(ticker["data"]["lastPrice"])
    assert prev == engine.book("bybit", "ETHUSDT", 0).open_24h
    assert fraction == pytest.approx(last / prev - 1, abs=5e-5)
    [eth] = adapter.parse(json.dumps(ticker))
    assert isinstance(eth, Quote)
    assert eth.change_24h_pct is not None
    assert eth.change_24h_pct == pytest.approx(fraction * 100)
    assert -10 < eth.change_24h_pct < 10


async def test_more_than_ten_args_is_refused(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    args = [f"orderbook.1.{s}" for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")]
    args += [f"tickers.{s}" for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")]
    args += ["orderbook.1.DOGEUSDT", "orderbook.1.ETHBTC"]
    assert len(args) == 11
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"req_id": "many", "op": "subscribe", "args": args}))
        reply = await _reply(ws)
        assert reply == {
            "success": False,
            "ret_msg": "args size >10",
            "conn_id": reply["conn_id"],
            "req_id": "many",
            "op": "subscribe",
        }
        [event] = adapter.parse(json.dumps(reply))
        assert isinstance(event, SubscriptionError)
        assert event.symbol is None
        # Nothing of the refused request was subscribed.
        assert not [f for f in await _raw(ws, 0.3) if "topic" in f]


async def test_unknown_symbol_refuses_the_whole_request(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        [frame] = adapter.subscribe(parse_symbols(["NOPEUSDT", "BTCUSDT"]))
        await ws.send(frame)
        [event] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(3)))
        assert isinstance(event, SubscriptionError)
        assert event.symbol == "NOPEUSDT"
        assert event.req_id == "1"
        assert event.message == "Invalid symbol :[orderbook.1.NOPEUSDT tickers.NOPEUSDT]"
        # The valid symbol of the refused request does not stream until asked for again.
        assert await _raw(ws, 0.3) == []
        [frame] = adapter.subscribe(parse_symbols(["BTCUSDT"]))
        await ws.send(frame)

        def done(events):
            return {e.channel for e in events if isinstance(e, Quote)} == {
                Channel.BOOK,
                Channel.TICKER,
            }

        events = await collect(ws, adapter, done)
    assert isinstance(events[0], SubscriptionAck)
    assert events[0].symbols == ("BTCUSDT",)
    assert not [e for e in events if isinstance(e, BadFrame)]


async def test_partial_subscribe_mode_streams_the_valid_symbol(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BybitSession, "partial_subscribe", True)
    adapter = get_adapter("bybit")
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        [frame] = adapter.subscribe(parse_symbols(["NOPEUSDT", "BTCUSDT"]))
        await ws.send(frame)

        def done(events):
            return len({e.channel for e in events if isinstance(e, Quote)}) == 2

        events = await collect(ws, adapter, done)
    assert isinstance(events[0], SubscriptionError)
    assert events[0].symbol == "NOPEUSDT"
    assert not [e for e in events if isinstance(e, SubscriptionAck | BadFrame)]
    assert {e.symbol for e in events if isinstance(e, Quote)} == {"BTCUSDT"}


async def test_rejected_symbol_fault(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    async with BybitSim(engine) as sim, aiohttp.ClientSession() as http:
        sim.faults.rejected.add("ETHUSDT")
        async with http.get(sim.rest_url + adapter.rest_symbols_path) as resp:
            assert "ETHUSDT" in adapter.parse_symbol_list(await resp.read())
        async with connect(sim.ws_url) as ws:
            [frame] = adapter.subscribe(parse_symbols(["ETHUSDT"]))
            await ws.send(frame)
            [event] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(3)))
    assert isinstance(event, SubscriptionError)
    assert event.symbol == "ETHUSDT"
    assert event.message.startswith("Invalid symbol :[orderbook.1.ETHUSDT")


async def test_topics_are_case_sensitive_and_unknown_topics_refused(engine: MarketEngine) -> None:
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.btcusdt"]}))
        reply = await _reply(ws)
        assert reply["ret_msg"] == "Invalid symbol :[tickers.btcusdt]"
        assert "req_id" not in reply  # the request had none
        await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.5.BTCUSDT"]}))
        assert (await _reply(ws))["ret_msg"] == "Invalid topic :[orderbook.5.BTCUSDT]"


async def test_duplicate_subscribe_gets_no_reply(engine: MarketEngine) -> None:
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        request = {"req_id": "a", "op": "subscribe", "args": ["orderbook.1.BTCUSDT"]}
        await ws.send(json.dumps(request))
        ack = await _reply(ws)
        assert (ack["success"], ack["req_id"]) == (True, "a")
        await ws.send(json.dumps({**request, "req_id": "b"}))
        frames = await _raw(ws, 0.4)
        assert _replies(frames) == []
        assert frames, "the stream goes on"
        # A request with one new topic is acked; the duplicate in it is ignored.
        args = ["orderbook.1.BTCUSDT", "tickers.BTCUSDT"]
        await ws.send(json.dumps({"req_id": "c", "op": "subscribe", "args": args}))
        ack = await _reply(ws)
        assert (ack["success"], ack["req_id"]) == (True, "c")


async def test_unsubscribe_acks_and_stops_the_stream(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    symbols = parse_symbols(["BTCUSDT"])
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        [frame] = adapter.subscribe(symbols)
        await ws.send(frame)
        await collect(ws, adapter, lambda ev: any(isinstance(e, Quote) for e in ev))
        [frame] = adapter.unsubscribe(symbols)
        await ws.send(frame)
        events = await collect(ws, adapter, lambda ev: isinstance(ev[-1], SubscriptionAck))
        assert events[-1].op == "unsubscribe"
        assert events[-1].symbols == ("BTCUSDT",)
        assert await _raw(ws, 0.3) == []


async def test_ping_gets_a_pong(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(_ping(adapter))
        raw = await asyncio.wait_for(ws.recv(), bound(3))
        body = json.loads(raw)
        assert list(body) == ["success", "ret_msg", "conn_id", "req_id", "op"]
        assert (body["ret_msg"], body["req_id"], body["op"]) == ("pong", "ping-1", "ping")
        assert adapter.parse(raw) == [Heartbeat(venue="bybit", kind=HeartbeatKind.PONG)]
        await ws.send(json.dumps({"op": "ping"}))
        body = json.loads(await asyncio.wait_for(ws.recv(), bound(3)))
        expected = json.loads((FIXTURES / "pong.json").read_text())
        assert list(body) == list(expected)  # no req_id when the ping had none
        sim.faults.no_pong = True
        await ws.send(_ping(adapter))
        assert await _raw(ws, 0.4) == []


async def test_unchanged_book_is_resent_with_the_same_u(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BybitSession, "book_resend_s", 0.3)
    async with BybitSim(FrozenEngine()) as sim, connect(sim.ws_url) as ws:
        args = ["orderbook.1.BTCUSDT", "tickers.BTCUSDT"]
        await ws.send(json.dumps({"req_id": "r", "op": "subscribe", "args": args}))
        frames = await _raw(ws, bound(1.0))
    books = [f for f in frames if f.get("topic") == "orderbook.1.BTCUSDT"]
    tickers = [f for f in frames if f.get("topic") == "tickers.BTCUSDT"]
    assert len(books) >= 2
    assert len({b["data"]["u"] for b in books}) == 1
    assert len({b["cts"] for b in books}) == 1
    assert books[0]["ts"] < books[-1]["ts"]
    assert len(tickers) == 1  # tickers are pushed on change only


async def test_idle_connection_is_cut_unless_pinged(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BybitSession, "idle_cut_s", 0.3)
    adapter = get_adapter("bybit")
    async with BybitSim(engine) as sim:
        async with connect(sim.ws_url) as ws:
            async with asyncio.timeout(bound(2)):
                await ws.wait_closed()
        async with connect(sim.ws_url) as ws:
            for _ in range(8):
                await ws.send(_ping(adapter))
                await asyncio.sleep(0.1)
            assert ws.close_code is None


async def test_args_characters_per_connection_limit(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BybitSession, "max_args_chars", 40)
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        for topic, ok in (
            ("orderbook.1.BTCUSDT", True),  # 19 + quotes and comma = 22
            ("tickers.ETHUSDT", True),  # 15 + 3 = 18: 40 in all
            ("tickers.BTCUSDT", False),
        ):
            await ws.send(json.dumps({"req_id": topic, "op": "subscribe", "args": [topic]}))
            reply = await _reply(ws)
            assert (reply["success"], reply["req_id"]) == (ok, topic)


async def test_invalid_json_and_unknown_op_errors(engine: MarketEngine) -> None:
    adapter = get_adapter("bybit")
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send("not json")
        [err] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(3)))
        assert isinstance(err, SubscriptionError)
        assert err.req_id is None
        await ws.send(json.dumps({"req_id": "9", "op": "subscrib", "args": []}))
        [err] = adapter.parse(await asyncio.wait_for(ws.recv(), bound(3)))
        assert isinstance(err, SubscriptionError)
        assert err.req_id == "9"
        assert err.message == "Invalid op :[subscrib]"


async def test_wrong_path_is_404(engine: MarketEngine) -> None:
    async with BybitSim(engine) as sim:
        for path in ("/v5/public/linear", "/ws", "/"):
            with pytest.raises(InvalidStatus) as info:
                async with connect(f"ws://{sim.host}:{sim.port}{path}", open_timeout=bound(3)):
                    pass
            assert info.value.response.status_code == 404


# -- the public spot surface beyond the client's: REST market data, trades, klines, depth --------


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if text else None


async def test_rest_non_spot_categories_answer_empty_lists(engine: MarketEngine) -> None:
    async with BybitSim(engine) as sim, aiohttp.ClientSession() as http:
        for category in ("linear", "inverse", "option"):
            url = f"{sim.rest_url}/v5/market/instruments-info?category={category}&limit=1000"
            status, body = await _get(http, url)
            assert status == 200
            assert list(body) == ["retCode", "retMsg", "result", "retExtInfo", "time"]
            assert (body["retCode"], body["retMsg"]) == (0, "OK")
            assert body["result"] == {"category": category, "list": [], "nextPageCursor": ""}
            status, body = await _get(http, f"{sim.rest_url}/v5/market/tickers?category={category}")
            assert body["result"] == {"category": category, "list": []}
            # A named derivative does not exist here.
            url = f"{sim.rest_url}/v5/market/orderbook?category={category}&symbol=BTCUSDT"
            status, body = await _get(http, url)
            assert (body["retCode"], body["retMsg"]) == (10001, "params error: symbol invalid")
        status, body = await _get(http, f"{sim.rest_url}/v5/market/tickers?category=spots")
        assert (status, body["retCode"], body["retMsg"]) == (200, 10001, "Illegal category")


async def test_rest_unknown_symbol_interval_and_path_get_bybits_errors(
    engine: MarketEngine,
) -> None:
    async with BybitSim(engine) as sim, aiohttp.ClientSession() as http:
        base = sim.rest_url + "/v5/market"
        status, body = await _get(http, f"{base}/tickers?category=spot&symbol=NOPEUSDT")
        assert (status, body["retCode"], body["retMsg"]) == (200, 10001, "Not supported symbols")
        assert body["result"] == {}
        for path in ("orderbook", "recent-trade", "kline"):
            url = f"{base}/{path}?category=spot&symbol=btcusdt&interval=1"  # case-sensitive
            status, body = await _get(http, url)
            assert (status, body["retCode"]) == (200, 10001)
            assert body["retMsg"] == "params error: symbol invalid"
        url = f"{base}/kline?category=spot&symbol=BTCUSDT&interval=1m"
        status, body = await _get(http, url)
        assert (body["retCode"], body["retMsg"]) == (10001, "Invalid period!")
        # An endpoint the venue does not have: 404 with no body at all, like api.bybit.com.
        for path in ("/v5/market/nope", "/v5/asset/coin/query-info", "/"):
            async with http.get(sim.rest_url + path) as resp:
                assert (resp.status, await resp.read()) == (404, b"")


async def test_rest_book_ticker_trades_and_klines_agree_with_the_engine() -> None:
    frozen = FrozenEngine()
    async with BybitSim(frozen) as sim, aiohttp.ClientSession() as http:
        base = sim.rest_url + "/v5/market"
        depth = frozen.depth("bybit", "ETHUSDT", 0, 200)
        _, body = await _get(http, f"{base}/orderbook?category=spot&symbol=ETHUSDT")
        result = body["result"]
        assert list(result) == ["s", "b", "a", "ts", "u", "seq", "cts"]
        assert (len(result["b"]), len(result["a"])) == (1, 1)  # spot's default limit is 1
        assert result["u"] == depth.seq
        _, body = await _get(http, f"{base}/orderbook?category=spot&symbol=ETHUSDT&limit=500")
        result = body["result"]
        assert [[float(p), float(q)] for p, q in result["b"]] == [list(b) for b in depth.bids]
        assert [[float(p), float(q)] for p, q in result["a"]] == [list(a) for a in depth.asks]
        _, body = await _get(http, f"{base}/tickers?category=spot&symbol=ETHUSDT")
        [ticker] = body["result"]["list"]
        assert (float(ticker["bid1Price"]), float(ticker["ask1Price"])) == (
            depth.bids[0][0],
            depth.asks[0][0],
        )
        _, body = await _get(http, f"{base}/tickers?category=spot")
        assert len(body["result"]["list"]) == len(sim.listed_symbols())
        # Trades: newest first, 60 by default, the tape's ids; the last one is the ticker's last.
        tape = frozen.tape("bybit", "ETHUSDT", 0)
        for n in range(70):  # a tape long enough to be cut
            tape.record(frozen.frozen_ms + n, 3400.0 + n * 0.01, 0.5, buyer_taker=n % 2 == 0)
        _, body = await _get(http, f"{base}/recent-trade?category=spot&symbol=ETHUSDT")
        trades = body["result"]["list"]
        assert len(trades) == 60
        assert list(trades[0]) == [
            "execId", "symbol", "price", "size", "side", "time", "isBlockTrade",
        ]  # fmt: skip
        assert [int(t["execId"]) for t in trades] == list(
            range(tape.last_id, tape.last_id - 60, -1)
        )
        assert (trades[0]["price"], trades[0]["side"]) == ("3400.69", "Sell")
        _, body = await _get(http, f"{base}/recent-trade?category=spot&symbol=ETHUSDT&limit=2")
        assert len(body["result"]["list"]) == 2
        # Klines: newest first, seven strings each, the running minute closing at the last trade.
        _, body = await _get(http, f"{base}/kline?category=spot&symbol=ETHUSDT&interval=1")
        assert (body["result"]["category"], body["result"]["symbol"]) == ("spot", "ETHUSDT")
        rows = body["result"]["list"]
        starts = [int(r[0]) for r in rows]
        assert starts == sorted(starts, reverse=True)
        assert all(len(r) == 7 and all(isinstance(v, str) for v in r) for r in rows)
        assert rows[0][4] == "3400.69"
        for interval in ("5", "D", "W", "M"):
            url = f"{base}/kline?category=spot&symbol=ETHUSDT&interval={interval}&limit=1"
            _, body = await _get(http, url)
            [row] = body["result"]["list"]
            assert row[4] == "3400.69"
            assert float(row[2]) >= 3400.69


async def test_public_trades_stream_every_trade_once_in_order(engine: MarketEngine) -> None:
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]}))
        assert (await _reply(ws))["success"] is True
        pushed: list[dict[str, Any]] = []
        async with asyncio.timeout(bound(8)):
            while len(pushed) < 5:
                frame = json.loads(await ws.recv())
                assert list(frame) == ["topic", "type", "ts", "data"]
                assert (frame["topic"], frame["type"]) == ("publicTrade.BTCUSDT", "snapshot")
                pushed += frame["data"]
        tape = engine.tape("bybit", "BTCUSDT", 0)
    ids = [int(t["i"]) for t in pushed]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # no gap, no repeat
    on_tape = {t.id: t for t in tape.trades}
    for item in pushed:
        assert list(item) == ["T", "s", "S", "v", "p", "L", "i", "BT", "RPI", "seq"]
        trade = on_tape[int(item["i"])]
        assert (item["T"], item["s"], float(item["p"]), float(item["v"])) == (
            trade.ts_ms,
            "BTCUSDT",
            trade.price,
            trade.size,
        )
        assert item["S"] == ("Buy" if trade.buyer_taker else "Sell")
        assert item["L"] in ("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick")
        assert item["BT"] is False


async def test_kline_stream_pushes_the_running_candle_and_confirms_a_closed_one(
    engine: MarketEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BybitSession, "kline_push_s", 0.1)
    skew = [0]  # the simulator's clock runs this far ahead of the real one
    monkeypatch.setattr("cryptows.sim.bybit.wall_ms", lambda: wall_ms() + skew[0])
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["kline.7.BTCUSDT"]}))
        assert (await _reply(ws))["ret_msg"] == "Invalid kline type :[kline.7.BTCUSDT]"
        await ws.send(json.dumps({"op": "subscribe", "args": ["kline.1.BTCUSDT"]}))
        assert (await _reply(ws))["success"] is True
        first = json.loads(await asyncio.wait_for(ws.recv(), bound(3)))
        assert list(first) == ["topic", "data", "ts", "type"]
        [candle] = first["data"]
        assert list(candle) == [
            "start", "end", "interval", "open", "close", "high", "low", "volume", "turnover",
            "confirm", "timestamp",
        ]  # fmt: skip
        start = candle["start"]
        assert (candle["interval"], candle["end"], candle["confirm"]) == (
            "1",
            start + 59_999,
            False,
        )
        assert start % 60_000 == 0
        skew[0] = 60_000  # the minute ends
        frames: list[dict[str, Any]] = []
        async with asyncio.timeout(bound(3)):
            while not any(f["data"][0]["start"] > start for f in frames):
                frames.append(json.loads(await ws.recv()))
    confirmed = [f["data"][0] for f in frames if f["data"][0]["confirm"]]
    assert [c["start"] for c in confirmed] == [start]
    assert frames[-1]["data"][0]["start"] == start + 60_000
    assert frames[-1]["data"][0]["open"] == confirmed[0]["close"]


def _apply(book: dict[float, float], levels: list[list[str]]) -> None:
    for price, size in levels:
        if float(size) == 0:
            del book[float(price)]  # a level the client holds: else the delta is wrong
        else:
            book[float(price)] = float(size)


async def test_deep_book_is_a_snapshot_then_deltas_that_rebuild_the_engines_depth(
    engine: MarketEngine,
) -> None:
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        args = ["orderbook.50.BTCUSDT", "orderbook.1.BTCUSDT"]
        await ws.send(json.dumps({"op": "subscribe", "args": args}))
        assert (await _reply(ws))["success"] is True
        bids: dict[float, float] = {}
        asks: dict[float, float] = {}
        tops: dict[int, tuple[float, float]] = {}
        kinds: list[str] = []
        checked = 0
        async with asyncio.timeout(bound(8)):
            while checked < 5 or len(kinds) < 8:
                frame = json.loads(await ws.recv())
                data = frame["data"]
                assert data["seq"] == 40_000_000_000 + data["u"]
                if frame["topic"] == "orderbook.1.BTCUSDT":
                    tops[data["u"]] = (float(data["b"][0][0]), float(data["a"][0][0]))
                    continue
                assert list(frame) == ["topic", "ts", "type", "data", "cts"]
                kinds.append(frame["type"])
                if frame["type"] == "snapshot":
                    bids.clear()
                    asks.clear()
                _apply(bids, data["b"])
                _apply(asks, data["a"])
                assert len(bids) == len(asks) == 50
                if data["u"] in tops:  # the same book on both depths
                    assert (max(bids), min(asks)) == tops[data["u"]]
                now = engine.depth("bybit", "BTCUSDT", 0, 50)  # time 0: does not advance it
                if now.seq == data["u"]:
                    assert sorted(bids.items(), reverse=True) == now.bids
                    assert sorted(asks.items()) == now.asks
                    checked += 1
    assert kinds[0] == "snapshot"
    assert set(kinds[1:]) == {"delta"}


@pytest.mark.parametrize(("depth", "gap_ms"), [(200, 100), (1000, 200)])
async def test_deeper_books_keep_their_documented_push_frequency(
    engine: MarketEngine, depth: int, gap_ms: int
) -> None:
    async with BybitSim(engine) as sim, connect(sim.ws_url) as ws:
        topic = f"orderbook.{depth}.BTCUSDT"
        await ws.send(json.dumps({"op": "subscribe", "args": [topic]}))
        assert (await _reply(ws))["success"] is True
        frames = [f for f in await _raw(ws, bound(1.5)) if f.get("topic") == topic]
    assert len(frames[0]["data"]["b"]) == depth
    stamps = [f["ts"] for f in frames]
    assert len(stamps) >= 3
    assert min(b - a for a, b in zip(stamps, stamps[1:], strict=False)) >= gap_ms - 5
