"""The arbitrage panel: open routes (rank, shared legs, estimated profit, ages advancing between
events), recent closes with why they closed, and the suppressed candidates when there is room.

Every number is shown whole at any width: when a line would not fit, the panel first writes the
venue names and the shared-leg mark short, then gives up the lower-value columns (gross, how
long open, leg ages, size, in that order) rather than cutting a value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from textual.message import Message

from cryptows.market.types import CloseReason, Opportunity, Snapshot
from cryptows.tui import format as fmt
from cryptows.tui.widgets.lines import Line, Lines, Part

HEAD = "bold $text-muted"
MUTED = "$text-muted"
SHARED = "$warning"
CLOSE_WORDS: dict[CloseReason, str] = {
    CloseReason.BELOW_THRESHOLD: "below",
    CloseReason.LEG_STALE: "stale",
    CloseReason.LEG_GONE: "gone",
    CloseReason.RUN_END: "end",
}
"""Each close reason in one short word (the help screen explains them)."""
SUPPRESS_WORDS: dict[str, str] = {
    "stale_leg": "stale leg",
    "below_fees": "below fees",
    "quote_mismatch": "quote mismatch",
    "unconfirmed": "unconfirmed",
}
SHARED_NOTES = (
    "  shares buy/sell/both: that leg's book also feeds a better-ranked route, so sizes and "
    "profits do not add up",
    "  buy/sell/both: that leg is shared with a better route; sizes and profits do not add up",
    "  buy/sell/both: leg shared with a better route; sizes and profits do not add up",
    "  buy/sell/both: leg shared with a better route",
)
"""The footnote under routes that share a leg, longest first (the longest that fits is shown)."""
RECENT = 4
"""Closed routes shown in rows the open ones leave unused (more only in a third of the rows)."""
DROPS = ("gross", "for", "ages", "size")
"""Open-route columns given up, in this order, when a line would not fit."""


def open_for_ms(o: Opportunity, now_ms: int) -> int:
    """Time since its last event, added to every age (as ``cryptows arb`` shows them)."""
    return max(0, now_ms - o.opened_ms - o.duration_ms)


def rank_mark(o: Opportunity, *, long: bool) -> str:
    """``#1``; a route sharing a leg with a better one: ``#2 shares sell`` (``#2 sell`` short)."""
    if o.shared_leg is None:
        return f"#{o.rank}"
    return f"#{o.rank} {'shares ' if long else ''}{o.shared_leg}"


def close_word(o: Opportunity) -> str:
    return "" if o.close_reason is None else CLOSE_WORDS.get(o.close_reason, o.close_reason)


def suppressed_text(suppressed: Sequence[tuple[str, int]]) -> str:
    """``suppressed: below fees 3 · stale leg 1 · unconfirmed 5`` (counts above zero only;
    ``""`` when there are none)."""
    counts = [f"{SUPPRESS_WORDS.get(r, r.replace('_', ' '))} {n}" for r, n in suppressed if n]
    return f"suppressed: {' · '.join(counts)}" if counts else ""


def in_order(ops: Sequence[Opportunity]) -> list[Opportunity]:
    """Symbols by their best net (best first), each symbol's routes by rank (#1 first)."""
    best: dict[str, float] = {}
    for o in ops:
        best[o.symbol] = max(best.get(o.symbol, o.net_pct), o.net_pct)
    return sorted(ops, key=lambda o: (-best[o.symbol], o.symbol, o.rank))


