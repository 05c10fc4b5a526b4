"""The market service every front end shares: feed + aggregator + arbitrage + health.

``quotes``, ``arb``, ``watch`` (and ``analyze``) all read the market through one
:class:`LiveMarket`, so they agree on every price, on what is stale and why, and on every
arbitrage event::

    async with LiveMarket(settings, symbols, venues, demo=demo) as market:
        view = market.snapshot()           # an immutable Snapshot, any time, O(symbols x venues)
        async for event in market.events():  # arbitrage and venue events, in order
            ...

Quotes reach the aggregator synchronously as each frame is parsed, inside the venue's reader
task, so no quote is ever conflated away before the aggregator sees it. Front ends that want the
quotes themselves (``quotes``) subscribe with ``quotes=True`` and get a conflating buffer: a slow
reader sees the newest price per stream, never a backlog.

The service runs its tasks (the feed, the age ticker, the supervisor) in one ``TaskGroup``. A
bug in any of them, or in the aggregator while it handles a frame, ends the run: the error is
kept in :attr:`LiveMarket.failure` (a one-line :class:`~cryptows.errors.CryptowsError`, the full
traceback written to a log file) and :meth:`LiveMarket.wait_failed` returns. A symbol listed on
no venue ends it too (:class:`~cryptows.errors.UsageError`, exit 2).

Why this module is a little over 400 lines: the service protocol every front end codes
against, its subscriptions and the live implementation (with its recording hook) are read
together; the replay (:mod:`cryptows.recording.replay`) and the listings
(:mod:`cryptows.market.listing`) already live elsewhere.
"""

from __future__ import annotations

import asyncio
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Protocol

import msgspec

from cryptows.clock import wall_ms
from cryptows.config import Settings
from cryptows.crash import first_error, internal_error
from cryptows.errors import CryptowsError, UsageError
from cryptows.feed.buffer import FeedBuffer
from cryptows.feed.connection import FrameTap
from cryptows.feed.listing import SymbolLists
from cryptows.feed.manager import BackgroundTask, FeedManager
from cryptows.feed.shards import ConnectGate
from cryptows.market.aggregator import Aggregator
from cryptows.market.listing import Listings
from cryptows.market.types import ArbEvent, Snapshot
from cryptows.models import FeedEvent, Quote, SymbolStatus, VenueHealth, VenueState, VenueStatus
from cryptows.symbols import Symbol, parse_symbol


class MarketService(Protocol):
    """What a front end (the dashboard, a CLI output) needs from the market.

    :class:`LiveMarket` is the real one; tests use a frozen one with the same methods.
    """

    @property
    def demo(self) -> bool:
        """The data comes from the embedded simulator (every screen must say DEMO)."""
        ...

    @property
    def replay(self) -> bool:
        """The data is a recording played back (every screen shows REPLAY and its clock)."""
        ...

    @property
    def finished(self) -> bool:
        """A replay has played its last record (its market holds the final state); never for
        a live feed."""
        ...

    @property
    def venues(self) -> tuple[str, ...]:
        """The venues streamed, in display order."""
        ...

    @property
    def symbols(self) -> tuple[str, ...]:
        """The watched canonical symbols, in the order the user gave them."""
        ...

    @property
    def failure(self) -> CryptowsError | None:
        """Set once the run must end: the error to report (its ``exit_code`` says how)."""
        ...

    def snapshot(self, now_ms: int | None = None) -> Snapshot:
        """The whole market now (or at ``now_ms``), health included. Cheap; never blocks."""
        ...

    def set_threshold(self, threshold_pct: float) -> None:
        """Change the arbitrage threshold (percent); raises ``UsageError`` on a bad value."""
        ...

    def add_symbol(self, text: str) -> str:
        """Watch one more symbol (any accepted spelling); returns its canonical form.

        Raises ``SymbolError`` for a malformed symbol and ``UsageError`` when it is already
        watched. Subscriptions follow in the background.
        """
        ...

    def remove_symbol(self, symbol: str) -> None:
        """Stop watching ``symbol`` (canonical); its open opportunities close."""
        ...

    def set_paused(self, paused: bool) -> None:
        """The user paused the display: a replay stops its clock too; a live feed goes on."""
        ...


