"""The header line: title, DEMO and REPLAY badges, threshold, venues live, sort, PAUSED, clock."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


def clock_text(ts_ms: int | None) -> str:
    """``HH:MM:SS UTC`` of the snapshot shown (the market's clock, not the terminal's)."""
    if ts_ms is None:
        return "--:--:-- UTC"
    return time.strftime("%H:%M:%S UTC", time.gmtime(ts_ms / 1000))


SHORT_SORT = {"dispersion": "disp", "change": "24h %"}


def header_texts(
    fixed: int, threshold: str, sort: str, clock: str, width: int
) -> tuple[str, str, str]:
    """(threshold, sort, clock) texts: the fullest that fit in ``width`` with ``fixed`` cells
    of other parts, so the clock is never cut."""
    short_sort = SHORT_SORT.get(sort, sort)
    variants = [
        (f" threshold {threshold} ", f" sort: {sort} ", clock),
        (f" arb {threshold} ", f" sort: {short_sort} ", clock),
        (f" arb {threshold} ", f" sort: {short_sort} ", clock.removesuffix(" UTC")),
        (f" {threshold} ", f" {short_sort} ", clock.removesuffix(" UTC")),
    ]
    for texts in variants:
        if fixed + sum(len(t) for t in texts) <= width:
            return texts
    return variants[-1]


class HeaderBar(Horizontal):
    """One line; each part is redrawn only when its text changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        parts = (
            Static("cryptows", id="app-title", markup=False),
            Static(" DEMO ", id="demo-badge", markup=False),
            Static(" REPLAY ", id="replay-badge", markup=False),
            Static("", id="header-threshold", markup=False),
            Static("", id="header-live", markup=False),
            Static("", id="header-sort", markup=False),
            Static(" PAUSED ", id="paused-badge", markup=False),
            Static("", id="header-spacer", markup=False),
            Static("", id="header-clock", markup=False),
        )
        self._parts = {f"#{w.id}": w for w in parts}
        self._texts: dict[str, str] = {}
        self._parts["#paused-badge"].display = False
        self._parts["#demo-badge"].display = False
        self._parts["#replay-badge"].display = False

    def compose(self) -> ComposeResult:
        yield from self._parts.values()

    def show(
        self,
        *,
        demo: bool,
        replay: bool = False,
        finished: bool = False,
        threshold: str,
        live: int,
        venues: int,
        sort: str,
        paused: bool,
        ts_ms: int | None,
        width: int,
    ) -> bool:
        """Update the parts that changed; returns whether any did.

        In a replay (``replay``), ``ts_ms`` is the recording's clock, beside the REPLAY badge,
        which says REPLAY ENDED once the recording has played out (``finished``).
        """
        changed = self._flag("#demo-badge", demo)
        changed |= self._flag("#replay-badge", replay)
        if replay:
            changed |= self._badge("#replay-badge", " REPLAY ENDED " if finished else " REPLAY ")
        changed |= self._flag("#paused-badge", paused)
        live_text = f" {live}/{venues} live "
        # title and clock have one cell of padding each side; the PAUSED badge a margin
        fixed = len(" cryptows ") + 2 + len(live_text) + (6 if demo else 0) + (10 if paused else 0)
        fixed += (14 if finished else 8) if replay else 0
        texts = header_texts(fixed, threshold, sort, clock_text(ts_ms), width)
        changed |= self._set("#header-threshold", texts[0])
        if self._set("#header-live", live_text):
            self._parts["#header-live"].set_class(live == 0, "-none")
            changed = True
        changed |= self._set("#header-sort", texts[1])
        changed |= self._set("#header-clock", texts[2])
        return changed

    def _set(self, selector: str, text: str) -> bool:
        old = self._texts.get(selector)
        if old == text:
            return False
        self._texts[selector] = text
        # the parts are `width: auto`: only a new length needs a new layout (not the clock)
        self._parts[selector].update(text, layout=old is None or len(old) != len(text))
        return True

    def _badge(self, selector: str, text: str) -> bool:
        if self._texts.get(selector) == text:
            return False
        self._texts[selector] = text
        self._parts[selector].update(text)
        return True

    def _flag(self, selector: str, on: bool) -> bool:
        widget = self._parts[selector]
        if widget.display == on:
            return False
        widget.display = on
        return True
