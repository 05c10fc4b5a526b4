"""Which WebSocket client absorbs frames fastest: websockets vs aiohttp vs picows, on loopback.

Each transport reads a replay server's frames (:mod:`cryptows.bench.replay_server`, in its own
process) two ways:

- **bare**: the frame is received and counted, nothing else (the transport's own ceiling);
- **full**: each frame goes our production path, as :class:`~cryptows.feed.connection.
  VenueConnection` takes it: the health counters (:class:`~cryptows.feed.health.HealthTracker`),
  ``adapter.parse`` with the receipt times, and each quote to the market service
  (:meth:`~cryptows.service.LiveMarket.put`: aggregator, arbitrage, listings), through
  :class:`~cryptows.bench.pipeline.Pipeline`.

These readers are prototypes for measuring (no reconnects, no liveness, no resubscription);
the production client (aiohttp's since issue 19: :mod:`cryptows.feed.connection`) is measured
end to end by :mod:`cryptows.bench.e2e`. picows is optional (``pip install picows``): without
it, its rows are skipped.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from websockets.asyncio.client import connect

from cryptows.bench.pipeline import Pipeline, make_pipeline
from cryptows.clock import wall_ms
from cryptows.feed.health import HealthTracker

TRANSPORTS = ("websockets", "aiohttp", "picows")

Handle = Callable[[bytes | str], None]
"""What a reader does with each frame it receives."""


@dataclass(slots=True)
class Tally:
    """Frames a reader took, and when it took the first and the last (monotonic ns)."""

    total: int
    frames: int = 0
    first_ns: int = 0
    last_ns: int = 0

    @property
    def frames_per_s(self) -> float:
        """Frames absorbed per second, first frame to last."""
        return (self.frames - 1) * 1e9 / max(1, self.last_ns - self.first_ns)


def bare() -> Handle:
    """Receive and drop (the reader counts)."""

    def handle(frame: bytes | str) -> None:
        pass

    return handle


def full(venue: str, symbols: Sequence[str]) -> tuple[Handle, Pipeline, HealthTracker]:
    """The production path per frame: health counters, parse, quotes to the market."""
    pipeline = make_pipeline(symbols, (venue,))
    health = HealthTracker(venue)
    process = pipeline.process_at
    on_frame = health.on_frame
    monotonic, monotonic_ns = time.monotonic, time.monotonic_ns

    def handle(frame: bytes | str) -> None:
        on_frame(monotonic())
        process(venue, frame, wall_ms(), monotonic_ns())

    return handle, pipeline, health


async def read(
    transport: str,
    url: str,
    subscribe: Sequence[str],
    total: int,
    handle: Handle,
    *,
    compression: bool = False,
) -> Tally:
    """Connect with ``transport``, send ``subscribe``, hand ``total`` frames to ``handle``."""
    reader = {"websockets": _websockets, "aiohttp": _aiohttp, "picows": _picows}[transport]
    tally = Tally(total)
    await reader(url, subscribe, tally, handle, compression)
    return tally


async def _websockets(
    url: str, subscribe: Sequence[str], tally: Tally, handle: Handle, compression: bool
) -> None:
    async with connect(
        url, ping_interval=None, compression="deflate" if compression else None, max_size=2**20
    ) as ws:
        for frame in subscribe:
            await ws.send(frame)
        recv = ws.recv
        clock = time.monotonic_ns
        first = await recv()
        tally.first_ns = clock()
        handle(first)
        n = 1
        total = tally.total
        while n < total:
            handle(await recv())
            n += 1
        tally.last_ns = clock()
        tally.frames = n


async def _aiohttp(
    url: str, subscribe: Sequence[str], tally: Tally, handle: Handle, compression: bool
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            url, compress=15 if compression else 0, autoping=False, max_msg_size=2**20
        ) as ws,
    ):
        for frame in subscribe:
            await ws.send_str(frame)
        receive = ws.receive
        clock = time.monotonic_ns
        msg = await receive()
        tally.first_ns = clock()
        handle(msg.data)
        n = 1
        total = tally.total
        while n < total:
            handle((await receive()).data)
            n += 1
        tally.last_ns = clock()
        tally.frames = n


async def _picows(
    url: str, subscribe: Sequence[str], tally: Tally, handle: Handle, compression: bool
) -> None:
    import picows  # optional: pip install picows

    done = asyncio.get_running_loop().create_future()
    clock = time.monotonic_ns
    total = tally.total
    text = picows.WSMsgType.TEXT

    class Listener(picows.WSListener):
        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type is not text:
                return
            n = tally.frames + 1
            if n == 1:
                tally.first_ns = clock()
            handle(frame.get_payload_as_bytes())
            tally.frames = n
            if n == total:
                tally.last_ns = clock()
                if not done.done():
                    done.set_result(None)

        def on_ws_disconnected(self, transport: Any) -> None:
            if not done.done():
                done.set_exception(ConnectionError("closed before every frame arrived"))

    transport, _ = await picows.ws_connect(Listener, url)
    try:
        for frame in subscribe:
            transport.send(text, frame.encode())
        await done
    finally:
        transport.send_close(picows.WSCloseCode.OK)
        transport.disconnect()
        await transport.wait_disconnected()


def available(transport: str) -> bool:
    """Whether ``transport`` can be imported here."""
    if transport != "picows":
        return True
    try:
        import picows  # noqa: F401
    except ImportError:
        return False
    return True


def measure(
    frames: int = 200_000,
    repeat: int = 3,
    *,
    deflate: bool = False,
    venue: str = "binance",
    unit: int = 20_000,
) -> list[dict[str, Any]]:
    """Per transport and mode (bare, full): the median frames/s of ``repeat`` runs (in turn)."""
    from cryptows.bench.e2e import workload
    from cryptows.bench.replay_server import Plan, ReplayServer

    work = workload(unit, venue)
    subscribe = work.subscribe()
    rows = [
        (transport, mode)
        for transport in TRANSPORTS
        if available(transport) and not (deflate and transport == "picows")
        for mode in ("bare", "full")
    ]
    runs: dict[tuple[str, str], list[Tally]] = {row: [] for row in rows}

    async def measure_all(server: ReplayServer) -> None:
        for _ in range(max(1, repeat)):
            for transport, mode in rows:
                handle = bare() if mode == "bare" else full(venue, work.symbols)[0]
                server.plan(Plan(frames, deflate=deflate))
                tally = await read(
                    transport, server.ws_url, subscribe, frames, handle, compression=deflate
                )
                server.sent()
                runs[transport, mode].append(tally)

    with ReplayServer(work.frames) as server:
        asyncio.run(measure_all(server))
    return [
        {
            "transport": transport,
            "mode": mode,
            "deflate": deflate,
            "frames": frames,
            "frames_per_s": round(statistics.median(t.frames_per_s for t in tallies)),
            "runs": [round(t.frames_per_s) for t in tallies],
            "received": [t.frames for t in tallies],
        }
        for (transport, mode), tallies in runs.items()
    ]


def main(frames: int, repeat: int, *, deflate: bool = False) -> None:
    """``python -m cryptows.bench transport``: the table."""
    load = os.getloadavg()[0]
    print(f"{frames} binance frames per run, median of {repeat}, load {load:.2f}"
          f"{', permessage-deflate' if deflate else ''}")  # fmt: skip
    for row in measure(frames, repeat, deflate=deflate):
        runs = ", ".join(f"{x:,}" for x in row["runs"])
        print(f"{row['transport']:<11}{row['mode']:<5}{row['frames_per_s']:>12,} frames/s ({runs})")
