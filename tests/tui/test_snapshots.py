"""Screenshots of the dashboard and the help on the frozen market (timer off, clock fixed).

Update with ``pytest tests/tui --snapshot-update`` and look at the SVGs before committing.
"""

from __future__ import annotations

import pytest

from cryptows.tui.factory import make_app
from tests.tui.frozen import FrozenMarket

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def app(tmp_path):
    return make_app(FrozenMarket(), state_path=tmp_path / "watch.json", refresh_hz=0)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, app, size) -> None:
    assert snap_compare(app, press=["question_mark"], terminal_size=size)


def test_detail_80x24(snap_compare, app) -> None:
    assert snap_compare(app, press=["down", "down", "enter"], terminal_size=(80, 24))


def test_connecting_80x24(snap_compare, tmp_path) -> None:
    app = make_app(FrozenMarket("connecting"), state_path=tmp_path / "w.json", refresh_hz=0)
    assert snap_compare(app, terminal_size=(80, 24))
