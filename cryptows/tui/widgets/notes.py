"""One-line notes: the connecting/offline state, symbols a venue cannot stream, notices."""

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
    if not health:
        return [("offline: no venue configured", "bold $error")]
    hint = "" if snapshot.demo else "; --demo works offline"
    return [
        ("offline: no venue is live", "bold $error"),
        (f"; still retrying (reasons below){hint}", "$error"),
    ]


def problem_line(snapshot: Snapshot) -> Line:
    """``⚠ DOGEUSDT: not listed on okx, bybit · SOLUSDT: binance: rejected …``: one entry per
    symbol, its venues that do not list it in one list, other problems as the venue gave them."""
    unlisted: dict[str, list[str]] = {}
    """Symbol -> the venues that do not list it."""
    others: dict[str, list[str]] = {}
    """Symbol -> its other problems (every symbol with a problem is a key, in order)."""
    for venue, symbol, message in snapshot.problems:
        text = message.removeprefix(f"{symbol} ")
        problems = others.setdefault(symbol, [])
        if text.removeprefix("is ") == f"not listed on {venue}":
            unlisted.setdefault(symbol, []).append(venue)
        else:
            problems.append(text if venue in text else f"{venue}: {text}")
    if not others:
        return []
    notes = []
    for symbol, problems in others.items():
        if symbol in unlisted:
            problems = [f"not listed on {', '.join(unlisted[symbol])}", *problems]
        notes.append(f"{symbol}: {'; '.join(problems)}")
    return [("⚠ ", "$warning"), (" · ".join(notes), "$text-muted")]


def notice_line(notice: str, width: int) -> Line:
    """``⚠ BTCUSD is listed on coinbase only (not on binance, bybit, okx)``: the notice, or when
    it does not fit ``width``, its text up to the last ``: `` or ``; `` that leaves it whole."""
    text = notice
    while len(text) + 2 > width:
        cut = max(text.rfind(": "), text.rfind("; "))
        if cut <= 0:
            break  # nowhere to cut: the line ends with an ellipsis
        text = text[:cut]
    return [("⚠ ", "$warning"), (text, "$warning")]


def notice_fits(slack: int, *, shown: bool) -> bool:
    """Whether the notice line keeps (``shown``) or gets a line of the screen, given the
    arbitrage panel's ``slack`` (the line comes out of the panel's free lines; the one-line
    margin before showing it keeps it from flickering as the panel fills and empties)."""
    return slack >= (0 if shown else 1)


class NoticeLog:
    """Which of the market's notices were already announced: each is announced once."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._count = 0

    def fresh(self, notices: Sequence[str]) -> list[str]:
        """The notices in ``notices`` (oldest first) not announced yet, now marked announced."""
        if len(notices) == self._count:
            return []  # the market only appends: nothing new
        self._count = len(notices)
        new = [n for n in notices if n not in self._seen]
        self._seen.update(new)
        return new
