"""``cryptows record``: the live (or demo) market, every raw frame written to a recording."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cryptows import __version__
from cryptows.commands.common import (
    DEMO_BANNER,
    RunSpec,
    bugs_reported,
    eprint,
    live_spec,
    stop_on_signals,
)
from cryptows.errors import RuntimeFailure
from cryptows.recording.format import FORMAT_VERSION, Header, public_endpoint
from cryptows.recording.writer import RecordingWriter
from cryptows.service import LiveMarket

FLUSH_EVERY_S = 0.5
"""How often the file is sync-flushed (a killed recorder loses at most about this much)."""


def header_for(spec: RunSpec) -> Header:
    """The recording's first line for ``spec``: no secret (endpoints lose any credentials)."""
    return Header(
        format=FORMAT_VERSION,
        cryptows=__version__,
        venues=spec.venues,
        symbols=tuple(s.canonical for s in spec.symbols),
        endpoints={v: public_endpoint(spec.settings.venues[v].ws_url) for v in spec.venues},
        start_ms=time.time_ns() // 1_000_000,
        start_mono_ns=time.monotonic_ns(),
        demo=spec.demo,
        ticks=True,  # LiveMarket records each tick of its age check
    )


def progress_text(writer: RecordingWriter) -> str:
    """``recording: 1234 frames, 56.7 KiB, 12.3 s -> FILE``."""
    elapsed = time.monotonic() - writer.started
    return (
        f"recording: {writer.frames} frames, {writer.bytes_written / 1024:.1f} KiB, "
        f"{elapsed:.1f} s -> {writer.path}"
    )


async def record_market(
    spec: RunSpec, path: Path, stop: asyncio.Event, duration: float | None, *, show: bool
) -> RecordingWriter:
    """Stream ``spec``'s market into a new recording at ``path`` until ``stop`` or ``duration``.

    The file is closed (flushed and ended) however this ends. Raises the market's failure.
    """
    writer = RecordingWriter(path, header_for(spec))
    try:
        market = LiveMarket(spec.settings, spec.symbols, spec.venues, demo=spec.demo,
                            recorder=writer)  # fmt: skip
        async with market:
            deadline = None if duration is None else time.monotonic() + duration
            while not stop.is_set() and market.failure is None:
                left = FLUSH_EVERY_S if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    async with asyncio.timeout(min(FLUSH_EVERY_S, left)):
                        await stop.wait()
                except TimeoutError:
                    pass
                writer.flush()
                if show:
                    print(f"\r\x1b[2Kcryptows: {progress_text(writer)}", end="", file=sys.stderr,
                          flush=True)  # fmt: skip
            writer.accepting = False  # the venues' `stopped` on our way out is not the market's
        if market.failure is not None:
            raise market.failure
    finally:
        writer.close()
        if show:
            print("\r\x1b[2K", end="", file=sys.stderr, flush=True)
    return writer


async def run_record(
    path: Path,
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    demo: bool,
    duration: float | None,
) -> None:
    """Record until Ctrl-C or ``duration``; a one-line summary on stderr."""
    async with live_spec(symbols, venues, config, demo=demo) as spec:
        if spec.demo:
            eprint(f"cryptows: {DEMO_BANNER}")
        async with stop_on_signals() as stop:
            with bugs_reported("the recorder"):
                writer = await record_market(spec, path, stop, duration,
                                             show=sys.stderr.isatty())  # fmt: skip
    eprint(f"cryptows: recorded {progress_text(writer).removeprefix('recording: ')}")
    if writer.frames == 0:
        raise RuntimeFailure(f"no venue delivered any data; {path} holds no frames")
