"""ccxt's async Bybit ("pro") against the simulated Bybit, configured for spot: it loads markets
(every category it asks for), watches the ticker, the 50-level book, the trades and the 1 m
klines of BTC/USDT, and fetches the ticker, book, trades and candles over REST."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cryptows.sim.server import SimVenueServer
from cryptows.sim.universe import lot_of, tick_of
from tests.compat.conftest import ccxt_client

SYMBOL, MARKET_ID = "BTC/USDT", "BTCUSDT"
TICK, LOT = tick_of(MARKET_ID), lot_of(MARKET_ID)


def on_grid(value: float, step: float) -> bool:
    """Whether ``value`` is a whole multiple of ``step`` (to float precision)."""
    units = value / step
    return math.isclose(units, round(units), abs_tol=1e-6)


def check_side(levels: list[Any], descending: bool) -> None:
    prices = [level[0] for level in levels]
    assert prices == sorted(prices, reverse=descending)
    assert len(set(prices)) == len(prices)
    for price, size in (level[:2] for level in levels):
        assert on_grid(price, TICK), price
        assert size > 0
        assert on_grid(size, LOT), size


def exchange_for(server: SimVenueServer) -> Any:
    return ccxt_client("bybit", server, {"options": {"defaultType": "spot"}})


async def same_moment(
    first: Callable[[], Awaitable[Any]],
    second: Callable[[], Awaitable[Any]],
    agree: Callable[[Any, Any], bool],
) -> tuple[Any, Any]:
    """Two REST answers fetched together, retried a few times until they describe the same
    moment (the engine steps every 50 ms, so a pair can straddle a step)."""
    for _ in range(10):
        a, b = await asyncio.gather(first(), second())
        if agree(a, b):
            return a, b
    pytest.fail("the two answers never described the same moment")


async def test_ccxt_bybit_spot_against_the_simulator(
    simulated: Callable[[str], Awaitable[SimVenueServer]],
) -> None:
    server = await simulated("bybit")
    exchange = exchange_for(server)
    try:
        async with asyncio.timeout(20):
            await check_markets(exchange)
            await check_rest(exchange)
            await check_streams(exchange, server)
    finally:
        await exchange.close()


async def check_markets(exchange: Any) -> None:
    markets = await exchange.load_markets()  # spot, linear, inverse and option: all answer
    market = markets[SYMBOL]
    assert (market["id"], market["type"], market["spot"]) == (MARKET_ID, "spot", True)
    assert market["precision"]["price"] == TICK
    assert market["precision"]["amount"] == LOT
    assert market["limits"]["amount"]["min"] == LOT
    assert all(m["spot"] for m in markets.values())  # no derivatives on the simulator
    assert "ETH/BTC" in markets


async def check_rest(exchange: Any) -> None:
    ticker, book = await same_moment(
        lambda: exchange.fetch_ticker(SYMBOL),
        lambda: exchange.fetch_order_book(SYMBOL),
        lambda t, b: (t["bid"], t["ask"]) == (b["bids"][0][0], b["asks"][0][0]),
    )
    assert ticker["low"] < ticker["bid"] < ticker["ask"] < ticker["high"]
    assert ticker["baseVolume"] > 0
    assert ticker["quoteVolume"] > 0
    assert len(book["bids"]) == len(book["asks"]) == 50  # ccxt asks spot for 50 levels
    check_side(book["bids"], descending=True)
    check_side(book["asks"], descending=False)
    # A trade moves last: the ticker's last is the newest trade's price.
    trades, ticker = await same_moment(
        lambda: exchange.fetch_trades(SYMBOL),
        lambda: exchange.fetch_ticker(SYMBOL),
        lambda tr, t: bool(tr) and tr[-1]["price"] == t["last"],
    )
    ids = [int(t["id"]) for t in trades]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(on_grid(t["price"], TICK) and t["side"] in ("buy", "sell") for t in trades)
    # The running candle closes at the last trade (read together: the tape keeps printing).
    candles, latest = await same_moment(
        lambda: exchange.fetch_ohlcv(SYMBOL, "1m", limit=5),
        lambda: exchange.fetch_trades(SYMBOL),
        lambda c, tr: bool(c) and bool(tr) and c[-1][4] == tr[-1]["price"],
    )
    opens = [c[0] for c in candles]
    assert opens == sorted(opens)
    assert all(o % 60_000 == 0 for o in opens)
    for _, open_, high, low, close, volume in candles:
        assert low <= min(open_, close) <= max(open_, close) <= high
        assert volume >= 0
    assert int(latest[-1]["id"]) >= ids[-1]


async def check_streams(exchange: Any, server: SimVenueServer) -> None:
    ticker = await exchange.watch_ticker(SYMBOL)
    assert ticker["symbol"] == SYMBOL
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert on_grid(ticker["last"], TICK)

    # The book ccxt keeps from the snapshot and deltas must be the simulator's book at the
    # frame's update id ``u``: compared right after ccxt applied each frame, whenever the engine
    # has not moved on since (reading its depth at time 0 does not advance it).
    # (Nothing is asserted inside ccxt's message handler, which would swallow the error.)
    applied: list[int] = []
    matched: list[int] = []
    differed: list[int] = []
    handle = exchange.handle_order_book

    def spy(client: Any, message: dict[str, Any]) -> None:
        handle(client, message)
        applied.append(message["data"]["u"])
        now = server.engine.depth("bybit", MARKET_ID, 0, 50)
        if now.seq == message["data"]["u"]:
            kept = exchange.orderbooks[SYMBOL]
            same = [list(b) for b in kept["bids"]] == [list(b) for b in now.bids] and [
                list(a) for a in kept["asks"]
            ] == [list(a) for a in now.asks]
            (matched if same else differed).append(now.seq)

    exchange.handle_order_book = spy
    for _ in range(8):
        book = await exchange.watch_order_book(SYMBOL)
        check_side(book["bids"], descending=True)
        check_side(book["asks"], descending=False)
        assert book["bids"][0][0] < book["asks"][0][0]
    assert applied == sorted(applied)
    assert len(set(applied)) == len(applied) >= 8
    assert not differed, f"ccxt's book differs from the simulator's at u={differed}"
    assert len(matched) >= 4, (applied, matched)

    seen: list[int] = []
    while len(seen) < 3:
        trades = await exchange.watch_trades(SYMBOL)
        assert all(on_grid(t["price"], TICK) and t["amount"] > 0 for t in trades)
        seen += [int(t["id"]) for t in trades if int(t["id"]) not in seen]
    assert seen == sorted(seen)

    candles = await exchange.watch_ohlcv(SYMBOL, "1m")
    open_ms, open_, high, low, close, _ = candles[-1]
    assert open_ms % 60_000 == 0
    assert low <= min(open_, close) <= max(open_, close) <= high
