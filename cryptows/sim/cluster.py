"""All simulated venues together, driven by one market engine: what ``--demo`` and tests start."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

from cryptows.sim.binance import BinanceSim
from cryptows.sim.bybit import BybitSim
from cryptows.sim.coinbase import CoinbaseSim
from cryptows.sim.market import MarketEngine
from cryptows.sim.okx import OkxSim
from cryptows.sim.server import SimVenueServer

SIMULATORS: dict[str, type[SimVenueServer]] = {
    cls.name: cls for cls in (BinanceSim, BybitSim, OkxSim, CoinbaseSim)
}
"""Simulated venue classes by venue name (mirrors ``cryptows.venues.ADAPTERS``)."""


class SimCluster:
    """Simulated exchanges on loopback, one port each, sharing one seeded market.

    Args:
        venues: which venues to run (default: all four).
        seed: market seed; the same seed gives the same price paths.
        port_base: first port (venue *i* gets ``port_base + i``); 0 picks free ports.
        dislocations: let the market produce random cross-venue dislocations.
    """

    def __init__(
        self,
        venues: Sequence[str] | None = None,
        *,
        seed: int = 7,
        port_base: int = 0,
        host: str = "127.0.0.1",
        dislocations: bool = True,
    ) -> None:
        names = list(venues) if venues is not None else list(SIMULATORS)
        self.engine = MarketEngine(
            seed, start_ms=time.time_ns() // 1_000_000, dislocations=dislocations
        )
        self.servers: dict[str, SimVenueServer] = {}
        for i, name in enumerate(names):
            port = port_base + i if port_base else 0
            self.servers[name] = SIMULATORS[name](self.engine, host=host, port=port)

    async def start(self) -> None:
        """Start every venue server (stopping those already started if one fails)."""
        try:
            for server in self.servers.values():
                await server.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop every venue server."""
        for server in self.servers.values():
            await server.stop()

    async def __aenter__(self) -> SimCluster:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __getitem__(self, venue: str) -> SimVenueServer:
        return self.servers[venue]

    def overrides(self) -> dict[str, object]:
        """Config overrides that point the real client at these servers (and only at them)."""
        values: dict[str, object] = {}
        for name, server in self.servers.items():
            values[f"venues.{name}.enabled"] = True
            values[f"venues.{name}.ws_url"] = server.ws_url
            values[f"venues.{name}.rest_url"] = server.rest_url
        for name in SIMULATORS:
            if name not in self.servers:
                values[f"venues.{name}.enabled"] = False
        return values
