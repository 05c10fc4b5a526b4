"""The watchlist: one row per symbol: best bid/ask, mid, last, dispersion, 24 h change, trend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType

from cryptows.market.types import BestPrice, SymbolView
from cryptows.tui import format as fmt
from cryptows.tui.widgets.table import Cell, Col, RowTable

MAX_SPARK = 40
"""Samples drawn in the trend column at most (one sample per second in the history)."""
MIN_SPARK = 6
HOT = "◆ "
"""Marks a symbol with an open arbitrage opportunity."""


@dataclass(frozen=True, slots=True)
class WatchLayout:
    """The columns for a given width, and how the cells are formatted for them."""

    cols: tuple[Col, ...]
    short_venues: bool
    spark: int
    """Characters of sparkline (0: no trend column)."""


def watch_layout(width: int, symbol_len: int) -> WatchLayout:
    """The richest set of columns that fits in ``width`` cells, none of them truncated.

    Wide terminals get full venue names and both mid and last; narrow ones get short venue
    names and last only; then the trend, dispersion and 24 h columns go, in that order.
    """
    sym = Col("symbol", "  symbol", len(HOT) + max(6, symbol_len), right=False)
    wide = [
        sym,
        Col("bid", "best bid", 11),
        Col("bid_venue", "", 9, right=False),
        Col("ask", "best ask", 11),
        Col("ask_venue", "", 9, right=False),
        Col("mid", "mid", 11),
        Col("last", "last", 11),
        Col("disp", "disp bps", 9),
        Col("chg", "24h %", 8),
    ]
    room = width - sum(c.width for c in wide)
    if room > MIN_SPARK + 6:
        spark = min(room, MAX_SPARK + 1)
        return WatchLayout((*wide, Col("spark", " trend", spark, right=False)), False, spark - 1)
    narrow = [
        sym,
        Col("bid", "bid", 11),
        Col("bid_venue", "", 4, right=False),
        Col("ask", "ask", 11),
        Col("ask_venue", "", 4, right=False),
        Col("last", "last", 11),
        Col("chg", "24h %", 8),
        Col("disp", "disp", 7),
    ]
    room = width - sum(c.width for c in narrow)
    if room > MIN_SPARK:
        spark = min(room, MAX_SPARK + 1)
        return WatchLayout((*narrow, Col("spark", " trend", spark, right=False)), True, spark - 1)
    for drop in ("disp", "chg", "bid_venue", "ask_venue"):
        if sum(c.width for c in narrow) <= width:
            break
        narrow = [c for c in narrow if c.key != drop]
    return WatchLayout(tuple(narrow), True, 0)


class Watchlist(RowTable):
    """The symbols table. The row under the cursor is the selected symbol."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "detail", key_display="enter"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor=True, id=id)
        self._width = 80
        self._layout: WatchLayout | None = None
        self._ticks: dict[tuple[str, str], tuple[float, str]] = {}
        """(symbol, column) -> (value last shown, its tick class)."""

    def set_width(self, width: int) -> None:
        """The cells available to the table (the layout follows at the next :meth:`show`)."""
        self._width = width

    def show(self, order: Sequence[str], views: Mapping[str, SymbolView], hot: set[str]) -> bool:
        """Show ``order``'s symbols; ``hot`` ones have an open opportunity."""
        layout = watch_layout(self._width, max((len(s) for s in order), default=0))
        self._layout = layout
        self.set_layout(layout.cols)
        rows = {sym: self._row(sym, views.get(sym), sym in hot, layout) for sym in order}
        return self.apply(rows)

    def _row(
        self, symbol: str, view: SymbolView | None, hot: bool, layout: WatchLayout
    ) -> dict[str, Cell]:
        dead = view is None or not any(q.usable for q in view.quotes)
        mark = "cells--hot" if hot else "cells--stale" if dead else ""
        row: dict[str, Cell] = {"symbol": ((HOT if hot else "  ") + symbol, mark)}
        best_hot = "cells--hot" if hot else ""
        sell = view.best_sell if view else None
        buy = view.best_buy if view else None
        row.update(self._best("bid", sell, layout, best_hot))
        row.update(self._best("ask", buy, layout, best_hot))
        summary = view.summary if view else None
        mid = summary.mean_mid if summary else None
        last = summary.last if summary else None
        change = summary.change_24h_pct if summary else None
        row["mid"] = (fmt.price(mid), self._tick(symbol, "mid", mid))
        row["last"] = (fmt.price(last), self._tick(symbol, "last", last))
        row["disp"] = (fmt.bps(summary.dispersion_bps if summary else None), "")
        sign = "" if not change else "cells--up" if change > 0 else "cells--down"
        row["chg"] = (fmt.pct(change), sign)
        if layout.spark:
            history = [mid for _, mid in view.history] if view else []
            row["spark"] = (" " + fmt.sparkline(history, layout.spark), "cells--spark")
        return row

    @staticmethod
    def _best(side: str, best: BestPrice | None, layout: WatchLayout, hot: str) -> dict[str, Cell]:
        if best is None:
            return {side: (fmt.DASH, ""), f"{side}_venue": ("", "")}
        venue = fmt.venue_short(best.venue) if layout.short_venues else best.venue
        return {side: (fmt.price(best.price), hot), f"{side}_venue": (" " + venue, "cells--muted")}

    def _tick(self, symbol: str, column: str, value: float | None) -> str:
        """``cells--up``/``cells--down`` after a rise/fall; the colour holds until the next move."""
        if value is None:
            return ""
        key = (symbol, column)
        previous = self._ticks.get(key)
        if previous is None or value == previous[0]:
            tick = previous[1] if previous else ""
        else:
            tick = "cells--up" if value > previous[0] else "cells--down"
        self._ticks[key] = (value, tick)
        return tick

    def forget(self, keep: set[str]) -> None:
        """Drop tick memory of symbols no longer watched."""
        self._ticks = {k: v for k, v in self._ticks.items() if k[0] in keep}
