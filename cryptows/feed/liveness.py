"""Telling a quiet venue from a dead one: the silence bound, probes, and the send gate.

A connection from which nothing (data, pong, heartbeat) has arrived for its bound
``dead_after_s`` (``[feed]``, 5 s by default, or the venue's own) is presumed dead:
:meth:`Liveness.silence` returns at that moment and the connection turns ``stale`` and is
replaced. A silent connection is probed the venue's own way
(:class:`~cryptows.venues.base.HeartbeatPolicy`) after :meth:`HeartbeatPolicy.probe_after
<cryptows.venues.base.HeartbeatPolicy.probe_after>` of silence (2/5 of the bound, sooner where
the venue drops silent connections earlier) and again after each such silence, plus a keepalive
ping where the venue asks for one. So a quiet market answers in time while a dead feed answers
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable

from aiohttp import ClientWebSocketResponse

from cryptows.venues.base import HeartbeatPolicy, Probe, VenueAdapter


class SendGate:
    """Spaces one connection's client messages, requests and pings alike, by the venue's
    ``min_send_interval_s``, so that probes can never push it over its message-rate limit."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._lock = asyncio.Lock()
        self._next = 0.0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold the right to send one message now."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            wait = self._next - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._next = loop.time() + self._interval_s


class Liveness:
    """One venue's liveness bound, its last receipt and its probes, across its connections."""

    def __init__(
        self, heartbeat: HeartbeatPolicy, dead_after_s: float, clock: Callable[[], float]
    ) -> None:
        self.heartbeat = heartbeat
        self.clock = clock
        self.dead_after_s = dead_after_s
        """Liveness bound: with nothing received for this long, the connection is dead."""
        self.probe_after_s = heartbeat.probe_after(dead_after_s)
        """A connection silent for this long is probed (and again after each such silence)."""
        self.probes = 0
        """Probes (pings) sent, all connections together."""
        self.last_rx: float | None = None
        """Monotonic time of the last frame or pong on the open connection (``None``: none)."""
        self._pings: list[bytes] = []
        """Payloads of the open connection's protocol pings not answered yet, oldest first."""

    async def silence(self) -> str:
        """Return the moment the open connection has been silent for ``dead_after_s``, with the
        reason to show (``no data or pong for 5.0 s``)."""
        while True:
            last = self.last_rx if self.last_rx is not None else self.clock()
            remaining = last + self.dead_after_s - self.clock()
            if remaining <= 0:
                answer = self.heartbeat.answer
                return f"no data or {answer} for {_seconds(self.dead_after_s)} s"
            await asyncio.sleep(remaining)

    async def probe(
        self, ws: ClientWebSocketResponse, adapter: VenueAdapter, gate: SendGate
    ) -> None:
        """Ping into every silence of ``probe_after_s`` (and as a keepalive where asked)."""
        self._pings.clear()  # a new connection: the old one's pings will never be answered
        keepalive_s = adapter.heartbeat.keepalive_s
        last_probe = self.clock()
        while True:
            last_rx = self.last_rx if self.last_rx is not None else last_probe
            due = max(last_rx, last_probe) + self.probe_after_s
            if keepalive_s is not None:
                due = min(due, last_probe + keepalive_s)
            wait = due - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self._send_probe(ws, adapter, gate)
            last_probe = self.clock()

    async def _send_probe(
        self, ws: ClientWebSocketResponse, adapter: VenueAdapter, gate: SendGate
    ) -> None:
        async with gate.slot():
            if adapter.heartbeat.probe is Probe.PROTOCOL:
                payload = os.urandom(4)  # as websockets does: a pong names the ping it answers
                self._pings.append(payload)
                del self._pings[:-_PINGS_KEPT]
                await ws.ping(payload)
            else:
                frame = adapter.ping_frame()
                if frame is None:
                    return
                await ws.send_str(frame)
        self.probes += 1

    def on_pong(self, payload: bytes) -> None:
        """The open connection received a pong: one answering a ping of ours is a sign of life
        (and answers the earlier ones too); any other pong proves nothing."""
        try:
            index = self._pings.index(payload)
        except ValueError:
            return
        del self._pings[: index + 1]
        if self.last_rx is not None:
            self.last_rx = self.clock()


_PINGS_KEPT = 16
"""Unanswered pings remembered (a dead connection is replaced long before this many)."""


def _seconds(value: float) -> str:
    """``5.0``, ``2.5``, ``1.25``: one decimal at least, more only when the value has them."""
    return f"{value:.1f}" if round(value, 1) == value else f"{value:g}"
