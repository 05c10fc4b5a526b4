"""Integration-test helpers: the simulated market, the real feed client's events, bounded waits."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from cryptows.bench.e2e import Workload, workload
from cryptows.bench.replay_server import ReplayServer
from cryptows.config import Settings, load_settings
from cryptows.feed.manager import FeedManager
from cryptows.models import FeedEvent, Quote
from cryptows.sim.cluster import SimCluster
from cryptows.sim.market import MarketEngine
from cryptows.symbols import parse_symbols
from cryptows.venues import VENUE_NAMES

TIMEOUT_FACTOR = float(os.environ.get("CRYPTOWS_TESTS_TIMEOUT_FACTOR", "1"))

VENUES: tuple[str, ...] = VENUE_NAMES
"""Every supported venue (the registry's display order); each has a simulator."""
SYMBOLS = parse_symbols(["BTCUSDT", "ETHUSDT"])
ALL_PAIRS = {(v, s.canonical) for v in VENUES for s in SYMBOLS}
"""(venue, symbol) for every venue and symbol: what a complete market has quoted."""

FAST_FEED: dict[str, object] = {
    "feed.backoff_initial_s": 0.05,
    "feed.backoff_max_s": 0.2,
    "feed.open_timeout_s": 2.0,
    "feed.dead_after_s": 1.0,  # the shortest liveness bound the config accepts
    "feed.symbol_timeout_s": 0.0,
}
"""Feed settings for tests: quick reconnects, a dead feed noticed within 1 s."""


def bound(seconds: float) -> float:
    """A wait bound in seconds, scaled for slow CI machines (CRYPTOWS_TESTS_TIMEOUT_FACTOR)."""
    return seconds * TIMEOUT_FACTOR


@pytest.fixture
def engine() -> MarketEngine:
    """A seeded market engine starting now (no random dislocations: tests force their own)."""
    return MarketEngine(seed=11, start_ms=time.time_ns() // 1_000_000, dislocations=False)


@pytest.fixture
async def cluster() -> AsyncIterator[SimCluster]:
    """Every simulated venue on free loopback ports (no random dislocations)."""
    async with SimCluster(VENUES, seed=3, dislocations=False) as sims:
        yield sims


def settings_for(cluster: SimCluster, **extra: object) -> Settings:
    """Settings pointing at ``cluster`` with :data:`FAST_FEED`, then ``extra`` (``a__b`` or
    ``a.b`` keys: ``settings_for(c, feed__dead_after_s=5.0)``)."""
    overrides = (
        cluster.overrides() | FAST_FEED | {k.replace("__", "."): v for k, v in extra.items()}
    )
    return load_settings(None, overrides=overrides)


async def collect(
    ws: Any, adapter: Any, until: Callable[[list[Any]], bool], limit_s: float = 5.0
) -> list[Any]:
    """Parse frames from ``ws`` with ``adapter`` until ``until(events)`` or the bound expires."""
    events: list[Any] = []
    async with asyncio.timeout(bound(limit_s)):
        async for message in ws:
            events.extend(adapter.parse(message))
            if until(events):
                return events
    return events


async def until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``predicate`` (state kept outside any event stream) under a bounded wait."""
    try:
        async with asyncio.timeout(bound(seconds)):
            while not predicate():  # noqa: ASYNC110 - polls state nothing signals
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"timed out after {seconds} s waiting for {what}")


class Recorder:
    """Collects the manager's events in the background; tests wait on predicates."""

    def __init__(self, manager: FeedManager) -> None:
        self.manager = manager
        self.events: list[FeedEvent] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.manager.events():
            self.events.append(event)
            self._changed.set()

    async def wait(self, predicate: Callable[[], bool], seconds: float, what: str) -> None:
        try:
            async with asyncio.timeout(bound(seconds)):
                while not predicate():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            pytest.fail(
                f"timed out after {seconds} s waiting for {what}; health: {self.manager.health()}"
            )

    def quotes(self, since: int = 0) -> list[Quote]:
        return [e for e in self.events[since:] if isinstance(e, Quote)]

    def pairs(self, since: int = 0) -> set[tuple[str, str]]:
        return {(q.venue, q.symbol) for q in self.quotes(since)}

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture(scope="module")
def work() -> Workload:
    """A 300-frame benchmark workload (test_e2e_bench, test_transport)."""
    return workload(300)


@pytest.fixture
def server(work: Workload) -> Iterator[ReplayServer]:
    """A replay server sending :func:`work`'s frames, in a process of its own."""
    with ReplayServer(work.frames) as replay:
        yield replay
