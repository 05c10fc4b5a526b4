"""RowTable: each row's line is built once and rebuilt (and repainted) only when it changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from cryptows.tui.widgets.table import Cell, Col, Row, RowTable
from tests.tui.helpers import screen_text

COLS = (
    Col("name", "name", 6, right=False),
    Col("px", "price", 10),
    Col("why", " why", 12, right=False, clip=True),
)
KEYS = ("a", "b", "c")


def rows(keys: tuple[str, ...] = KEYS, **changed: Cell) -> dict[str, dict[str, Cell]]:
    """One row per key: its name, a price and a note; ``changed`` replaces a row's price."""
    return {
        k: {"name": (k, ""), "px": changed.get(k, (f"{i + 1}.00", "")), "why": ("", "")}
        for i, k in enumerate(keys)
    }


class TableApp(App[None]):
    CSS = "RowTable > .cells--up { color: $success; }"

    def compose(self) -> ComposeResult:
        yield RowTable(cursor=True, id="t")

    @property
    def table(self) -> RowTable:
        return self.query_one(RowTable)


async def start(
    app: TableApp, pilot: Pilot[None], content: Mapping[str, Row] | None = None
) -> RowTable:
    """The table of ``app`` showing ``content`` (default: :func:`rows`), painted once."""
    table = app.table
    table.set_layout(COLS)
    table.apply(rows() if content is None else content)
    await pilot.pause()
    screen_text(app)  # everything painted once
    return table


def spy_builds(table: RowTable, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Row key -> how many times its line was built from here on."""
    builds: Counter[str] = Counter()
    original = table._row_strip

    def spy(key: str, under_cursor: bool, width: int) -> Strip:
        builds[key] += 1
        return original(key, under_cursor, width)

    monkeypatch.setattr(table, "_row_strip", spy)
    return builds


def spy_painted(table: RowTable, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lines Textual asked the table to render from here on."""
    painted: list[int] = []
    original = table.render_line

    def spy(y: int) -> Strip:
        painted.append(y)
        return original(y)

    monkeypatch.setattr(table, "render_line", spy)
    return painted


def posted(
    seen: list[object], kind: type[RowTable.Highlighted] | type[RowTable.Selected]
) -> list[str | None]:
    """Keys of the messages of ``kind`` posted (the hook sees one at each node it bubbles to)."""
    unique = {id(m): m for m in seen if isinstance(m, kind)}
    return [m.key for m in unique.values()]


def line_of(app: App[None], text: str) -> str:
    return next(line for line in screen_text(app).splitlines() if text in line)


async def test_only_the_changed_row_is_rebuilt_and_repainted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = await start(app, pilot)
        builds = spy_builds(table, monkeypatch)
        painted = spy_painted(table, monkeypatch)
        assert table.apply(rows()) is False  # nothing changed: nothing to do
        screen_text(app)
        assert builds == Counter()
        assert painted == []
        assert table.apply(rows(b=("2.50", "cells--up"))) is True
        screen_text(app)
        assert builds == Counter({"b": 1})
        assert painted == [2]  # header 0, a 1, b 2
        assert "2.50" in line_of(app, "b ")
        assert table.cell_text("b", "px") == "2.50"
        table.refresh()  # every line painted again: from the cache
        screen_text(app)
        assert builds == Counter({"b": 1})


async def test_a_new_order_rebuilds_and_keeps_the_selected_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = await start(app, pilot)
        await pilot.press("down", "down")
        assert table.selected_key == "c"
        builds = spy_builds(table, monkeypatch)
        table.apply(rows(("c", "b", "a")))
        screen_text(app)
        assert table.row_order == ("c", "b", "a")
        assert table.selected_key == "c"
        assert table.cursor_row == 0
        assert builds == Counter({"a": 1, "b": 1, "c": 1})


async def test_cursor_moves_repaint_two_rows_and_post_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[object] = []
    app = TableApp()
    async with app.run_test(size=(40, 8), message_hook=seen.append) as pilot:
        table = await start(app, pilot)
        assert table.selected_key == "a"
        builds = spy_builds(table, monkeypatch)
        painted = spy_painted(table, monkeypatch)
        await pilot.press("down")
        screen_text(app)
        assert table.selected_key == "b"
        assert builds == Counter({"a": 1, "b": 1})  # a without the cursor, b with it
        assert sorted(painted) == [1, 2]
        builds.clear()
        await pilot.press("up")
        screen_text(app)
        assert table.selected_key == "a"
        assert builds == Counter()  # both lines were cached
        await pilot.press("up")  # at the top: stays
        assert table.selected_key == "a"
        await pilot.press("end")
        assert table.selected_key == "c"
        await pilot.press("enter")
        await pilot.pause()
        assert posted(seen, RowTable.Highlighted) == ["a", "b", "a", "c"]
        assert posted(seen, RowTable.Selected) == ["c"]


async def test_the_cursor_scrolls_into_view_under_a_fixed_header() -> None:
    keys = tuple("abcdefgh")
    app = TableApp()
    async with app.run_test(size=(40, 5)) as pilot:  # header + 4 of the 8 rows
        table = await start(app, pilot, rows(keys))
        await pilot.press("end")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert lines[0].startswith("name")
        assert [line.split()[0] for line in lines[1:5]] == ["e", "f", "g", "h"]
        await pilot.press("pageup")  # a page is the 4 rows in view
        await pilot.pause()
        assert table.selected_key == "d"
        assert screen_text(app).splitlines()[1].split()[0] == "d"
        await pilot.press("home")
        await pilot.pause()
        assert screen_text(app).splitlines()[1].split()[0] == "a"


async def test_a_click_moves_the_cursor_and_a_second_selects() -> None:
    seen: list[object] = []
    app = TableApp()
    async with app.run_test(size=(40, 8), message_hook=seen.append) as pilot:
        table = await start(app, pilot)
        await pilot.click(RowTable, offset=(2, 3))  # row c
        assert table.selected_key == "c"
        assert posted(seen, RowTable.Selected) == []
        await pilot.click(RowTable, offset=(2, 3))
        await pilot.pause()
        assert posted(seen, RowTable.Selected) == ["c"]


async def test_a_new_width_rebuilds_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = await start(app, pilot)
        builds = spy_builds(table, monkeypatch)
        await pilot.resize_terminal(50, 8)
        await pilot.pause()
        screen_text(app)
        assert builds == Counter({"a": 1, "b": 1, "c": 1})
        assert table.render_line(1).cell_length == 50


async def test_a_new_theme_restyles_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = await start(app, pilot, rows(b=("2.50", "cells--up")))

        def up_colour() -> object:
            cell = next(s for s in table.render_line(2) if "2.50" in s.text)
            assert cell.style is not None
            return cell.style.color

        dark = up_colour()
        builds = spy_builds(table, monkeypatch)
        app.theme = "nord"  # another $success
        await pilot.pause()
        screen_text(app)
        assert builds == Counter({"a": 1, "b": 1, "c": 1})
        assert up_colour() != dark


async def test_numbers_widen_their_column_and_free_text_is_cut() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = await start(app, pilot)
        content = rows(b=("123,456,789.00", ""))
        content["c"]["why"] = (" closed by venue with code 1006", "")
        table.apply(content)
        await pilot.pause()
        assert "123,456,789.00" in line_of(app, "b ")
        assert line_of(app, "c ").rstrip().endswith(" closed by …")
        assert line_of(app, "price").index("price") + 5 == line_of(app, "b ").index(".00 ") + 3
