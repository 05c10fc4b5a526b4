"""The dashboard's saved state (watchlist, sort, theme, threshold): JSON in the state dir.

This module does not import textual, so the CLI can read the saved state before it builds the
app. A missing file gives the defaults; an unreadable or corrupt one gives the defaults plus a
one-line warning (:attr:`WatchState.warning`), never an exception.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import msgspec
import platformdirs

from cryptows.market.types import SymbolView

STATE_FILE = "watch.json"


class SortMode(StrEnum):
    """How the watchlist rows are ordered (``s`` cycles through them in this order)."""

    GIVEN = "given"
    """The order the symbols were given in (``market.symbols``)."""
    SYMBOL = "symbol"
    """Alphabetical by canonical symbol."""
    DISPERSION = "dispersion"
    """Widest cross-venue dispersion first (re-sorted at most once a second)."""
    CHANGE = "change"
    """Largest 24 h change first (re-sorted at most once a second)."""

    def next(self) -> SortMode:
        """The mode after this one, wrapping around."""
        modes = list(SortMode)
        return modes[(modes.index(self) + 1) % len(modes)]

    def key(self, view: SymbolView | None) -> tuple[bool, float]:
        """A live-value sort key of a symbol: largest first; symbols without a value go last
        (Python's sort is stable)."""
        if view is None:
            return (True, 0.0)
        if self is SortMode.DISPERSION:
            value = view.summary.dispersion_bps
        else:
            value = view.summary.change_24h_pct
        return (value is None, -(value or 0.0))


@dataclass(frozen=True, slots=True)
class WatchState:
    """What the dashboard remembers between runs."""

    symbols: tuple[str, ...] = ()
    """The watched symbols (canonical), in the user's order; empty means none saved."""
    sort: SortMode = SortMode.GIVEN
    theme: str = ""
    """Textual theme name; empty means the default theme."""
    threshold_pct: float | None = None
    """The arbitrage threshold last set in the dashboard; ``None`` means the config's."""
    warning: str = field(default="", compare=False)
    """Set by :func:`load_watch_state` when the file could not be used; never saved."""


class _StateFile(msgspec.Struct, kw_only=True):
    """The JSON layout of the state file (unknown keys are ignored, for forward compatibility)."""

    symbols: list[str] = msgspec.field(default_factory=list)
    sort: SortMode = SortMode.GIVEN
    theme: str = ""
    threshold_pct: float | None = None


def default_state_path() -> Path:
    """``<platform state dir>/cryptows/watch.json``."""
    return platformdirs.user_state_path("cryptows") / STATE_FILE


def load_watch_state(path: Path | None = None) -> WatchState:
    """Read the saved state at ``path`` (default: :func:`default_state_path`).

    Never raises: a missing file gives the defaults, an unreadable or invalid one gives the
    defaults with :attr:`WatchState.warning` saying why.
    """
    path = path if path is not None else default_state_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return WatchState()
    except OSError as exc:
        return WatchState(warning=f"could not read {path} ({exc.strerror or exc}); using defaults")
    try:
        data = msgspec.json.decode(raw, type=_StateFile)
    except msgspec.DecodeError as exc:
        return WatchState(warning=f"ignored {path}: {exc}; using defaults")
    threshold = data.threshold_pct
    if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
        return WatchState(warning=f"ignored {path}: bad threshold_pct {threshold}; using defaults")
    return WatchState(
        symbols=tuple(dict.fromkeys(s for s in data.symbols if s)),
        sort=data.sort,
        theme=data.theme,
        threshold_pct=threshold,
    )


def save_watch_state(state: WatchState, path: Path | None = None) -> None:
    """Write ``state`` to ``path`` atomically (a reader never sees half a file).

    Raises:
        OSError: the directory or the file cannot be written.
    """
    path = path if path is not None else default_state_path()
    record = _StateFile(
        symbols=list(state.symbols),
        sort=state.sort,
        theme=state.theme,
        threshold_pct=state.threshold_pct,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(record)) + b"\n")
    os.replace(tmp, path)
