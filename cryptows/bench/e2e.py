"""End to end: what the real client absorbs from a loopback venue, and how fast it aggregates.

A :class:`~cryptows.bench.replay_server.ReplayServer` (its own process) plays one venue's
generated frames (:func:`~cryptows.bench.stream.generate`, cycled) to the real client: a
:class:`~cryptows.service.LiveMarket` whose settings point that venue at the server (REST
included: the server answers 404, so the symbols are subscribed unvalidated), everything else
as shipped (connection, adapter, market service, aggregator, arbitrage). Measured:

- **saturation**: the server sends flat out; frames absorbed per second, first quote received
  to last quote aggregated, and the client's CPU share meanwhile (near 100 %: one core);
- **paced** (5,000 and 20,000 frames/s offered): per quote, p50/p99 of *receipt ->
  aggregated* (the connection's receipt stamp ``recv_mono_ns`` to the aggregator returning) and
  of *sent -> aggregated* (the server's write to the aggregator returning, the same monotonic
  clock: this one includes the kernel and aiohttp's buffers);
- **counts**: frames sent (server) vs received (the venue's health), quotes in the stream vs
  quotes the connection handed to the market vs quotes the aggregator took: ``lost`` is the
  difference, and must be 0.

Only what the counts say is checked by tests, never the timings.
"""

from __future__ import annotations

import asyncio
import bisect
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptows.bench.replay_server import Plan, ReplayServer, Sent
from cryptows.bench.stream import generate
from cryptows.config import DEFAULT_SOURCE, Settings
from cryptows.config.keys import declared_keys
from cryptows.config.settings import build_settings
from cryptows.models import FeedEvent, Quote
from cryptows.service import LiveMarket
from cryptows.symbols import parse_symbols
from cryptows.venues import ADAPTERS, VENUE_NAMES

RATES = (5_000, 20_000)
"""Frames per second offered in the paced runs."""


@dataclass(frozen=True, slots=True)
class Workload:
    """One venue's frames, and how many quotes each gives (parsed once, by a fresh adapter)."""

    venue: str
    symbols: tuple[str, ...]
    frames: tuple[bytes, ...]
    quotes: tuple[int, ...]
    """Quotes each frame gives."""

    def subscribe(self) -> list[str]:
        """The subscribe frames a fresh adapter sends."""
        return ADAPTERS[self.venue]().subscribe(parse_symbols(self.symbols))

    def total(self, wanted: int) -> int:
        """At most ``wanted`` frames (the frames cycled), ending with a quote."""
        n = max(wanted, 2)
        while not self.quotes[(n - 1) % len(self.frames)]:
            n -= 1
        return n

    def quote_frames(self, total: int) -> list[int]:
        """Index of the frame each quote of the first ``total`` frames comes from, in order."""
        size = len(self.frames)
        return [i for i in range(total) for _ in range(self.quotes[i % size])]


def workload(frames: int = 20_000, venue: str = "binance", seed: int = 7) -> Workload:
    """``frames`` generated frames of ``venue`` (its ack first), with their quote counts."""
    stream = generate(frames, seed=seed, venues=(venue,))
    adapter = ADAPTERS[venue]()
    adapter.subscribe(parse_symbols(stream.symbols))
    quotes = tuple(
        sum(
            isinstance(e, Quote)
            for e in adapter.parse(f.frame, recv_mono_ns=0, recv_wall_ms=f.recv_ms)
        )
        for f in stream.frames
    )
    return Workload(venue, stream.symbols, tuple(f.frame for f in stream.frames), quotes)


def loopback_settings(venue: str, ws_url: str, rest_url: str) -> Settings:
    """The built-in defaults with ``venue`` pointed at the replay server, the others off."""
    keys = declared_keys()
    values = {name: key.check(name, key.default) for name, key in keys.items()}
    overrides: dict[str, object] = {f"venues.{name}.enabled": False for name in VENUE_NAMES}
    overrides |= {
        f"venues.{venue}.enabled": True,
        f"venues.{venue}.ws_url": ws_url,
        f"venues.{venue}.ws_urls": [ws_url],  # load_settings would derive it; here it is direct
        f"venues.{venue}.rest_url": rest_url,
    }
    for name, value in overrides.items():
        values[name] = keys[name].check(name, value)
    return build_settings(values, sources=dict.fromkeys(values, DEFAULT_SOURCE), config_file=None)


