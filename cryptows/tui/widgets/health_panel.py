"""Venue health: one line per venue (state, msgs/s, lag, reconnects, retry, last error)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from cryptows.market.types import Snapshot
from cryptows.models import VenueHealth, VenueState
from cryptows.tui.widgets.lines import Line, Lines

STATE_STYLE: dict[VenueState, str] = {
    VenueState.LIVE: "$success",
    VenueState.CONNECTING: "$warning",
    VenueState.STALE: "$warning",
    VenueState.BACKOFF: "$error",
    VenueState.FAILED: "bold $error",
    VenueState.IDLE: "$text-muted",
    VenueState.STOPPED: "$error",
}
HEAD = "bold $text-muted"
FOOTNOTE = "* lag = our receipt time − the venue's timestamp; includes the clock offset"


def venue_health(snapshot: Snapshot, venues: Sequence[str]) -> list[VenueHealth]:
    """The snapshot's health, or (before the service filled it) one per venue from its states."""
    if snapshot.health:
        return list(snapshot.health)
    states = {v: (VenueState(s), r) for v, s, r in snapshot.venue_states}
    default = (VenueState.CONNECTING, "")
    return [
        VenueHealth(venue=v, state=states.get(v, default)[0], reason=states.get(v, default)[1])
        for v in venues
    ]


def _lag(h: VenueHealth) -> str:
    if h.lag_p50_ms is None:
        return "-"
    p99 = "-" if h.lag_p99_ms is None else f"{h.lag_p99_ms:.0f}"
    return f"{h.lag_p50_ms:.0f}/{p99} ms"


def _rate(h: VenueHealth) -> str:
    return f"{h.msgs_per_s:.1f}" if h.msgs_per_s < 10 else f"{h.msgs_per_s:,.0f}"


def _tail(h: VenueHealth, now_ms: int) -> str:
    parts = []
    if h.connections > 1:  # split over several connections: how many, and any that is down
        parts.append(h.reason if h.usable and h.reason else h.connections_note)
    if h.retry_at_ms is not None and h.state is not VenueState.LIVE:
        parts.append(f"retry in {max(0, math.ceil((h.retry_at_ms - now_ms) / 1000))} s")
    if h.reason and not h.usable:
        parts.append(h.reason)
    if h.last_error and h.last_error != h.reason:
        parts.append(f"last error: {h.last_error}")
    return " · ".join(parts)


def health_lines(health: Sequence[VenueHealth], now_ms: int) -> list[Line]:
    """Header, one line per venue (not-live ones greyed, with why), and the lag footnote."""
    lines: list[Line] = [
        [(f"{'venue':<8} {'state':<11} {'msg/s':>6} {'lag p50/p99*':>14} {'reconn':>6}", HEAD)]
    ]
    for h in health:
        grey = "" if h.usable else "$text-muted"
        lines.append([
            (f"{h.venue:<8} ", grey),
            (f"{h.state.value:<11} ", STATE_STYLE[h.state]),
            (f"{_rate(h):>6} {_lag(h):>14} {h.reconnects:>6}", grey),
            (f"  {_tail(h, now_ms)}", "$text-muted" if h.usable else "$warning"),
        ])  # fmt: skip
    lines.append([(FOOTNOTE, "$text-muted")])
    return lines


class HealthPanel(Lines):
    """Per-venue connection health."""

    def show_snapshot(self, snapshot: Snapshot, venues: Sequence[str]) -> bool:
        """Show the venues' health at ``snapshot.ts_ms``; returns whether anything changed."""
        return self.show(health_lines(venue_health(snapshot, venues), snapshot.ts_ms))
