"""Integration-test helpers: the simulated market, bounded waits."""

from __future__ import annotations

import os
import time

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
