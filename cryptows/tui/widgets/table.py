"""A row-cached table on Textual's Line API, told its whole content each refresh.

Each row's :class:`~textual.strip.Strip` is built once from its pre-formatted cells and kept
until that row's cells, the widget's width or its styles (theme, focus) change; :meth:`apply`
repaints only the lines of the rows whose cells differ from those shown. (Textual's
``DataTable`` re-renders every visible cell when any one cell changes.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = tuple[str, str]
"""(pre-formatted text, space-separated component class names for its style)."""
Row = Mapping[str, Cell]
"""Column key -> cell; keys of columns not shown are ignored."""
BLANK: Cell = ("", "")


@dataclass(frozen=True, slots=True)
class Col:
    """One fixed-width column. The width includes the one-space gap to its left neighbour."""

    key: str
    label: str
    width: int
    right: bool = True
    """Right-justify (numbers); else left (names)."""
    clip: bool = False
    """Free text (reasons): cut with an ellipsis at the width. Numbers never are: a number
    wider than its column widens the column."""


def fit(text: str, width: int, *, right: bool, clip: bool) -> str:
    """``text`` padded to ``width`` cells (or cut with ``…`` when ``clip`` and too wide)."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…" if clip else text
    pad = " " * (width - length)
    return pad + text if right else text + pad


class _RowMessage(Message):
    """A message about row ``key`` of ``table``."""

    def __init__(self, table: RowTable, key: str | None) -> None:
        super().__init__()
        self.table = table
        self.key = key

    @property
    def control(self) -> RowTable:
        return self.table


