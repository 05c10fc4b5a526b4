"""ccxt's ``coinbaseexchange`` (async "pro" class) against the simulated Coinbase Exchange.

ccxt loads the markets (``/currencies`` then ``/products``), watches ``ticker``, ``matches`` and
``level2`` (which it signs, so fake credentials are configured: the simulator accepts any
well-formed signature) on one connection, and fetches the ticker, book, trades and candles over
REST. The checks tie what ccxt ends up with to the simulator's own state: precision and limits
to the tick and lot, the watched book to the levels the connection last sent, and its top to
the last ticker.
"""

from __future__ import annotations

import asyncio
import base64
import math
from collections.abc import Awaitable, Callable
from typing import Any

from cryptows.sim.coinbase import CoinbaseSession
from cryptows.sim.server import SimVenueServer
from cryptows.sim.universe import lot_of, tick_of
from tests.compat.conftest import ccxt_client

SYMBOL = "BTC/USDT"
CANONICAL = "BTCUSDT"
TICK = tick_of(CANONICAL)


def _on_grid(price: float) -> bool:
    return math.isclose(price / TICK, round(price / TICK), abs_tol=1e-6)


def _exchange(server: SimVenueServer) -> Any:
    return ccxt_client(
        "coinbaseexchange",
        server,
        {
            "apiKey": "simulated-key",
            "secret": base64.b64encode(b"simulated secret of 32 bytes....").decode(),
            "password": "simulated-passphrase",
            "options": {"defaultType": "spot"},
        },
    )


async def test_ccxt_coinbaseexchange_against_the_simulator(
    simulated: Callable[[str], Awaitable[SimVenueServer]],
) -> None:
    server = await simulated("coinbase")
    exchange = _exchange(server)
    try:
        async with asyncio.timeout(20):
            markets = await exchange.load_markets()
            market = markets[SYMBOL]
            assert market["spot"]
            assert market["id"] == "BTC-USDT"
            assert market["precision"]["price"] == TICK
            assert market["precision"]["amount"] == lot_of(CANONICAL)
            assert market["limits"]["cost"]["min"] == 1
            assert "USDT" in exchange.currencies
            assert "BTC" in exchange.currencies

            ticker = await exchange.watch_ticker(SYMBOL)
            assert ticker["symbol"] == SYMBOL
            assert ticker["bid"] < ticker["ask"]
            assert _on_grid(ticker["bid"])
            assert _on_grid(ticker["ask"])
            assert _on_grid(ticker["last"])

            trades: list[Any] = []
            while len(trades) < 3:  # each call returns the trades new since the last one
                trades += await exchange.watch_trades(SYMBOL)
            ids = [int(t["id"]) for t in trades]
            assert ids == sorted(ids)
            assert len(set(ids)) == len(ids)
            assert all(_on_grid(t["price"]) and t["amount"] > 0 for t in trades)

            for _ in range(6):  # a snapshot, then deltas applied by ccxt
                book = await exchange.watch_order_book(SYMBOL)
                assert book["bids"][0][0] < book["asks"][0][0]
            await _check_book_matches_what_was_sent(server, exchange)

            rest_ticker = await exchange.fetch_ticker(SYMBOL)
            assert rest_ticker["bid"] < rest_ticker["ask"]
            assert _on_grid(rest_ticker["last"])
            rest_book = await exchange.fetch_order_book(SYMBOL)
            assert rest_book["nonce"] > 0
            assert rest_book["bids"][0][0] < rest_book["asks"][0][0]
            assert [b[0] for b in rest_book["bids"]] == sorted(
                (b[0] for b in rest_book["bids"]), reverse=True
            )
            assert all(_on_grid(level[0]) for level in rest_book["bids"] + rest_book["asks"])
            rest_trades = await exchange.fetch_trades(SYMBOL, limit=50)
            assert 0 < len(rest_trades) <= 50
            assert all(_on_grid(t["price"]) for t in rest_trades)
            assert max(int(t["id"]) for t in rest_trades) >= max(ids)
            candles = await exchange.fetch_ohlcv(SYMBOL, "1m", limit=5)
            assert candles
            for stamp, open_, high, low, close, volume in candles:
                assert stamp % 60_000 == 0
                assert low <= min(open_, close) <= max(open_, close) <= high
                assert volume > 0
    finally:
        await exchange.close()


async def _check_book_matches_what_was_sent(server: SimVenueServer, exchange: Any) -> None:
    """Freeze the pushes, let ccxt apply what is in flight, then compare: ccxt's book must be
    exactly the levels the connection last sent (every delta applied once, none lost), and its
    top the last ticker's best bid and ask (both come from the same book)."""
    server.faults.quiet = True
    try:
        await asyncio.sleep(0.4)
        [sent] = [
            s.ladders[("level2", "BTC-USDT")]
            for s in server.sessions
            if isinstance(s, CoinbaseSession) and ("level2", "BTC-USDT") in s.ladders
        ]
        book = exchange.orderbooks[SYMBOL]
        assert [tuple(level) for level in book["bids"]] == sent.bids
        assert [tuple(level) for level in book["asks"]] == sent.asks
        ticker = exchange.tickers[SYMBOL]
        assert (ticker["bid"], ticker["ask"]) == (sent.bids[0][0], sent.asks[0][0])
    finally:
        server.faults.quiet = False
