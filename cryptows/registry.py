"""The supported venues: the one list a new venue is added to.

Each name ``v`` here is a module ``cryptows.venues.v`` that sets ``ADAPTER`` to its adapter class
and a module ``cryptows.sim.v`` that sets ``SIMULATOR`` to its simulated server;
:data:`cryptows.venues.ADAPTERS` and :data:`cryptows.sim.cluster.SIMULATORS` are built from this
list, and config keys, the example config, ``--venues`` help, the dashboard's short names and
the tests that run every venue derive from them. It lives outside :mod:`cryptows.venues` and
imports nothing, so that ``cryptows --help`` can name the venues without loading the adapters
(and msgspec).
"""

from __future__ import annotations

VENUE_NAMES: tuple[str, ...] = ("binance", "bybit", "okx", "coinbase")
"""Every supported venue, by name, in display order (also the market seed's venue order)."""
