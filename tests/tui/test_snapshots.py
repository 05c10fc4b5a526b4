"""Screenshots of the dashboard and the help on the frozen market (timer off, clock fixed).

Update with ``pytest tests/tui --snapshot-update`` and look at the SVGs before committing.

The frozen market has a notice, which the app toasts at start: only the 120x40 dashboard keeps
the toast; the others are taken once it is dismissed, so nothing covers the screen under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from cryptows.tui.app import CryptowsApp
from cryptows.tui.factory import make_app
from tests.tui.frozen import FrozenMarket
from tests.tui.helpers import SnapCompare

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def no_toast(pilot: Pilot[None]) -> None:
    await pilot.pause()  # the notice's toast is posted at start
    pilot.app.clear_notifications()
    await pilot.pause()


@pytest.fixture
def app(tmp_path: Path) -> CryptowsApp:
    return make_app(FrozenMarket(), state_path=tmp_path / "watch.json", refresh_hz=0)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare: SnapCompare, app: CryptowsApp, size: tuple[int, int]) -> None:
    keep_toast = size == (120, 40)  # the notice's toast, once
    assert snap_compare(app, terminal_size=size, run_before=None if keep_toast else no_toast)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: SnapCompare, app: CryptowsApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, press=["question_mark"], terminal_size=size, run_before=no_toast)


def test_help_legend_80x24(snap_compare: SnapCompare, app: CryptowsApp) -> None:
    keys = ["question_mark", "end"]  # the arbitrage panel's legend, at the end
    assert snap_compare(app, press=keys, terminal_size=(80, 24), run_before=no_toast)


def test_detail_80x24(snap_compare: SnapCompare, app: CryptowsApp) -> None:
    keys = ["down", "down", "enter"]
    assert snap_compare(app, press=keys, terminal_size=(80, 24), run_before=no_toast)


def test_connecting_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(FrozenMarket("connecting"), state_path=tmp_path / "w.json", refresh_hz=0)
    assert snap_compare(app, terminal_size=(80, 24))
