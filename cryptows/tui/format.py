"""Compact, fixed-width number formats for the dashboard (pure: no textual, no clock).

Every formatter returns the whole number: columns are sized for these formats, and a value
that is still too wide widens its column instead of being cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cryptows.numbers import DASH, price
from cryptows.venues import ADAPTERS

__all__ = ["DASH", "price"]  # re-exported: the dashboard's formats are all here


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"

VENUE_ABBREVIATIONS: dict[str, str] = {name: cls.short_name for name, cls in ADAPTERS.items()}
"""Short venue names for narrow terminals (the health panel always shows full names)."""


def pct(value: float | None, places: int = 2) -> str:
    """A signed percentage: ``+1.23%``."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:+.{places}f}%"


def bps(value: float | None) -> str:
    """Basis points: two decimals below 10, one below 100, none from 100 up."""
    if value is None or not math.isfinite(value):
        return DASH
    magnitude = abs(value)
    if magnitude < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if magnitude < 100 else f"{value:,.0f}"


def size(value: float | None) -> str:
    """A quantity in at most 7 characters: ``0.5230``, ``12.345``, ``125.0k``, ``3.21M``."""
    if value is None or not math.isfinite(value):
        return DASH
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.2f}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:.2f}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.1f}k"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}" if magnitude >= 0.001 or magnitude == 0 else f"{value:.1e}"


def profit(value: float | None, asset: str | None = None) -> str:
    """An estimated profit with its sign, about three significant digits, and its asset:
    ``+12.3 USDT``, ``+1234 USDT``, ``+12.3k USDT``, ``-0.0123 BTC``; unknown: ``-``."""
    if value is None or not math.isfinite(value):
        return DASH
    magnitude = abs(value)
    if magnitude >= 1e6:
        text = f"{value / 1e6:+.1f}M"
    elif magnitude >= 1e4:
        text = f"{value / 1e3:+.1f}k"
    elif magnitude >= 100:
        text = f"{value:+.0f}"
    elif magnitude >= 10:
        text = f"{value:+.1f}"
    elif magnitude >= 1:
        text = f"{value:+.2f}"
    else:
        text = f"{value:+.3g}"
    return f"{text} {asset}" if asset else text


def duration(ms: int | float) -> str:
    """A duration in at most 6 characters: ``0.4s``, ``42s``, ``5m07s``, ``2h03m``, ``3d04h``."""
    ms = max(0.0, float(ms))
    seconds = ms / 1000
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86_400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86_400}d{whole % 86_400 // 3600:02d}h"


def threshold(value: float, *, gross: bool) -> str:
    """The threshold in force, e.g. ``net ≥ 0.1%``."""
    return f"{'gross' if gross else 'net'} ≥ {value:g}%"


def venue_short(venue: str) -> str:
    """A venue's short name (``bin``, ``byb``, ``okx``, ``cb``; else its first three letters)."""
    return VENUE_ABBREVIATIONS.get(venue, venue[:3])


def route(buy: str, sell: str, *, short: bool) -> str:
    """``bybit→okx`` (or ``byb→okx`` when ``short``)."""
    if short:
        return f"{venue_short(buy)}→{venue_short(sell)}"
    return f"{buy}→{sell}"


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` values as block characters, scaled between their min and max.

    Flat series draw as a low line; fewer values than ``width`` are left-padded with spaces,
    so the newest sample is always at the right edge.
    """
    if width <= 0:
        return ""
    tail = values[-width:]
    if not tail:
        return " " * width
    low = min(tail)
    span = max(tail) - low
    top = len(SPARK_BLOCKS) - 1
    if span <= 0:
        chars = SPARK_BLOCKS[0] * len(tail)
    else:
        chars = "".join(SPARK_BLOCKS[round((v - low) / span * top)] for v in tail)
    return chars.rjust(width)
