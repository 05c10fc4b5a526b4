"""The seeded market engine behind every simulated venue.

One engine drives all venues so their prices move together: a correlated random walk per
symbol (a common market factor plus an idiosyncratic part), a small mean-reverting offset per
venue, venue-specific spreads and sizes, and now and then a *dislocation* — one venue's price
for one symbol jumps by 0.5–1.2 % for a few seconds — large enough to clear taker fees so the
arbitrage scanner has something real to find.

The engine is lazy and deterministic: :meth:`MarketEngine.book` advances the walk in fixed
steps up to the time asked for, so the same seed and the same sequence of requested times give
the same prices, with no background task.

That step-by-step walk drives the sixteen *core* books
(:data:`cryptows.sim.universe.CORE_INSTRUMENTS`). The several hundred other books of the
universe (:mod:`cryptows.sim.universe`) belong to the *wide market* (:mod:`cryptows.sim.wide`):
each is evolved only when somebody asks for it, and follows the core (BTC's moves, and the core
book of its base where there is one), so a large universe costs nothing until subscribed.

What each venue lists, its spread and its volume are the venue's own facts: each simulator module
declares a :class:`VenueProfile` on its server class, and the engine is given them, in the
registry's order, by :data:`cryptows.sim.cluster.SIMULATORS`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptows.sim.book import (
    TopOfBook,
    VenueProfile,
    decimals,
    make_book,
    quote_around,
    round_down,
)
from cryptows.sim.depth import Depth, depth
from cryptows.sim.tape import Candle, Tape, Trade
from cryptows.sim.universe import CORE_INSTRUMENTS, EVERYWHERE, lot_of, size_scale, symbol_of
from cryptows.sim.wide import STEP_MS, WideMarket

__all__ = [
    "EVERYWHERE",
    "STEP_MS",
    "Candle",
    "Depth",
    "MarketEngine",
    "Tape",
    "TopOfBook",
    "Trade",
    "VenueProfile",
    "decimals",
]

_INSTRUMENTS = CORE_INSTRUMENTS
_STEP_VOL = 0.00012  # per-step volatility of the common walk (~1.2 bp per 50 ms)
_CORRELATION = 0.8
_OFFSET_VOL = 0.000015
_OFFSET_REVERT = 0.05
_OWN_WEIGHT = math.sqrt(1 - _CORRELATION**2)  # a symbol's own share of its step
_OFFSET_KEEP = 1 - _OFFSET_REVERT
_LOG_NOTIONAL = math.log(20_000)  # the median notional of a quoted size, in USD
_DISLOCATION_PER_STEP = 1 / 120  # about one every 6 s across the whole market
_DISLOCATION_MS = (2_000, 5_000)
_DISLOCATION_SIZE = (0.005, 0.012)
_CHANGE_24H = 0.04  # each symbol starts up to ±4 % away from its price 24 h ago


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
    tapes: dict[str, Tape] = field(default_factory=dict)
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
        self._sides = random.Random(f"{seed}/sides")  # trade sides: the walk stays as it was
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
                    state.open_24h[venue] = round_down(venue_open, tick)
                    notional = profile.base_volume_usd * self._rng.uniform(0.5, 1.5)
                    state.volume[venue] = notional / price
                    state.seq[venue] = 1
                    state.sizes[venue] = self._sizes(price)
                    state.tapes[venue] = Tape(f"{venue}/{canonical}", price, start_ms)
            self._states[canonical] = state
        self._symbols = {canonical: symbol_of(canonical) for canonical in _INSTRUMENTS}
        self._wide = WideMarket(
            seed, self._venues, lambda core: self._states[core].mid, dislocations=dislocations
        )

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
        """The top of book ``venue`` shows for ``symbol`` at ``now_ms`` (advancing the walk).

        Raises:
            KeyError: ``venue`` does not list ``symbol``.
        """
        self._advance(now_ms)
        state = self._states.get(symbol)
        if state is None:
            forced = self._forced(venue, symbol) if self._active else 1.0
            return self._wide.book(venue, symbol, self._now_ms, forced)
        _, tick = _INSTRUMENTS[symbol]
        mid = state.mid * (1 + state.offsets[venue])
        for d in self._active:
            if d.venue == venue and d.symbol == symbol:
                mid *= d.factor
        bid, ask = quote_around(mid, self._venues[venue].half_spread_bps, tick)
        bid_size, ask_size = state.sizes[venue]
        shown = (bid, ask, bid_size, ask_size)
        if state.shown.get(venue) != shown:
            state.shown[venue] = shown
            state.seq[venue] += 1
        return make_book(
            self._symbols[symbol],
            shown,
            state.last[venue],
            state.volume[venue],
            state.open_24h[venue],
            ts_ms=self._now_ms,
            seq=state.seq[venue],
            tick=tick,
        )

    def _forced(self, venue: str, symbol: str) -> float:
        """The product of the dislocations active on ``venue``'s ``symbol``."""
        factor = 1.0
        for d in self._active:
            if d.venue == venue and d.symbol == symbol:
                factor *= d.factor
        return factor

    def _advance(self, now_ms: int) -> None:
        while self._now_ms + STEP_MS <= now_ms:
            self._now_ms += STEP_MS
            self._step()

    def _step(self) -> None:
        # The hot loop of every simulation (tests run it for simulated hours): names bound
        # once, constants folded. The draws stay the same, in the same order (seeds replay).
        rng = self._rng
        gauss, draw = rng.gauss, rng.random
        exp = math.exp
        market = gauss(0, 1)
        for symbol, state in self._states.items():
            z = _CORRELATION * market + _OWN_WEIGHT * gauss(0, 1)
            state.mid *= exp(_STEP_VOL * z)
            offsets = state.offsets
            for venue, offset in offsets.items():
                offsets[venue] = _OFFSET_KEEP * offset + gauss(0, _OFFSET_VOL)
                if draw() < 0.3:  # sizes change on about a third of the steps
                    state.sizes[venue] = self._sizes(state.mid)
                    if draw() < 0.5:
                        size = max(0.000001, round(rng.expovariate(1.0) * 5_000 / state.mid, 6))
                        self._trade(state, venue, symbol, size)
        if self._active:
            self._active = [d for d in self._active if d.until_ms > self._now_ms]
        if self._dislocations_on and rng.random() < _DISLOCATION_PER_STEP:
            symbol = rng.choice(("BTCUSDT", "ETHUSDT", "BTCUSDT", "SOLUSDT"))
            venues = [v for v, profile in self._venues.items() if symbol in profile.listings]
            venue = rng.choice(venues)
            size = rng.uniform(*_DISLOCATION_SIZE) * rng.choice((-1, 1))
            duration = rng.randint(*_DISLOCATION_MS)
            self._active.append(_Dislocation(venue, symbol, 1 + size, self._now_ms + duration))

    def _trade(self, state: _State, venue: str, symbol: str, size: float) -> None:
        """A taker trade of ``size`` at ``venue``'s touch now: it sets the last price."""
        _, tick = _INSTRUMENTS[symbol]
        mid = state.mid * (1 + state.offsets[venue]) * self._forced(venue, symbol)
        bid, ask = quote_around(mid, self._venues[venue].half_spread_bps, tick)
        buyer = self._sides.random() < 0.5
        price = ask if buyer else bid
        state.last[venue] = price
        state.volume[venue] += size
        state.tapes[venue].record(self._now_ms, price, size, buyer_taker=buyer)

    def tape(self, venue: str, symbol: str, now_ms: int) -> Tape:
        """``venue``'s trade tape of ``symbol`` up to ``now_ms`` (advancing the walk).

        Raises:
            KeyError: ``venue`` does not list ``symbol``.
        """
        self.book(venue, symbol, now_ms)
        state = self._states.get(symbol)
        if state is None:
            return self._wide.tape(venue, symbol)
        return state.tapes[venue]

    def depth(self, venue: str, symbol: str, now_ms: int, levels: int) -> Depth:
        """``venue``'s order book of ``symbol`` at ``now_ms``, ``levels`` per side, its top the
        :meth:`book`'s (see :mod:`cryptows.sim.depth`).

        Raises:
            KeyError: ``venue`` does not list ``symbol``.
        """
        book = self.book(venue, symbol, now_ms)
        key, scale = f"{venue}/{symbol}", size_scale(symbol)
        return depth(book, key, levels, lot=lot_of(symbol), scale=scale)

    def _sizes(self, price: float) -> tuple[float, float]:
        notional = self._rng.lognormvariate(_LOG_NOTIONAL, 1.0)
        other = self._rng.lognormvariate(_LOG_NOTIONAL, 1.0)
        return round(notional / price, 6) or 0.000001, round(other / price, 6) or 0.000001
