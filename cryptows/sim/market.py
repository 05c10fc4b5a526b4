"""The seeded market engine behind every simulated venue.

One engine drives all venues so their prices move together: a correlated random walk per
symbol (a common market factor plus an idiosyncratic part), a small mean-reverting offset per
venue, venue-specific spreads and sizes, and now and then a *dislocation* — one venue's price
for one symbol jumps by 0.5–1.2 % for a few seconds — large enough to clear taker fees so the
arbitrage scanner has something real to find.

The engine is lazy and deterministic: :meth:`MarketEngine.book` advances the walk in fixed
steps up to the time asked for, so the same seed and the same sequence of requested times give
the same prices, with no background task.

What each venue lists, its spread and its volume are the venue's own facts: each simulator module
declares a :class:`VenueProfile` on its server class, and the engine is given them, in the
registry's order, by :data:`cryptows.sim.cluster.SIMULATORS`. This module holds only what all
venues share: the symbols' start prices and ticks, and the walk.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptows.symbols import Symbol, parse_symbol

STEP_MS = 50
"""Time step of the random walk."""

_INSTRUMENTS: dict[str, tuple[float, float]] = {
    # canonical symbol: (start price, tick size)
    "BTCUSDT": (97_000.0, 0.01),
    "ETHUSDT": (3_400.0, 0.01),
    "SOLUSDT": (190.0, 0.01),
    "XRPUSDT": (2.2, 0.0001),
    "DOGEUSDT": (0.32, 0.00001),
    "BNBUSDT": (650.0, 0.01),
    "ADAUSDT": (0.98, 0.0001),
    "LINKUSDT": (23.5, 0.001),
    "LTCUSDT": (118.0, 0.01),
    "AVAXUSDT": (41.0, 0.001),
    "BTCUSDC": (97_000.0, 0.01),
    "ETHUSDC": (3_400.0, 0.01),
    "BTCUSD": (97_000.0, 0.01),
    "ETHUSD": (3_400.0, 0.01),
    "SOLUSD": (190.0, 0.01),
    "ETHBTC": (0.035, 0.00001),
}

EVERYWHERE = frozenset(
    {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "ETHBTC", "ADAUSDT", "LINKUSDT",
     "LTCUSDT", "AVAXUSDT"}
)  # fmt: skip
"""Listed on every simulated venue, so 10 symbols can be watched on all four at once; each
venue's profile adds its own books to these."""

_STEP_VOL = 0.00012  # per-step volatility of the common walk (~1.2 bp per 50 ms)
_CORRELATION = 0.8
_OFFSET_VOL = 0.000015
_OFFSET_REVERT = 0.05
_DISLOCATION_PER_STEP = 1 / 120  # about one every 6 s across the whole market
_DISLOCATION_MS = (2_000, 5_000)
_DISLOCATION_SIZE = (0.005, 0.012)
_CHANGE_24H = 0.04  # each symbol starts up to ±4 % away from its price 24 h ago


@dataclass(frozen=True, slots=True)
class VenueProfile:
    """One simulated venue's market facts: what it lists, how tight and how busy its books are."""

    listings: frozenset[str]
    """Canonical symbols the venue lists (each a key of the engine's price table)."""
    half_spread_bps: float
    """Half the quoted spread, in basis points of the mid."""
    base_volume_usd: float
    """Typical 24 h volume of one book, in USD (each book draws 0.5-1.5 times this)."""


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """One venue's book and ticker for one symbol at one moment."""

    symbol: Symbol
    bid: float
    bid_size: float
    ask: float
    ask_size: float
    last: float
    volume_24h: float
    """Base-asset volume of the rolling 24 h window."""
    quote_volume_24h: float
    """Quote-asset volume (turnover) of the window: ``volume_24h`` at the last price."""
    open_24h: float
    """The price 24 h ago (the rolling window's open), for the venues' 24 h change fields."""
    high_24h: float
    """The window's high: 1 % above the higher of open and last, rounded up to the tick."""
    low_24h: float
    """The window's low: 1 % below the lower of open and last, rounded down to the tick."""
    ts_ms: int
    seq: int
    """Increases every time this venue's view of this symbol changes."""
    tick: float
    """Price increment, for formatting."""


@dataclass(slots=True)
class _Dislocation:
    venue: str
    symbol: str
    factor: float
    until_ms: int


@dataclass(slots=True)
class _State:
    mid: float
    offsets: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    volume: dict[str, float] = field(default_factory=dict)
    open_24h: dict[str, float] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, tuple[float, float]] = field(default_factory=dict)
    shown: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)


