"""Build the dashboard: the one factory the CLI and every TUI test call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptows.config import AnalysisSettings
from cryptows.market.types import Snapshot
from cryptows.service import MarketService
from cryptows.tui.app import CryptowsApp
from cryptows.tui.state import WatchState, default_state_path, load_watch_state


def make_app(
    market: MarketService,
    *,
    state_path: Path | None = None,
    state: WatchState | None = None,
    refresh_hz: float = 8.0,
    clock: Callable[[], int] | None = None,
    on_refreshed: Callable[[Snapshot], None] | None = None,
    warning: str = "",
    analysis: AnalysisSettings | None = None,
    saved_symbols: tuple[str, ...] | None = None,
) -> CryptowsApp:
    """The dashboard over ``market``.

    Args:
        market: The running market service (shared with ``quotes`` and ``arb``).
        state_path: Where the saved state lives (default: the platform's state dir).
        state: The saved state, if the caller already loaded it; else it is read from
            ``state_path``. The app uses its sort and theme (symbols and threshold are the
            CLI's to apply to the market) and saves all four on change and on quit.
        refresh_hz: Refreshes per second; ``0`` means no timer (tests call ``refresh_now``).
        clock: Wall-clock ms for ``market.snapshot(now_ms)``; ``None`` lets the market decide.
        on_refreshed: Called with the snapshot after each refresh that changed the screen.
        analysis: The ``[analysis]`` settings ``a`` uses (model, task, key, spend guard);
            ``None``: ``a`` says analysis is not configured.
        warning: Shown as a warning notification once the app starts (e.g. the saved state's
            warning: a caller passing ``state`` passes its warning here; when the factory
            loads the state itself, the loaded state's warning is shown too).
        saved_symbols: The watchlist to save instead of the market's symbols (``--all``
            leaves the saved watchlist as it was).
    """
    path = state_path if state_path is not None else default_state_path()
    if state is None:
        state = load_watch_state(path)
        warning = "; ".join(w for w in (state.warning, warning) if w)
    return CryptowsApp(
        market,
        state=state,
        state_path=path,
        refresh_hz=refresh_hz,
        clock=clock,
        on_refreshed=on_refreshed,
        warning=warning,
        analysis=analysis,
        saved_symbols=saved_symbols,
    )
