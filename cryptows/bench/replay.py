"""Replay throughput: a recording of the benchmark stream played at ``--speed 0``.

The stream (:mod:`cryptows.bench.stream`) is written to a recording as the recorder writes live
frames (text frames, each venue live first), then replayed by
:class:`~cryptows.recording.replay.ReplayMarket` as ``arb --replay FILE --speed 0`` does: read,
inflate, decode each record, the venue adapter's ``parse``, the market service and arbitrage.
Reported in frames per second of wall time (median of ``repeat`` runs).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptows import __version__
from cryptows.bench.pipeline import default_settings
from cryptows.bench.stream import Stream
from cryptows.models import VenueState, VenueStatus
from cryptows.recording.format import FORMAT_VERSION, Header
from cryptows.recording.reader import RecordingReader
from cryptows.recording.replay import ReplayMarket
from cryptows.recording.writer import RecordingWriter
from cryptows.symbols import parse_symbols


def write_stream(stream: Stream, path: Path) -> None:
    """``stream`` as a recording at ``path``."""
    start = stream.frames[0].recv_ms if stream.frames else 0
    header = Header(format=FORMAT_VERSION, cryptows=__version__, venues=tuple(stream.venues),
                    symbols=tuple(stream.symbols), endpoints={}, start_ms=start,
                    start_mono_ns=0, demo=True)  # fmt: skip
    writer = RecordingWriter(path, header)
    for venue in stream.venues:
        writer.event(VenueStatus(venue=venue, state=VenueState.LIVE, ts_ms=start))
    for i, item in enumerate(stream.frames):
        mono_ns = (item.recv_ms - start) * 1_000_000
        writer.frame(item.venue, item.venue, item.frame.decode(), mono_ns + i, item.recv_ms)
    writer.close()


async def _play(path: Path, stream: Stream) -> tuple[float, int, int]:
    reader = RecordingReader(path)
    market = ReplayMarket(default_settings(), parse_symbols(stream.symbols), stream.venues,
                          reader=reader, speed=0, demo=True)  # fmt: skip
    events = market.subscribe()
    started = time.perf_counter()
    async with market:
        await market.ended.wait()
        elapsed = time.perf_counter() - started
    return elapsed, market.frames, len(events.drain())


def run_replay(stream: Stream, repeat: int) -> dict[str, Any]:
    """Replay ``stream`` ``repeat`` times; frames/s is the median run's."""
    with tempfile.TemporaryDirectory(prefix="cryptows-bench-") as folder:
        path = Path(folder) / "stream.ndjson.gz"
        write_stream(stream, path)
        size = path.stat().st_size
        runs = [asyncio.run(_play(path, stream)) for _ in range(max(1, repeat))]
    seconds = statistics.median(r[0] for r in runs)
    frames = runs[0][1]
    return {
        "frames": frames,
        "file_bytes": size,
        "seconds": round(seconds, 4),
        "frames_per_s": round(frames / seconds) if seconds > 0 else None,
        "arb_events": runs[0][2],
    }


def render_replay(report: dict[str, Any]) -> list[str]:
    """The section's lines for a terminal."""
    rate = report["frames_per_s"]
    return [
        f"replay (--speed 0: read, inflate, decode, parse, market, arbitrage): {report['frames']} "
        f"frames in {report['seconds']:.3f} s = {rate:,} frames/s (wall, median); recording "
        f"{report['file_bytes'] / 1024:.0f} KiB, {report['arb_events']} arbitrage events"
    ]
