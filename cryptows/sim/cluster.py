"""All simulated venues together, driven by one market engine: what ``--demo`` and tests start.

:data:`SIMULATORS` mirrors the adapter registry (:data:`cryptows.venues.ADAPTERS`): for every
venue there, the module ``cryptows.sim.<venue>`` names its server class (protocol and market
facts, :attr:`~cryptows.sim.server.SimVenueServer.profile`) as ``SIMULATOR``. So a new venue is
its adapter module, its simulator module and its name in :data:`cryptows.registry.VENUE_NAMES`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptows.clock import wall_ms
from cryptows.registry import VENUE_NAMES, venue_class
from cryptows.sim.market import MarketEngine, VenueProfile
from cryptows.sim.server import Served, SimVenueServer

SIMULATORS: dict[str, type[SimVenueServer]] = {
    name: venue_class("cryptows.sim", name, "SIMULATOR", SimVenueServer) for name in VENUE_NAMES
}
"""Simulated venue classes by venue name (mirrors ``cryptows.venues.ADAPTERS``). The order is
part of the market seed's meaning: the engine draws its random numbers venue by venue in it."""


def venue_profiles() -> dict[str, VenueProfile]:
    """Every registered venue's market facts, in registry order (what the engine is built on)."""
    return {name: cls.profile for name, cls in SIMULATORS.items()}


class SimCluster(Served):
    """Simulated exchanges on loopback, one port each, sharing one seeded market.

    Args:
        venues: which venues to run (default: all four).
        seed: market seed; the same seed gives the same price paths (whichever venues run).
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
            seed, start_ms=wall_ms(), dislocations=dislocations, venues=venue_profiles()
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
