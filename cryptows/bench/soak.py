"""The soak run: the feed against the simulator for a long time, with a random fault every few
seconds (``python -m cryptows.bench soak --minutes 30``). Not part of CI.

The four simulated venues and the real client (:class:`~cryptows.feed.manager.FeedManager`)
run in this process. Every ``--every`` seconds (with jitter) one venue gets one fault, in the
simulator's own fault language (:mod:`cryptows.sim.faults`), and the lasting ones are lifted a
few seconds later: an abrupt drop, a close with 1001 or 1011, a stall, a garbage frame, an
oversize frame, a 451 or 503 refusal, a slow handshake, a silent venue that answers no ping.
Each minute, and at the end, it reports:

- crashes: errors logged (a bug in the connection loop is logged with its traceback and the
  venue carries on; any such record counts) and exceptions that ended a task;
- reconnects per venue (the feed's own count);
- quote gaps: per venue, the longest time without a quote for one of its symbols, and how many
  gaps were longer than the liveness bound plus the backoff cap (a fault takes a venue down for
  a moment; a gap beyond that is the feed failing to come back);
- RSS of the process over time (a leak shows as a steady climb).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptows.config import load_settings
from cryptows.feed.manager import FeedManager
from cryptows.models import FeedEvent, Quote
from cryptows.sim.cluster import SimCluster
from cryptows.sim.faults import apply_fault, parse_fault
from cryptows.symbols import parse_symbols
from cryptows.venues import VENUE_NAMES

FAULTS: tuple[tuple[str, str | None, float], ...] = (
    # (fault, the fault that lifts it, seconds later), in cryptows sim --fault's language
    ("drop", None, 0.0),
    ("close=1001", None, 0.0),
    ("close=1011", None, 0.0),
    ("stall=3", None, 0.0),
    ("garbage", None, 0.0),
    ("oversize", None, 0.0),
    ("refuse=451", "refuse=0", 3.0),
    ("refuse=503", "refuse=0", 3.0),
    ("slow=4", "slow=0", 4.0),
    ("nopong", "nopong=0", 4.0),
)
"""What the soak injects; a ``quiet`` venue goes with ``nopong`` (see :func:`_inject`)."""
FEED: dict[str, object] = {
    "feed.backoff_initial_s": 0.2,
    "feed.backoff_max_s": 2.0,
    "feed.open_timeout_s": 2.0,
    "feed.dead_after_s": 2.0,
    "feed.symbol_timeout_s": 0.0,
}
"""Feed timings for the soak: faster than the defaults, so that many faults fit in a run."""
_GAP_ALLOWED_S = 2.0 + 2.0 + 2.0 + 4.0
"""Liveness bound + backoff cap + a handshake + the longest lasting fault: a longer gap is the
feed not coming back."""


@dataclass
class SoakReport:
    """What a soak run saw."""

    seconds: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    errors: list[str] = field(default_factory=list)
    reconnects: dict[str, int] = field(default_factory=dict)
    quotes: Counter[str] = field(default_factory=Counter)
    longest_gap_s: dict[str, float] = field(default_factory=dict)
    long_gaps: Counter[str] = field(default_factory=Counter)
    rss_mib: list[tuple[float, float]] = field(default_factory=list)
    """(seconds into the run, RSS in MiB)."""

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data."""
        return {
            "seconds": round(self.seconds, 1),
            "faults": dict(self.faults),
            "crashes": self.crashes,
            "errors": self.errors[:20],
            "reconnects": self.reconnects,
            "quotes": dict(self.quotes),
            "longest_gap_s": {k: round(v, 2) for k, v in self.longest_gap_s.items()},
            "gaps_over_allowed": dict(self.long_gaps),
            "rss_mib": [(round(t), round(m, 1)) for t, m in self.rss_mib],
        }


