"""Helpers for dashboard tests: the screen as plain text, and the types of the fixtures."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Iterable
from pathlib import PurePath
from typing import Any, Protocol, TypeAlias

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from cryptows.tui.app import CryptowsApp
from cryptows.tui.state import SortMode

Build: TypeAlias = Callable[..., CryptowsApp]
"""The ``build`` fixture (tests/tui/conftest.py): ``build(**overrides)`` makes the app."""


class SnapCompare(Protocol):
    """The ``snap_compare`` fixture of pytest-textual-snapshot."""

    def __call__(
        self,
        app: str | PurePath | App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool: ...


def sort_mode(app: CryptowsApp) -> SortMode:
    """The app's sort mode, read through a call so that mypy does not narrow it between keys."""
    return app.sort_mode


def current_screen(app: App[Any]) -> Screen[Any]:
    """The app's screen, read through a call so that mypy does not narrow it between keys."""
    return app.screen


def screen_text(app: App[Any]) -> str:
    """What the terminal shows now, as plain text (one line per row, trailing spaces kept)."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
        legacy_windows=False, safe_box=False,
    )  # fmt: skip
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text(styles=False)
