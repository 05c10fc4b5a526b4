"""One venue's live connection: reconnect loop, subscriptions, liveness probes, health.

:meth:`VenueConnection.run` never returns while the program runs: every failure becomes a
health state (``backing off until T`` / ``failed: reason``) and another attempt after an
exponential backoff with full jitter (``[feed]`` settings), reset after a stable connection.
Each attempt uses a fresh adapter, re-validates nothing but resubscribes exactly the same
symbols. Cancellation closes the socket and returns promptly.

Closing: a connection we end ourselves (the program stops, the watchlist changes, the venue
asked us to reconnect) is closed with 1000 (normal closure), never 1011 (internal error), which
is kept for our own bugs. The closing handshake is bounded by :data:`CLOSE_TIMEOUT_S`: a venue
that does not answer it has its socket dropped, so it can never hold up the exit.

Liveness: a connection from which nothing (data, pong, heartbeat) has arrived for its bound
``dead_after_s`` (5 s by default) is presumed dead: the venue turns ``stale`` at that moment and
the connection is replaced. A silent connection is probed after 2/5 of the bound, the venue's
own way (:class:`~cryptows.venues.base.HeartbeatPolicy`), so a quiet market answers in time
while a dead feed answers nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from cryptows.config import FeedSettings, VenueSettings
from cryptows.feed.dial import Endpoint, describe, rest_failure, rest_proxy_for, ws_failure
from cryptows.feed.health import HealthTracker, wall_ms
from cryptows.models import (
    BadFrame,
    FeedEvent,
    Heartbeat,
    Notice,
    Quote,
    SubscriptionAck,
    SubscriptionError,
    VenueState,
    VenueStatus,
)
from cryptows.symbols import Symbol, listed_alternatives
from cryptows.venues.base import FrameError, Probe, VenueAdapter

log = logging.getLogger(__name__)

LISTING_RECHECK_S = 600.0
"""How often a venue listing none of the requested symbols has its symbol list read again."""
MAX_FRAME_BYTES = 2**20
"""Largest frame accepted (1 MiB); a larger one closes the connection with 1009."""
CLOSE_TIMEOUT_S = 1.0
"""How long a closing handshake may take before the socket is simply dropped."""


class _Reconnect(Exception):
    """End this connection and start another; the message is the reason shown in health."""

    def __init__(self, reason: str, *, state: VenueState = VenueState.BACKOFF, now: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.state = state
        self.now = now
        """Reconnect at once (the venue asked us to), without backoff."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: ``uniform(0, min(cap, initial * 2**attempt))``."""

    initial_s: float
    max_s: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt number ``attempt`` (0-based) after a failure."""
        return rng.uniform(0, min(self.max_s, self.initial_s * 2 ** min(attempt, 32)))


class _SendGate:
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


class FeedSink(Protocol):
    """Where a connection hands its events: called synchronously, in order, from its task."""

    def put(self, event: FeedEvent) -> None:
        """Take one event; must not block."""


class VenueConnection:
    """The reconnecting connection to one venue, feeding a :class:`FeedSink`."""

    def __init__(
        self,
        adapter_cls: type[VenueAdapter],
        venue: VenueSettings,
        feed: FeedSettings,
        symbols: Sequence[Symbol],
        sink: FeedSink,
        *,
        http: aiohttp.ClientSession,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.adapter_cls = adapter_cls
        self.name = adapter_cls.name
        self.venue = venue
        self.feed = feed
        self.requested = tuple(symbols)
        self.sink = sink
        self.http = http
        self.rng = rng or random.Random()
        self.clock = clock
        self.health = HealthTracker(self.name, clock=clock)
        self.backoff = Backoff(feed.backoff_initial_s, feed.backoff_max_s)
        self.symbols: tuple[Symbol, ...] = ()
        """The symbols actually subscribed (requested minus those the venue does not list)."""
        self.dead_after_s = venue.dead_after_s or feed.dead_after_s
        """Liveness bound: with nothing received for this long, the connection is dead."""
        self.probe_after_s = adapter_cls.heartbeat.probe_after(self.dead_after_s)
        """A connection silent for this long is probed (and again after each such silence)."""
        self.probes = 0
        """Probes (pings) sent, all connections together."""
        self._validated = False
        self._last_rx: float | None = None
        """Monotonic time of the last frame or pong on the open connection (``None``: none)."""
        self._live_since: float | None = None
        self._gate = _SendGate(adapter_cls.limits.min_send_interval_s)
        self._seen: set[str] = set()
        self._refused: set[str] = set()
        """Symbols the venue refused on the current connection (not resubscribed on it)."""

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, stream, and reconnect for ever (until cancelled).

        Nothing but cancellation leaves this method: every failure, expected or not, becomes a
        health state and another attempt, so one venue can never stop the others.
        """
        attempt = 0
        try:
            while True:
                self._live_since = None
                self._last_rx = None
                try:
                    await self._attempt()
                    failure = _Reconnect("connection ended")
                except _Reconnect as exc:
                    failure = exc
                except Exception as exc:  # noqa: BLE001 - a bug must not stop the venue for good
                    log.exception("%s: unexpected error in the connection loop", self.name)
                    failure = _Reconnect(f"internal error: {describe(exc)}")
                stable = self._was_stable()
                if stable:
                    attempt = 0
                # A venue asking us to reconnect (shutdown notice) is obeyed at once, but only
                # after a stable connection: a venue repeating it must not cause a tight loop.
                delay = 0.0 if failure.now and stable else self.backoff.delay(attempt, self.rng)
                attempt += 1
                self._publish(
                    failure.state, failure.reason, retry_at_ms=wall_ms() + round(delay * 1000)
                )
                await asyncio.sleep(delay)
                self.health.reconnects += 1
        finally:
            self._publish(VenueState.STOPPED, "")

    async def _attempt(self) -> None:
        self._publish(VenueState.CONNECTING, "")
        if not self._validated:
            await self._validate_symbols()
        while self._validated and not self.symbols:
            # Not a failure: this venue has nothing to stream. Say so once, stay idle (no
            # reconnect loop, no repeated lines) and look at its list again now and then.
            names = ", ".join(s.canonical for s in self.requested)
            self._publish(VenueState.IDLE, f"lists none of {names}; re-checked every "
                          f"{LISTING_RECHECK_S // 60:g} min")  # fmt: skip
            await asyncio.sleep(LISTING_RECHECK_S)
            await self._validate_symbols()
        endpoint = Endpoint.of(self.venue.ws_url)
        try:
            ws = await connect(
                self.venue.ws_url,
                open_timeout=self.feed.open_timeout_s,
                ping_interval=None,  # pings are ours (see _probe): their pongs prove liveness
                max_size=MAX_FRAME_BYTES,
                close_timeout=CLOSE_TIMEOUT_S,
                proxy=endpoint.proxy,
            )
        except Exception as exc:  # noqa: BLE001 - every failure to connect is a reason shown
            failure = ws_failure(exc, endpoint, self.feed.open_timeout_s)
            state = VenueState.FAILED if failure.lasting else VenueState.BACKOFF
            raise _Reconnect(failure.reason, state=state) from exc
        # Not `async with ws`: leaving it by an exception, cancellation included (every
        # normal stop), closes with 1011 "internal error".
        code = CloseCode.INTERNAL_ERROR
        try:
            await self._stream(ws)
        except (_Reconnect, asyncio.CancelledError):
            code = CloseCode.NORMAL_CLOSURE
            raise
        finally:
            await close_bounded(ws, code)

    async def _stream(self, ws: ClientConnection) -> None:
        adapter = self.adapter_cls()
        self._last_rx = self.clock()  # the handshake's answer is the first thing received
        self._seen.clear()
        self._refused.clear()
        self._gate = _SendGate(adapter.limits.min_send_interval_s)
        helpers = [
            asyncio.create_task(self._subscribe(ws, adapter, self.symbols)),
            asyncio.create_task(self._symbol_watch()),
        ]
        # Whichever of these ends first ends the connection (they only end by raising). The
        # watchdog comes first: its verdict wins over the read error its abort causes.
        vital = [
            asyncio.create_task(self._watchdog(ws)),
            asyncio.create_task(self._read(ws, adapter)),
            asyncio.create_task(self._probe(ws, adapter)),
        ]
        try:
            done, _ = await asyncio.wait(vital, return_when=asyncio.FIRST_COMPLETED)
            for task in vital:
                if task in done:
                    task.result()
        except ConnectionClosed as exc:
            raise _Reconnect(_closed_reason(exc)) from exc
        finally:
            for task in helpers + vital:
                task.cancel()
            await asyncio.gather(*helpers, *vital, return_exceptions=True)

    # -- liveness ---------------------------------------------------------------------------

    async def _watchdog(self, ws: ClientConnection) -> None:
        """Declare the connection dead the moment it has been silent for ``dead_after_s``."""
        while True:
            last = self._last_rx if self._last_rx is not None else self.clock()
            remaining = last + self.dead_after_s - self.clock()
            if remaining <= 0:
                answer = self.adapter_cls.heartbeat.answer
                reason = f"no data or {answer} for {_seconds(self.dead_after_s)} s"
                self._publish(VenueState.STALE, reason)
                # Nobody would answer a closing handshake: drop the socket, reconnect at once.
                ws.transport.abort()
                raise _Reconnect(reason, state=VenueState.STALE)
            await asyncio.sleep(remaining)

    async def _probe(self, ws: ClientConnection, adapter: VenueAdapter) -> None:
        """Ping into every silence of ``probe_after_s`` (and as a keepalive where asked)."""
        keepalive_s = adapter.heartbeat.keepalive_s
        last_probe = self.clock()
        while True:
            last_rx = self._last_rx if self._last_rx is not None else last_probe
            due = max(last_rx, last_probe) + self.probe_after_s
            if keepalive_s is not None:
                due = min(due, last_probe + keepalive_s)
            wait = due - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self._send_probe(ws, adapter)
            last_probe = self.clock()

    async def _send_probe(self, ws: ClientConnection, adapter: VenueAdapter) -> None:
        async with self._gate.slot():
            if adapter.heartbeat.probe is Probe.PROTOCOL:
                pong = asyncio.ensure_future(await ws.ping())  # already a future: no task
                pong.add_done_callback(self._on_pong)
            else:
                frame = adapter.ping_frame()
                if frame is None:
                    return
                await ws.send(frame)
        self.probes += 1

    def _on_pong(self, pong: asyncio.Future[float]) -> None:
        # A connection that closes fails its pending pings: nothing was received then.
        if not pong.cancelled() and pong.exception() is None and self._last_rx is not None:
            self._last_rx = self.clock()

    # -- reading ----------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection, adapter: VenueAdapter) -> None:
        while True:
            frame = await ws.recv()
            now = self.clock()
            self._last_rx = now
            self.health.on_frame(now)
            recv_wall = wall_ms()
            events = adapter.parse(frame, recv_mono_ns=time.monotonic_ns(), recv_wall_ms=recv_wall)
            for event in events:
                await self._handle(event, ws, adapter)

    async def _handle(self, event: object, ws: ClientConnection, adapter: VenueAdapter) -> None:
        if isinstance(event, Quote):
            self._mark_live()
            if event.symbol not in self._seen:
                self._seen.add(event.symbol)
                cleared = self.health.symbol_ok(event.symbol)
                if cleared is not None:
                    self.sink.put(cleared)
            if event.exchange_ts_ms is not None:
                self.health.on_lag(event.recv_wall_ms - event.exchange_ts_ms)
            self.sink.put(event)
        elif isinstance(event, SubscriptionAck):
            self._mark_live()
        elif isinstance(event, BadFrame):
            self.health.bad_frames += 1
        elif isinstance(event, SubscriptionError):
            await self._subscription_error(event, ws, adapter)
        elif isinstance(event, Notice):
            raise _Reconnect(f"venue notice: {event.message}", now=True)
        elif isinstance(event, Heartbeat):
            pass  # its arrival already counts as a sign of life

    async def _subscription_error(
        self, event: SubscriptionError, ws: ClientConnection, adapter: VenueAdapter
    ) -> None:
        request = adapter.request(event.req_id)
        if event.symbol is None:
            self.health.last_error = f"venue error: {event.message}"
            if request is not None and request.op == "subscribe" and len(request.symbols) > 1:
                # The venue refused a request naming several symbols without saying which one
                # was at fault: ask again one symbol per request to find it.
                for symbol in self.symbols:
                    if (
                        symbol.canonical in request.symbols
                        and symbol.canonical not in self._refused
                    ):
                        await self._subscribe(ws, adapter, [symbol])
            return
        self._refused.add(event.symbol)
        status = self.health.symbol_error(event.symbol, event.message)
        if status is not None:
            self.sink.put(status)
        if not adapter.rejects_whole_request:
            return
        # The venue dropped the whole request: subscribe its other symbols again.
        named = request.symbols if request is not None else tuple(s.canonical for s in self.symbols)
        again = [
            s for s in self.symbols if s.canonical in named and s.canonical not in self._refused
        ]
        if again:
            await self._subscribe(ws, adapter, again)

    def _pending(self, named: Sequence[str] | None) -> list[Symbol]:
        """Our symbols (those in ``named``, if given) that were not refused on this connection."""
        return [
            s
            for s in self.symbols
            if (named is None or s.canonical in named) and s.canonical not in self._refused
        ]

    # -- writing ----------------------------------------------------------------------------

    async def _subscribe(
        self, ws: ClientConnection, adapter: VenueAdapter, symbols: Sequence[Symbol]
    ) -> None:
        for frame in adapter.subscribe(symbols):
            async with self._gate.slot():
                await ws.send(frame)

    async def _symbol_watch(self) -> None:
        timeout = self.feed.symbol_timeout_s
        if not timeout:
            return
        await asyncio.sleep(timeout)
        for symbol in self.symbols:
            if symbol.canonical not in self._seen and symbol.canonical not in self._refused:
                status = self.health.symbol_error(
                    symbol.canonical,
                    f"no data for {timeout:g} s after subscribing (is it listed on {self.name}?)",
                )
                if status is not None:
                    self.sink.put(status)

    # -- symbols ----------------------------------------------------------------------------

    async def _validate_symbols(self) -> None:
        """Drop symbols the venue's REST list does not have (Binance would ack them and stay
        silent; Coinbase would void the whole subscribe). If the list cannot be had, subscribe
        to everything and let the venue's own errors speak."""
        adapter = self.adapter_cls()
        url = self.venue.rest_url.rstrip("/") + adapter.rest_symbols_path
        try:
            timeout = aiohttp.ClientTimeout(total=self.feed.open_timeout_s)
            async with self.http.get(url, timeout=timeout, proxy=rest_proxy_for(url)) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise FrameError(f"HTTP {resp.status}")
            listed = adapter.parse_symbol_list(body)
        except (aiohttp.ClientError, TimeoutError, FrameError, OSError) as exc:
            why = rest_failure(exc, url, self.feed.open_timeout_s)
            self.health.last_error = f"symbol list unavailable ({why}); not validated"
            self.symbols = self.requested
            return
        self._validated = True
        self.symbols = tuple(s for s in self.requested if s.canonical in listed)
        for symbol in self.requested:
            if symbol.canonical not in listed:
                alternatives = tuple(listed_alternatives(symbol.canonical, listed))
                hint = f" (did you mean {' or '.join(alternatives)}?)" if alternatives else ""
                status = self.health.symbol_error(
                    symbol.canonical,
                    f"{symbol.canonical} is not listed on {self.name}{hint}",
                    unlisted=True,
                    suggestions=alternatives,
                )
                if status is not None:
                    self.sink.put(status)

    # -- health -----------------------------------------------------------------------------

    def _was_stable(self) -> bool:
        """Whether the connection that just ended stayed live for ``stable_reset_s``."""
        since = self._live_since
        return since is not None and self.clock() - since >= self.feed.stable_reset_s

    def _mark_live(self) -> None:
        if self.health.state is not VenueState.LIVE:
            self._live_since = self.clock()
            self._publish(VenueState.LIVE, "")

    def _publish(self, state: VenueState, reason: str, retry_at_ms: int | None = None) -> None:
        event: VenueStatus | None = self.health.transition(
            state, reason, retry_at_ms, last_rx_s=self._last_rx
        )
        if event is not None:
            self.sink.put(event)


