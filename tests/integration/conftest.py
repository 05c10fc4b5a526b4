"""Integration-test helpers: the simulated market, bounded waits."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from cryptows.sim.market import MarketEngine

TIMEOUT_FACTOR = float(os.environ.get("CRYPTOWS_TESTS_TIMEOUT_FACTOR", "1"))


def bound(seconds: float) -> float:
    """A wait bound in seconds, scaled for slow CI machines (CRYPTOWS_TESTS_TIMEOUT_FACTOR)."""
    return seconds * TIMEOUT_FACTOR


@pytest.fixture
def engine() -> MarketEngine:
    """A seeded market engine starting now (no random dislocations: tests force their own)."""
    return MarketEngine(seed=11, start_ms=time.time_ns() // 1_000_000, dislocations=False)


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