class MarketEngine:
    """Seeded, lazily stepped prices for every (venue, symbol) the simulator lists."""

    def __init__(
        self,
        seed: int = 7,
        *,
        start_ms: int,
        dislocations: bool = True,
        venues: Mapping[str, VenueProfile] | None = None,
    ) -> None:
        """A market at ``start_ms``.

        Args:
            seed: the same seed (and venues) gives the same price paths.
            start_ms: wall-clock time the walk starts at.
            dislocations: let the market produce random cross-venue dislocations.
            venues: each venue's profile, by name; ``None`` means every simulator of
                :data:`cryptows.sim.cluster.SIMULATORS`. Their order is part of the seed's
                meaning (the random draws go venue by venue in it), so pass every venue in the
                registry's order even when only some are served.
        """
        if venues is None:
            from cryptows.sim.cluster import venue_profiles

            venues = venue_profiles()
        self._venues = dict(venues)
        self._rng = random.Random(seed)
        self._now_ms = start_ms
        self._dislocations_on = dislocations
        self._active: list[_Dislocation] = []
        self._states: dict[str, _State] = {}
        # A separate stream, so the 24 h opens leave the seeded walk exactly as it was.
        history = random.Random(f"{seed}/open_24h")
        for canonical, (price, tick) in _INSTRUMENTS.items():
            state = _State(mid=price)
            opened = price / (1 + history.uniform(-_CHANGE_24H, _CHANGE_24H))
            for venue, profile in self._venues.items():
                if canonical in profile.listings:
                    state.offsets[venue] = self._rng.gauss(0, 0.0001)
                    state.last[venue] = price
                    venue_open = opened * (1 + history.gauss(0, 0.0003))
                    state.open_24h[venue] = _round_down(venue_open, tick)
                    notional = profile.base_volume_usd * self._rng.uniform(0.5, 1.5)
                    state.volume[venue] = notional / price
                    state.seq[venue] = 1
                    state.sizes[venue] = self._sizes(price)
            self._states[canonical] = state

    def listings(self, venue: str) -> frozenset[str]:
        """The canonical symbols ``venue`` lists (empty for a venue the engine does not run)."""
        profile = self._venues.get(venue)
        return profile.listings if profile is not None else frozenset()

    def listed(self, venue: str, symbol: str) -> bool:
        """Whether ``venue`` lists the canonical ``symbol``."""
        return symbol in self.listings(venue)

    def dislocate(
        self, venue: str, symbol: str, pct: float, duration_ms: int, *, now_ms: int | None = None
    ) -> None:
        """Force a dislocation: ``venue``'s ``symbol`` moves by ``pct`` percent for ``duration_ms``.

        It starts at the engine's current time, or at ``now_ms`` when given (the walk is first
        advanced to it, which leaves the seeded path as it was): a lazy engine nobody has asked
        for a while lags the clock, and a dislocation timed from that lag would end early.
        """
        if now_ms is not None:
            self._advance(now_ms)
        self._active.append(_Dislocation(venue, symbol, 1 + pct / 100, self._now_ms + duration_ms))

    def book(self, venue: str, symbol: str, now_ms: int) -> TopOfBook:
        """The top of book ``venue`` shows for ``symbol`` at ``now_ms`` (advancing the walk)."""
        self._advance(now_ms)
        state = self._states[symbol]
        price, tick = _INSTRUMENTS[symbol]
        mid = state.mid * (1 + state.offsets[venue])
        for d in self._active:
            if d.venue == venue and d.symbol == symbol:
                mid *= d.factor
        half = max(mid * self._venues[venue].half_spread_bps / 10_000, tick / 2)
        bid = _round_down(mid - half, tick)
        ask = max(_round_up(mid + half, tick), bid + tick)
        bid_size, ask_size = state.sizes[venue]
        last = min(max(state.last[venue], bid), ask)
        opened = state.open_24h[venue]
        volume = state.volume[venue]
        shown = (bid, ask, bid_size, ask_size)
        if state.shown.get(venue) != shown:
            state.shown[venue] = shown
            state.seq[venue] += 1
        return TopOfBook(
            symbol=parse_symbol(symbol),
            bid=bid,
            bid_size=bid_size,
            ask=ask,
            ask_size=ask_size,
            last=last,
            volume_24h=volume,
            quote_volume_24h=volume * last,
            open_24h=opened,
            high_24h=_round_up(max(opened, last) * 1.01, tick),
            low_24h=_round_down(min(opened, last) * 0.99, tick),
            ts_ms=self._now_ms,
            seq=state.seq[venue],
            tick=tick,
        )

    def _advance(self, now_ms: int) -> None:
        while self._now_ms + STEP_MS <= now_ms:
            self._now_ms += STEP_MS
            self._step()

    def _step(self) -> None:
        rng = self._rng
        market = rng.gauss(0, 1)
        own_weight = math.sqrt(1 - _CORRELATION**2)
        for state in self._states.values():
            z = _CORRELATION * market + own_weight * rng.gauss(0, 1)
            state.mid *= math.exp(_STEP_VOL * z)
            for venue, offset in state.offsets.items():
                state.offsets[venue] = (1 - _OFFSET_REVERT) * offset + rng.gauss(0, _OFFSET_VOL)
                if rng.random() < 0.3:  # sizes change on about a third of the steps
                    state.sizes[venue] = self._sizes(state.mid)
                    if rng.random() < 0.5:
                        state.last[venue] = state.mid * (1 + state.offsets[venue])
                        state.volume[venue] += rng.expovariate(1.0) * 5_000 / state.mid
        self._active = [d for d in self._active if d.until_ms > self._now_ms]
        if self._dislocations_on and rng.random() < _DISLOCATION_PER_STEP:
            symbol = rng.choice(("BTCUSDT", "ETHUSDT", "BTCUSDT", "SOLUSDT"))
            venues = [v for v, profile in self._venues.items() if symbol in profile.listings]
            venue = rng.choice(venues)
            size = rng.uniform(*_DISLOCATION_SIZE) * rng.choice((-1, 1))
            duration = rng.randint(*_DISLOCATION_MS)
            self._active.append(_Dislocation(venue, symbol, 1 + size, self._now_ms + duration))

    def _sizes(self, price: float) -> tuple[float, float]:
        notional = self._rng.lognormvariate(math.log(20_000), 1.0)
        other = self._rng.lognormvariate(math.log(20_000), 1.0)
        return round(notional / price, 6) or 0.000001, round(other / price, 6) or 0.000001


def _round_down(value: float, tick: float) -> float:
    return round(math.floor(value / tick + 1e-9) * tick, 10)


def _round_up(value: float, tick: float) -> float:
    return round(math.ceil(value / tick - 1e-9) * tick, 10)


def decimals(tick: float) -> int:
    """Number of decimals a price with this tick is written with."""
    return max(0, -math.floor(math.log10(tick) + 1e-9))