def rss_mib() -> float:
    """This process' resident set size in MiB (Linux ``/proc``; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    import resource

    return pages * resource.getpagesize() / 2**20


class _Errors(logging.Handler):
    """Counts the error records logged during the run (each is a crash the feed survived)."""

    def __init__(self, report: SoakReport) -> None:
        super().__init__(logging.ERROR)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        self.report.crashes += 1
        self.report.errors.append(f"{record.name}: {record.getMessage()}")


async def soak(
    seconds: float, *, every_s: float = 5.0, seed: int = 1, progress: bool = True
) -> SoakReport:
    """Run the feed against the simulator for ``seconds``, a fault every ``every_s`` or so."""
    report = SoakReport()
    rng = random.Random(seed)
    symbols = parse_symbols(["BTCUSDT", "ETHUSDT"])
    handler = _Errors(report)
    logging.getLogger().addHandler(handler)
    last: dict[tuple[str, str], float] = {}
    started = time.monotonic()
    try:
        async with SimCluster(seed=seed) as cluster:
            settings = load_settings(None, overrides=cluster.overrides() | FEED)
            async with FeedManager(settings, symbols) as manager, asyncio.TaskGroup() as tasks:
                stop = asyncio.Event()
                tasks.create_task(_faults(cluster, rng, every_s, report, stop))
                tasks.create_task(_sample(report, started, stop, manager, progress))
                deadline = started + seconds
                async for event in _until(manager, deadline):
                    if isinstance(event, Quote):
                        now = time.monotonic()
                        key = (event.venue, event.symbol)
                        previous = last.get(key)
                        if previous is not None:
                            gap = now - previous
                            if gap > report.longest_gap_s.get(event.venue, 0.0):
                                report.longest_gap_s[event.venue] = gap
                            if gap > _GAP_ALLOWED_S:
                                report.long_gaps[event.venue] += 1
                        last[key] = now
                        report.quotes[event.venue] += 1
                stop.set()
                report.reconnects = {v: h.reconnects for v, h in manager.health().items()}
                # A venue dead until the end shows no gap above, as none closed: measure to now,
                # and count a pair that never quoted as one long gap.
                ended = time.monotonic()
                for venue in cluster.servers:
                    for symbol in symbols:
                        seen = last.get((venue, symbol.canonical))
                        gap = ended - (seen if seen is not None else started)
                        if gap > report.longest_gap_s.get(venue, 0.0):
                            report.longest_gap_s[venue] = gap
                        if gap > _GAP_ALLOWED_S:
                            report.long_gaps[venue] += 1
    except* Exception as group:  # a task that died: the worst kind of crash
        report.crashes += len(group.exceptions)
        report.errors += [f"{type(e).__name__}: {e}" for e in group.exceptions]
    finally:
        logging.getLogger().removeHandler(handler)
    report.seconds = time.monotonic() - started
    report.rss_mib.append((report.seconds, rss_mib()))
    return report


async def _until(manager: FeedManager, deadline: float) -> AsyncIterator[FeedEvent]:
    """The manager's events until ``deadline`` (monotonic)."""
    events = manager.events().__aiter__()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            async with asyncio.timeout(remaining):
                yield await anext(events)
        except TimeoutError:
            return


async def _faults(
    cluster: SimCluster, rng: random.Random, every_s: float, report: SoakReport, stop: asyncio.Event
) -> None:
    venues = list(cluster.servers)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(rng.uniform(0.5, 1.5) * every_s):
                await stop.wait()
        if stop.is_set():
            return
        venue = rng.choice(venues)
        fault, lift, after = rng.choice(FAULTS)
        await _inject(cluster, venue, fault)
        report.faults[fault] += 1
        if lift is not None:
            await asyncio.sleep(after)
            await _inject(cluster, venue, lift)


async def _inject(cluster: SimCluster, venue: str, fault: str) -> None:
    server = cluster[venue]
    await apply_fault(server, parse_fault(f"{venue}:{fault}", list(cluster.servers)))
    if fault.startswith("nopong"):  # a silent venue: no data either, so nothing keeps it alive
        server.faults.quiet = server.faults.no_pong
    if fault.startswith(("refuse=4", "refuse=5", "slow=")) and fault != "slow=0":
        server.drop_all()  # the refusal or the slow handshake comes with the next connection


async def _sample(
    report: SoakReport, started: float, stop: asyncio.Event, manager: FeedManager, progress: bool
) -> None:
    report.rss_mib.append((0.0, rss_mib()))
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                await stop.wait()
        elapsed = time.monotonic() - started
        report.rss_mib.append((elapsed, rss_mib()))
        if progress and not stop.is_set():
            states = " ".join(f"{v}:{h.state.value}" for v, h in manager.health().items())
            print(
                f"soak {elapsed / 60:5.1f} min  faults {sum(report.faults.values()):4}  "
                f"crashes {report.crashes}  rss {report.rss_mib[-1][1]:.1f} MiB  {states}",
                flush=True,
            )


def render_soak(report: SoakReport) -> list[str]:
    """The report as text lines."""
    lines = [
        f"soak: {report.seconds / 60:.1f} min, {sum(report.faults.values())} faults, "
        f"crashes {report.crashes}",
        "faults: " + ", ".join(f"{k} {n}" for k, n in sorted(report.faults.items())),
    ]
    for venue in VENUE_NAMES:
        lines.append(
            f"  {venue:<9} quotes {report.quotes.get(venue, 0):>8}  reconnects "
            f"{report.reconnects.get(venue, 0):>4}  longest gap "
            f"{report.longest_gap_s.get(venue, 0.0):5.1f} s  gaps over "
            f"{_GAP_ALLOWED_S:g} s: {report.long_gaps.get(venue, 0)}"
        )
    rss = report.rss_mib
    if rss:
        lines.append(
            f"rss: start {rss[0][1]:.1f} MiB, end {rss[-1][1]:.1f} MiB, "
            f"peak {max(m for _, m in rss):.1f} MiB over {len(rss)} samples"
        )
    lines += [f"  error: {e}" for e in report.errors[:10]]
    return lines
