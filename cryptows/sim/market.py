"""The seeded market engine behind every simulated venue.

One engine drives all venues so their prices move together: a correlated random walk per
symbol (a common market factor plus an idiosyncratic part), a small mean-reverting offset per
venue, venue-specific spreads and sizes, and now and then a *dislocation* — one venue's price
for one symbol jumps by 0.5–1.2 % for a few seconds — large enough to clear taker fees so the
arbitrage scanner has something real to find.

The engine is lazy and deterministic: :meth:`MarketEngine.book` advances the walk in fixed
steps up to the time asked for, so the same seed and the same sequence of requested times give
the same prices, with no background task.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from cryptows.symbols import Symbol, parse_symbol

STEP_MS = 50
"""Time step of the random walk."""

_LISTINGS: dict[str, tuple[float, float]] = {
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

_EVERYWHERE = ("ADAUSDT", "LINKUSDT", "LTCUSDT", "AVAXUSDT")
"""Listed on every simulated venue, so 10 symbols can be watched on all four at once."""

VENUE_LISTINGS: dict[str, frozenset[str]] = {
    "binance": frozenset(
        {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "BTCUSDC", "ETHUSDC",
         "ETHBTC", *_EVERYWHERE}
    ),
    "bybit": frozenset(
        {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BTCUSDC", "ETHUSDC", "ETHBTC",
         *_EVERYWHERE}
    ),
    "okx": frozenset(
        {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BTCUSDC", "ETHUSDC", "ETHBTC",
         *_EVERYWHERE}
    ),
    "coinbase": frozenset(
        {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BTCUSD", "ETHUSD", "SOLUSD",
         "ETHBTC", *_EVERYWHERE}
    ),
}  # fmt: skip
"""What each simulated venue lists (Coinbase has USD books beside its USDT ones, like the real
one; Binance and Bybit have no USD books)."""

_HALF_SPREAD_BPS = {"binance": 0.4, "bybit": 0.6, "okx": 0.5, "coinbase": 1.2}
_BASE_VOLUME_USD = {"binance": 2.0e9, "bybit": 0.8e9, "okx": 0.9e9, "coinbase": 0.6e9}
_STEP_VOL = 0.00012  # per-step volatility of the common walk (~1.2 bp per 50 ms)
_CORRELATION = 0.8
_OFFSET_VOL = 0.000015
_OFFSET_REVERT = 0.05
_DISLOCATION_PER_STEP = 1 / 120  # about one every 6 s across the whole market
_DISLOCATION_MS = (2_000, 5_000)
_DISLOCATION_SIZE = (0.005, 0.012)
_CHANGE_24H = 0.04  # each symbol starts up to ±4 % away from its price 24 h ago


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
    open_24h: float
    """The price 24 h ago (the rolling window's open), for the venues' 24 h change fields."""
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

    def __init__(self, seed: int = 7, *, start_ms: int, dislocations: bool = True) -> None:
        self._rng = random.Random(seed)
        self._now_ms = start_ms
        self._dislocations_on = dislocations
        self._active: list[_Dislocation] = []
        self._states: dict[str, _State] = {}
        # A separate stream, so the 24 h opens leave the seeded walk exactly as it was.
        history = random.Random(f"{seed}/open_24h")
        for canonical, (price, tick) in _LISTINGS.items():
            state = _State(mid=price)
            opened = price / (1 + history.uniform(-_CHANGE_24H, _CHANGE_24H))
            for venue, listed in VENUE_LISTINGS.items():
                if canonical in listed:
                    state.offsets[venue] = self._rng.gauss(0, 0.0001)
                    state.last[venue] = price
                    venue_open = opened * (1 + history.gauss(0, 0.0003))
                    state.open_24h[venue] = _round_down(venue_open, tick)
                    notional = _BASE_VOLUME_USD[venue] * self._rng.uniform(0.5, 1.5)
                    state.volume[venue] = notional / price
                    state.seq[venue] = 1
                    state.sizes[venue] = self._sizes(price)
            self._states[canonical] = state

    @staticmethod
    def listed(venue: str, symbol: str) -> bool:
        """Whether ``venue`` lists the canonical ``symbol``."""
        return symbol in VENUE_LISTINGS.get(venue, frozenset())

    def dislocate(self, venue: str, symbol: str, pct: float, duration_ms: int) -> None:
        """Force a dislocation now: ``venue``'s ``symbol`` moves by ``pct`` percent for a while."""
        self._active.append(_Dislocation(venue, symbol, 1 + pct / 100, self._now_ms + duration_ms))

    def book(self, venue: str, symbol: str, now_ms: int) -> TopOfBook:
        """The top of book ``venue`` shows for ``symbol`` at ``now_ms`` (advancing the walk)."""
        self._advance(now_ms)
        state = self._states[symbol]
        price, tick = _LISTINGS[symbol]
        mid = state.mid * (1 + state.offsets[venue])
        for d in self._active:
            if d.venue == venue and d.symbol == symbol:
                mid *= d.factor
        half = max(mid * _HALF_SPREAD_BPS[venue] / 10_000, tick / 2)
        bid = _round_down(mid - half, tick)
        ask = max(_round_up(mid + half, tick), bid + tick)
        bid_size, ask_size = state.sizes[venue]
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
            last=min(max(state.last[venue], bid), ask),
            volume_24h=state.volume[venue],
            open_24h=state.open_24h[venue],
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
            venues = [v for v, listed in VENUE_LISTINGS.items() if symbol in listed]
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
