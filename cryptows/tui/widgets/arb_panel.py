"""The arbitrage panel: open opportunities (ages advancing between events) and recent closes."""

from __future__ import annotations

from cryptows.market.types import Opportunity, Snapshot
from cryptows.tui import format as fmt
from cryptows.tui.widgets.lines import Line, Lines

HEAD = "bold $text-muted"


def open_for_ms(o: Opportunity, now_ms: int) -> int:
    """Time since its last event, added to every age (as ``cryptows arb`` shows them)."""
    return max(0, now_ms - o.opened_ms - o.duration_ms)


def _name(o: Opportunity) -> str:
    return o.symbol + (f" ({o.converted})" if o.converted else "")


def split_rows(room: int, n_open: int, n_closed: int) -> tuple[int, int]:
    """How many open and closed rows fit in ``room`` lines (two go to the section headers).

    Closed ones get up to a third of the rows; open ones the rest.
    """
    rows = max(2, room - 2)
    closed = min(max(n_closed, 1), max(1, rows // 3))
    return max(1, rows - closed), closed


def arb_lines(snapshot: Snapshot, *, short: bool, room: int) -> list[Line]:
    """The panel's lines in ``room`` lines: open ones (with headers), then recently closed ones."""
    ops = snapshot.open_opportunities
    closed = snapshot.recent_closed
    max_open, max_closed = split_rows(room, len(ops), len(closed))
    if len(ops) > max_open:
        max_open -= 1  # its line says how many more
    names = [_name(o) for o in ops[:max_open]] + [o.symbol for o in closed[:max_closed]]
    sw = max([8, *(len(n) for n in names)])
    rw = 7 if short else max([8, *(len(fmt.route(o.buy_venue, o.sell_venue, short=False))
                                    for o in (*ops, *closed))])  # fmt: skip
    head = f"{'arb open':<{sw + 2}} {'buy→sell':<{rw}} {'gross':>8} {'net':>8} {'size':>7}"
    lines: list[Line] = [[(f"{head} {'leg ages':>11} {'for':>6}", HEAD)]]
    if not ops:
        threshold = fmt.threshold(snapshot.threshold_pct, gross=snapshot.gross)
        lines.append([(f"  none ({threshold})", "$text-muted")])
    now = snapshot.ts_ms
    for o in ops[:max_open]:
        since = open_for_ms(o, now)
        ages = f"{fmt.duration(o.buy_age_ms + since)}/{fmt.duration(o.sell_age_ms + since)}"
        name = _name(o)
        lines.append([
            ("◆ ", "bold $warning"),
            (f"{name:<{sw}} ", "bold $warning"),
            (f"{fmt.route(o.buy_venue, o.sell_venue, short=short):<{rw}} ", ""),
            (f"{fmt.pct(o.gross_pct, 3):>8} ", ""),
            (f"{fmt.pct(o.net_pct, 3):>8} ", "bold $success" if o.net_pct > 0 else "$error"),
            (f"{fmt.size(o.size):>7} {ages:>11} {fmt.duration(o.duration_ms + since):>6}", ""),
        ])  # fmt: skip
    if len(ops) > max_open:
        lines.append([(f"  … {len(ops) - max_open} more open", "$text-muted")])
    heading = f"{'arb closed':<{sw + 2}} {'buy→sell':<{rw}} {'peak net':>8} {'lasted':>8}"
    lines.append([(f"{heading} {'ago':>8}", HEAD)])
    if not closed:
        lines.append([("  none yet", "$text-muted")])
    for o in closed[:max_closed]:
        ago = fmt.duration(now - o.opened_ms - o.duration_ms)
        lines.append([(
            f"  {o.symbol:<{sw}} {fmt.route(o.buy_venue, o.sell_venue, short=short):<{rw}} "
            f"{fmt.pct(o.peak_net_pct, 3):>8} {fmt.duration(o.duration_ms):>8} {ago:>8}",
            "",
        )])  # fmt: skip
    return lines


class ArbPanel(Lines):
    """Open and recently closed opportunities, as many as the panel's height holds."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._last: tuple[Snapshot, bool] | None = None

    def show_snapshot(self, snapshot: Snapshot, *, short: bool) -> bool:
        """Show ``snapshot``'s opportunities; returns whether anything changed."""
        self._last = (snapshot, short)
        room = self.content_size.height or 6
        return self.show(arb_lines(snapshot, short=short, room=room))

    def on_resize(self) -> None:
        if self._last is not None:  # more or fewer rows fit now
            self.show_snapshot(self._last[0], short=self._last[1])
