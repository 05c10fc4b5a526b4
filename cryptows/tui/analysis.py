"""``a`` in the dashboard: the same analysis as ``cryptows analyze``, on the live snapshot.

Model and task come from ``[analysis] model`` / ``task``; the statistics cover the last
:data:`WINDOW_S` seconds of the snapshot's history. A run whose estimate exceeds the spend guard
asks first; runs are at least :data:`COOLDOWN_S` apart. Problems are notifications.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cryptows.analysis.prompt import tasks_for
from cryptows.analysis.runner import Call, estimate_total, plan
from cryptows.analysis.stats import MarketStats, compute_stats
from cryptows.config import AnalysisSettings
from cryptows.errors import CryptowsError
from cryptows.tui.screens.analysis import AnalysisScreen, ConfirmSpendScreen

if TYPE_CHECKING:
    from cryptows.tui.app import CryptowsApp

WINDOW_S = 60.0
"""Seconds of mid-price history the dashboard's analysis looks at."""
COOLDOWN_S = 20.0
"""Least time between two analyses started from the dashboard (each one costs money)."""


def stats_text(stats: MarketStats) -> str:
    """The local numbers, one line per symbol (shown before any model answer)."""

    def num(value: float | None, fmt: str) -> str:
        return "-" if value is None else fmt.format(value)

    lines = [f"local statistics over {stats.window_s:g} s:"]
    for s in stats.symbols:
        lines.append(
            f"{s.symbol:<9} mid {num(s.mid, '{:,.6g}')}  disp {num(s.dispersion_bps, '{:.2f}')} "
            f"bps  z {num(s.zscore, '{:+.2f}')}  ret {num(s.return_pct, '{:+.3f}')} %  "
            f"vol {num(s.volatility_pct, '{:.4f}')} %  opps {s.open_opportunities}"
        )
    return "\n".join(lines)


class AnalysisLauncher:
    """Starts analyses for one app: the key check, the cooldown and the spend guard."""

    def __init__(self, settings: AnalysisSettings | None) -> None:
        self.settings = settings
        self._last: float | None = None

    def launch(self, app: CryptowsApp) -> None:
        """Open the analysis (or say why not) for what ``app`` shows now."""
        a = self.settings
        if a is None:
            app.notify("analysis is not configured", title="analysis", severity="error")
            return
        if not a.api_key:
            app.notify(
                "no API key: set HOLYSHEEP_API_KEY or [analysis] api_key",
                title="analysis",
                severity="error",
                markup=False,
            )
            return
        now = time.monotonic()
        if self._last is not None and now - self._last < COOLDOWN_S:
            wait = COOLDOWN_S - (now - self._last)
            app.notify(f"one analysis per {COOLDOWN_S:g} s: wait {wait:.0f} s", title="analysis")
            return
        snapshot = app.last_snapshot or app.market.snapshot()
        try:
            stats = compute_stats(snapshot, WINDOW_S)
            calls = plan(stats, [a.model], tasks_for(a.task), a)
        except CryptowsError as err:
            app.notify(str(err), title="analysis", severity="error", markup=False)
            return
        total = estimate_total(calls)
        if total is not None and total <= a.max_cost_usd:
            self._open(app, calls, a, stats)
            return
        priced = "cannot be priced" if total is None else f"is about ${total:.4f}"
        question = (
            f"The estimated cost {priced}, above the spend guard ${a.max_cost_usd:.4f} "
            f"([analysis] max_cost_usd). Send {len(calls)} call(s) to {a.model} anyway?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._open(app, calls, a, stats)

        app.push_screen(ConfirmSpendScreen(question), answered)

    def _open(
        self, app: CryptowsApp, calls: list[Call], a: AnalysisSettings, stats: MarketStats
    ) -> None:
        self._last = time.monotonic()
        app.push_screen(AnalysisScreen(calls, a, stats, stats_text(stats)))
