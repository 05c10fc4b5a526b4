"""One venue's live connection: reconnect loop, subscriptions, heartbeats, watchdog, health.

:meth:`VenueConnection.run` never returns while the program runs: every failure becomes a
health state (``backing off until T`` / ``failed: reason``) and another attempt after an
exponential backoff with full jitter (``[feed]`` settings), reset after a stable connection.
Each attempt uses a fresh adapter, re-validates nothing but resubscribes exactly the same
symbols. Cancellation closes the socket and returns promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)

from cryptows.config import FeedSettings, VenueSettings
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
from cryptows.symbols import Symbol
from cryptows.venues.base import FrameError, VenueAdapter

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 2**20
"""Largest frame accepted (1 MiB); a larger one closes the connection with 1009."""


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
        self.health = HealthTracker(self.name)
        self.backoff = Backoff(feed.backoff_initial_s, feed.backoff_max_s)
        self.symbols: tuple[Symbol, ...] = ()
        """The symbols actually subscribed (requested minus those the venue does not list)."""
        self._validated = False
        self._last_rx = 0.0
        self._live_since: float | None = None
        self._seen: set[str] = set()
        self._refused: set[str] = set()
        """Symbols the venue refused on the current connection (not resubscribed on it)."""
        policy = adapter_cls.heartbeat
        self.silence_s = feed.watchdog_s or policy.silence_timeout_s
        self.ping_s = feed.ping_interval_s or policy.app_ping_interval_s
        self.protocol_ping_s = policy.protocol_ping_interval_s
        if feed.ping_interval_s and self.protocol_ping_s is not None:
            self.protocol_ping_s = feed.ping_interval_s

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
                try:
                    await self._attempt()
                    failure = _Reconnect("connection ended")
                except _Reconnect as exc:
                    failure = exc
                except Exception as exc:  # noqa: BLE001 - a bug must not stop the venue for good
                    log.exception("%s: unexpected error in the connection loop", self.name)
                    failure = _Reconnect(f"internal error: {_describe(exc)}")
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
        if not self.symbols:
            self._validated = False  # look at the venue's list again next time
            raise _Reconnect(
                f"none of {', '.join(s.canonical for s in self.requested)} is listed on "
                f"{self.name}",
                state=VenueState.FAILED,
            )
        try:
            ws = await connect(
                self.venue.ws_url,
                open_timeout=self.feed.open_timeout_s,
                ping_interval=None,  # pings are ours (see _keepalive), so pongs feed the watchdog
                max_size=MAX_FRAME_BYTES,
                close_timeout=2,
            )
        except InvalidStatus as exc:
            raise _handshake_refused(exc.response.status_code) from exc
        except InvalidURI as exc:
            raise _Reconnect(f"bad ws_url: {exc}", state=VenueState.FAILED) from exc
        except TimeoutError as exc:
            raise _Reconnect(f"no handshake within {self.feed.open_timeout_s:g} s") from exc
        except (OSError, InvalidHandshake) as exc:
            raise _Reconnect(f"cannot connect: {_describe(exc)}") from exc
        except Exception as exc:  # noqa: BLE001 - bad URL/proxy settings and the like
            raise _Reconnect(
                f"cannot connect: {type(exc).__name__}: {_describe(exc)}", state=VenueState.FAILED
            ) from exc
        async with ws:
            await self._stream(ws)

    async def _stream(self, ws: ClientConnection) -> None:
        adapter = self.adapter_cls()
        self._last_rx = self.clock()
        self._seen.clear()
        self._refused.clear()
        helpers = [
            asyncio.create_task(self._subscribe(ws, adapter, self.symbols)),
            asyncio.create_task(self._keepalive(ws, adapter)),
            asyncio.create_task(self._symbol_watch()),
        ]
        try:
            await self._read(ws, adapter)
        except ConnectionClosed as exc:
            raise _Reconnect(_closed_reason(exc)) from exc
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    # -- reading ----------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection, adapter: VenueAdapter) -> None:
        while True:
            remaining = self._last_rx + self.silence_s - self.clock()
            if remaining <= 0:
                self._publish(VenueState.STALE, f"nothing received for {self.silence_s:g} s")
                raise _Reconnect(
                    f"watchdog: nothing received for {self.silence_s:g} s", state=VenueState.STALE
                )
            try:
                async with asyncio.timeout(remaining):
                    frame = await ws.recv()
            except TimeoutError:
                continue
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
            pass  # arrival already fed the watchdog

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
            await ws.send(frame)
            await asyncio.sleep(adapter.limits.min_send_interval_s)

    async def _keepalive(self, ws: ClientConnection, adapter: VenueAdapter) -> None:
        ping = adapter.ping_frame()
        async with asyncio.TaskGroup() as tasks:
            if ping is not None and self.ping_s:
                tasks.create_task(self._app_pings(ws, adapter, self.ping_s))
            if self.protocol_ping_s:
                tasks.create_task(self._protocol_pings(ws, self.protocol_ping_s))

    async def _app_pings(self, ws: ClientConnection, adapter: VenueAdapter, every: float) -> None:
        idle_rule = adapter.heartbeat.ping_when_idle
        last_ping = self.clock()
        while True:
            since = self._last_rx if idle_rule else last_ping
            wait = since + every - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            frame = adapter.ping_frame()
            if frame is not None:
                await ws.send(frame)
            last_ping = self.clock()
            if idle_rule:  # OKX: one ping per idle period; the watchdog handles a missing pong
                await asyncio.sleep(every)

    async def _protocol_pings(self, ws: ClientConnection, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            waiter = await ws.ping()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.silence_s):
                    await waiter
                    self._last_rx = self.clock()

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
            async with self.http.get(url, timeout=timeout) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise FrameError(f"HTTP {resp.status}")
            listed = adapter.parse_symbol_list(body)
        except (aiohttp.ClientError, TimeoutError, FrameError, OSError) as exc:
            self.health.last_error = f"symbol list unavailable ({_describe(exc)}); not validated"
            self.symbols = self.requested
            return
        self._validated = True
        self.symbols = tuple(s for s in self.requested if s.canonical in listed)
        for symbol in self.requested:
            if symbol.canonical not in listed:
                status = self.health.symbol_error(
                    symbol.canonical,
                    f"{symbol.canonical} is not listed on {self.name}",
                    unlisted=True,
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
        event: VenueStatus | None = self.health.transition(state, reason, retry_at_ms)
        if event is not None:
            self.sink.put(event)


def _handshake_refused(status: int) -> _Reconnect:
    hints = {
        451: " (restricted location: use another venue, or an endpoint your region may use)",
        403: " (forbidden: check the endpoint and any proxy)",
        404: " (no WebSocket endpoint at that URL: check ws_url)",
        429: " (too many connection attempts: backing off)",
    }
    state = VenueState.FAILED if 400 <= status < 500 and status != 429 else VenueState.BACKOFF
    return _Reconnect(f"handshake refused: HTTP {status}{hints.get(status, '')}", state=state)


def _closed_reason(exc: ConnectionClosed) -> str:
    if exc.rcvd is None:
        if exc.sent is not None and exc.sent.code == 1009:
            return f"frame larger than {MAX_FRAME_BYTES // 1024} KiB: connection closed (1009)"
        return "connection lost (no close frame)"
    reason = f": {exc.rcvd.reason}" if exc.rcvd.reason else ""
    return f"closed by venue with code {exc.rcvd.code}{reason}"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())
