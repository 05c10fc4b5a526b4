"""The per-venue detail of one symbol, as a modal screen (kept current by the app's refresh)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen

from cryptows.market.types import Snapshot
from cryptows.tui.widgets.detail_pane import detail_title, show_detail
from cryptows.tui.widgets.lines import Lines
from cryptows.tui.widgets.venue_table import VenueTable


class DetailScreen(ModalScreen[None]):
    """Every venue's view of ``symbol``: prices, spread, sizes, age, state, and why not usable."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "close", show=False),
        Binding("enter", "dismiss", "close", show=False),
    ]

    def __init__(self, symbol: str, venues: Sequence[str]) -> None:
        super().__init__()
        self.symbol = symbol
        self.venues = tuple(venues)
        self._last: Snapshot | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-box") as box:
            box.border_title = f"{self.symbol} by venue"
            box.border_subtitle = "esc to close"
            yield Lines(id="detail-summary")
            yield VenueTable(id="detail-table")
            yield Lines(id="detail-notes")

    @property
    def inner_width(self) -> int:
        """Cells inside the box (its border and padding take 4)."""
        return self.size.width - 4

    def on_mount(self) -> None:
        if self._last is not None:
            self.show(self._last)

    def on_resize(self) -> None:
        for table in self.query(VenueTable):
            table.set_width(self.inner_width)
        if self._last is not None:
            self.show(self._last)

    def show(self, snapshot: Snapshot) -> bool:
        """Show ``snapshot``'s view of the symbol; returns whether anything changed.

        The app's refresh may come between pushing this screen and its compose: then the
        snapshot is kept and shown once the screen is mounted.
        """
        self._last = snapshot
        tables = list(self.query(VenueTable))
        if not tables:
            return False
        table = tables[0]
        changed = self.query_one("#detail-summary", Lines).show(
            [detail_title(self.symbol, snapshot, self.inner_width)]
        )
        notes = self.query_one("#detail-notes", Lines)
        changed |= show_detail(table, notes, self.symbol, self.venues, snapshot)
        return changed
