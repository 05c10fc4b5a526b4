"""The standard suite of ``python -m cryptows.bench``: what it measures and how it reports it.

Every figure is a median over ``repeat`` runs, the loops of one table row run in turn (the
stream is generated beforehand, so nothing is cold but the caches). Times are microseconds per
frame or per update: floor, parse and mixed ingest in this process' CPU time by default
(``clock``), ingest per kind (timed frame by frame) and the aggregator in wall time. Run on an
idle machine and compare medians, not single runs. (Slightly over 400 lines: the measurements
and their table/JSON report are one unit.)
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from cryptows import __version__
from cryptows.bench.e2e import TINY_E2E, E2EOptions, render_e2e, run_e2e
from cryptows.bench.floor import floor_decoders
from cryptows.bench.legacy import bench_aggregate
from cryptows.bench.pipeline import Pipeline, make_pipeline, subscribed_adapters
from cryptows.bench.replay import render_replay, run_replay
from cryptows.bench.scale import ScaleOptions, render_scale, run_scale
from cryptows.bench.stream import FRAMES_PER_S, KINDS, Stream, StreamFrame, generate
from cryptows.market.types import ArbEventType
from cryptows.symbols import parse_symbols


@dataclass(frozen=True, slots=True)
class Options:
    """How much the suite measures."""

    frames: int = 50_000
    """Frames in the mixed stream."""
    repeat: int = 5
    """Runs of each measurement (the median is reported)."""
    kind_frames: int = 1_000
    """Least frames per run of a per-kind measurement (a rare kind's frames are cycled)."""
    agg_updates: int = 10_000
    """Quotes per run of the aggregator measurement."""
    agg_repeat: int = 3
    help_runs: int = 7
    """Runs of ``cryptows --help`` (after one untimed run)."""
    seed: int = 7
    clock: str = "cpu"
    """``cpu`` (this process' CPU time) or ``wall``: see :data:`CLOCKS`."""
    e2e: E2EOptions | None = E2EOptions()
    """The end-to-end section (:mod:`cryptows.bench.e2e`; ``None``: skipped)."""
    scale: ScaleOptions | None = ScaleOptions()
    """``arb --all`` over the simulator (:mod:`cryptows.bench.scale`; ``None``: skipped)."""


TINY = Options(
    frames=1_200,
    repeat=1,
    kind_frames=10,
    agg_updates=400,
    agg_repeat=1,
    help_runs=1,
    e2e=TINY_E2E,
    scale=None,  # two real commands for seconds: tested on their own (test_bench_scale)
)
"""What ``--tiny`` measures: a few seconds, for the CI test that checks what is measured."""


def run_suite(
    options: Options = Options(), *, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run every measurement; returns the report (what ``--json`` prints)."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    load_before = _load()
    say(f"generating {options.frames} frames")
    stream = generate(options.frames, seed=options.seed)
    say("parse and ingest: mixed stream")
    mixed = _mixed(stream, options)
    say("parse and ingest: per kind")
    kinds = _per_kind(stream, options)
    say("aggregator: 2, 4, 8, 16 venues")
    aggregate = [
        {
            "venues": venues,
            "us_per_update": us,
            "opened": opened,
            "arb_events_per_update": per_update,
        }
        for venues, us, opened, per_update in bench_aggregate(
            options.agg_updates, options.agg_repeat
        )
    ]
    say("replay at --speed 0")
    replay = run_replay(stream, options.repeat)
    say("cryptows --help")
    help_time = measure_help(options.help_runs)
    e2e = run_e2e(options.e2e, progress=say) if options.e2e is not None else None
    if options.scale is not None:
        say(f"arb --all over the simulator, {options.scale.seconds:g} s")
    scale = run_scale(options.scale) if options.scale is not None else None
    return {
        "cryptows": __version__,
        "python": platform.python_version(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_1m": [load_before, _load()],
        },
        "options": asdict(options),
        "stream": {
            "frames": len(stream.frames),
            "symbols": list(stream.symbols),
            "venues": list(stream.venues),
            "seed": stream.seed,
            "span_s": stream.span_ms / 1000,
            "frames_per_s": FRAMES_PER_S,
        },
        "mixed": mixed,
        "kinds": kinds,
        "aggregate": aggregate,
        "replay": replay,
        "help": help_time,
        "e2e": e2e,
        "scale": scale,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


# -- timing ---------------------------------------------------------------------------------------

CLOCKS: dict[str, Callable[[], int]] = {"cpu": time.process_time_ns, "wall": time.perf_counter_ns}
"""What the loops are timed with: this process' CPU time (the default: a busy shared machine
takes the CPU away now and then, which wall time would count) or wall time."""

_Loop = Callable[[Callable[[], int]], int]
"""A timed loop: given the clock, runs its items once and returns the nanoseconds taken."""


def _median_us(loops: dict[str, tuple[_Loop, int]], clock: str, repeat: int) -> dict[str, float]:
    """Name -> median µs per item of each loop (each does the int's count of items), the loops
    run in turn ``repeat`` times, so that a slower spell of the machine hits them all."""
    now = CLOCKS[clock]
    runs: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(max(1, repeat)):
        for name, (loop, count) in loops.items():
            gc.collect()
            runs[name].append(loop(now) / count / 1000)
    return {name: statistics.median(times) for name, times in runs.items()}


def _ratio(us: float, floor: float) -> float | None:
    return round(us / floor, 2) if floor > 0 else None


def _floor_loop(items: Sequence[tuple[Callable[[bytes], object], bytes]]) -> _Loop:
    def run(now: Callable[[], int]) -> int:
        start = now()
        for decode, frame in items:
            decode(frame)
        return now() - start

    return run


_Parse = Callable[..., object]


def _parse_loop(items: Sequence[tuple[_Parse, bytes | str, int]]) -> _Loop:
    def run(now: Callable[[], int]) -> int:
        start = now()
        for parse, frame, recv_ms in items:
            parse(frame, recv_mono_ns=0, recv_wall_ms=recv_ms)
        return now() - start

    return run


def _ingest_loop(
    pipeline: Callable[[], Pipeline], items: Callable[[], Sequence[tuple[str, bytes, int]]]
) -> _Loop:
    """Each run feeds ``items()`` (made before the clock starts) to ``pipeline()``."""

    def run(now: Callable[[], int]) -> int:
        process = pipeline().process_at
        todo = items()
        start = now()
        for venue, frame, recv_ms in todo:
            process(venue, frame, recv_ms)
        return now() - start

    return run


# -- the mixed stream and each kind --------------------------------------------------------------


def _mixed(stream: Stream, options: Options) -> dict[str, Any]:
    """Floor, parse (bytes and str) and ingest of the whole stream, one loop each."""
    frames = stream.frames
    n = len(frames)
    decoders = floor_decoders()
    adapters = subscribed_adapters(parse_symbols(stream.symbols), stream.venues)
    items = [(f.venue, f.frame, f.recv_ms) for f in frames]
    pipelines: list[Pipeline] = []

    def fresh() -> Pipeline:  # each run from an empty market
        pipelines.append(make_pipeline(stream.symbols, stream.venues))
        return pipelines[-1]

    us = _median_us(
        {
            "floor": (_floor_loop([(decoders[f.label], f.frame) for f in frames]), n),
            "parse": (
                _parse_loop([(adapters[f.venue].parse, f.frame, f.recv_ms) for f in frames]),
                n,
            ),
            "parse_str": (
                _parse_loop(
                    [(adapters[f.venue].parse, f.frame.decode(), f.recv_ms) for f in frames]
                ),
                n,
            ),
            "ingest": (_ingest_loop(fresh, lambda: items), n),
        },
        options.clock,
        options.repeat,
    )
    pipeline = pipelines[-1]
    arb = Counter(e.type for e in pipeline.drain_arb_events())
    report = {
        "frames": n,
        "floor_us": round(us["floor"], 3),
        "parse_us": round(us["parse"], 3),
        "parse_ratio": _ratio(us["parse"], us["floor"]),
        "parse_str_us": round(us["parse_str"], 3),
        "ingest_us": round(us["ingest"], 3),
        "ingest_ratio": _ratio(us["ingest"], us["floor"]),
        "quotes_to_aggregator": pipeline.quotes,
        "bad_frames": pipeline.bad_frames,
        "arb_opened": arb[ArbEventType.OPEN],
        "arb_updates": arb[ArbEventType.UPDATE],
        "arb_closed": arb[ArbEventType.CLOSE],
    }
    return report


def _ingest_per_frame(stream: Stream, options: Options) -> dict[str, float]:
    """Kind label -> mean µs of ingesting one of its frames *within the mixed stream*: each
    frame timed on its own (wall clock: a CPU clock costs microseconds to read), as fresh
    pipelines take the whole stream ``repeat`` times; per frame the median of its runs (so a
    preemption does not count), less what reading the clock costs."""
    frames = stream.frames
    items = [(f.venue, f.frame, f.recv_ms) for f in frames]
    clock = time.perf_counter_ns
    runs: list[list[int]] = []
    for _ in range(max(1, options.repeat)):
        process = make_pipeline(stream.symbols, stream.venues).process_at
        times = [0] * len(items)
        gc.collect()
        for i, (venue, frame, recv_ms) in enumerate(items):
            start = clock()
            process(venue, frame, recv_ms)
            times[i] = clock() - start
        runs.append(times)
    reads = []
    for _ in range(10_001):  # what the two clock reads around a frame cost by themselves
        start = clock()
        reads.append(clock() - start)
    overhead = statistics.median(reads)
    totals: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for f, samples in zip(frames, zip(*runs, strict=True), strict=True):
        totals[f.label] += statistics.median(samples) - overhead
        counts[f.label] += 1
    return {label: max(0.0, totals[label] / counts[label] / 1000) for label in counts}


def _per_kind(stream: Stream, options: Options) -> dict[str, dict[str, Any]]:
    """Floor and parse per kind, each timed over the kind's frames alone (a rare kind's frames
    cycled up to ``kind_frames``); ingest per kind within the mixed stream
    (:func:`_ingest_per_frame`)."""
    decoders = floor_decoders()
    adapters = subscribed_adapters(parse_symbols(stream.symbols), stream.venues)
    by_kind: dict[str, list[StreamFrame]] = {
        kind.label: [] for venue in stream.venues for kind in KINDS[venue]
    }
    for f in stream.frames:
        by_kind[f.label].append(f)
    ingest = _ingest_per_frame(stream, options)
    report: dict[str, dict[str, Any]] = {}
    for venue in stream.venues:
        for kind in KINDS[venue]:
            own = by_kind[kind.label]
            if not own:
                continue
            frames = own * -(-options.kind_frames // len(own))
            n = len(frames)
            decode = decoders[kind.label]
            parse = adapters[venue].parse
            us = _median_us(
                {
                    "floor": (_floor_loop([(decode, f.frame) for f in frames]), n),
                    "parse": (_parse_loop([(parse, f.frame, f.recv_ms) for f in frames]), n),
                },
                options.clock,
                options.repeat,
            )
            report[kind.label] = {
                "venue": venue,
                "kind": kind.name,
                "share_pct": kind.share,
                "outcome": kind.outcome,
                "frames": len(own),
                "timed_frames": n,
                "events": _events(parse, own),
                "floor_us": round(us["floor"], 3),
                "parse_us": round(us["parse"], 3),
                "parse_ratio": _ratio(us["parse"], us["floor"]),
                "ingest_us": round(ingest[kind.label], 3),
                "ingest_ratio": _ratio(ingest[kind.label], us["floor"]),
            }
    return report


def _events(parse: _Parse, frames: Sequence[StreamFrame]) -> dict[str, int]:
    """What parsing ``frames`` gives: event type -> count (``nothing``: frames ignored)."""
    counts: Counter[str] = Counter()
    for f in frames:
        events = parse(f.frame, recv_mono_ns=0, recv_wall_ms=f.recv_ms)
        assert isinstance(events, list)
        if not events:
            counts["nothing"] += 1
        counts.update(type(e).__name__ for e in events)
    return dict(sorted(counts.items()))


# -- cryptows --help ------------------------------------------------------------------------------


def measure_help(runs: int) -> dict[str, Any]:
    """Wall and CPU time of ``python -m cryptows --help`` in a fresh interpreter: medians of
    ``runs`` runs, after one untimed run (which may write bytecode caches)."""
    command = [sys.executable, "-m", "cryptows", "--help"]
    walls: list[float] = []
    cpus: list[float] = []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if not walls:
        return {"runs": 0}
    return {
        "command": "python -m cryptows --help",
        "runs": runs,
        "wall_median_s": round(statistics.median(walls), 4),
        "wall_min_s": round(min(walls), 4),
        "cpu_median_s": round(statistics.median(cpus), 4),
    }


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


# -- the text report ------------------------------------------------------------------------------


def render_text(report: dict[str, Any]) -> str:
    """The report for a terminal."""
    options = report["options"]
    stream = report["stream"]
    lines = [
        f"cryptows {report['cryptows']} benchmark, Python {report['python']}, "
        f"{report['machine']['cpus']} CPUs, load {report['machine']['load_avg_1m'][0]}",
        f"stream: {stream['frames']} frames, {len(stream['symbols'])} symbols x "
        f"{len(stream['venues'])} venues, seed {stream['seed']}, {stream['span_s']:.0f} s of "
        f"traffic; medians of {options['repeat']} runs, µs per frame ({options['clock']} time)",
        "floor: typed msgspec decode, kind known; parse: adapter.parse (decode, checks, events); "
        "ingest: parse + the market service (aggregator, arbitrage)",
        "per kind: floor and parse over the kind's frames alone; ingest per frame within the "
        "mixed stream (wall clock)",
        "",
        f"{'':26}{'frames':>7}{'floor':>8}{'parse':>8}{'x':>6}{'ingest':>8}{'x':>6}  outcome",
    ]
    mixed = report["mixed"]
    lines.append(_row("mixed", mixed["frames"], mixed, f"{mixed['quotes_to_aggregator']} quotes"))
    for label, row in report["kinds"].items():
        events = ", ".join(f"{name} {count}" for name, count in row["events"].items())
        lines.append(_row(label, row["frames"], row, events))
    lines.append(
        f"mixed, frames as str (what websockets hands over): parse {mixed['parse_str_us']:.2f} µs; "
        f"arbitrage: {mixed['arb_opened']} opened, {mixed['arb_updates']} updates, "
        f"{mixed['arb_closed']} closed; {mixed['bad_frames']} bad frames"
    )
    lines.append("")
    lines.append(
        f"aggregator: Aggregator.on_quote, one symbol, median of {options['agg_repeat']} runs "
        f"of {options['agg_updates']} updates (wall time)"
    )
    base = report["aggregate"][0]["us_per_update"] if report["aggregate"] else 0.0
    for row in report["aggregate"]:
        us = row["us_per_update"]
        lines.append(
            f"{row['venues']:>4} venues: {us:7.3f} µs/update, x{us / base:5.2f} vs 2 venues, "
            f"{us / (row['venues'] - 1):5.2f} µs per other venue; {row['opened']} opened, "
            f"{row['arb_events_per_update']:.2f} arb events/update"
        )
    lines.append("")
    lines.extend(render_replay(report["replay"]))
    help_time = report["help"]
    if help_time.get("runs"):
        lines.append(
            f"cryptows --help: {help_time['wall_median_s']:.3f} s wall (median of "
            f"{help_time['runs']}, min {help_time['wall_min_s']:.3f} s), "
            f"{help_time['cpu_median_s']:.3f} s CPU"
        )
    if report.get("e2e"):
        lines.append("")
        lines.extend(render_e2e(report["e2e"]))
    if report.get("scale"):
        lines.append("")
        lines.extend(render_scale(report["scale"]))
    lines.append(f"({report['elapsed_s']} s in all)")
    return "\n".join(lines)


def _row(label: str, frames: int, row: dict[str, Any], outcome: str) -> str:
    def ratio(value: float | None) -> str:
        return f"{value:6.1f}" if value is not None else f"{'-':>6}"

    return (
        f"{label:<26}{frames:>7}{row['floor_us']:>8.2f}{row['parse_us']:>8.2f}"
        f"{ratio(row['parse_ratio'])}{row['ingest_us']:>8.2f}{ratio(row['ingest_ratio'])}"
        f"  {outcome}"
    )
