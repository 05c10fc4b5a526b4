"""What every simulated venue does alike: refusing handshakes on demand (451 geo-block, 503),
the engine's 24 h statistics in each venue's own ticker fields."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from cryptows.clock import wall_ms
from cryptows.sim.cluster import SIMULATORS
from cryptows.sim.market import MarketEngine, TopOfBook
from cryptows.symbols import parse_symbols
from cryptows.venues import get_adapter
from tests.integration.conftest import bound


@pytest.mark.parametrize("venue", sorted(SIMULATORS))
@pytest.mark.parametrize("status", [451, 503])
async def test_handshake_refused(engine: MarketEngine, venue: str, status: int) -> None:
    async with SIMULATORS[venue](engine) as sim:
        sim.faults.handshake_status = status
        with pytest.raises(InvalidStatus) as info:
            async with connect(sim.ws_url, open_timeout=bound(5)):
                pass
        sim.faults.handshake_status = None
        async with connect(sim.ws_url, open_timeout=bound(5)):
            pass  # accepted again once the fault is lifted
    assert info.value.response.status_code == status


class FrozenEngine(MarketEngine):
    """A market held at one moment: its books never change, every frame shows the same one."""

    def __init__(self) -> None:
        self.frozen_ms = wall_ms()
        super().__init__(seed=11, start_ms=self.frozen_ms, dislocations=False)

    def book(self, venue: str, symbol: str, now_ms: int) -> TopOfBook:
        return super().book(venue, symbol, self.frozen_ms)


def _stats(venue: str, frame: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(high, low, quote volume) of a BTCUSDT 24 h ticker frame, in the venue's own fields."""
    if venue == "binance" and frame.get("stream") == "btcusdt@ticker":
        data = frame["data"]
        return data["h"], data["l"], data["q"]
    if venue == "bybit" and frame.get("topic") == "tickers.BTCUSDT":
        data = frame["data"]
        return data["highPrice24h"], data["lowPrice24h"], data["turnover24h"]
    if venue == "okx" and frame.get("arg", {}).get("channel") == "tickers" and "data" in frame:
        [item] = frame["data"]
        return item["high24h"], item["low24h"], item["volCcy24h"]
    if venue == "coinbase" and frame.get("type") == "ticker":
        return frame["high_24h"], frame["low_24h"], None
    return None


@pytest.mark.parametrize("venue", sorted(SIMULATORS))
async def test_every_venue_shows_the_engines_24h_statistics(venue: str) -> None:
    engine = FrozenEngine()
    book = engine.book(venue, "BTCUSDT", 0)
    assert book.low_24h < book.bid < book.ask < book.high_24h
    async with SIMULATORS[venue](engine) as sim, connect(sim.ws_url) as ws:
        for frame in get_adapter(venue).subscribe(parse_symbols(["BTCUSDT"])):
            await ws.send(frame)
        async with asyncio.timeout(bound(5)):
            while (stats := _stats(venue, json.loads(await ws.recv()))) is None:
                pass
    high, low, quote_volume = stats
    assert (float(high), float(low)) == (book.high_24h, book.low_24h)
    if quote_volume is not None:
        assert float(quote_volume) == pytest.approx(book.quote_volume_24h, rel=1e-12)
