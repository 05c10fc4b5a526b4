"""The saved state: written on change and on quit, read back, never fatal when broken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from textual.notifications import Notify

from cryptows.tui.state import SortMode, WatchState, load_watch_state, save_watch_state
from cryptows.tui.widgets.watchlist import Watchlist
from tests.tui.frozen import SYMBOLS, FrozenMarket
from tests.tui.helpers import Build


def test_missing_file_gives_defaults_without_a_warning(tmp_path: Path) -> None:
    assert load_watch_state(tmp_path / "nope.json") == WatchState()
    assert load_watch_state(tmp_path / "nope.json").warning == ""


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "watch.json"
    state = WatchState(symbols=("SOLUSDT", "BTCUSDT"), sort=SortMode.CHANGE, theme="nord",
                       threshold_pct=0.25)  # fmt: skip
    save_watch_state(state, path)
    assert load_watch_state(path) == state
    assert json.loads(path.read_text())["sort"] == "change"


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"sort": "sideways"}', b'{"symbols": "BTCUSDT"}', b"[]",
     b'{"threshold_pct": -1}', b"\xff\xfe"],
)  # fmt: skip
def test_corrupt_file_gives_defaults_and_a_warning(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "watch.json"
    path.write_bytes(content)
    state = load_watch_state(path)
    assert state == WatchState()
    assert str(path) in state.warning
    assert "using defaults" in state.warning


def test_unreadable_file_gives_defaults_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "watch.json"
    path.mkdir()  # a directory where the file should be
    state = load_watch_state(path)
    assert state == WatchState()
    assert "could not read" in state.warning


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "watch.json"
    path.write_text('{"symbols": ["ETHUSDT"], "from_the_future": 1}')
    assert load_watch_state(path) == WatchState(symbols=("ETHUSDT",))


async def test_state_is_saved_and_restored(build: Build, state_path: Path) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")  # sort by symbol: saved at once
        await pilot.pause()
        assert load_watch_state(state_path).sort is SortMode.SYMBOL
        app.theme = "nord"
        await pilot.pause()
        assert load_watch_state(state_path).theme == "nord"
        await pilot.press("slash", *"ada/usdt", "enter")
        await pilot.pause()
        await pilot.press("q")
    saved = load_watch_state(state_path)
    assert saved == WatchState(symbols=(*SYMBOLS, "ADAUSDT"), sort=SortMode.SYMBOL, theme="nord")

    again = build(market=FrozenMarket())
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.sort_mode is SortMode.SYMBOL
        assert again.theme == "nord"
        assert again.query_one(Watchlist).row_order == tuple(sorted(SYMBOLS))


@pytest.fixture
def corrupt_state(state_path: Path) -> Path:
    """A corrupt saved state where ``build`` reads it (written before the event loop runs)."""
    state_path.parent.mkdir(parents=True)
    state_path.write_text("{corrupt")
    return state_path


async def test_corrupt_state_starts_with_defaults_and_says_so(
    build: Build, corrupt_state: Path
) -> None:
    state_path = corrupt_state
    seen: list[object] = []
    app = build()
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.pause()
        assert app.sort_mode is SortMode.GIVEN
        assert app.query_one(Watchlist).row_order == SYMBOLS
        warnings = [m.notification for m in seen if isinstance(m, Notify)]
        warnings = [n for n in warnings if n.title == "saved state"]  # not the market's notice
        assert [n.severity for n in warnings] == ["warning"]
        assert str(state_path) in warnings[0].message
        await pilot.press("q")
    assert load_watch_state(state_path).warning == ""  # quitting wrote a good file


async def test_unwritable_state_is_a_warning_not_a_crash(build: Build, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    seen: list[object] = []
    app = build(state_path=blocker / "watch.json")  # its parent is a file
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("s")
        await pilot.pause()
        warnings = [m.notification for m in seen if isinstance(m, Notify)]
        assert any(
            n.severity == "warning" and n.message.startswith("could not save") for n in warnings
        )
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("module", ["cryptows.tui.state", "cryptows.tui.format"])
def test_cli_side_modules_import_without_textual(module: str) -> None:
    """The CLI reads the saved state before it decides to start the app."""
    code = f"import sys, {module}; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
