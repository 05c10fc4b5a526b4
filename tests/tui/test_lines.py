"""Lines repaint only the lines that changed; the problem note and the detail title fit."""

from __future__ import annotations

from collections import Counter

import pytest
from textual.app import App, ComposeResult
from textual.strip import Strip

from cryptows.market.types import Snapshot, SymbolProblem
from cryptows.tui.widgets.detail_pane import detail_title
from cryptows.tui.widgets.lines import Line, Lines
from cryptows.tui.widgets.notes import problem_line
from tests.tui.frozen import FrozenMarket
from tests.tui.helpers import screen_text


class LinesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Lines(id="lines")
        yield Lines(id="below")


def rows(app: App[None]) -> list[str]:
    return [line.rstrip() for line in screen_text(app).splitlines()]


def spy_renders(lines: Lines, monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """Line index -> how many times it was rendered from here on."""
    renders: Counter[int] = Counter()
    original = lines._line_strip

    def spy(y: int, width: int) -> Strip:
        renders[y] += 1
        return original(y, width)

    monkeypatch.setattr(lines, "_line_strip", spy)
    return renders


def text(*parts: str) -> Line:
    return [(p, "$text-muted" if i else "bold") for i, p in enumerate(parts)]


async def test_only_the_changed_line_is_rendered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    app = LinesApp()
    async with app.run_test(size=(40, 8)) as pilot:
        lines = app.query_one("#lines", Lines)
        app.query_one("#below", Lines).show([text("below")])
        lines.show([text("one ", "1"), text("two ", "2"), text("three ", "3")])
        await pilot.pause()
        screen_text(app)
        renders = spy_renders(lines, monkeypatch)
        painted: list[int] = []
        render_line = lines.render_line

        def spy(y: int) -> Strip:
            painted.append(y)
            return render_line(y)

        monkeypatch.setattr(lines, "render_line", spy)
        assert lines.show([text("one ", "1"), text("two ", "2"), text("three ", "3")]) is False
        assert lines.show([text("one ", "1"), text("two ", "22"), text("three ", "3")]) is True
        await pilot.pause()
        screen = [line.rstrip() for line in screen_text(app).splitlines()]
        assert painted == [1]
        assert renders == Counter({1: 1})
        assert screen[:4] == ["one 1", "two 22", "three 3", "below"]
        lines.refresh()  # all lines painted again: from the cache
        screen_text(app)
        assert renders == Counter({1: 1})


async def test_a_new_number_of_lines_is_laid_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    app = LinesApp()
    async with app.run_test(size=(40, 8)) as pilot:
        lines = app.query_one("#lines", Lines)
        app.query_one("#below", Lines).show([text("below")])
        lines.show([text("one")])
        await pilot.pause()
        assert rows(app)[:2] == ["one", "below"]
        lines.show([text("one"), text("two")])
        await pilot.pause()
        assert rows(app)[:3] == ["one", "two", "below"]
        assert lines.text == "one\ntwo"


class EllipsisApp(LinesApp):
    CSS = "Lines { text-wrap: nowrap; text-overflow: ellipsis; }"


async def test_a_long_line_ends_with_an_ellipsis() -> None:
    app = EllipsisApp()
    async with app.run_test(size=(20, 4)) as pilot:
        app.query_one("#lines", Lines).show([text("a rather long line of text")])
        await pilot.pause()
        assert rows(app)[0] == "a rather long line …"  # 20 cells: cut, never wrapped


def snapshot_with(problems: tuple[tuple[str, str, str], ...]) -> Snapshot:
    typed = tuple(SymbolProblem(*p) for p in problems)
    return Snapshot(ts_ms=0, symbols=(), open_opportunities=(), recent_closed=(), suppressed=(),
                    venue_states=(), problems=typed)  # fmt: skip


def test_problems_are_grouped_per_symbol() -> None:
    snapshot = snapshot_with((
        ("binance", "BTCUSD", "BTCUSD is not listed on binance"),
        ("bybit", "BTCUSD", "BTCUSD is not listed on bybit"),
        ("bybit", "DOGEUSDT", "not listed on bybit"),
        ("coinbase", "SOLUSDT", "rejected: unknown product"),
        ("okx", "BTCUSD", "BTCUSD is not listed on okx"),
        ("okx", "SOLUSDT", "no data for 10 s after subscribing (is it listed on okx?)"),
    ))  # fmt: skip
    line = problem_line(snapshot)
    assert line[0] == ("⚠ ", "$warning")
    assert line[1][0] == (
        "BTCUSD: not listed on binance, bybit, okx · DOGEUSDT: not listed on bybit · "
        "SOLUSDT: coinbase: rejected: unknown product; "
        "no data for 10 s after subscribing (is it listed on okx?)"
    )
    assert problem_line(snapshot_with(())) == []


def plain(line: Line) -> str:
    return "".join(t for t, _ in line)


@pytest.mark.parametrize("width", [0, 76, 74, 73, 64, 63, 40])
def test_the_detail_title_keeps_numbers_and_units_whole(width: int) -> None:
    snapshot = FrozenMarket().snapshot()
    title = plain(detail_title("BTCUSDT", snapshot, width))
    if width == 0 or width >= 74:
        assert title == ("BTCUSDT  best ask 96,849.26 bybit · best bid 97,140.14 okx"
                         " · disp 13.9 bps")  # fmt: skip
    elif width >= 64:
        assert title == "BTCUSDT  ask 96,849.26 bybit · bid 97,140.14 okx · disp 13.9 bps"
    else:  # the shortest, even when it does not fit (the line then ends with an ellipsis)
        assert title == "BTCUSDT  ask 96,849.26 byb · bid 97,140.14 okx · disp 13.9 bps"
    assert len(title) <= (width or 74) or width < 62
