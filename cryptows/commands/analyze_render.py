"""How ``cryptows analyze`` shows its results: Rich text on a terminal, one JSON object with
``--json``. The local numbers always come first; the key never appears (it is not passed here).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from rich import box
from rich.console import Console
from rich.table import Table

from cryptows.analysis.stats import MarketStats
from cryptows.config import AnalysisSettings
from cryptows.numbers import price

if TYPE_CHECKING:
    from cryptows.analysis.runner import Call, Outcome

DISCLAIMER = "Model commentary on a market snapshot, not financial advice."
ESTIMATE_NOTE = (
    "token counts are estimates (about 4 characters per token plus a per-message overhead; "
    "no tokenizer is downloaded), and the answer is assumed to use all of max_tokens"
)


def _num(value: float | None, fmt: str = "{:,.6g}") -> str:
    return "-" if value is None else fmt.format(value)


def _usd(value: float | None) -> str:
    return "unknown price" if value is None else f"${value:.5f}"


def stats_table(stats: MarketStats) -> Table:
    """The local statistics, one row per symbol."""
    title = f"local statistics over {stats.window_s:g} s" + (" (DEMO data)" if stats.demo else "")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    for column in ("symbol", "mid", "disp bps", "spread %", "z", "ret %", "vol %", "opps"):
        table.add_column(column, justify="left" if column == "symbol" else "right", no_wrap=True)
    table.add_column("stale", overflow="fold", min_width=5)
    for s in stats.symbols:
        table.add_row(
            s.symbol,
            price(s.mid),
            _num(s.dispersion_bps, "{:.2f}"),
            _num(s.cross_spread_pct, "{:+.3f}"),
            _num(s.zscore, "{:+.2f}"),
            _num(s.return_pct, "{:+.3f}"),
            _num(s.volatility_pct, "{:.4f}"),
            str(s.open_opportunities),
            ", ".join(s.stale_venues) or "-",
        )
    return table


def dry_run_text(
    stats: MarketStats,
    calls: Sequence[Call],
    bodies: Sequence[dict[str, Any]],
    total: float | None,
    a: AnalysisSettings,
) -> None:
    console = Console()
    console.print(f"[bold]{DISCLAIMER}[/]")
    console.print(stats_table(stats))
    console.print(
        f"[bold]dry run:[/] nothing is sent. POST {a.base_url.rstrip('/')}/chat/completions"
    )
    console.print("Authorization: Bearer ******** (redacted)", markup=False)
    for call, body in zip(calls, bodies, strict=True):
        console.rule(f"{call.model} · {call.task.value}")
        console.print(json.dumps(body, indent=2, ensure_ascii=False), markup=False, highlight=False)
        console.print(
            f"estimate: {call.est_prompt_tokens} prompt + up to {call.est_completion_tokens} "
            f"completion tokens, {_usd(call.est_cost_usd)}",
            markup=False,
        )
    console.print(
        f"[bold]estimated total:[/] {_usd(total)} for {len(calls)} call(s); spend guard "
        f"${a.max_cost_usd:.4f}"
    )
    console.print(f"[dim]{ESTIMATE_NOTE}[/]")


def dry_run_json(
    stats: MarketStats,
    calls: Sequence[Call],
    bodies: Sequence[dict[str, Any]],
    total: float | None,
    a: AnalysisSettings,
) -> None:
    record = {
        "disclaimer": DISCLAIMER,
        "dry_run": True,
        "url": f"{a.base_url.rstrip('/')}/chat/completions",
        "authorization": "Bearer ******** (redacted)",
        "stats": msgspec.to_builtins(stats),
        "requests": [
            {
                "model": c.model,
                "task": c.task.value,
                "body": body,
                "est_prompt_tokens": c.est_prompt_tokens,
                "est_completion_tokens": c.est_completion_tokens,
                "est_cost_usd": c.est_cost_usd,
            }
            for c, body in zip(calls, bodies, strict=True)
        ],
        "est_total_cost_usd": total,
        "max_cost_usd": a.max_cost_usd,
        "estimate_note": ESTIMATE_NOTE,
    }
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


def _answer_lines(outcome: Outcome) -> list[str]:
    answer = outcome.answer
    if answer is None:
        return []
    if not answer.ok:
        return [f"warning: {answer.warning}; the answer as given:", answer.raw or "(blank)"]
    return [json.dumps(answer.data, indent=2, ensure_ascii=False)]


def result_text(stats: MarketStats, outcomes: Sequence[Outcome]) -> None:
    console = Console()
    console.print(f"[bold]{DISCLAIMER}[/]")
    console.print(stats_table(stats))
    prompt_total = completion_total = 0
    cost_total = 0.0
    for o in outcomes:
        console.rule(f"{o.call.model} · {o.call.task.value}")
        if o.error is not None:
            console.print(f"failed: {o.error}", markup=False, style="red")
            continue
        for line in _answer_lines(o):
            console.print(line, markup=False, highlight=False)
        r = o.result
        assert r is not None
        prompt_total += r.prompt_tokens or 0
        completion_total += r.completion_tokens or 0
        cost_total += o.cost_usd or 0.0
        gateway = (
            f" (gateway says ${r.gateway_cost_usd:.5f})" if r.gateway_cost_usd is not None else ""
        )
        console.print(
            f"tokens: {_num(r.prompt_tokens, '{}')} prompt + {_num(r.completion_tokens, '{}')} "
            f"completion; cost {_usd(o.cost_usd)}{gateway}; {r.elapsed_s:.1f} s, "
            f"{r.attempts} attempt(s)",
            markup=False,
        )
    console.rule("total")
    console.print(
        f"{prompt_total} prompt + {completion_total} completion tokens; cost ${cost_total:.5f} "
        "(local price table)",
        markup=False,
    )


def result_json(stats: MarketStats, outcomes: Sequence[Outcome]) -> None:
    results = []
    for o in outcomes:
        r, answer = o.result, o.answer
        results.append(
            {
                "model": o.call.model,
                "task": o.call.task.value,
                "ok": o.error is None and answer is not None and answer.ok,
                "answer": answer.data if answer is not None else None,
                "raw": answer.raw if answer is not None else None,
                "warning": (answer.warning or None) if answer is not None else None,
                "error": str(o.error) if o.error is not None else None,
                "prompt_tokens": r.prompt_tokens if r is not None else None,
                "completion_tokens": r.completion_tokens if r is not None else None,
                "cost_usd": o.cost_usd,
                "gateway_cost_usd": r.gateway_cost_usd if r is not None else None,
            }
        )
    costs = [o.cost_usd for o in outcomes if o.cost_usd is not None]
    record = {
        "disclaimer": DISCLAIMER,
        "stats": msgspec.to_builtins(stats),
        "results": results,
        "total_cost_usd": sum(costs),
    }
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