class RowTable(ScrollView, can_focus=True):
    """A header line and one line per row; the cursor (if any) selects a whole row."""

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        overflow-x: hidden;
        overflow-y: auto;
        &:focus {
            background-tint: $foreground 5%;
            & > .table--header {
                background-tint: $foreground 5%;
            }
            & > .table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"table--header", "table--cursor"} | {
        f"cells--{name}" for name in "up down hot stale muted spark warn bad good".split()
    }
    """The header, the cursor, and the cell styles the app's stylesheet gives."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "select", show=False),
        Binding("up", "cursor_up", "up", show=False),
        Binding("down", "cursor_down", "down", show=False),
        Binding("pageup", "page_up", "page up", show=False),
        Binding("pagedown", "page_down", "page down", show=False),
        Binding("home", "first", "first", show=False),
        Binding("end", "last", "last", show=False),
    ]

    class Highlighted(_RowMessage):
        """The cursor is on another row (``key``; ``None`` when the table is empty)."""

    class Selected(_RowMessage):
        """Enter (or a click) on the row under the cursor."""

    def __init__(self, *, cursor: bool, id: str | None = None) -> None:
        self._cols: tuple[Col, ...] = ()
        self._built_cols: tuple[Col, ...] | None = None
        self._widths: dict[str, int] = {}
        self._order: tuple[str, ...] = ()
        self._index: dict[str, int] = {}
        self._shown: dict[str, dict[str, Cell]] = {}
        self._strips: dict[tuple[str, bool], Strip] = {}
        """(row key, under the cursor) -> its line, at :attr:`_strip_width`."""
        self._header: Strip | None = None
        self._strip_width = -1
        self._styles: dict[tuple[str, bool], Style] = {}
        self._cell_styles: dict[tuple[str, bool], Style] = {}
        self._cursor = 0
        self._highlighted: str | None = None
        super().__init__(id=id)
        self.show_cursor = cursor

    # -- what is shown ----------------------------------------------------------------------

    @property
    def columns_shown(self) -> tuple[str, ...]:
        """Keys of the columns in the current layout."""
        return tuple(c.key for c in self._cols)

    @property
    def row_order(self) -> tuple[str, ...]:
        """Keys of the rows shown, top to bottom."""
        return self._order

    @property
    def cursor_row(self) -> int:
        """Index of the row under the cursor."""
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self._order or not self.show_cursor:
            return None
        return self._order[self._cursor]

    def cell_text(self, row: str, column: str) -> str:
        """The text shown in one cell (``""`` when the row or column is not shown)."""
        return self._shown.get(row, {}).get(column, BLANK)[0]

    # -- updates ----------------------------------------------------------------------------

    def set_layout(self, cols: tuple[Col, ...]) -> None:
        """Use these columns from the next :meth:`apply` on (a rebuild when they differ)."""
        self._cols = cols

    def apply(self, rows: Mapping[str, Row]) -> bool:
        """Show ``rows`` (row key -> cells, in display order); returns whether anything changed.

        Only the rows whose cells differ from those shown are rebuilt and repainted; a new
        order or new columns rebuild (and repaint) the whole table.
        """
        if tuple(rows) != self._order or self._cols != self._built_cols:
            self._rebuild(rows)
            return True
        changed: list[str] = []
        wider = False
        for key, cells in rows.items():
            new = {col.key: cells.get(col.key, BLANK) for col in self._cols}
            if new == self._shown[key]:
                continue
            self._shown[key] = new
            changed.append(key)
            for col in self._cols:
                width = cell_len(new[col.key][0])
                if not col.clip and width > self._widths[col.key]:
                    self._widths[col.key] = width  # a number is never cut: widen its column
                    wider = True
        if wider:
            self._invalidate()
            self.virtual_size = Size(sum(self._widths.values()), len(self._order) + 1)
            self.refresh()
            return True
        for key in changed:
            self._strips.pop((key, False), None)
            self._strips.pop((key, True), None)
        self._refresh_rows([self._index[key] for key in changed])
        return bool(changed)

    def _rebuild(self, rows: Mapping[str, Row]) -> None:
        selected = self.selected_key
        self._shown = {
            key: {col.key: cells.get(col.key, BLANK) for col in self._cols}
            for key, cells in rows.items()
        }
        self._widths = {
            col.key: col.width
            if col.clip
            else max([col.width, *(cell_len(s[col.key][0]) for s in self._shown.values())])
            for col in self._cols
        }
        self._built_cols = self._cols
        self._order = tuple(rows)
        self._index = {key: i for i, key in enumerate(self._order)}
        self._invalidate()
        self.virtual_size = Size(sum(self._widths.values()), len(self._order) + 1)
        if selected in self._index:
            self._cursor = self._index[selected]
        else:
            self._cursor = max(0, min(self._cursor, len(self._order) - 1))
        self.refresh()  # every line (the new height is laid out by virtual_size)
        self._cursor_moved()

    def _invalidate(self) -> None:
        self._strips.clear()
        self._header = None

    def _refresh_rows(self, indexes: list[int]) -> None:
        """Repaint the lines of rows ``indexes`` that are in view (nothing else)."""
        width, height = self.size
        top = round(self.scroll_y)
        regions = [Region(0, y, width, 1) for i in indexes if 1 <= (y := i + 1 - top) < height]
        if regions:
            self.refresh(*regions)

    def notify_style_update(self) -> None:
        """The theme or a pseudo-class (focus, hover) changed: resolve styles again."""
        super().notify_style_update()
        self._styles.clear()
        self._cell_styles.clear()
        self._invalidate()

    # -- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._strip_width:
            self._invalidate()
            self._strip_width = width
        if y == 0:
            if self._header is None:
                self._header = self._header_strip(width)
            return self._header
        index = y - 1 + round(self.scroll_y)
        if index >= len(self._order):
            return Strip.blank(width, self.rich_style)
        key = self._order[index]
        under = self.show_cursor and index == self._cursor
        strip = self._strips.get((key, under))
        if strip is None:
            strip = self._strips[key, under] = self._row_strip(key, under, width)
        return strip

    def _row_strip(self, key: str, under_cursor: bool, width: int) -> Strip:
        """Row ``key``'s line, ``width`` cells wide (the one place a row is built)."""
        cells = self._shown[key]
        segments = []
        for col in self._built_cols or ():
            text, classes = cells[col.key]
            style = self._cell_style(classes, under_cursor)
            size = self._widths[col.key]
            segments.append(Segment(fit(text, size, right=col.right, clip=col.clip), style))
        filler = self._cell_style("", under_cursor)
        return Strip(segments).adjust_cell_length(width, filler).simplify()

    def _cell_style(self, classes: str, under_cursor: bool) -> Style:
        """The whole style of a cell: the widget's colour and background (a Line API widget
        adds them itself), the cell's classes, and (as DataTable) the cursor over them."""
        key = (classes, under_cursor)
        style = self._cell_styles.get(key)
        if style is None:
            style = self.rich_style
            if under_cursor:
                cursor = self._style("table--cursor", partial=False)
                style += cursor + self._style(classes) + Style.from_color(cursor.color)
            else:
                style += self._style(classes)
            self._cell_styles[key] = style
        return style

    def _header_strip(self, width: int) -> Strip:
        style = self.rich_style + self._style("table--header", partial=False)
        text = "".join(
            fit(c.label, self._widths.get(c.key, c.width), right=c.right, clip=c.clip)
            for c in self._built_cols or ()
        )
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)

    def _style(self, classes: str, *, partial: bool = True) -> Style:
        """The combined style of space-separated component classes (cached until restyled)."""
        style = self._styles.get((classes, partial))
        if style is None:
            style = Style()
            for name in classes.split():
                style += self.get_component_rich_style(name, partial=partial)
            self._styles[classes, partial] = style
        return style

    # -- cursor -----------------------------------------------------------------------------

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on row ``row`` (clamped to the rows shown) and scroll it into view."""
        if not self._order or not self.show_cursor:
            return
        row = max(0, min(row, len(self._order) - 1))
        if row != self._cursor:
            self._refresh_rows([self._cursor, row])
            self._cursor = row
        self._cursor_moved()

    def _cursor_moved(self) -> None:
        self._scroll_to_cursor()
        key = self.selected_key
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.Highlighted(self, key))

    def _scroll_to_cursor(self) -> None:
        view = self.scrollable_content_region.height - 1  # rows below the header
        if view <= 0 or not self.show_cursor:
            return
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + view:
            self.scroll_to(y=self._cursor - view + 1, animate=False)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._order) - 1)

    def action_select_cursor(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to the row; a click on the cursor's row selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1 or not self.show_cursor:
            return
        index = offset.y - 1 + round(self.scroll_y)
        if index >= len(self._order):
            return
        event.stop()
        if index == self._cursor:
            self.action_select_cursor()
        else:
            self.move_cursor(row=index)
