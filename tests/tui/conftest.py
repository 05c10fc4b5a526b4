"""Fixtures for dashboard tests: a frozen market and an app factory with the timer off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cryptows.tui.app import CryptowsApp
from cryptows.tui.factory import make_app
from tests.tui.frozen import FrozenMarket


@pytest.fixture
def market() -> FrozenMarket:
    return FrozenMarket()


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "watch.json"


@pytest.fixture
def build(market: FrozenMarket, state_path: Path) -> Callable[..., CryptowsApp]:
    """``build(**overrides)``: the app over ``market`` with no refresh timer (tests refresh)."""

    def factory(**kwargs: Any) -> CryptowsApp:
        kwargs.setdefault("state_path", state_path)
        kwargs.setdefault("refresh_hz", 0)
        return make_app(kwargs.pop("market", market), **kwargs)

    return factory
