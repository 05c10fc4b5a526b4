"""``cryptows watch``: the Textual dashboard over the shared market service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptows.commands.common import live_spec
from cryptows.crash import internal_error
from cryptows.errors import CryptowsError, SymbolError
from cryptows.service import LiveMarket, check_threshold
from cryptows.symbols import parse_symbol
from cryptows.tui.state import WatchState, load_watch_state


def _saved_symbols(state: WatchState) -> tuple[list[str], str]:
    """The saved watchlist, less anything that no longer parses (with a warning)."""
    good: list[str] = []
    bad: list[str] = []
    for text in state.symbols:
        try:
            good.append(parse_symbol(text).canonical)
        except SymbolError:
            bad.append(text)
    warning = f"ignored saved symbols {', '.join(bad)}" if bad else ""
    return good, warning


async def run_watch(
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    threshold: float | None,
    demo: bool,
    state_path: Path | None = None,
) -> int:
    """Run the dashboard until the user quits; returns the exit code.

    Symbols: those given, else the watchlist saved by the last run, else the config's. The
    threshold: ``--threshold``, else the one last set in the dashboard, else the config's.
    """
    from cryptows.tui.factory import make_app

    state = load_watch_state(state_path)
    saved, warning = _saved_symbols(state)
    chosen = list(symbols) if symbols else (saved or None)
    extra: dict[str, object] = {}
    if threshold is not None:
        extra["arb.threshold_pct"] = threshold
    elif state.threshold_pct is not None:
        extra["arb.threshold_pct"] = state.threshold_pct
    if threshold is not None:
        check_threshold(threshold)
    async with live_spec(chosen, venues, config, demo=demo, extra=extra) as spec:
        market = LiveMarket(spec.settings, spec.symbols, spec.venues, demo=spec.demo)
        notes = "; ".join(w for w in (state.warning, warning) if w)
        app = make_app(
            market,
            state_path=state_path,
            state=state,
            warning=notes,
            analysis=spec.settings.analysis,
        )
        async with market:
            try:
                await app.run_async()
            except CryptowsError:
                raise
            except Exception as exc:  # noqa: BLE001 - a bug in the app: one line, exit 1
                raise internal_error(exc, "the dashboard") from exc
        if market.failure is not None:
            raise market.failure
        crash = app.crash
        if crash is not None:
            raise crash
        return app.return_code or 0
