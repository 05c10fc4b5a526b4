"""The selected symbol's per-venue table, inline below the watchlist when the terminal is tall."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical

from cryptows.market.types import Snapshot
from cryptows.tui import format as fmt
from cryptows.tui.widgets.health_panel import venue_health
from cryptows.tui.widgets.lines import Line, Lines
from cryptows.tui.widgets.venue_table import VenueTable, venue_rows


def detail_title(symbol: str, snapshot: Snapshot | None, width: int = 0) -> Line:
    """``BTCUSDT  best ask 96,850.00 bybit · best bid 97,150.00 okx · disp 12.3 bps``.

    In ``width`` cells (``0``: no limit) the labels, then the venue names, get shorter
    (``ask 96,850.00 byb · bid …``) so the numbers and their units are never cut.
    """
    view = next((v for v in snapshot.symbols if v.symbol == symbol), None) if snapshot else None
    head = (symbol, "bold")
    if view is None:
        return [head, ("  no quotes yet", "$text-muted")]
    buy, sell, disp = view.best_buy, view.best_sell, view.summary.dispersion_bps
    if buy is None and sell is None:
        return [head, ("  no usable quote", "$warning")]
    line: list[tuple[str, str]] = []
    for long, short in ((True, False), (False, False), (False, True)):
        ask, bid = ("best ask", "best bid") if long else ("ask", "bid")
        parts = []
        if buy is not None:
            venue = fmt.venue_short(buy.venue) if short else buy.venue
            parts.append(f"{ask} {fmt.price(buy.price)} {venue}")
        if sell is not None:
            venue = fmt.venue_short(sell.venue) if short else sell.venue
            parts.append(f"{bid} {fmt.price(sell.price)} {venue}")
        line = [head, ("  " + " · ".join(parts), "")]
        if disp is not None:
            line.append((f" · disp {fmt.bps(disp)} bps", "$text-muted"))
        if not width or sum(len(text) for text, _ in line) <= width:
            break
    return line


def show_detail(
    table: VenueTable, notes: Lines, symbol: str, venues: Sequence[str], snapshot: Snapshot
) -> bool:
    """Fill ``table`` (and, when it has no note column, ``notes``) for ``symbol``."""
    view = next((v for v in snapshot.symbols if v.symbol == symbol), None)
    health = {h.venue: h for h in venue_health(snapshot, venues)}
    problems = {v: m for v, s, m in snapshot.problems if s == symbol}
    changed = table.show(venues, view, health, problems)
    lines: list[Line] = []
    if not table.has_notes:
        for venue, row in venue_rows(venues, view, health, problems).items():
            reason = row["note"][0].strip()
            if reason:
                lines.append([(f"{venue}: ", "bold $text-muted"), (reason, "$text-muted")])
    changed |= notes.show(lines)
    notes.display = bool(lines)
    return changed


class DetailPane(Vertical):
    """Title line, per-venue table and notes of the symbol under the watchlist cursor."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.symbol: str | None = None
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Lines(id="pane-title")
        yield VenueTable(id="pane-table")
        yield Lines(id="pane-notes")

    def set_width(self, width: int) -> None:
        """Cells available to the title and the table."""
        self._width = width
        self.query_one(VenueTable).set_width(width)

    def show(self, symbol: str | None, venues: Sequence[str], snapshot: Snapshot) -> bool:
        """Show ``symbol`` (``None``: nothing selected); returns whether anything changed."""
        self.symbol = symbol
        title = self.query_one("#pane-title", Lines)
        if symbol is None:
            return title.show([[("no symbol selected", "$text-muted")]])
        changed = title.show([detail_title(symbol, snapshot, self._width)])
        table = self.query_one(VenueTable)
        notes = self.query_one("#pane-notes", Lines)
        changed |= show_detail(table, notes, symbol, venues, snapshot)
        return changed