def _name(o: Opportunity) -> str:
    return o.symbol + (f" ({o.converted})" if o.converted else "")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its heading, one (text, style) cell per row, and its minimum width."""

    key: str
    head: str
    cells: tuple[Part, ...]
    min_width: int
    left: bool = False

    @property
    def width(self) -> int:
        return max(self.min_width, len(self.head), *(len(text) for text, _ in self.cells))

    def pad(self, text: str) -> str:
        return f" {text:<{self.width}}" if self.left else f" {text:>{self.width}}"


def grid(
    title: str, title_w: int, prefixes: Sequence[Line], columns: Sequence[Column]
) -> list[Line]:
    """A heading line (``title`` then the column heads) and one line per prefix, cells aligned."""
    head = f"{title:<{title_w}}" + "".join(c.pad(c.head) for c in columns)
    lines: list[Line] = [[(head.rstrip(), HEAD)]]
    for i, prefix in enumerate(prefixes):
        cells = [(c.pad(c.cells[i][0]), c.cells[i][1]) for c in columns]
        if cells:
            cells[-1] = (cells[-1][0].rstrip(), cells[-1][1])
        lines.append([*prefix, *cells])
    return lines


def grid_width(title_w: int, columns: Sequence[Column]) -> int:
    return title_w + sum(1 + c.width for c in columns)


OPEN_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("rank", "rank", 4, True),
    ("route", "buy→sell", 7, True),
    ("gross", "gross", 8, False),
    ("net", "net", 8, False),
    ("size", "size", 7, False),
    ("est", "est profit", 11, False),
    ("ages", "leg ages", 11, False),
    ("for", "for", 6, False),
)
"""(key, heading, minimum width, left-aligned) of the open routes' columns."""
CLOSED_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("route", "buy→sell", 7, True),
    ("peak", "peak net", 8, False),
    ("lasted", "lasted", 7, False),
    ("ago", "ago", 7, False),
    ("why", "why", 5, True),
)


def make_columns(
    spec: Sequence[tuple[str, str, int, bool]], rows: Sequence[dict[str, Part]]
) -> list[Column]:
    """The columns of ``spec`` (key, heading, minimum width, left-aligned) filled from ``rows``."""
    return [Column(key, head, tuple(r[key] for r in rows), w, left) for key, head, w, left in spec]


def open_cells(o: Opportunity, now: int, *, full: bool, long: bool) -> dict[str, Part]:
    """One open route's cells (venue names in full or not, long or short rank mark)."""
    since = open_for_ms(o, now)
    ages = f"{fmt.duration(o.buy_age_ms + since)}/{fmt.duration(o.sell_age_ms + since)}"
    return {
        "rank": (rank_mark(o, long=long), SHARED if o.shared_leg else ""),
        "route": (fmt.route(o.buy_venue, o.sell_venue, short=not full), ""),
        "gross": (fmt.pct(o.gross_pct, 3), ""),
        "net": (fmt.pct(o.net_pct, 3), "bold $success" if o.net_pct > 0 else "$error"),
        "size": (fmt.size(o.size), ""),
        "est": (fmt.profit(o.est_profit, o.profit_asset), ""),
        "ages": (ages, ""),
        "for": (fmt.duration(o.duration_ms + since), ""),
    }


def closed_cells(o: Opportunity, now: int, *, full: bool) -> dict[str, Part]:
    return {
        "route": (fmt.route(o.buy_venue, o.sell_venue, short=not full), ""),
        "peak": (fmt.pct(o.peak_net_pct, 3), ""),
        "lasted": (fmt.duration(o.duration_ms), ""),
        "ago": (fmt.duration(now - o.opened_ms - o.duration_ms), ""),
        "why": (close_word(o), MUTED),
    }


def _layouts() -> Iterator[tuple[bool, bool, tuple[str, ...]]]:
    """(full venue names, long rank marks, columns dropped), from the richest to the leanest."""
    yield True, True, ()
    yield True, False, ()
    yield False, True, ()
    for n in range(len(DROPS) + 1):
        yield False, False, DROPS[:n]


def fit_open(
    ops: Sequence[Opportunity], now: int, title_w: int, width: int
) -> tuple[list[Column], bool]:
    """The richest open-route columns that fit ``width``, and whether venue names are in full."""
    shown: list[Column] = []
    full = False
    cells: dict[tuple[bool, bool], list[dict[str, Part]]] = {}
    for full, long, dropped in _layouts():
        if (full, long) not in cells:
            cells[full, long] = [open_cells(o, now, full=full, long=long) for o in ops]
        spec = [c for c in OPEN_COLUMNS if c[0] not in dropped]
        shown = make_columns(spec, cells[full, long])
        if grid_width(title_w, shown) <= width:
            break
    return shown, full