MAX_THRESHOLD_PCT = 20.0
"""A larger threshold would never fire on real venues; it is almost certainly a typo."""
TICK_S = 0.25
"""How often quote ages are re-checked (``max_quote_age_ms``) when no frame arrives."""


class MarketRecorder(FrameTap, Protocol):
    """Records a run (``cryptows record``): every frame, and every other event the market takes."""

    def event(self, event: VenueStatus | SymbolStatus) -> None:
        """A venue state change or a symbol's problem, in the order the market received it."""

    def tick(self, now_ms: int) -> None:
        """The market's periodic age check ran at ``now_ms`` (a replay runs it there too)."""


class MarketNotice(msgspec.Struct, frozen=True, kw_only=True):
    """A warning about the run, said once (e.g. a symbol no two venues list)."""

    message: str


MarketEvent = Quote | VenueStatus | SymbolStatus | ArbEvent | MarketNotice
"""What :meth:`LiveMarket.subscribe` delivers."""


def check_threshold(threshold_pct: float) -> None:
    """Refuse a threshold no real market would reach (or a negative one)."""
    if threshold_pct < 0 or threshold_pct != threshold_pct:
        raise UsageError(f"threshold {threshold_pct:g} % must be >= 0; typical: 0.05 to 1")
    if threshold_pct > MAX_THRESHOLD_PCT:
        raise UsageError(
            f"threshold {threshold_pct:g} % is absurd (more than {MAX_THRESHOLD_PCT:g} %); "
            "typical values are 0.05 to 1"
        )


