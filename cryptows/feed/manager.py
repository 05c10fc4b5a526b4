"""All venues at once: one :class:`VenueConnection` per venue (several when a venue's symbols
exceed one connection) in one TaskGroup, one consumer API.

Every venue connects in parallel, so the time to the first quote from all venues is about that
of the slowest one. A venue's failures stay inside its own task (it records them in its health
and retries), so one venue never takes another down.

Consumers read :meth:`FeedManager.events` (quotes, venue state changes, symbol errors) and
:meth:`FeedManager.health` at any time. Reading never slows the sockets: events go through a
:class:`~cryptows.feed.buffer.FeedBuffer`, which, when the consumer falls behind, keeps only
the newest quote per (venue, symbol, channel) and every status event.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp

from cryptows.config import Settings
from cryptows.errors import UsageError
from cryptows.feed.buffer import FeedBuffer
from cryptows.feed.connection import FeedSink, FrameTap, VenueConnection
from cryptows.feed.listing import SymbolLists
from cryptows.feed.shards import ConnectGate, VenueShards, split_symbols
from cryptows.models import FeedEvent, VenueHealth
from cryptows.symbols import Symbol
from cryptows.venues import adapter_class


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has finished unwinding.

    Its own cancellation is absorbed; a cancellation of the caller still propagates.
    """
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # we are being cancelled ourselves: let it propagate


class BackgroundTask:
    """Something that runs as one task: started on entering ``async with``, cancelled and
    awaited (every socket closed) on leaving it or by :meth:`aclose`."""

    _task: asyncio.Task[None] | None = None

    def _start(self, main: Coroutine[Any, Any, None], name: str) -> None:
        self._task = asyncio.create_task(main, name=name)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel the task and wait until it has finished: every socket is closed then."""
        task, self._task = self._task, None
        await cancel_and_wait(task)


class FeedManager(BackgroundTask):
    """Streams ``symbols`` from ``venues`` (default: the enabled ones in ``settings``).

    A venue whose symbols exceed what one connection carries is split over several
    connections (:mod:`cryptows.feed.shards`); :meth:`health` and the venue events still speak
    of one venue. ``venue_symbols`` gives some venues their own symbols (``--all``: what each
    venue lists); ``lists`` and ``gates`` may be shared with other managers (the symbol lists
    already read, the venues' connection budgets).

    Use as an async context manager (connections start on enter and are all closed on exit),
    or call :meth:`run` in a task of your own and cancel it to stop.
    """

    def __init__(
        self,
        settings: Settings,
        symbols: Sequence[Symbol] | None = None,
        venues: Sequence[str] | None = None,
        *,
        seed: int | None = None,
        sink: FeedSink | None = None,
        venue_symbols: Mapping[str, Sequence[Symbol]] | None = None,
        lists: SymbolLists | None = None,
        gates: dict[str, ConnectGate] | None = None,
        tap: FrameTap | None = None,
    ) -> None:
        self.tap = tap
        """Sees every frame every connection receives (``cryptows record``)."""
        names = tuple(venues) if venues is not None else settings.enabled_venues
        if not names:
            raise UsageError("no venue enabled; enable one in the config or pass --venues")
        self.settings = settings
        self.symbols = tuple(symbols) if symbols is not None else settings.symbols
        if not self.symbols:
            raise UsageError("no symbols given; name some, e.g. BTCUSDT ETHUSDT")
        self.buffer: FeedBuffer[FeedEvent] = FeedBuffer()
        self.sink: FeedSink = sink if sink is not None else self.buffer
        """Where every connection puts its events (default: :attr:`buffer`, read by
        :meth:`events`)."""
        self._classes = {name: adapter_class(name) for name in names}
        self._rng = random.Random(seed)
        self.lists = lists if lists is not None else SymbolLists()
        """The venues' symbol lists, read once for all of a venue's connections."""
        self.gates = gates if gates is not None else {}
        """Venue -> its connection budget, shared by its connections."""
        for name, cls in self._classes.items():
            if name not in self.gates:
                limits = cls.limits
                self.gates[name] = ConnectGate(limits.max_connects, limits.connect_window_s)
        chosen = venue_symbols or {}
        self.plan: dict[str, list[tuple[Symbol, ...]]] = {
            name: split_symbols(tuple(chosen.get(name, self.symbols)), self.per_connection(name))
            for name in names
        }
        """Venue -> the symbols of each of its connections."""
        self.shards: dict[str, tuple[VenueConnection, ...]] = {}
        """Venue -> its connections, in order (set once running)."""
        self._views: dict[str, VenueShards] = {}

    def per_connection(self, venue: str) -> int:
        """Most symbols on one of ``venue``'s connections: its documented limit, or less if
        ``venues.<name>.max_symbols_per_connection`` says so."""
        cls = self._classes[venue]
        most = cls.limits.symbols_per_connection(cls.topics_per_symbol)
        configured = self.settings.venues[venue].max_symbols_per_connection
        return min(most, configured) if configured > 0 else most

    @property
    def venues(self) -> tuple[str, ...]:
        """The venue names this manager streams."""
        return tuple(self._classes)

    @property
    def connections(self) -> dict[str, VenueConnection]:
        """Venue -> its first (usually only) connection; all of them: :meth:`connections_of`."""
        return {name: conns[0] for name, conns in self.shards.items() if conns}

    def connections_of(self, venue: str) -> tuple[VenueConnection, ...]:
        """``venue``'s connections, in order (empty before the feed runs)."""
        return self.shards.get(venue, ())

    async def run(self) -> None:
        """Run every venue connection until cancelled."""
        timeout = aiohttp.ClientTimeout(total=self.settings.feed.open_timeout_s)
        # Proxies are chosen per request (feed.dial.rest_proxy_for: ALL_PROXY too, never for
        # loopback), not by aiohttp's trust_env, which ignores ALL_PROXY.
        async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as http:
            shards: dict[str, tuple[VenueConnection, ...]] = {}
            for name, cls in self._classes.items():
                view = self._views[name] = VenueShards(name, self.plan[name], self.sink)
                shards[name] = tuple(
                    VenueConnection(
                        cls,
                        self.settings.venues[name],
                        self.settings.feed,
                        symbols,
                        view.sink_for(index),
                        http=http,
                        rng=random.Random(self._rng.random()),
                        label=view.label(index),
                        gate=self.gates[name],
                        lists=self.lists,
                        tap=self.tap,
                    )
                    for index, symbols in enumerate(self.plan[name])
                )
            self.shards = shards
            async with asyncio.TaskGroup() as tasks:
                for conns in self.shards.values():
                    for conn in conns:
                        tasks.create_task(conn.run(), name=f"feed-{conn.label}")

    async def __aenter__(self) -> FeedManager:
        self._start(self.run(), "feed-manager")
        await asyncio.sleep(0)  # let the connections be created before anyone reads health
        return self

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The running feed task (done only if the feed stopped unexpectedly)."""
        return self._task

    def health(self) -> dict[str, VenueHealth]:
        """Every venue's health now, by venue name (its connections' together)."""
        return {
            name: self._views[name].health([c.health.snapshot() for c in conns])
            for name, conns in self.shards.items()
        }

    async def events(self) -> AsyncIterator[FeedEvent]:
        """Quotes and status events as they arrive, oldest first. Never blocks the sockets."""
        while True:
            for event in await self.buffer.get_batch():
                yield event
