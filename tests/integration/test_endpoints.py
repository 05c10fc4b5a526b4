"""Endpoint fallback: a venue's ``ws_urls`` are tried in order, the next at once when one is
refused or unreachable; health says which one is in use; a lasting refusal on every endpoint
is retried at the backoff cap, never given up."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from cryptows.clock import wall_ms
from cryptows.feed.manager import FeedManager
from cryptows.models import VenueState
from cryptows.sim.binance import BinanceSim
from cryptows.sim.cluster import SimCluster
from cryptows.symbols import parse_symbols
from tests.integration.conftest import Recorder, settings_for

CLOSED = "ws://127.0.0.1:9/stream"  # nothing listens on port 9
BTC = "BTCUSDT"


@pytest.fixture
async def spare(cluster: SimCluster) -> AsyncIterator[BinanceSim]:
    """A second simulated Binance on the same market: another endpoint of the same venue."""
    async with BinanceSim(cluster.engine) as server:
        yield server


@pytest.mark.parametrize("first", ["refused", "unreachable"])
async def test_the_next_endpoint_is_tried_at_once(
    cluster: SimCluster, spare: BinanceSim, first: str
) -> None:
    primary = cluster["binance"]
    primary.faults.handshake_status = 451
    urls = [primary.ws_url if first == "refused" else CLOSED, spare.ws_url]
    settings = settings_for(
        cluster, **{"venues.binance.ws_urls": urls, "feed.backoff_initial_s": 30.0,
                    "feed.backoff_max_s": 60.0}
    )  # fmt: skip
    async with FeedManager(settings, parse_symbols([BTC]), ["binance"]) as manager:
        rec = Recorder(manager)
        started = time.monotonic()
        # No backoff between the two: 30 s of it would fail this wait.
        await rec.wait(
            lambda: ("binance", BTC) in rec.pairs(),
            10,
            "binance quotes through the second endpoint",
        )
        health = manager.health()["binance"]
        await rec.close()
    assert time.monotonic() - started < 10
    assert health.state is VenueState.LIVE
    assert health.reason == f"via 127.0.0.1:{spare.port}, endpoint 2 of 2"
    assert spare.connections_total == 1
    if first == "refused":
        assert primary.connections_total == 0  # refused at the handshake: never a session


async def test_the_endpoint_that_worked_is_tried_first_on_reconnect(
    cluster: SimCluster, spare: BinanceSim
) -> None:
    primary = cluster["binance"]
    primary.faults.handshake_status = 503
    settings = settings_for(cluster, **{"venues.binance.ws_urls": [primary.ws_url, spare.ws_url]})
    async with FeedManager(settings, parse_symbols([BTC]), ["binance"]) as manager:
        rec = Recorder(manager)
        await rec.wait(
            lambda: ("binance", BTC) in rec.pairs(), 10, "binance through the second endpoint"
        )
        refused_before = len(primary.handshakes)
        primary.faults.handshake_status = None  # the first would work again now ...
        spare.drop_all()
        mark = len(rec.events)
        await rec.wait(lambda: ("binance", BTC) in rec.pairs(mark), 10, "binance again")
        await rec.close()
    assert spare.connections_total == 2  # ... but the one that worked is tried first
    assert len(primary.handshakes) == refused_before


async def test_every_endpoint_refusing_waits_at_the_backoff_cap(
    cluster: SimCluster, spare: BinanceSim
) -> None:
    for server in (cluster["binance"], spare):
        server.faults.handshake_status = 451
    settings = settings_for(
        cluster, **{"venues.binance.ws_urls": [cluster["binance"].ws_url, spare.ws_url],
                    "feed.backoff_initial_s": 0.05, "feed.backoff_max_s": 40.0}
    )  # fmt: skip
    async with FeedManager(settings, parse_symbols([BTC]), ["binance"]) as manager:
        rec = Recorder(manager)
        await rec.wait(
            lambda: manager.health()["binance"].state is VenueState.FAILED, 10, "binance failed"
        )
        health = manager.health()["binance"]
        await rec.close()
    assert health.reason.startswith("all of 2 endpoints failed: cannot connect to 127.0.0.1:")
    assert health.reason.count("handshake refused: HTTP 451") == 2
    assert health.retry_at_ms is not None
    # Not the first backoff step (0.05 s): the cap, as a 4xx is unlikely to clear soon.
    assert health.retry_at_ms - wall_ms() > 30_000


async def test_a_429_backs_off_instead_of_trying_the_next_endpoint_at_once(
    cluster: SimCluster, spare: BinanceSim
) -> None:
    """Too many requests from this address: every endpoint of the venue would say the same, and
    Binance bans an address that keeps going. The next attempt, after the backoff, starts at
    the next endpoint."""
    primary = cluster["binance"]
    primary.faults.handshake_status = 429
    settings = settings_for(
        cluster, **{"venues.binance.ws_urls": [primary.ws_url, spare.ws_url],
                    "feed.backoff_initial_s": 1.0, "feed.backoff_max_s": 1.0}
    )  # fmt: skip
    async with FeedManager(settings, parse_symbols([BTC]), ["binance"]) as manager:
        rec = Recorder(manager)
        await rec.wait(
            lambda: manager.health()["binance"].state is VenueState.BACKOFF, 5, "a backoff"
        )
        assert spare.connections_total == 0  # not straight on to the other endpoint
        assert "HTTP 429" in manager.health()["binance"].reason
        await rec.wait(lambda: ("binance", BTC) in rec.pairs(), 10, "the next endpoint, later")
        await rec.close()
    assert spare.connections_total == 1
