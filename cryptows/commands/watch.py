"""``cryptows watch``: the Textual dashboard over the shared market service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptows.commands.common import bugs_reported, live_spec, make_market
from cryptows.errors import SymbolError
from cryptows.service import check_threshold
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
    all_symbols: bool = False,
    quote: str | None = None,
    replay: Path | None = None,
    speed: float | None = None,
) -> int:
    """Run the dashboard until the user quits; returns the exit code.

    Symbols: those given, else the watchlist saved by the last run, else the config's. The
    threshold: ``--threshold``, else the one last set in the dashboard, else the config's.
    """
    from cryptows.commands.universe import check_all_options, expand_all

    asset = check_all_options(symbols, all_symbols=all_symbols, quote=quote)
    state = load_watch_state(state_path)
    saved, warning = _saved_symbols(state)
    chosen = list(symbols) if symbols else (saved or None)
    if replay is not None and not symbols:
        chosen = None  # the recording's symbols, not the saved watchlist
    if all_symbols:
        chosen = None
    if threshold is not None:
        check_threshold(threshold)
    extra = {"arb.threshold_pct": threshold if threshold is not None else state.threshold_pct}
    async with live_spec(
        chosen,
        venues,
        config,
        demo=demo,
        extra=extra,
        replay=replay,
        speed=speed,
        all_symbols=all_symbols,
    ) as spec:
        if all_symbols:
            spec = await expand_all(spec, asset)
        from cryptows.tui.factory import make_app  # Textual: only once the arguments are good

        market = make_market(spec)
        notes = "; ".join(w for w in (state.warning, warning) if w)
        app = make_app(
            market,
            state_path=state_path,
            state=state,
            warning=notes,
            analysis=spec.settings.analysis,
            # --all and a replay leave the saved watchlist as it was
            saved_symbols=tuple(saved) if all_symbols or replay is not None else None,
        )
        async with market:
            with bugs_reported("the dashboard"):
                await app.run_async()
        if market.failure is not None:
            raise market.failure
        crash = app.crash
        if crash is not None:
            raise crash
        return app.return_code or 0