def split_rows(room: int, n_open: int, n_closed: int) -> tuple[int, int]:
    """How many open and closed rows fit in ``room`` lines (two go to the section headers).

    Closed ones get up to a third of the rows, or up to :data:`RECENT` of the rows the open
    ones leave unused; open ones the rest.
    """
    rows = max(2, room - 2)
    spare = min(rows - max(n_open, 1), RECENT)
    closed = min(max(n_closed, 1), max(1, rows // 3, spare))
    return max(1, rows - closed), closed


def need_open(ops: Sequence[Opportunity]) -> int:
    """Lines the open routes take when all are shown (with the footnote if one shares a leg)."""
    return len(ops) + any(o.shared_leg for o in ops)


def plan_rows(room: int, ops: Sequence[Opportunity], n_closed: int) -> tuple[int, int, bool, bool]:
    """(open rows, closed rows, footnote, "… more open" line) in ``room`` lines.

    The open section's lines (:func:`split_rows`) hold as many routes as fit with the shared-leg
    footnote (when a route shown shares a leg) and the "… more open" line (when routes are left
    out); at least one route is shown.
    """
    budget, max_closed = split_rows(room, need_open(ops), n_closed)
    for shown in range(min(len(ops), budget), 0, -1):
        note = any(o.shared_leg for o in ops[:shown])
        more = shown < len(ops)
        if shown + more + note <= budget:
            return shown, max_closed, note, more
    return min(len(ops), 1), max_closed, False, False


def arb_lines(snapshot: Snapshot, *, width: int, room: int) -> tuple[list[Line], int]:
    """The panel's lines in ``room`` lines of ``width`` cells, and its *slack*: how many of the
    ``room`` lines it leaves free, or (when it leaves routes out) minus how many more it wants
    (every open route, up to :data:`RECENT` closed ones).

    Open routes (header, rows, the shared-leg footnote when a route shown shares a leg), then
    the recently closed ones, then the suppressed counts if a line is still free.
    """
    ops, closed, now = in_order(snapshot.open_opportunities), snapshot.recent_closed, snapshot.ts_ms
    max_open, max_closed, note, more = plan_rows(room, ops, len(closed))
    shown, gone = ops[:max_open], closed[:max_closed]
    sw = max([8, *(len(_name(o)) for o in (*shown, *gone))])
    names = [[("◆ ", "bold $warning"), (f"{_name(o):<{sw}}", "bold $warning")] for o in shown]
    open_grid, full = fit_open(shown, now, sw + 2, width)
    lines = grid("arb open", sw + 2, names, open_grid)
    if not ops:
        threshold = fmt.threshold(snapshot.threshold_pct, gross=snapshot.gross)
        lines.append([(f"  none ({threshold})", MUTED)])
    if more:
        lines.append([(f"  … {len(ops) - max_open} more open", MUTED)])
    if note:
        fitting = [n for n in SHARED_NOTES if len(n) <= width] or [SHARED_NOTES[-1]]
        lines.append([(fitting[0], MUTED)])
    ended = make_columns(CLOSED_COLUMNS, [closed_cells(o, now, full=full) for o in gone])
    if grid_width(sw + 2, ended) > width:
        ended = make_columns(CLOSED_COLUMNS, [closed_cells(o, now, full=False) for o in gone])
    lines += grid("arb closed", sw + 2, [[(f"  {o.symbol:<{sw}}", "")] for o in gone], ended)
    if not closed:
        lines.append([("  none yet", MUTED)])
    wanted = 2 + max(need_open(ops), 1) + max(min(len(closed), RECENT), 1)
    slack = room - max(len(lines), wanted)
    suppressed = f"  {suppressed_text(snapshot.suppressed)}"
    if len(lines) < room and 2 < len(suppressed) <= width:
        lines.append([(suppressed, MUTED)])
    return lines, slack


class ArbPanel(Lines):
    """Open and recently closed opportunities, as many as the panel's height holds."""

    class Resized(Message):
        """The panel's size changed (the app re-checks what fits around it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._last: Snapshot | None = None
        self.slack = 0
        """Lines of the panel left free by the last snapshot shown (see :func:`arb_lines`)."""

    def show_snapshot(self, snapshot: Snapshot) -> bool:
        """Show ``snapshot``'s opportunities; returns whether anything changed."""
        self._last = snapshot
        width, height = self.content_size
        width = width or self.app.size.width
        lines, self.slack = arb_lines(snapshot, width=width, room=height or 6)
        return self.show(lines)

    def on_resize(self) -> None:
        if self._last is not None:  # more or fewer rows or columns fit now
            self.show_snapshot(self._last)
        self.post_message(self.Resized())
