"""The production ingest path, without sockets: frame -> adapter -> market service -> aggregator.

:func:`make_pipeline` builds it from the real objects: one venue adapter per venue (subscribed
to the symbols, as a connection's adapter is, so acks name what they acknowledge) and a
:class:`~cryptows.service.LiveMarket` on the built-in default settings (taker fees, threshold,
hysteresis, confirmation time ...), never started, so nothing connects anywhere. Each frame goes
the way :class:`~cryptows.feed.connection.VenueConnection` takes it: ``adapter.parse`` with the
receipt times, then each quote to the service's feed sink (:meth:`LiveMarket.put`: the
aggregator, the arbitrage engine, the listings, the subscribers), a venue's first quote or ack
marking it live (a :class:`~cryptows.models.VenueStatus`) first. Not here: the connection's
health bookkeeping (message rate, lag, bad-frame count), symbol watch and resubscription on a
refusal, and the service's 0.25 s ticker (quote ages, candidates confirmed while their pair is
quiet); none of them is part of turning a frame into arbitrage events.

For outside harnesses::

    from cryptows.bench import make_pipeline

    pipeline = make_pipeline()
    pipeline.process("binance", frame)   # bytes (or str) as received
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from cryptows.bench.stream import SYMBOLS
from cryptows.clock import wall_ms
from cryptows.config import DEFAULT_SOURCE, Settings
from cryptows.config.keys import declared_keys
from cryptows.config.settings import build_settings
from cryptows.market.aggregator import Aggregator
from cryptows.market.types import ArbEvent
from cryptows.models import BadFrame, Quote, SubscriptionAck, VenueState, VenueStatus
from cryptows.service import LiveMarket, MarketEvent
from cryptows.symbols import Symbol, parse_symbols
from cryptows.venues import ADAPTERS, VENUE_NAMES
from cryptows.venues.base import Frame, VenueAdapter


def default_settings() -> Settings:
    """The built-in defaults alone: no config file, no environment, no flags."""
    keys = declared_keys()
    values = {name: key.check(name, key.default) for name, key in keys.items()}
    return build_settings(values, sources=dict.fromkeys(values, DEFAULT_SOURCE), config_file=None)


def subscribed_adapters(
    symbols: Sequence[Symbol], venues: Sequence[str]
) -> dict[str, VenueAdapter]:
    """A fresh adapter per venue that has built its subscribe requests for ``symbols`` (the
    frames are dropped): what a connection's adapter knows when the first frame arrives."""
    adapters: dict[str, VenueAdapter] = {}
    for name in venues:
        adapter = ADAPTERS[name]()
        adapter.subscribe(symbols)
        adapters[name] = adapter
    return adapters


class Pipeline:
    """Frames in, the market's state and arbitrage events out (module docstring).

    Attributes:
        market: The market service the quotes go to (never started).
        adapters: Venue name -> its adapter.
        quotes: Quotes handed to the market so far.
        bad_frames: Frames the adapters refused so far.
    """

    def __init__(
        self,
        market: LiveMarket,
        adapters: dict[str, VenueAdapter],
        *,
        wall_clock: Callable[[], int] = wall_ms,
        mono_clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.market = market
        self.adapters = adapters
        self.quotes = 0
        self.bad_frames = 0
        self._wall_clock = wall_clock
        self._mono_clock = mono_clock
        self._put = market.put
        self._live: set[str] = set()
        self._events = market.subscribe()  # what `arb` and `watch` read: arbitrage + status

    @property
    def aggregator(self) -> Aggregator:
        """The market's aggregator (its state, :meth:`~Aggregator.snapshot`)."""
        return self.market.aggregator

    def process(self, venue: str, frame: Frame) -> None:
        """Take one frame from ``venue``, received now; raises if the market failed (a bug)."""
        self.process_at(venue, frame, self._wall_clock(), self._mono_clock())
        self.check()

    def process_at(
        self, venue: str, frame: Frame, recv_wall_ms: int, recv_mono_ns: int = 0
    ) -> None:
        """Take one frame from ``venue`` received at ``recv_wall_ms`` (what the benchmark
        times: :meth:`process` with the receipt times given, and no check)."""
        for event in self.adapters[venue].parse(
            frame, recv_mono_ns=recv_mono_ns, recv_wall_ms=recv_wall_ms
        ):
            if isinstance(event, Quote):
                if venue not in self._live:
                    self._mark_live(venue, recv_wall_ms)
                self.quotes += 1
                self._put(event)
            elif isinstance(event, SubscriptionAck):
                if venue not in self._live:
                    self._mark_live(venue, recv_wall_ms)
            elif isinstance(event, BadFrame):
                self.bad_frames += 1

    def _mark_live(self, venue: str, now_ms: int) -> None:
        self._live.add(venue)
        self._put(VenueStatus(venue=venue, state=VenueState.LIVE, ts_ms=now_ms))

    def check(self) -> None:
        """Raise the market's failure, if it failed (a bug in the aggregator)."""
        failure = self.market.failure
        if failure is not None:
            raise failure

    def drain_events(self) -> list[MarketEvent]:
        """The market's events since the last call (arbitrage, venue states, notices)."""
        self.check()
        return self._events.drain()

    def drain_arb_events(self) -> list[ArbEvent]:
        """Only the arbitrage events of :meth:`drain_events`."""
        return [e for e in self.drain_events() if isinstance(e, ArbEvent)]


def make_pipeline(
    symbols: Sequence[str] | None = None,
    venues: Sequence[str] | None = None,
    *,
    wall_clock: Callable[[], int] = wall_ms,
    mono_clock: Callable[[], int] = time.monotonic_ns,
) -> Pipeline:
    """The production decode -> parse -> aggregate -> arbitrage path, for outside harnesses.

    Args:
        symbols: Watched symbols (default: the benchmark stream's ten,
            :data:`cryptows.bench.stream.SYMBOLS`).
        venues: Venues (default: every registered one).
        wall_clock, mono_clock: What :meth:`Pipeline.process` stamps frames with (wall ms,
            monotonic ns), as the connection does.

    Returns:
        An object whose ``process(venue, frame)`` runs one received frame through the path.
    """
    parsed = parse_symbols(tuple(symbols) if symbols is not None else SYMBOLS)
    names = tuple(venues) if venues is not None else VENUE_NAMES
    market = LiveMarket(default_settings(), parsed, names)
    return Pipeline(
        market,
        subscribed_adapters(parsed, names),
        wall_clock=wall_clock,
        mono_clock=mono_clock,
    )