async def close_bounded(ws: ClientConnection, code: int) -> None:
    """Close ``ws`` with ``code``, waiting at most about :data:`CLOSE_TIMEOUT_S` for the venue.

    The handshake runs in a task of its own, so that it completes even while the caller is
    being cancelled (the usual way a run stops); should the caller be cancelled again, or the
    venue not answer, the socket is dropped rather than waited for.
    """
    closing = asyncio.ensure_future(ws.close(code))
    closing.add_done_callback(_retrieve)
    try:
        await asyncio.wait({closing}, timeout=CLOSE_TIMEOUT_S + 0.5)
    finally:
        if not closing.done():
            ws.transport.abort()


def _retrieve(task: asyncio.Future[None]) -> None:
    """Mark a background close's outcome as seen (it may fail once its socket is dropped)."""
    if not task.cancelled():
        task.exception()


def _seconds(value: float) -> str:
    """``5.0``, ``2.5``, ``1.25``: one decimal at least, more only when the value has them."""
    return f"{value:.1f}" if round(value, 1) == value else f"{value:g}"


def _closed_reason(exc: ConnectionClosed) -> str:
    if exc.rcvd is None:
        if exc.sent is not None and exc.sent.code == 1009:
            return f"frame larger than {MAX_FRAME_BYTES // 1024} KiB: connection closed (1009)"
        return "connection lost (no close frame)"
    reason = f": {exc.rcvd.reason}" if exc.rcvd.reason else ""
    return f"closed by venue with code {exc.rcvd.code}{reason}"
