"""The compatibility suite: a widely used third-party client (ccxt's async "pro" classes) against
the simulated venues, to prove that any client of an exchange works against its simulator by
changing host and port.

Every test here is marked ``compat`` (``pytest -m compat`` runs only these, ``-m "not compat"``
skips them). ccxt is a test-only dependency (the ``test`` extra).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from cryptows.sim.cluster import SimCluster
from cryptows.sim.server import SimVenueServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/compat/" in item.nodeid:
            item.add_marker(pytest.mark.compat)


def rehost(urls: Any, server: SimVenueServer, hostname: str) -> Any:
    """``urls`` (ccxt's nested ``exchange.urls["api"]``) with every host replaced by the
    simulator's: ``https``/``wss`` become ``http``/``ws`` on its port, paths and queries kept,
    ``{hostname}`` filled in with ``hostname`` first."""
    if isinstance(urls, dict):
        return {key: rehost(value, server, hostname) for key, value in urls.items()}
    if isinstance(urls, list):
        return [rehost(value, server, hostname) for value in urls]
    if not isinstance(urls, str) or "://" not in urls:
        return urls
    parts = urlsplit(urls.replace("{hostname}", hostname))
    scheme = {"https": "http", "wss": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, f"{server.host}:{server.port}", parts.path, parts.query, ""))


def ccxt_client(
    name: str, server: SimVenueServer, config: dict[str, Any], hostname: str = ""
) -> Any:
    """ccxt's async pro class ``name`` with ``config`` (rate limiting off), every URL of its
    endpoint table pointed at ``server`` (:func:`rehost`; ``hostname`` fills ``{hostname}``,
    default the class's own)."""
    # Imported here, not at the top of the test modules: importing ccxt costs a second of CPU,
    # which every xdist worker would pay collecting them whether or not it runs them.
    import ccxt.pro  # type: ignore[import-untyped]  # ccxt ships no type information

    exchange = getattr(ccxt.pro, name)({"enableRateLimit": False, **config})
    exchange.urls["api"] = rehost(exchange.urls["api"], server, hostname or exchange.hostname)
    return exchange


@pytest.fixture
async def simulated() -> AsyncIterator[Callable[[str], Awaitable[SimVenueServer]]]:
    """Start one simulated venue on a free loopback port: ``server = await simulated("okx")``."""
    clusters: list[SimCluster] = []

    async def start(venue: str) -> SimVenueServer:
        cluster = SimCluster([venue], seed=11)
        clusters.append(cluster)
        await cluster.start()
        return cluster[venue]

    yield start
    for cluster in clusters:
        await cluster.stop()
