"""The chaos matrix: every fault on every venue, with the feed's timings shrunk through config.

Each cell streams BTCUSDT and ETHUSDT from all four simulated venues, injects one fault on one
venue, and checks what a trader relies on:

- the program keeps running, with no traceback and no error logged;
- the other venues stream on, never leaving ``live``;
- the faulty venue leaves ``live`` at once (its quotes stop being used), with the reason in its
  health; a frame it cannot parse (garbage) is counted and is not fatal;
- once the fault clears it is ``live`` again, streaming both symbols, within the backoff bound,
  with exactly the subscriptions it had before.

A symbol the venue refuses is not asked for again on that connection (the venue said no), so
that cell clears with a new connection, as the next reconnect would bring.

The recovery time of each cell (fault cleared -> both symbols streaming again) is written to
the file named by ``CRYPTOWS_CHAOS_REPORT``, if set, as JSON lines (for the closing note's
table); the tests assert only the bound.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from cryptows.feed.manager import FeedManager
from cryptows.models import SymbolStatus, VenueState, VenueStatus
from cryptows.sim.cluster import SimCluster
from cryptows.sim.server import SimVenueServer
from tests.integration.conftest import SYMBOLS, VENUES, Recorder, bound, settings_for

CHAOS_FEED: dict[str, object] = {
    "feed.backoff_initial_s": 0.05,
    "feed.backoff_max_s": 0.3,
    "feed.open_timeout_s": 1.0,
    "feed.dead_after_s": 1.0,
    "feed.stable_reset_s": 0.5,
    "feed.symbol_timeout_s": 0.0,
}
RECOVERY_BOUND_S = 0.3 + 1.0 + 2.0
"""Backoff cap + one handshake bound + the first frames: a cleared fault is over by then."""
REFUSED = "ETHUSDT"


async def _nothing(server: SimVenueServer) -> None:
    """Nothing to clear: the fault was one event (a drop, a close, a frame)."""


async def _drop(server: SimVenueServer) -> None:
    server.drop_all()


async def _stall(server: SimVenueServer) -> None:
    server.stall_all(2.5)


async def _garbage(server: SimVenueServer) -> None:
    await server.send_garbage()


async def _oversize(server: SimVenueServer) -> None:
    await server.send_oversize()


async def _reject(server: SimVenueServer) -> None:
    server.faults.rejected.add(REFUSED)
    server.drop_all()  # the refusal comes at the next subscribe


async def _accept(server: SimVenueServer) -> None:
    server.faults.rejected.clear()
    server.drop_all()  # refused symbols are asked for again on a new connection


async def _slow(server: SimVenueServer) -> None:
    server.faults.handshake_delay_s = 3.0  # the open timeout is 1 s
    server.drop_all()


async def _fast(server: SimVenueServer) -> None:
    server.faults.handshake_delay_s = 0.0


async def _mute(server: SimVenueServer) -> None:
    server.faults.quiet = True  # no data ...
    server.faults.no_pong = True  # ... no pong, no heartbeat


async def _unmute(server: SimVenueServer) -> None:
    server.faults.quiet = False
    server.faults.no_pong = False


def _close(code: int) -> Callable[[SimVenueServer], Awaitable[None]]:
    async def inject(server: SimVenueServer) -> None:
        await server.close_all(code, "fault")

    return inject


def _refuse(status: int | None) -> Callable[[SimVenueServer], Awaitable[None]]:
    async def inject(server: SimVenueServer) -> None:
        server.faults.handshake_status = status
        if status is not None:
            server.drop_all()  # the refusal comes at the next handshake

    return inject


@dataclass(frozen=True, slots=True)
class Cell:
    inject: Callable[[SimVenueServer], Awaitable[None]]
    clear: Callable[[SimVenueServer], Awaitable[None]]
    reason: str
    """What the venue's health says while the fault is on (its reason or last error)."""
    fatal: bool = True
    """The connection goes (else: it survives and counts the fault)."""


