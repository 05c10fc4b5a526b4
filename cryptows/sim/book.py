"""Value types and price arithmetic shared by the market engine's core and wide books."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cryptows.symbols import Symbol


@dataclass(frozen=True, slots=True)
class VenueProfile:
    """One simulated venue's market facts: what it lists, how tight and how busy its books are."""

    listings: frozenset[str]
    """Canonical symbols the venue lists (each a book of :mod:`cryptows.sim.universe`)."""
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
    """The window's high: 1 % above the higher of open and last, rounded up to the tick (or the
    ask, where the quote has moved above that since the last trade)."""
    low_24h: float
    """The window's low: 1 % below the lower of open and last, rounded down to the tick (or the
    bid, where the quote has moved below that)."""
    ts_ms: int
    seq: int
    """Increases every time this venue's view of this symbol changes."""
    tick: float
    """Price increment, for formatting."""


def quote_around(mid: float, half_spread_bps: float, tick: float) -> tuple[float, float]:
    """Bid and ask ``half_spread_bps`` around ``mid`` on the tick grid, at least a tick apart."""
    half = max(mid * half_spread_bps / 10_000, tick / 2)
    bid = round_down(mid - half, tick)
    return bid, max(round_up(mid + half, tick), bid + tick)


def make_book(
    symbol: Symbol,
    quote: tuple[float, float, float, float],
    last: float,
    volume: float,
    opened: float,
    *,
    ts_ms: int,
    seq: int,
    tick: float,
) -> TopOfBook:
    """A :class:`TopOfBook` from ``(bid, ask, bid size, ask size)``, the last trade price (the
    tape's, so it may lie outside a quote that has moved since), the 24 h base volume and open;
    high and low are derived."""
    bid, ask, bid_size, ask_size = quote
    return TopOfBook(
        symbol=symbol,
        bid=bid,
        bid_size=bid_size,
        ask=ask,
        ask_size=ask_size,
        last=last,
        volume_24h=volume,
        quote_volume_24h=volume * last,
        open_24h=opened,
        high_24h=max(round_up(max(opened, last) * 1.01, tick), ask),
        low_24h=min(round_down(min(opened, last) * 0.99, tick), bid),
        ts_ms=ts_ms,
        seq=seq,
        tick=tick,
    )


def round_down(value: float, tick: float) -> float:
    """``value`` rounded down to a multiple of ``tick``."""
    return round(math.floor(value / tick + 1e-9) * tick, 10)


def round_up(value: float, tick: float) -> float:
    """``value`` rounded up to a multiple of ``tick``."""
    return round(math.ceil(value / tick - 1e-9) * tick, 10)


def decimals(tick: float) -> int:
    """Number of decimals a price with this tick is written with."""
    return max(0, -math.floor(math.log10(tick) + 1e-9))