class Probe:
    """Counts and times quotes on their way into ``market``: what the connection hands the
    market (:meth:`LiveMarket.put`) and what its aggregator took, with when it finished."""

    def __init__(self, market: LiveMarket, expected: int) -> None:
        self.expected = expected
        self.handed = 0
        """Quotes the connection handed to the market (every quote it parsed)."""
        self.aggregated = 0
        self.recv_ns: list[int] = []
        """Per aggregated quote: its receipt stamp (``recv_mono_ns``)."""
        self.done_ns: list[int] = []
        """Per aggregated quote: monotonic ns when the aggregator returned."""
        self.done = asyncio.Event()
        put, on_event = market.put, market.aggregator.on_event
        clock = time.monotonic_ns
        recv_ns, done_ns = self.recv_ns, self.done_ns

        def counted_put(event: FeedEvent) -> None:
            if type(event) is Quote:
                self.handed += 1
            put(event)

        def timed_on_event(event: FeedEvent) -> Any:
            result = on_event(event)
            if type(event) is Quote:
                done_ns.append(clock())
                recv_ns.append(event.recv_mono_ns)
                self.aggregated += 1
                if self.aggregated >= expected:
                    self.done.set()
            return result

        # Instance attributes: the connection calls ``sink.put``, the market its aggregator's.
        market.put = counted_put  # type: ignore[method-assign]
        market.aggregator.on_event = timed_on_event  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class Run:
    """One run of the real client against the replay server."""

    rate: float | None
    """Frames/s offered (``None``: flat out)."""
    sent: Sent
    frames_received: int
    quotes_expected: int
    quotes_handed: int
    quotes_aggregated: int
    frames_per_s: float
    """Frames absorbed per second, first quote received to last aggregated."""
    cpu_share: float
    """The client process' CPU time over the run's wall time."""
    frames_per_cpu_s: float
    """Frames per second of the client's CPU time over the whole run (what a busy machine's
    other work does not lower as much as it lowers ``frames_per_s``)."""
    receipt_us: tuple[float, float]
    """p50, p99 of receipt -> aggregated (µs)."""
    sent_us: tuple[float, float] | None
    """p50, p99 of sent -> aggregated (µs); paced runs only."""

    @property
    def quotes_lost(self) -> int:
        return self.quotes_expected - self.quotes_aggregated

    def report(self) -> dict[str, Any]:
        """What the suite's JSON holds for this run."""
        return {
            "rate_offered": self.rate,
            "deflate": self.sent.deflate,
            "frames_sent": self.sent.frames,
            "frames_received": self.frames_received,
            "quotes_expected": self.quotes_expected,
            "quotes_handed": self.quotes_handed,
            "quotes_aggregated": self.quotes_aggregated,
            "quotes_lost": self.quotes_lost,
            "frames_per_s": round(self.frames_per_s),
            "cpu_share": round(self.cpu_share, 2),
            "frames_per_cpu_s": round(self.frames_per_cpu_s),
            "receipt_to_aggregated_us": {
                "p50": round(self.receipt_us[0], 1),
                "p99": round(self.receipt_us[1], 1),
            },
            "sent_to_aggregated_us": None
            if self.sent_us is None
            else {"p50": round(self.sent_us[0], 1), "p99": round(self.sent_us[1], 1)},
        }


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    if len(samples) < 2:
        value = samples[0] if samples else 0.0
        return value, value
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[98]


async def run_client(
    server: ReplayServer,
    work: Workload,
    frames: int,
    *,
    rate: float | None = None,
    deflate: bool = False,
    timeout_s: float | None = None,
) -> Run:
    """One run: the server plays ``frames`` frames (flat out, or ``rate`` a second) to a fresh
    :class:`LiveMarket`; returns once the last quote was aggregated (raises ``TimeoutError``
    if that takes over ``timeout_s``: by default 5 s plus a second per 5,000 frames)."""
    total = work.total(frames)
    quote_frames = work.quote_frames(total)
    settings = loopback_settings(work.venue, server.ws_url, server.rest_url)
    market = LiveMarket(settings, parse_symbols(work.symbols), (work.venue,))
    probe = Probe(market, len(quote_frames))
    server.plan(Plan(total, rate, deflate))
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    async with market:
        async with asyncio.timeout(timeout_s or 5 + total / 5_000):
            await probe.done.wait()
        received = market.health()[work.venue].messages
        failure = market.failure
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    if failure is not None:
        raise failure
    sent = await asyncio.to_thread(server.sent)
    recv, done = probe.recv_ns, probe.done_ns
    span = max(1, done[-1] - recv[0])
    absorbed = (quote_frames[-1] - quote_frames[0]) * 1e9 / span
    receipt = _percentiles([(d - r) / 1000 for r, d in zip(recv, done, strict=True)])
    sent_us = None
    if sent.batches:
        starts = [first for first, _ in sent.batches]
        at = [ns for _, ns in sent.batches]
        sent_us = _percentiles(
            [
                (d - at[bisect.bisect_right(starts, f) - 1]) / 1000
                for f, d in zip(quote_frames, done, strict=True)
            ]
        )
    return Run(
        rate=rate,
        sent=sent,
        frames_received=received,
        quotes_expected=len(quote_frames),
        quotes_handed=probe.handed,
        quotes_aggregated=probe.aggregated,
        frames_per_s=absorbed,
        cpu_share=cpu / wall if wall > 0 else 0.0,
        frames_per_cpu_s=total / cpu if cpu > 0 else 0.0,
        receipt_us=receipt,
        sent_us=sent_us,
    )


