"""A DataTable that is told its whole content each refresh and touches only what changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

Cell = tuple[str, str]
"""(pre-formatted text, space-separated component class names for its style)."""
Row = Mapping[str, Cell]
"""Column key -> cell; keys of columns not shown are ignored."""


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


class DiffTable(DataTable[Text]):
    """Rows are rebuilt only when the row keys, their order or the columns change.

    Otherwise :meth:`apply` compares each pre-formatted cell with the one shown and calls
    ``update_cell(..., update_width=False)`` for the ones that differ (a text wider than its
    column widens the column instead of being cut).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "cells--up",
        "cells--down",
        "cells--hot",
        "cells--stale",
        "cells--muted",
        "cells--spark",
        "cells--warn",
        "cells--bad",
        "cells--good",
    }

    def __init__(self, *, cursor: bool, id: str | None = None) -> None:
        super().__init__(
            id=id,
            cursor_type="row" if cursor else "none",
            show_cursor=cursor,
            cell_padding=0,
            zebra_stripes=False,
        )
        self._cols: tuple[Col, ...] = ()
        self._built_cols: tuple[Col, ...] | None = None
        self._widths: dict[str, int] = {}
        self._order: tuple[str, ...] | None = None
        self._shown: dict[str, dict[str, Cell]] = {}
        self._styles: dict[str, Style] = {}

    @property
    def columns_shown(self) -> tuple[str, ...]:
        """Keys of the columns in the current layout."""
        return tuple(c.key for c in self._cols)

    @property
    def row_order(self) -> tuple[str, ...]:
        """Keys of the rows shown, top to bottom."""
        return self._order or ()

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self._order or self.cursor_type == "none":
            return None
        row = min(max(self.cursor_row, 0), len(self._order) - 1)
        return self._order[row]

    def cell_text(self, row: str, column: str) -> str:
        """The text shown in one cell (``""`` when the row or column is not shown)."""
        return self._shown.get(row, {}).get(column, ("", ""))[0]

    def set_layout(self, cols: tuple[Col, ...]) -> None:
        """Use these columns from the next :meth:`apply` on (a rebuild when they differ)."""
        self._cols = cols

    def restyle(self) -> None:
        """Forget resolved styles (the theme changed): the next apply redraws every cell."""
        self._styles.clear()
        self._order = None

    def apply(self, rows: Mapping[str, Row]) -> bool:
        """Show ``rows`` (row key -> cells, in display order); returns whether anything changed."""
        order = tuple(rows)
        if order != self._order or self._cols != self._built_cols:
            self._rebuild(rows)
            return True
        changed = False
        for key, cells in rows.items():
            shown = self._shown[key]
            for col in self._cols:
                cell = cells.get(col.key, ("", ""))
                if shown.get(col.key) == cell:
                    continue
                shown[col.key] = cell
                wider = not col.clip and cell_len(cell[0]) > self._widths[col.key]
                if wider:
                    self._widths[col.key] = cell_len(cell[0])
                self.update_cell(key, col.key, self._text(col, cell), update_width=wider)
                changed = True
        return changed

    def _rebuild(self, rows: Mapping[str, Row]) -> None:
        selected = self.selected_key
        self._shown = {
            key: {col.key: cells.get(col.key, ("", "")) for col in self._cols}
            for key, cells in rows.items()
        }
        self._widths = {
            col.key: max([col.width, *(cell_len(s[col.key][0]) for s in self._shown.values())])
            if not col.clip
            else col.width
            for col in self._cols
        }
        self.clear(columns=True)
        for col in self._cols:
            label = Text(col.label, justify="right" if col.right else "left")
            self.add_column(label, width=self._widths[col.key], key=col.key)
        for key, shown in self._shown.items():
            self.add_row(*(self._text(c, shown[c.key]) for c in self._cols), key=key)
        self._built_cols = self._cols
        self._order = tuple(rows)
        if selected in self._shown and self.cursor_type != "none":
            self.move_cursor(row=self._order.index(selected), animate=False)

    def _text(self, col: Col, cell: Cell) -> Text:
        text, classes = cell
        if col.clip and cell_len(text) > col.width:
            text = set_cell_size(text, col.width - 1) + "…"
        style = Style()
        for name in classes.split():
            style += self._style(name)
        return Text(text, style=style, justify="right" if col.right else "left", no_wrap=True)

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(name, partial=True)
            self._styles[name] = style
        return style
