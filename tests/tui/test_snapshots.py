"""Screenshots of the dashboard and the help on the frozen market (timer off, clock fixed).

Update with ``pytest tests/tui --snapshot-update`` and look at the SVGs before committing.

The frozen market has a notice, which the app toasts at start: only the 120x40 dashboard keeps
the toast; the others are taken once it is dismissed, so nothing covers the screen under test.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from cryptows.tui.factory import make_app
from tests.tui.frozen import FrozenMarket

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def no_toast(pilot: Pilot[None]) -> None:
    await pilot.pause()  # the notice's toast is posted at start
    pilot.app.clear_notifications()
    await pilot.pause()


@pytest.fixture
def app(tmp_path):
    return make_app(FrozenMarket(), state_path=tmp_path / "watch.json", refresh_hz=0)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare, app, size) -> None:
    keep_toast = size == (120, 40)  # the notice's toast, once
    assert snap_compare(app, terminal_size=size, run_before=None if keep_toast else no_toast)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, app, size) -> None:
    assert snap_compare(app, press=["question_mark"], terminal_size=size, run_before=no_toast)


def test_help_legend_80x24(snap_compare, app) -> None:
    keys = ["question_mark", "end"]  # the arbitrage panel's legend, at the end
    assert snap_compare(app, press=keys, terminal_size=(80, 24), run_before=no_toast)


def test_detail_80x24(snap_compare, app) -> None:
    keys = ["down", "down", "enter"]
    assert snap_compare(app, press=keys, terminal_size=(80, 24), run_before=no_toast)


def test_connecting_80x24(snap_compare, tmp_path) -> None:
    app = make_app(FrozenMarket("connecting"), state_path=tmp_path / "w.json", refresh_hz=0)
    assert snap_compare(app, terminal_size=(80, 24))