@dataclass(frozen=True, slots=True)
class E2EOptions:
    """How much the end-to-end section measures."""

    venue: str = "binance"
    unit: int = 20_000
    """Distinct frames generated (cycled up to each run's count)."""
    saturate_frames: int = 200_000
    paced_s: float = 3.0
    """Seconds of each paced run."""
    repeat: int = 3
    deflate: bool = False
    """Let the server compress (as a venue accepting the client's permessage-deflate offer)."""


TINY_E2E = E2EOptions(unit=300, saturate_frames=2_000, paced_s=0.1, repeat=1)


def run_e2e(
    options: E2EOptions = E2EOptions(), *, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The end-to-end section of the suite (module docstring)."""
    say = progress or (lambda _: None)
    say(f"end to end: generating {options.unit} {options.venue} frames")
    work = workload(options.unit, options.venue)
    with ReplayServer(work.frames) as server:
        return asyncio.run(_e2e(server, work, options, say))


async def _e2e(
    server: ReplayServer, work: Workload, options: E2EOptions, say: Callable[[str], None]
) -> dict[str, Any]:
    saturated: list[Run] = []
    for i in range(max(1, options.repeat)):
        say(f"end to end: flat out, run {i + 1} of {options.repeat}")
        saturated.append(
            await run_client(server, work, options.saturate_frames, deflate=options.deflate)
        )
    paced: dict[int, Run] = {}
    for rate in RATES:
        say(f"end to end: {rate} frames/s offered for {options.paced_s:g} s")
        paced[rate] = await run_client(
            server, work, round(rate * options.paced_s), rate=rate, deflate=options.deflate
        )
    best = sorted(saturated, key=lambda r: r.frames_per_s)[len(saturated) // 2]
    return {
        "venue": work.venue,
        "options": {
            "unit": options.unit,
            "saturate_frames": options.saturate_frames,
            "paced_s": options.paced_s,
            "repeat": options.repeat,
            "deflate": options.deflate,
        },
        "frames_per_s_median": round(statistics.median(r.frames_per_s for r in saturated)),
        "frames_per_s_runs": [round(r.frames_per_s) for r in saturated],
        "frames_per_cpu_s_median": round(statistics.median(r.frames_per_cpu_s for r in saturated)),
        "saturated": best.report(),
        "paced": {str(rate): run.report() for rate, run in paced.items()},
        "quotes_lost": sum(r.quotes_lost for r in (*saturated, *paced.values())),
        "frames_missing": sum(
            r.sent.frames - r.frames_received for r in (*saturated, *paced.values())
        ),
    }


def render_e2e(report: dict[str, Any]) -> list[str]:
    """The section's lines in the text report."""
    sat = report["saturated"]
    lines = [
        f"end to end ({report['venue']} replayed on loopback, real client: connection -> "
        f"adapter -> market service -> aggregator{', deflate' if sat['deflate'] else ''})",
        f"  flat out: {report['frames_per_s_median']:,} frames/s absorbed (median of "
        f"{report['options']['repeat']}: {', '.join(f'{x:,}' for x in report['frames_per_s_runs'])}"
        f"), client CPU {sat['cpu_share']:.0%}; {report['frames_per_cpu_s_median']:,} frames "
        "per client CPU-second",
    ]
    for rate, run in report["paced"].items():
        receipt = run["receipt_to_aggregated_us"]
        sent = run["sent_to_aggregated_us"] or {"p50": float("nan"), "p99": float("nan")}
        lines.append(
            f"  {int(rate):>6,} frames/s offered: receipt->aggregated p50 {receipt['p50']:.0f} µs "
            f"p99 {receipt['p99']:.0f} µs; sent->aggregated p50 {sent['p50']:.0f} µs "
            f"p99 {sent['p99']:.0f} µs"
        )
    lines.append(
        f"  counts: {report['frames_missing']} frames missing, {report['quotes_lost']} quotes "
        "lost (quotes in the stream vs aggregated, every run)"
    )
    return lines


def profile_client(options: E2EOptions = E2EOptions(), top: int = 25) -> str:
    """cProfile of one flat-out run of the real client: the functions by own time."""
    import cProfile
    import io
    import pstats

    work = workload(options.unit, options.venue)
    profiler = cProfile.Profile()
    with ReplayServer(work.frames) as server:

        async def profiled() -> Run:
            profiler.enable()
            try:
                return await run_client(
                    server, work, options.saturate_frames, deflate=options.deflate
                )
            finally:
                profiler.disable()

        run = asyncio.run(profiled())
    out = io.StringIO()
    print(f"{run.frames_per_s:,.0f} frames/s absorbed under the profiler", file=out)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()
