"""One-line notes: the connecting/offline state, and symbols a venue cannot stream."""

from __future__ import annotations

from collections.abc import Sequence

from cryptows.market.types import Snapshot
from cryptows.models import VenueHealth, VenueState
from cryptows.tui.widgets.lines import Line


def status_line(snapshot: Snapshot, health: Sequence[VenueHealth]) -> Line:
    """Empty while a venue is live; else why nothing is live (connecting, or offline)."""
    if any(h.state is VenueState.LIVE for h in health):
        return []
    connecting = [h.venue for h in health if h.state is VenueState.CONNECTING]
    has_quotes = any(view.quotes for view in snapshot.symbols)
    if connecting and not has_quotes:
        return [(f"connecting to {', '.join(connecting)}…", "bold $warning")]
    down = ", ".join(f"{h.venue} {h.state.value}" for h in health) or "no venue configured"
    return [("offline: no venue is live", "bold $error"), (f"; still retrying ({down})", "$error")]


def problem_line(snapshot: Snapshot, symbols: Sequence[str] | None = None) -> Line:
    """``⚠ DOGEUSDT: not listed on okx · …`` (only ``symbols``' problems when given)."""
    notes = []
    for venue, symbol, message in snapshot.problems:
        if symbols is not None and symbol not in symbols:
            continue
        text = message if venue in message else f"{venue}: {message}"
        notes.append(f"{symbol}: {text}" if symbols is None else text)
    if not notes:
        return []
    return [("⚠ ", "$warning"), (" · ".join(notes), "$text-muted")]