CELLS: dict[str, Cell] = {
    "abrupt drop": Cell(_drop, _nothing, "connection lost (no close frame)"),
    "close 1001": Cell(_close(1001), _nothing, "closed by venue with code 1001"),
    "close 1011": Cell(_close(1011), _nothing, "closed by venue with code 1011"),
    "stall": Cell(_stall, _nothing, "no data or"),
    "garbage frame": Cell(_garbage, _nothing, "", fatal=False),
    "oversize frame": Cell(_oversize, _nothing, "connection closed (1009)"),
    "symbol refused": Cell(_reject, _accept, REFUSED),
    "refused 451": Cell(_refuse(451), _refuse(None), "handshake refused: HTTP 451"),
    "refused 503": Cell(_refuse(503), _refuse(None), "handshake refused: HTTP 503"),
    "slow handshake": Cell(_slow, _fast, "timed out: no handshake within 1 s"),
    "no pong or heartbeat": Cell(_mute, _unmute, "no data or"),
}


def _subscriptions(server: SimVenueServer) -> set[tuple[str, str]]:
    return {pair for session in server.sessions for pair in session.subscriptions()}


def _report(venue: str, fault: str, seconds: float) -> None:
    path = os.environ.get("CRYPTOWS_CHAOS_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"venue": venue, "fault": fault, "recovered_s": seconds}) + "\n")


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(CELLS))
@pytest.mark.parametrize("venue", VENUES)
async def test_chaos_cell(
    cluster: SimCluster, venue: str, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    cell = CELLS[fault]
    server = cluster[venue]
    others = [v for v in VENUES if v != venue]
    extra = dict(CHAOS_FEED)
    if fault == "symbol refused":
        extra["feed.symbol_timeout_s"] = 1.0  # Binance acks an unknown stream, then is silent
    caplog.set_level(logging.WARNING)

    async with FeedManager(settings_for(cluster, **extra), SYMBOLS) as manager:
        rec = Recorder(manager)
        everything = {(v, s.canonical) for v in VENUES for s in SYMBOLS}
        await rec.wait(lambda: rec.pairs() >= everything, 10, "every venue streaming")
        before = _subscriptions(server)
        assert len(before) >= len(SYMBOLS)
        mark = len(rec.events)

        def states(name: str) -> list[VenueStatus]:
            return [e for e in rec.events[mark:] if isinstance(e, VenueStatus) and e.venue == name]

        await cell.inject(server)
        if cell.fatal:
            # Out of live at once (a dead connection: within its 1 s liveness bound).
            await rec.wait(
                lambda: any(s.state is not VenueState.LIVE for s in states(venue)),
                3,
                f"{venue} leaving live",
            )
            down = next(s for s in states(venue) if s.state is not VenueState.LIVE)
            if fault == "symbol refused":
                await rec.wait(
                    lambda: any(
                        isinstance(e, SymbolStatus) and e.venue == venue and e.symbol == REFUSED
                        for e in rec.events[mark:]
                    ),
                    5,
                    f"{venue} reporting {REFUSED}",
                )
            else:
                await rec.wait(
                    lambda: (
                        cell.reason in manager.health()[venue].last_error
                        or any(cell.reason in s.reason for s in states(venue))
                    ),
                    5,
                    f"{venue}'s health saying {cell.reason!r}",
                )
            assert down.state in (VenueState.STALE, VenueState.BACKOFF, VenueState.FAILED,
                                  VenueState.CONNECTING)  # fmt: skip
        else:
            await rec.wait(lambda: manager.health()[venue].bad_frames >= 1, 3, "a bad frame")

        # The others stream on throughout.
        during = len(rec.events)
        await rec.wait(
            lambda: rec.pairs(during) >= {(v, s.canonical) for v in others for s in SYMBOLS},
            5,
            "the other venues streaming during the fault",
        )

        await cell.clear(server)
        cleared = time.monotonic()
        after_clear = len(rec.events)
        mine = {(venue, s.canonical) for s in SYMBOLS}
        await rec.wait(
            lambda: (
                rec.pairs(after_clear) >= mine and manager.health()[venue].state is VenueState.LIVE
            ),
            RECOVERY_BOUND_S + 5,
            f"{venue} streaming both symbols again",
        )
        recovered = time.monotonic() - cleared
        health = manager.health()
        after = _subscriptions(server)
        await rec.close()

    _report(venue, fault, recovered)
    assert recovered <= bound(RECOVERY_BOUND_S), f"{venue} took {recovered:.1f} s to recover"
    assert after == before  # exactly the same subscriptions again
    for other in others:
        assert not any(s.state is not VenueState.LIVE for s in states(other)), other
        assert health[other].state is VenueState.LIVE
    if not cell.fatal:
        assert not any(s.state is not VenueState.LIVE for s in states(venue))
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]
