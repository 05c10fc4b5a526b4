"""ccxt's Binance client (``ccxt.pro.binance``, spot) against simulated Binance, changed only in
host and port.

It loads the markets twice: with ccxt's defaults (spot, then the USDⓈ-M and COIN-M futures hosts,
which answer with no instruments) and spot only. It watches the ticker, the order book (ccxt
subscribes to ``<s>@depth@100ms``, fetches a REST snapshot and checks every diff's ``U``/``u``
against it and against the previous diff: a gap raises), the trades and the 1 m klines, and
fetches ticker, order book, trades and candles over REST. Then the market clock is frozen, so
that every view can be compared with the one engine exactly: the streamed ticker and book (all
1000 levels, against a REST snapshot), the REST ticker, the last streamed and fetched trade, and
the last candle's close.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import cryptows.sim.binance
import cryptows.sim.server
from cryptows.clock import wall_ms
from cryptows.sim.server import SimVenueServer
from cryptows.sim.universe import lot_of, tick_of
from tests.compat.conftest import ccxt_client

SYMBOL = "BTC/USDT"
TICK = tick_of("BTCUSDT")
LOT = lot_of("BTCUSDT")
SPOT_ONLY = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}}
"""ccxt 4.5.90's options for a spot-only client (``fetchMarkets.types``, binance.py)."""

Start = Callable[[str], Awaitable[SimVenueServer]]


def on_grid(value: float, step: float) -> bool:
    """Whether ``value`` is a whole number of ``step``s (to float precision)."""
    ratio = value / step
    return math.isclose(ratio, round(ratio), abs_tol=1e-6)


def check_book(book: Any) -> None:
    bids, asks = book["bids"], book["asks"]
    assert bids
    assert asks
    assert bids[0][0] < asks[0][0]
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
    assert all(on_grid(p, TICK) and s > 0 and on_grid(s, LOT) for p, s in bids + asks)


def client(server: SimVenueServer, options: dict[str, Any] | None = None) -> Any:
    return ccxt_client("binance", server, {"options": options or {}}, "binance.com")


async def test_ccxt_binance_default_markets_ask_the_futures_hosts_too(simulated: Start) -> None:
    server = await simulated("binance")
    exchange = client(server)
    try:
        async with asyncio.timeout(10):
            markets = await exchange.load_markets()
    finally:
        await exchange.close()
    assert {m["type"] for m in markets.values()} == {"spot"}
    assert len(markets) == len(server.listed_symbols())


async def test_ccxt_binance_spot(simulated: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    server = await simulated("binance")
    exchange = client(server, SPOT_ONLY)
    try:
        async with asyncio.timeout(20):
            await run(exchange, server, monkeypatch)
    finally:
        await exchange.close()


async def run(exchange: Any, server: SimVenueServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # -- markets ----------------------------------------------------------------------------
    markets = await exchange.load_markets()
    market = markets[SYMBOL]
    assert market["spot"]
    assert market["active"]
    assert market["id"] == "BTCUSDT"
    assert (market["precision"]["price"], market["precision"]["amount"]) == (TICK, LOT)
    assert (market["limits"]["amount"]["min"], market["limits"]["price"]["min"]) == (LOT, TICK)
    assert market["limits"]["cost"]["min"] == 5
    assert len(markets) == len(server.listed_symbols())

    # -- streams ----------------------------------------------------------------------------
    ticker = await exchange.watch_ticker(SYMBOL, {"name": "ticker"})  # default: miniTicker
    assert ticker["bid"] < ticker["ask"]
    assert all(on_grid(ticker[k], TICK) for k in ("bid", "ask", "last", "open", "high", "low"))

    nonces: list[int] = []
    synced = 0
    for _ in range(10):  # a REST snapshot, then diffs that ccxt checks for gaps
        book = await exchange.watch_order_book(SYMBOL)
        check_book(book)
        nonces.append(book["nonce"])
        top = server.engine.book("binance", "BTCUSDT", wall_ms())
        if top.seq == book["nonce"]:  # the engine has not moved on since: the same book
            synced += 1
            assert (book["bids"][0][0], book["asks"][0][0]) == (top.bid, top.ask)
            assert (book["bids"][0][1], book["asks"][0][1]) == (top.bid_size, top.ask_size)
    assert nonces == sorted(set(nonces))
    assert synced, "the streamed book never caught up with the engine"

    trades: list[Any] = []
    while len(trades) < 3:  # ccxt returns the trades that are new since the last call
        trades += await exchange.watch_trades(SYMBOL)
    ids = [int(t["id"]) for t in trades]
    assert ids == sorted(set(ids))
    assert all(on_grid(t["price"], TICK) and on_grid(t["amount"], LOT) for t in trades)
    assert all(t["side"] in ("buy", "sell") and t["symbol"] == SYMBOL for t in trades)

    candles = await exchange.watch_ohlcv(SYMBOL, "1m")
    assert candles
    assert candles[-1][0] % 60_000 == 0

    # -- freeze the market: every view must now show the engine's one book -------------------
    frozen = wall_ms()
    monkeypatch.setattr(cryptows.sim.server, "wall_ms", lambda: frozen)
    monkeypatch.setattr(cryptows.sim.binance, "wall_ms", lambda: frozen)
    await asyncio.sleep(1.2)  # the last diff and a 1 s ticker land
    top = server.engine.book("binance", "BTCUSDT", frozen)
    streamed_ticker = exchange.tickers[SYMBOL]
    streamed_book = exchange.orderbooks[SYMBOL]
    assert (streamed_ticker["bid"], streamed_ticker["ask"]) == (top.bid, top.ask)
    assert (streamed_book["bids"][0][0], streamed_book["asks"][0][0]) == (top.bid, top.ask)
    assert streamed_book["nonce"] == top.seq

    rest_ticker = await exchange.fetch_ticker(SYMBOL)
    assert (rest_ticker["bid"], rest_ticker["ask"], rest_ticker["last"]) == (
        top.bid,
        top.ask,
        top.last,
    )
    rest_book = await exchange.fetch_order_book(SYMBOL, 1000)
    check_book(rest_book)
    assert rest_book["nonce"] == top.seq
    # Every one of the 1000 levels a side that the diffs maintained matches the snapshot.
    assert rest_book["bids"] == streamed_book["bids"]
    assert rest_book["asks"] == streamed_book["asks"]

    rest_trades = await exchange.fetch_trades(SYMBOL, limit=3)  # 3 were streamed
    rest_ids = [int(t["id"]) for t in rest_trades]
    assert rest_ids == sorted(set(rest_ids))
    assert len(rest_ids) == 3
    assert rest_ids[-1] == int(exchange.trades[SYMBOL][-1]["id"])
    assert rest_trades[-1]["price"] == top.last  # a trade sets the last price

    ohlcv = await exchange.fetch_ohlcv(SYMBOL, "1m", limit=5)
    assert ohlcv
    assert [c[0] for c in ohlcv] == sorted({c[0] for c in ohlcv})
    assert all(c[0] % 60_000 == 0 and c[3] <= min(c[1], c[4]) <= max(c[1], c[4]) <= c[2]
               for c in ohlcv)  # fmt: skip
    assert ohlcv[-1][4] == top.last  # the running candle closes at the last trade
