"""Replay a recording through the same parsers, market service and arbitrage engine as live.

:class:`ReplayMarket` is a :class:`~cryptows.service.LiveMarket` whose feed is a file: each
recorded frame goes to a venue adapter's ``parse`` with its recorded receipt times, and its
quotes into :meth:`LiveMarket.put`, as :class:`~cryptows.feed.connection.VenueConnection` does;
recorded state changes go in as they did live. Time inside the engine is the recording's clock:
:meth:`ReplayMarket.now_ms` is the time of the last record played, and the age ticker runs at
the recorded ticks (where the live market ran them), or, in a file without them, at each
:data:`~cryptows.service.TICK_S` boundary of recorded time; never on the wall clock. So
replaying a file at ``speed=0`` (as fast as possible) gives the same events every time, and
with recorded ticks the same arbitrage events as the live run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from cryptows.config import Settings
from cryptows.crash import internal_error
from cryptows.feed.health import HealthTracker
from cryptows.models import BadFrame, Quote, VenueHealth, VenueStatus
from cryptows.recording.format import (
    Connected,
    Frame,
    Record,
    Status,
    SymbolChange,
    Tick,
    wall_of,
)
from cryptows.recording.reader import RecordingReader
from cryptows.service import TICK_S, LiveMarket
from cryptows.symbols import Symbol
from cryptows.venues import adapter_class
from cryptows.venues.base import VenueAdapter

YIELD_EVERY = 256
"""At ``speed=0``, let the rest of the program run after this many records."""


class ReplayMarket(LiveMarket):
    """The market of a recording, played at ``speed`` x its pacing (``0``: as fast as possible).

    :attr:`ended` is set after the last record; the market then holds its final state.
    """

    def __init__(
        self,
        settings: Settings,
        symbols: Sequence[Symbol],
        venues: Sequence[str],
        *,
        reader: RecordingReader,
        speed: float = 1.0,
        demo: bool = False,
        gross: bool = False,
    ) -> None:
        self.reader = reader
        self.speed = speed
        self._now_ms = reader.header.start_ms
        self._mono_s = reader.header.start_mono_ns / 1e9
        super().__init__(settings, symbols, venues, demo=demo, gross=gross, clock=self.now_ms)
        self._trackers = {v: HealthTracker(v, clock=self._recorded_s) for v in self.venues}
        self._adapters: dict[str, VenueAdapter] = {}
        self._paused = False
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._paused_at = 0.0
        self._base_s = 0.0
        """Loop time at which the recording's start is (or would have been) played."""
        self.frames = 0
        """Frames played so far."""
        self._watched = frozenset(self.symbols)

    @property
    def replay(self) -> bool:
        return True

    def now_ms(self) -> int:
        """The recording's clock: wall ms of the last record (or tick) played."""
        return self._now_ms

    def set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        self._paused = paused
        loop_time = asyncio.get_running_loop().time()
        if paused:
            self._paused_at = loop_time
            self._resumed.clear()
        else:
            self._base_s += loop_time - self._paused_at
            self._resumed.set()

    def health(self) -> dict[str, VenueHealth]:
        return {name: tracker.snapshot() for name, tracker in self._trackers.items()}

    # -- playing ----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._play()
        except Exception as exc:  # noqa: BLE001 - a bug ends the run with its traceback logged
            self._fail(internal_error(exc, "the replay"))
        finally:
            self.reader.close()
            self.ended.set()

    async def _play(self) -> None:
        tick_ms = round(TICK_S * 1000)
        recorded_ticks = self.reader.header.ticks
        next_tick = self._now_ms + tick_ms
        self._base_s = asyncio.get_running_loop().time()
        for n, record in enumerate(self.reader.records()):
            at = max(wall_of(record), self._now_ms)
            while not recorded_ticks and next_tick <= at:
                await self._pace(next_tick)
                self._now_ms = next_tick
                self._publish(self.aggregator.tick(next_tick))
                next_tick += tick_ms
            if self.speed > 0:
                await self._pace(at)
            elif n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
                await self._resumed.wait()
            self._now_ms = at
            self._apply(record)
            if self.failure is not None:
                return

    async def _pace(self, at_ms: int) -> None:
        """Wait until ``at_ms`` of recorded time is due at ``speed`` (not while paused)."""
        loop = asyncio.get_running_loop()
        start_ms = self.reader.header.start_ms
        while True:
            if self._paused:
                await self._resumed.wait()
                continue
            if self.speed <= 0:
                return
            delay = self._base_s + (at_ms - start_ms) / 1000 / self.speed - loop.time()
            if delay <= 0:
                return
            await asyncio.sleep(min(delay, TICK_S))  # short: a pause takes effect soon

    def _apply(self, record: Record) -> None:
        """One record into the market, as the live connection would have put it."""
        if isinstance(record, Frame):
            self._frame(record)
        elif isinstance(record, Tick):
            self._publish(self.aggregator.tick(record.wall_ms))  # the live market's own moment
        elif isinstance(record, Connected):
            if record.conn in self._adapters and record.venue in self._trackers:
                self._trackers[record.venue].reconnects += 1
            self._adapters[record.conn] = adapter_class(record.venue)()
        elif isinstance(record, Status):
            self._mono_s = record.mono_ns / 1e9
            self._status(record.event)
        elif isinstance(record, SymbolChange):
            event = record.event
            tracker = self._trackers.get(event.venue)
            if tracker is not None:
                if event.ok:
                    tracker.symbol_errors.pop(event.symbol, None)
                else:
                    tracker.symbol_errors[event.symbol] = event.message
                self.put(event)

    def _frame(self, record: Frame) -> None:
        tracker = self._trackers.get(record.venue)
        if tracker is None:
            return  # a venue left out with --venues
        adapter = self._adapters.get(record.conn)
        if adapter is None:
            adapter = self._adapters[record.conn] = adapter_class(record.venue)()
        self.frames += 1
        self._mono_s = record.mono_ns / 1e9
        tracker.on_frame(self._mono_s)
        frame = record.text if record.text is not None else record.data or b""
        watched = self._watched
        put = self.put
        for event in adapter.parse(frame, recv_mono_ns=record.mono_ns, recv_wall_ms=record.wall_ms):
            if type(event) is Quote:
                if event.symbol not in watched:
                    continue
                if event.exchange_ts_ms is not None:
                    tracker.on_lag(event.recv_wall_ms - event.exchange_ts_ms)
                put(event)
            elif type(event) is BadFrame:
                tracker.bad_frames += 1

    def _status(self, event: VenueStatus) -> None:
        tracker = self._trackers.get(event.venue)
        if tracker is None:
            return
        if not event.symbols:  # the venue's own state (not one of its connections')
            tracker.transition(event.state, event.reason, event.retry_at_ms)
        self.put(event)

    def _set_symbols(self, symbols: tuple[Symbol, ...]) -> None:
        super()._set_symbols(symbols)
        self._watched = frozenset(self.symbols)

    def _recorded_s(self) -> float:
        return self._mono_s
