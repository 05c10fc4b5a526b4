"""One venue's live connection: the reconnect loop, its socket, and the venue's health.

:meth:`VenueConnection.run` never returns while the program runs: every failure becomes a
health state (``backing off until T`` / ``failed: reason``) and another attempt after an
exponential backoff with full jitter (``[feed]`` settings), reset after a stable connection. A
venue's notice that it will close the connection soon is obeyed at once (after a stable
connection). Each attempt uses a fresh adapter and subscribes the venue's symbols as
:class:`~cryptows.feed.subscriptions.Subscriptions` validated them (the venue's symbol list is
read until it could be read once); a venue that lists none of them goes ``idle`` and its list
is read again every :data:`LISTING_RECHECK_S`. A symbol the venue refuses, or that stays
silent, is reported there. Cancellation closes the socket and returns promptly.

The socket is aiohttp's WebSocket client (:func:`open_ws`; issue 19: on loopback it absorbs
several times the frames websockets does), on the feed's one ``aiohttp.ClientSession`` (a
session of its own for a SOCKS proxy). While connected, besides subscribing and the symbol
watch, three tasks run: the reader (frames become events for the :class:`FeedSink`, and count
for health: rate, lag, bad frames; it also answers the venue's pings and hands our pings'
pongs to liveness), the watchdog and the prober (:mod:`cryptows.feed.liveness`: a connection
silent for its bound turns ``stale`` and is replaced). Whichever ends first ends the
connection. A frame larger than :data:`MAX_FRAME_BYTES` closes it with 1009.

Closing: a connection we end ourselves (the program stops, the watchlist changes, the venue
asked us to reconnect) is closed with 1000 (normal closure), never 1011 (internal error), which
is kept for our own bugs. The closing handshake is bounded by :data:`CLOSE_TIMEOUT_S`: a venue
that does not answer it has its socket dropped, so it can never hold up the exit.

Why this module is over 400 lines: one connection's life (connect, stream, read, close) is one
state machine around one socket, including the aiohttp specifics it needs (open, abort,
bounded close); liveness, subscriptions, health, dialling errors and shards are already
modules of their own.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType

from cryptows.clock import wall_ms
from cryptows.config import FeedSettings, VenueSettings
from cryptows.feed.dial import Endpoint, describe, proxy_kind, socks_session, ws_failure
from cryptows.feed.health import HealthTracker
from cryptows.feed.listing import SymbolLists
from cryptows.feed.liveness import Liveness, SendGate
from cryptows.feed.shards import ConnectGate
from cryptows.feed.subscriptions import Send, Subscriptions
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
from cryptows.symbols import Symbol
from cryptows.venues.base import VenueAdapter

log = logging.getLogger(__name__)

LISTING_RECHECK_S = 600.0
"""How often a venue listing none of the requested symbols has its symbol list read again."""
MAX_FRAME_BYTES = 2**20
"""Largest frame accepted (1 MiB); a larger one closes the connection with 1009."""
CLOSE_TIMEOUT_S = 1.0
"""How long a closing handshake may take before the socket is simply dropped."""
_WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_TIMEOUT_S)
"""No receive timeout (silence is :mod:`~cryptows.feed.liveness`' business); the closing
handshake bounded by :data:`CLOSE_TIMEOUT_S`."""
_LOST = "connection lost (no close frame)"


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


class FeedSink(Protocol):
    """Where a connection hands its events: called synchronously, in order, from its task."""

    def put(self, event: FeedEvent) -> None:
        """Take one event; must not block."""


class FrameTap(Protocol):
    """Sees every raw frame a connection receives (``cryptows record``), after it was handled."""

    def connected(self, conn: str, venue: str) -> None:
        """Connection ``conn`` (a label: ``binance``, ``binance#2``) of ``venue`` opened."""

    def frame(self, conn: str, venue: str, frame: str | bytes, mono_ns: int, recv_ms: int) -> None:
        """One frame as received, with the receipt times its quotes were stamped with."""


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
        label: str | None = None,
        gate: ConnectGate | None = None,
        lists: SymbolLists | None = None,
        tap: FrameTap | None = None,
    ) -> None:
        self.adapter_cls = adapter_cls
        self.tap = tap
        """Sees every frame received (recording); ``None`` costs the hot path one test."""
        self.name = adapter_cls.name
        self.label = label or self.name
        """This connection in logs and task names: ``binance``, or ``binance#2`` for the
        second of a venue's several connections."""
        limits = adapter_cls.limits
        self.gate = gate or ConnectGate(limits.max_connects, limits.connect_window_s)
        """Paces this venue's connection attempts (shared by all its connections)."""
        self.venue = venue
        self.feed = feed
        self.sink = sink
        self.http = http
        self.rng = rng or random.Random()
        self.clock = clock
        self.health = HealthTracker(self.name, clock=clock)
        self.backoff = Backoff(feed.backoff_initial_s, feed.backoff_max_s)
        self.liveness = Liveness(
            adapter_cls.heartbeat, venue.dead_after_s or feed.dead_after_s, clock
        )
        self.subscriptions = Subscriptions(
            adapter_cls,
            symbols,
            rest_url=venue.rest_url,
            open_timeout_s=feed.open_timeout_s,
            symbol_timeout_s=feed.symbol_timeout_s,
            health=self.health,
            put=sink.put,
            http=http,
            lists=lists,
        )
        self._live_since: float | None = None
        self._endpoint = 0
        """Index in ``venue.ws_urls`` of the endpoint tried first: the last one that opened."""
        self._via = ""
        """How health describes the endpoint in use: ``""`` for the first (the usual one)."""

    @property
    def requested(self) -> tuple[Symbol, ...]:
        """The symbols asked for."""
        return self.subscriptions.requested

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        """The symbols actually subscribed (requested minus those the venue does not list)."""
        return self.subscriptions.symbols

    @property
    def dead_after_s(self) -> float:
        """Liveness bound: with nothing received for this long, the connection is dead."""
        return self.liveness.dead_after_s

    @property
    def probe_after_s(self) -> float:
        """A connection silent for this long is probed (and again after each such silence)."""
        return self.liveness.probe_after_s

    @property
    def probes(self) -> int:
        """Probes (pings) sent, all connections together."""
        return self.liveness.probes

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
                self.liveness.last_rx = None
                await self._paced()
                try:
                    await self._attempt()
                    failure = _Reconnect("connection ended")
                except _Reconnect as exc:
                    failure = exc
                except Exception as exc:  # noqa: BLE001 - a bug must not stop the venue for good
                    log.exception("%s: unexpected error in the connection loop", self.label)
                    failure = _Reconnect(f"internal error: {describe(exc)}")
                stable = self._was_stable()
                if stable:
                    attempt = 0
                # A venue asking us to reconnect (shutdown notice) is obeyed at once, but only
                # after a stable connection: a venue repeating it must not cause a tight loop.
                delay = 0.0 if failure.now and stable else self.backoff.delay(attempt, self.rng)
                if failure.state is VenueState.FAILED:
                    # Unlikely to clear soon (a 4xx, a bad URL), but it may (a geo-block lifted,
                    # a proxy fixed): never given up on, retried at the longest delay.
                    delay = self.backoff.max_s
                attempt += 1
                self._publish(
                    failure.state, failure.reason, retry_at_ms=wall_ms() + round(delay * 1000)
                )
                await asyncio.sleep(delay)
                self.health.reconnects += 1
        finally:
            self._publish(VenueState.STOPPED, "")

    async def _paced(self) -> None:
        """Wait for the venue's connection budget (:class:`ConnectGate`), saying so if it
        makes this connection wait."""
        wait = self.gate.delay()
        if wait > 0:
            limits = self.adapter_cls.limits
            self._publish(  # not an error: connecting, as soon as the venue allows
                VenueState.CONNECTING,
                f"paced: {self.name} allows {limits.max_connects} new connections per "
                f"{limits.connect_window_s:g} s",
                retry_at_ms=wall_ms() + round(wait * 1000),
            )
            log.info("%s: waiting %.1f s for the venue's connection budget", self.label, wait)
        await self.gate.acquire()

    async def _attempt(self) -> None:
        self._publish(VenueState.CONNECTING, "")
        subs = self.subscriptions
        if not subs.validated:
            await subs.validate()
        while subs.validated and not subs.symbols:
            # Not a failure: this venue has nothing to stream. Say so once, stay idle (no
            # reconnect loop, no repeated lines) and look at its list again now and then.
            names = ", ".join(s.canonical for s in self.requested)
            self._publish(VenueState.IDLE, f"lists none of {names}; re-checked every "
                          f"{LISTING_RECHECK_S // 60:g} min")  # fmt: skip
            await asyncio.sleep(LISTING_RECHECK_S)
            await subs.validate()
        ws, session = await self._open()
        try:
            await self._stream(ws)  # closes ws
        finally:
            if session is not None:
                await session.close()

    async def _open(self) -> tuple[ClientWebSocketResponse, aiohttp.ClientSession | None]:
        """Open the first endpoint of ``ws_urls`` that accepts, starting with the last one that
        did; with none, fail with every endpoint's reason (``failed`` if all are lasting)."""
        urls = self.venue.ws_urls
        failures: list[str] = []
        lasting = True
        for step in range(len(urls)):
            index = (self._endpoint + step) % len(urls)
            endpoint = Endpoint.of(urls[index])
            if step:  # another connection attempt: within the venue's connect budget too
                await self.gate.acquire()
            try:
                ws, session = await open_ws(endpoint, self.http, self.feed.open_timeout_s)
            except Exception as exc:  # noqa: BLE001 - every failure to connect is a reason shown
                failure = ws_failure(exc, endpoint, self.feed.open_timeout_s)
                failures.append(failure.reason)
                lasting = lasting and failure.lasting
                if isinstance(exc, aiohttp.WSServerHandshakeError) and exc.status == 429:
                    # Too many requests from this address: the venue's other endpoints would
                    # say the same (Binance bans an address that keeps going). Back off; the
                    # next attempt starts at the next endpoint.
                    self._endpoint = (index + 1) % len(urls)
                    lasting = False
                    break
                if step + 1 < len(urls):
                    log.info("%s: %s; trying the next endpoint", self.label, failure.reason)
                continue
            self._endpoint = index
            self._via = (
                "" if index == 0 else f"via {endpoint.where}, endpoint {index + 1} of {len(urls)}"
            )
            return ws, session
        reason = (
            failures[0]
            if len(failures) == 1
            else f"{'all' if len(failures) == len(urls) else len(failures)} of {len(urls)} "
            f"endpoints failed: " + ("; ".join(failures))
        )
        raise _Reconnect(reason, state=VenueState.FAILED if lasting else VenueState.BACKOFF)

    async def _stream(self, ws: ClientWebSocketResponse) -> None:
        """Stream from ``ws`` until one of its vital tasks ends, then close it."""
        adapter = self.adapter_cls()
        if self.tap is not None:
            self.tap.connected(self.label, self.name)
        self.liveness.last_rx = self.clock()  # the handshake's answer is the first thing received
        self.subscriptions.new_connection()
        gate = SendGate(adapter.limits.min_send_interval_s)

        async def send(frame: str) -> None:
            async with gate.slot():
                await ws.send_str(frame)

        helpers = [
            asyncio.create_task(self.subscriptions.subscribe(send, adapter, self.symbols)),
            asyncio.create_task(self.subscriptions.watch()),
        ]
        # Whichever of these ends first ends the connection (they only end by raising). The
        # watchdog comes first: its verdict wins over the read error its abort causes; the
        # reader's (the venue's close frame) over a failed write of the prober.
        reader = asyncio.create_task(self._read(ws, adapter, send))
        vital = [
            asyncio.create_task(self._watchdog(ws)),
            reader,
            asyncio.create_task(self.liveness.probe(ws, adapter, gate)),
        ]
        # Leaving by an exception, cancellation included (every normal stop), is a normal
        # closure: 1011 "internal error" is kept for our own bugs.
        code = WSCloseCode.INTERNAL_ERROR
        try:
            done, _ = await asyncio.wait(vital, return_when=asyncio.FIRST_COMPLETED)
            for task in vital:
                if task in done:
                    task.result()
        except (_Reconnect, asyncio.CancelledError):
            code = WSCloseCode.OK
            raise
        except ConnectionResetError as exc:  # a write to a socket already closing
            code = WSCloseCode.OK
            raise _Reconnect(_LOST) from exc
        finally:
            for task in helpers + vital:
                if task is not reader:
                    task.cancel()
            # The reader is left waiting: aiohttp's close() wakes it up and then waits for the
            # venue's answer, where cancelling it first would mark the socket as lost (1006)
            # and its close() would drop it without waiting for the closing handshake.
            await close_bounded(ws, code)
            reader.cancel()
            await asyncio.gather(*helpers, *vital, return_exceptions=True)

    # -- liveness ---------------------------------------------------------------------------

    async def _watchdog(self, ws: ClientWebSocketResponse) -> None:
        """Declare the connection dead the moment it has been silent for ``dead_after_s``."""
        reason = await self.liveness.silence()
        self._publish(VenueState.STALE, reason)
        # Nobody would answer a closing handshake: drop the socket, reconnect at once.
        abort(ws)
        raise _Reconnect(reason, state=VenueState.STALE)

    # -- reading ----------------------------------------------------------------------------

    async def _read(self, ws: ClientWebSocketResponse, adapter: VenueAdapter, send: Send) -> None:
        # The hot path (every frame): names bound once, quotes handled inline (no coroutine
        # per event); everything else goes through _handle, control frames through _control.
        receive, clock, parse = ws.receive, self.clock, adapter.parse
        liveness, health, put = self.liveness, self.health, self.sink.put
        on_frame, on_quote = health.on_frame, self.subscriptions.on_quote
        monotonic_ns = time.monotonic_ns
        text, binary, live = WSMsgType.TEXT, WSMsgType.BINARY, VenueState.LIVE
        tap, label, name = self.tap, self.label, self.name
        while True:
            kind, data, _ = msg = await receive()
            if kind is not text and kind is not binary:
                await self._control(ws, msg)
                continue
            now = clock()
            liveness.last_rx = now
            on_frame(now)
            mono_ns, recv_ms = monotonic_ns(), wall_ms()
            for event in parse(data, recv_mono_ns=mono_ns, recv_wall_ms=recv_ms):
                if type(event) is Quote:
                    if health.state is not live:
                        self._mark_live()
                    on_quote(event.symbol)
                    if event.exchange_ts_ms is not None:
                        health.on_lag(event.recv_wall_ms - event.exchange_ts_ms)
                    put(event)
                else:
                    await self._handle(event, adapter, send)
            if tap is not None:
                # After the frame's events: a state change it caused (live) comes first in
                # the recording, as it reached the market first.
                tap.frame(label, name, data, mono_ns, recv_ms)

    async def _control(self, ws: ClientWebSocketResponse, msg: aiohttp.WSMessage) -> None:
        """A message that is not data: the venue's ping (answered), a pong (liveness), or the
        end of the connection (raises :class:`_Reconnect` with the venue's code and reason)."""
        if msg.type is WSMsgType.PING:
            await ws.pong(msg.data)  # not a sign of life: only data and our pings' pongs are
        elif msg.type is WSMsgType.PONG:
            self.liveness.on_pong(msg.data)
        else:
            raise _Reconnect(_closed_reason(msg))

    async def _handle(self, event: object, adapter: VenueAdapter, send: Send) -> None:
        """Every event but a quote (handled inline by :meth:`_read`)."""
        if isinstance(event, SubscriptionAck):
            self._mark_live()
        elif isinstance(event, BadFrame):
            self.health.bad_frames += 1
        elif isinstance(event, SubscriptionError):
            await self.subscriptions.on_error(event, send, adapter)
        elif isinstance(event, Notice):
            raise _Reconnect(f"venue notice: {event.message}", now=True)
        elif isinstance(event, Heartbeat):
            pass  # its arrival already counts as a sign of life

    # -- health -----------------------------------------------------------------------------

    def _was_stable(self) -> bool:
        """Whether the connection that just ended stayed live for ``stable_reset_s``."""
        since = self._live_since
        return since is not None and self.clock() - since >= self.feed.stable_reset_s

    def _mark_live(self) -> None:
        if self.health.state is not VenueState.LIVE:
            self._live_since = self.clock()
            self._publish(VenueState.LIVE, self._via)

    def _publish(self, state: VenueState, reason: str, retry_at_ms: int | None = None) -> None:
        event: VenueStatus | None = self.health.transition(
            state, reason, retry_at_ms, last_rx_s=self.liveness.last_rx
        )
        if event is not None:
            self.sink.put(event)


async def open_ws(
    endpoint: Endpoint, http: aiohttp.ClientSession, open_timeout_s: float
) -> tuple[ClientWebSocketResponse, aiohttp.ClientSession | None]:
    """A WebSocket to ``endpoint`` on ``http`` (or, for a SOCKS proxy, on a session of its
    own, returned too: the caller closes it after the socket), handshake within
    ``open_timeout_s``."""
    proxy = endpoint.proxy
    socks = proxy is not None and proxy_kind(proxy) == "socks"
    session = socks_session(proxy) if socks and proxy is not None else None
    try:
        async with asyncio.timeout(open_timeout_s):
            ws = await (session or http).ws_connect(
                endpoint.url,
                # Pings are ours (Liveness.probe): their pongs prove liveness, so the reader
                # sees them (and answers the venue's pings itself).
                autoping=False,
                heartbeat=None,
                timeout=_WS_TIMEOUT,
                # No permessage-deflate: no venue requires it (the extension is only ever
                # offered by the client, RFC 7692), and inflating every frame costs more CPU
                # than loopback-fast market data can afford (issue 19: python -m cryptows.bench).
                compress=0,
                max_msg_size=MAX_FRAME_BYTES,
                proxy=None if socks else proxy,
            )
    except BaseException:
        if session is not None:
            await session.close()
        raise
    return ws, session


def abort(ws: ClientWebSocketResponse) -> None:
    """Drop ``ws``'s socket at once, without a closing handshake."""
    conn = ws._response.connection  # noqa: SLF001 - aiohttp exposes no public abort
    transport = conn.transport if conn is not None else None
    if transport is not None:
        transport.abort()


async def close_bounded(ws: ClientWebSocketResponse, code: int) -> None:
    """Close ``ws`` with ``code``, waiting at most about :data:`CLOSE_TIMEOUT_S` for the venue.

    The handshake runs in a task of its own, so that it completes even while the caller is
    being cancelled (the usual way a run stops); should the caller be cancelled again, or the
    venue not answer, the socket is dropped rather than waited for.
    """
    closing = asyncio.ensure_future(ws.close(code=code))
    closing.add_done_callback(_retrieve)
    try:
        await asyncio.wait({closing}, timeout=CLOSE_TIMEOUT_S + 0.5)
    finally:
        if not closing.done():
            abort(ws)


def _retrieve(task: asyncio.Future[bool]) -> None:
    """Mark a background close's outcome as seen (it may fail once its socket is dropped)."""
    if not task.cancelled():
        task.exception()


def _closed_reason(msg: aiohttp.WSMessage) -> str:
    """Why the connection ended, from the reader's last message (CLOSE: the venue's close
    frame; ERROR: ours, e.g. 1009 for an oversize frame; CLOSED/CLOSING: no close frame)."""
    if msg.type is WSMsgType.CLOSE:
        reason = f": {msg.extra}" if msg.extra else ""
        return f"closed by venue with code {msg.data}{reason}"
    if msg.type is WSMsgType.ERROR:
        exc = msg.data
        code = getattr(exc, "code", None)
        if code == WSCloseCode.MESSAGE_TOO_BIG:
            return f"frame larger than {MAX_FRAME_BYTES // 1024} KiB: connection closed (1009)"
        if isinstance(code, int):
            return f"connection closed ({code}): {describe(exc)}"
        return f"connection lost: {describe(exc)}"
    return _LOST
