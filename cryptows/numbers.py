"""Number formats shared by every front end (the dashboard, ``quotes``, ``analyze``). Pure."""

from __future__ import annotations

import math

DASH = "-"
"""Shown where a value is unknown."""


def price(value: float | None) -> str:
    """A price with thousands separators and at least four significant digits, its decimals
    set by its magnitude alone (so a column lines up as it ticks).

    Two places from 100 up (``96,962.15``), four from 1 up (``2.4561``), below 1 at least six
    and enough for four significant digits (``0.321450``, ``0.000012340``: a PEPE or a
    BTC-quoted small cap is not shown as ``0.000012``).
    """
    if value is None or not math.isfinite(value):
        return DASH
    magnitude = abs(value)
    if magnitude >= 100:
        places = 2
    elif magnitude >= 1:
        places = 4
    elif magnitude == 0:
        places = 2
    else:
        places = min(12, max(6, 3 - math.floor(math.log10(magnitude))))
    return f"{value:,.{places}f}"
