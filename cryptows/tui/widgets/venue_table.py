"""Per-venue detail of one symbol: last, bid, ask, spread, sizes, quote age, state and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cryptows.market.types import SymbolView, VenueQuote
from cryptows.models import VenueHealth, VenueState
from cryptows.tui import format as fmt
from cryptows.tui.widgets.table import Cell, Col, RowTable

STATE_WORDS: dict[VenueState, str] = {
    VenueState.LIVE: "live",
    VenueState.CONNECTING: "connect",
    VenueState.STALE: "stale",
    VenueState.BACKOFF: "backoff",
    VenueState.FAILED: "failed",
    VenueState.IDLE: "idle",
    VenueState.STOPPED: "stopped",
}
STATE_CLASS: dict[VenueState, str] = {
    VenueState.LIVE: "cells--good",
    VenueState.CONNECTING: "cells--warn",
    VenueState.STALE: "cells--warn",
    VenueState.BACKOFF: "cells--bad",
    VenueState.FAILED: "cells--bad",
    VenueState.IDLE: "cells--warn",
    VenueState.STOPPED: "cells--bad",
}
BASE_COLS: tuple[Col, ...] = (
    Col("venue", "venue", 8, right=False),
    Col("bid", "bid", 11),
    Col("ask", "ask", 11),
    Col("last", "last", 11),
    Col("spread", "bps", 6),
    Col("bid_size", "bid sz", 7),
    Col("ask_size", "ask sz", 7),
    Col("age", "age", 6),
    Col("state", " state", 9, right=False),
)
BASE_WIDTH = sum(c.width for c in BASE_COLS)
"""Cells the table needs without its note column (76: fits an 80-column modal)."""
MIN_NOTE = 16


def venue_rows(
    venues: Sequence[str],
    view: SymbolView | None,
    health: Mapping[str, VenueHealth],
    problems: Mapping[str, str],
) -> dict[str, dict[str, Cell]]:
    """One row per venue (every venue, quoted or not); unusable ones greyed with their reason."""
    quotes = {q.venue: q for q in view.quotes} if view else {}
    names = list(venues) + [v for v in quotes if v not in venues]
    return {v: _row(v, quotes.get(v), health.get(v), problems.get(v, "")) for v in names}


def _row(venue: str, q: VenueQuote | None, h: VenueHealth | None, problem: str) -> dict[str, Cell]:
    state = h.state if h is not None else VenueState.LIVE
    if q is None:
        word = "unlisted" if "not listed" in problem else STATE_WORDS[state]
        if state is VenueState.LIVE and not problem:
            word = "no quote"
        blank = ("bid", "ask", "last", "spread", "bid_size", "ask_size", "age")
        row: dict[str, Cell] = dict.fromkeys(blank, (fmt.DASH, "cells--stale"))
        row["venue"] = (venue, "cells--stale")
        row["state"] = (" " + word, "cells--warn" if problem else STATE_CLASS[state])
        row["note"] = (" " + problem, "cells--stale")
        return row
    grey = "" if q.usable else "cells--stale"
    if q.usable:
        word, klass = "live", "cells--good"
    elif state is VenueState.LIVE:
        word, klass = "stale", "cells--warn"
    else:
        word, klass = STATE_WORDS[state], STATE_CLASS[state]
    return {
        "venue": (venue, grey),
        "bid": (fmt.price(q.bid), grey),
        "ask": (fmt.price(q.ask), grey),
        "last": (fmt.price(q.last), grey),
        "spread": (fmt.bps(q.spread_bps), grey),
        "bid_size": (fmt.size(q.bid_size), grey),
        "ask_size": (fmt.size(q.ask_size), grey),
        "age": (fmt.duration(q.age_ms), grey),
        "state": (" " + word, klass),
        "note": (" " + _unprefixed(q.stale_reason or problem, venue), "cells--stale"),
    }


def _unprefixed(reason: str, venue: str) -> str:
    """``backing off: ...`` for ``coinbase backing off: ...`` (the row already names the venue)."""
    return reason[len(venue) + 1 :] if reason.startswith(venue + " ") else reason


class VenueTable(RowTable):
    """The per-venue table of one symbol (no cursor; never takes focus)."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor=False, id=id)
        self.set_width(BASE_WIDTH)

    def set_width(self, width: int) -> None:
        """Add a note column (stale reasons, symbol problems) when ``width`` leaves room."""
        room = width - BASE_WIDTH
        note = (Col("note", " note", room, right=False, clip=True),) if room >= MIN_NOTE else ()
        self.set_layout(BASE_COLS + note)

    @property
    def has_notes(self) -> bool:
        """Whether reasons are shown in the table (else the caller lists them)."""
        return "note" in self.columns_shown

    def show(
        self,
        venues: Sequence[str],
        view: SymbolView | None,
        health: Mapping[str, VenueHealth],
        problems: Mapping[str, str],
    ) -> bool:
        """Show ``view``'s venues; ``problems`` maps venue -> problem with this symbol."""
        return self.apply(venue_rows(venues, view, health, problems))