class Subscription:
    """One front end's view of the market's events, in order; never blocks the feed.

    Arbitrage, venue and symbol events are all kept; quotes (only with ``quotes=True``) are
    conflated per stream while the reader is behind.
    """

    def __init__(self, *, quotes: bool) -> None:
        self.quotes = quotes
        self.buffer: FeedBuffer[MarketEvent] = FeedBuffer()

    def put(self, event: MarketEvent) -> None:
        if self.quotes or not isinstance(event, Quote):
            self.buffer.put(event)

    def drain(self) -> list[MarketEvent]:
        """Everything waiting, without waiting."""
        return self.buffer.drain()

    def __aiter__(self) -> AsyncIterator[MarketEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[MarketEvent]:
        while True:
            for event in await self.buffer.get_batch():
                yield event


class LiveMarket(BackgroundTask):
    """The live market for ``symbols`` on ``venues``: see the module docstring.

    Args:
        settings: Effective settings (endpoints, feed behaviour, ``[arb]``).
        symbols: Watched symbols, in display order.
        venues: Venue names (default: those enabled in ``settings``).
        demo: The endpoints are the embedded simulator's (shown in every snapshot).
        gross: Arbitrage on the gross spread instead of net of taker fees.
        clock: Wall-clock milliseconds (tests pass a fixed one).
        venue_symbols: Venue -> the symbols to stream there, when not all of ``symbols``
            (``--all``: what each venue lists); a symbol added later goes to every venue.
        lists: The venues' symbol lists already read (``--all``), so the feed reads them again
            only once they are old.
        recorder: Sees every frame and every other feed event (``cryptows record``).
    """

    def __init__(
        self,
        settings: Settings,
        symbols: Sequence[Symbol],
        venues: Sequence[str] | None = None,
        *,
        demo: bool = False,
        gross: bool = False,
        clock: Callable[[], int] = wall_ms,
        venue_symbols: Mapping[str, Sequence[Symbol]] | None = None,
        lists: SymbolLists | None = None,
        recorder: MarketRecorder | None = None,
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self._venue_symbols = (
            {v: tuple(venue_symbols.get(v, symbols)) for v in venues or settings.enabled_venues}
            if venue_symbols is not None
            else None
        )
        self._lists = lists if lists is not None else SymbolLists()
        self._gates: dict[str, ConnectGate] = {}
        """The venues' connection budgets, kept across the feed's restarts."""
        self._venues = tuple(venues) if venues is not None else settings.enabled_venues
        self._symbols = tuple(dict.fromkeys(symbols))
        if not self._symbols:
            raise UsageError("no symbols given; name some, e.g. BTCUSDT ETHUSDT")
        self._demo = demo
        self.clock = clock
        arb = settings.arb
        check_threshold(arb.threshold_pct)
        self.aggregator = Aggregator(
            self._symbols,
            fees_pct={v: settings.venues[v].taker_fee_pct for v in self._venues},
            threshold_pct=arb.threshold_pct,
            hysteresis_pct=min(arb.hysteresis_pct, arb.threshold_pct),
            gross=gross,
            max_quote_age_ms=arb.max_quote_age_ms,
            equivalents=arb.quote_equivalents,
            confirm_ms=arb.confirm_ms,
            demo=demo,
        )
        self._manager = self._new_manager()  # validates venues and symbols now
        self._subscribers: list[Subscription] = []
        self._listings = Listings(self._venues, (s.canonical for s in self._symbols))
        self._notices: list[str] = []
        self._failure: CryptowsError | None = None
        self._failed = asyncio.Event()
        self._resubscribe = asyncio.Event()
        self.ended = asyncio.Event()
        """Set once the data has run out (a replay's last record); never for a live feed."""

    # -- MarketService ----------------------------------------------------------------------

    @property
    def demo(self) -> bool:
        return self._demo

    @property
    def replay(self) -> bool:
        return False

    @property
    def finished(self) -> bool:
        return self.ended.is_set()

    @property
    def venues(self) -> tuple[str, ...]:
        return self._venues

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(s.canonical for s in self._symbols)

    @property
    def failure(self) -> CryptowsError | None:
        return self._failure

    def snapshot(self, now_ms: int | None = None) -> Snapshot:
        now = self.clock() if now_ms is None else now_ms
        snap = self.aggregator.snapshot(now)
        return msgspec.structs.replace(
            snap, health=tuple(self.health().values()), notices=tuple(self._notices)
        )

    def set_threshold(self, threshold_pct: float) -> None:
        check_threshold(threshold_pct)
        hysteresis = min(self.settings.arb.hysteresis_pct, threshold_pct)
        self.aggregator.set_threshold(threshold_pct, hysteresis)

    def add_symbol(self, text: str) -> str:
        symbol = parse_symbol(text)
        if symbol in self._symbols:
            raise UsageError(f"{symbol.canonical} is already watched")
        self._set_symbols((*self._symbols, symbol))
        return symbol.canonical

    def remove_symbol(self, symbol: str) -> None:
        remaining = tuple(s for s in self._symbols if s.canonical != symbol)
        if remaining == self._symbols:
            raise UsageError(f"{symbol} is not watched")
        if not remaining:
            raise UsageError("the watchlist cannot be empty; add another symbol first")
        self._set_symbols(remaining)

    def set_paused(self, paused: bool) -> None:
        pass  # a live market never stops: only the display pauses

    # -- more queries -----------------------------------------------------------------------

    def health(self) -> dict[str, VenueHealth]:
        """Every venue's health now, in venue order (``connecting`` before it starts)."""
        current = self._manager.health()
        return {
            name: current.get(name) or VenueHealth(venue=name, state=VenueState.CONNECTING)
            for name in self._venues
        }

    def subscribe(self, *, quotes: bool = False) -> Subscription:
        """A new ordered stream of this market's events (quotes too with ``quotes``).

        Subscribe before the first ``await`` after entering the market to see every event.
        """
        subscription = Subscription(quotes=quotes)
        self._subscribers.append(subscription)
        return subscription

    def events(self) -> AsyncIterator[MarketEvent]:
        """Arbitrage, venue and symbol events, in order (a new :meth:`subscribe`)."""
        return aiter(self.subscribe())

    def close_all(self) -> list[ArbEvent]:
        """Close every open opportunity now (end of a run); the events also go to subscribers."""
        events = self.aggregator.close_all(self.clock())
        self._publish(events)
        return events

    async def wait_failed(self) -> CryptowsError:
        """Wait until the run must end; returns :attr:`failure`."""
        await self._failed.wait()
        assert self._failure is not None
        return self._failure

    # -- the feed's sink ----------------------------------------------------------------------

    def put(self, event: FeedEvent) -> None:
        """Apply one feed event (called by the venue connections as each frame is parsed)."""
        if self._failure is not None:
            return
        if self.recorder is not None and type(event) is not Quote:
            if isinstance(event, VenueStatus | SymbolStatus):
                self.recorder.event(event)
        try:
            arb_events = self.aggregator.on_event(event)
            notice: str | None = None
            error: UsageError | None = None
            if isinstance(event, Quote):
                notice = self._listings.on_quote(event.symbol, event.venue)
            elif isinstance(event, SymbolStatus):
                notice, error = self._listings.on_status(event)
            if notice is not None:
                self._notice(notice)
            if error is not None:
                self._fail(error)
        except Exception as exc:  # a bug: end the run, never leave it "live" doing nothing
            self._fail(internal_error(exc, "the market aggregator"))
            return
        for subscriber in self._subscribers:
            subscriber.put(event)
        if arb_events:  # most quotes cause none
            self._publish(arb_events)

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> LiveMarket:
        self._start(self._run(), "live-market")
        return self

    async def _run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._feed(), name="market-feed")
                tasks.create_task(self._ticker(), name="market-ticker")
        except Exception as exc:  # noqa: BLE001 - every bug ends the run with its traceback logged
            leaf = first_error(exc)
            self._fail(internal_error(leaf, "the market service"))

    async def _feed(self) -> None:
        """Run the feed; start it again with the new symbols whenever the watchlist changes."""
        while True:
            self._resubscribe.clear()
            self._manager = self._new_manager()  # with the symbols watched now
            async with self._manager as manager:
                assert manager.task is not None
                changed = asyncio.ensure_future(self._resubscribe.wait())
                try:
                    await asyncio.wait({changed, manager.task}, return_when=FIRST_COMPLETED)
                finally:
                    changed.cancel()
                if manager.task.done():
                    manager.task.result()  # a bug in the feed: raise it (connections never end)
                    raise RuntimeError("the feed ended by itself")

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = self.clock()
            if self.recorder is not None:
                self.recorder.tick(now)
            self._publish(self.aggregator.tick(now))

    # -- internals --------------------------------------------------------------------------

    def _new_manager(self) -> FeedManager:
        return FeedManager(
            self.settings,
            self._symbols,
            self._venues,
            sink=self,
            venue_symbols=self._venue_symbols,
            lists=self._lists,
            gates=self._gates,
            tap=self.recorder,
        )

    def _set_symbols(self, symbols: tuple[Symbol, ...]) -> None:
        FeedManager(self.settings, symbols, self._venues)  # validates; raises UsageError
        if self._venue_symbols is not None:
            added = tuple(s for s in symbols if s not in self._symbols)
            self._venue_symbols = {
                venue: tuple(s for s in mine if s in symbols) + added
                for venue, mine in self._venue_symbols.items()
            }
        self._symbols = symbols
        self._publish(self.aggregator.set_symbols(symbols, self.clock()))
        self._resubscribe.set()

    def _publish(self, events: Iterable[ArbEvent]) -> None:
        for event in events:
            for subscriber in self._subscribers:
                subscriber.put(event)

    def _notice(self, message: str) -> None:
        self._notices.append(message)
        event = MarketNotice(message=message)
        for subscriber in self._subscribers:
            subscriber.put(event)

    def _fail(self, error: CryptowsError) -> None:
        if self._failure is None:
            self._failure = error
            self._failed.set()
