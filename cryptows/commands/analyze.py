"""``cryptows analyze``: local statistics on a live window, then the models' commentary.

The order is fixed: collect ``--window`` seconds from the shared market service, compute every
number locally (:mod:`cryptows.analysis.stats`), build one request per (model, task), estimate
their cost, and only then (unless ``--dry-run`` or the spend guard says no) send them
concurrently. The local numbers are shown first; the models explain and judge them.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cryptows.analysis.prompt import tasks_for
from cryptows.analysis.runner import estimate_total, exit_code, plan, request_body, send_all
from cryptows.analysis.stats import compute_stats
from cryptows.commands.common import DEMO_BANNER, RunSpec, eprint, live_spec, make_market
from cryptows.errors import UsageError
from cryptows.market.types import Snapshot


async def collect(spec: RunSpec, window_s: float) -> Snapshot:
    """Run the market for ``window_s`` seconds (progress on stderr) and return its snapshot.

    A replay runs for ``window_s`` seconds of the recording's clock, or to its end.
    """
    market = make_market(spec)
    show = sys.stderr.isatty()
    async with market:
        start = time.monotonic()
        begin = market.clock()

        def elapsed_s() -> float:
            if market.replay:
                return (market.clock() - begin) / 1000
            return time.monotonic() - start

        while (elapsed := elapsed_s()) < window_s and not market.ended.is_set():
            if market.failure is not None:
                raise market.failure
            if show:
                live = sum(h.usable for h in market.health().values())
                print(
                    f"\rcryptows: collecting market data {elapsed:4.1f}/{window_s:g} s "
                    f"({live}/{len(spec.venues)} venues live)",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
            await asyncio.sleep(min(0.2, window_s - elapsed) if not market.replay else 0.02)
        if show:
            print("\r\x1b[2K", end="", file=sys.stderr, flush=True)
        if market.failure is not None:
            raise market.failure
        return market.snapshot()


async def run_analyze(
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    models: Sequence[str] | None,
    task: str | None,
    window_s: float,
    demo: bool,
    as_json: bool,
    base_url: str | None,
    replay: Path | None = None,
    speed: float | None = None,
    dry_run: bool,
    max_cost_usd: float | None,
) -> int:
    """Collect, compute, (maybe) send, show; returns the exit code."""
    from cryptows.commands import analyze_render as render

    extra = {"analysis.base_url": base_url, "analysis.max_cost_usd": max_cost_usd}
    async with live_spec(
        symbols, venues, config, demo=demo, extra=extra, replay=replay, speed=speed
    ) as spec:
        a = spec.settings.analysis
        chosen = list(dict.fromkeys(models or [a.model]))
        tasks = tasks_for(task or a.task)
        if not dry_run and not a.api_key:
            raise UsageError(
                "no API key: set HOLYSHEEP_API_KEY or [analysis] api_key (or use --dry-run to "
                "see the request without sending it)"
            )
        if spec.demo and not as_json:
            eprint(f"cryptows: {DEMO_BANNER}")
        snapshot = await collect(spec, window_s)
    stats = compute_stats(snapshot, window_s)
    calls = plan(stats, chosen, tasks, a)
    total = estimate_total(calls)
    if dry_run:
        bodies = [request_body(c, a) for c in calls]
        if as_json:
            render.dry_run_json(stats, calls, bodies, total, a)
        else:
            render.dry_run_text(stats, calls, bodies, total, a)
        return 0
    if total is None:
        unknown = sorted({c.model for c in calls if c.price is None})
        raise UsageError(
            f"no price known for {', '.join(unknown)}, so the spend guard cannot check it; add "
            '[analysis.prices."<model>"] input/output (USD per million tokens) to the config'
        )
    if total > a.max_cost_usd:
        raise UsageError(
            f"the estimated cost ${total:.4f} exceeds the spend guard ${a.max_cost_usd:.4f}; "
            "raise it with --max-cost or [analysis] max_cost_usd, or ask fewer models/tasks"
        )
    outcomes = await send_all(calls, a, stats)
    if as_json:
        render.result_json(stats, outcomes)
    else:
        render.result_text(stats, outcomes)
    for outcome in outcomes:
        if outcome.error is not None:
            eprint(f"cryptows: error: {outcome.call.model} {outcome.call.task}: {outcome.error}")
    return exit_code(outcomes)
