"""``cryptows doctor``: run the checks of :mod:`cryptows.doctor` and show what they found.

A table per venue (Rich, fitting 80 columns: one line per step with its result, time and
✓/✗/!, a hint under each failure, and the venue's verdict), the proxy environment and a
summary; or, with ``--json``, the report as one JSON document. While the checks run, a
progress line on stderr when it is a terminal. Exit 0 when every venue works on at least one
endpoint, 1 when a venue fails entirely, 2 for bad input.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from cryptows.commands.common import DEMO_BANNER, bugs_reported, eprint, live_spec
from cryptows.crash import first_error
from cryptows.doctor import DoctorReport, Mark, Progress, Step, VenueReport, Verdict, diagnose

MARKS = {
    Mark.OK: ("✓", "green"),
    Mark.FAIL: ("✗", "bold red"),
    Mark.WARN: ("!", "yellow"),
    Mark.SKIP: ("", "dim"),
}
VERDICT_MARKS = {Verdict.OK: Mark.OK, Verdict.DEGRADED: Mark.WARN, Verdict.FAILING: Mark.FAIL}


def _time(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _mark(mark: Mark) -> Text:
    glyph, style = MARKS[mark]
    return Text(glyph, style=style)


def _result(step: Step, shown: set[str]) -> Text:
    """The step's detail, and its hint under it (a hint given above already: said so)."""
    text = Text(step.detail, style="dim" if step.mark is Mark.SKIP else "")
    if step.hint and step.mark is not Mark.OK:
        hint = "the same hint as above" if step.hint in shown else step.hint
        shown.add(step.hint)
        text.append(f"\n→ {hint}", style="yellow" if step.mark is Mark.WARN else "red")
    return text


TABLE_WIDTH = 100
"""The widest a venue's block grows on a wide terminal (its lines stay readable)."""


def venue_table(
    venue: VenueReport, *, width: int, demo: bool = False, shown: set[str] | None = None
) -> Table:
    """One venue's block, ``width`` columns wide: its endpoints' steps, clock, symbol list,
    symbols and verdict. ``shown``: the hints shown so far (each is given in full once)."""
    shown = set() if shown is None else shown

    def row(label: str, step: Step) -> None:
        table.add_row(label, _result(step, shown), _time(step.ms), _mark(step.mark))

    verdict = venue.verdict
    glyph, style = MARKS[VERDICT_MARKS[verdict]]
    title = Text.assemble((venue.venue, "bold"), " ", (f"{glyph} {verdict.value}", style))
    if demo:
        title.append("  DEMO", style="bold magenta")
    table = Table(
        title=title,
        title_justify="left",
        box=None,
        pad_edge=False,
        show_header=False,
        width=width,
    )
    table.add_column("step", no_wrap=True, min_width=13)
    table.add_column("result", overflow="fold", ratio=1)
    table.add_column("time", no_wrap=True, justify="right", min_width=7)
    table.add_column("", no_wrap=True, width=1)
    total = len(venue.endpoints)
    for number, endpoint in enumerate(venue.endpoints, 1):
        label = f"endpoint {number}/{total}" if total > 1 else "endpoint"
        ok = Mark.OK if endpoint.works else Mark.FAIL
        table.add_row(Text(label, style="bold"), Text(endpoint.url), "", _mark(ok))
        for step in endpoint.steps:
            row(f"  {step.name}", step)
    row("clock", venue.clock.step)
    row("symbol list", venue.symbol_list)
    for symbol in venue.symbols:
        row(f"  {symbol.symbol}", symbol.step)
    summary = Text(verdict.value, style=style)
    if venue.summary:
        summary.append(f": {venue.summary}", style=style)
    table.add_row(Text("verdict", style="bold"), summary, "", _mark(VERDICT_MARKS[verdict]))
    return table


def render(report: DoctorReport, width: int = 80) -> RenderableType:
    """The whole report for a ``width``-column terminal: a block per venue, the proxy
    environment, a summary line."""
    parts: list[RenderableType] = []
    shown: set[str] = set()
    for venue in report.venues:
        table = venue_table(venue, width=min(width, TABLE_WIDTH), demo=report.demo, shown=shown)
        parts += [table, Text("")]
    if report.proxies:
        proxies = Text("proxy environment: ", style="bold")
        proxies.append(", ".join(f"{k}={v}" for k, v in report.proxies.items()))
    else:
        proxies = Text.assemble(("proxy environment: ", "bold"), "none set (direct connections)")
    parts.append(proxies)
    parts.append(summary_text(report))
    return Group(*parts)


def summary_text(report: DoctorReport) -> Text:
    """``summary: 1 failing (binance), 1 degraded (okx), 2 OK (bybit, coinbase)``."""
    by: dict[Verdict, list[str]] = {v: [] for v in (Verdict.FAILING, Verdict.DEGRADED, Verdict.OK)}
    for venue in report.venues:
        by[venue.verdict].append(venue.venue)
    text = Text("summary: ", style="bold")
    shown = [(verdict, names) for verdict, names in by.items() if names]
    for n, (verdict, names) in enumerate(shown):
        if n:
            text.append(", ")
        style = MARKS[VERDICT_MARKS[verdict]][1]
        text.append(f"{len(names)} {verdict.value} ({', '.join(names)})", style=style)
    return text


@contextlib.contextmanager
def progress_line(venues: Sequence[str], *, show: bool) -> Iterator[Progress | None]:
    """A status line on stderr (a terminal only) saying what each venue is checking now."""
    if not show:
        yield None
        return
    console = Console(stderr=True)
    doing = dict.fromkeys(venues, "starting")

    def text() -> str:
        busy = [f"{venue}: {what}" for venue, what in doing.items() if what != "done"]
        return "checking " + ("; ".join(busy) or "…")

    with console.status(text()) as status:

        def update(venue: str, what: str) -> None:
            doing[venue] = what
            status.update(text())

        yield update


async def run_doctor(
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    demo: bool,
    as_json: bool,
) -> int:
    """Check every chosen venue and print the report; the exit code (0 or 1)."""
    async with live_spec(symbols, venues, config, demo=demo) as spec:
        if spec.demo:
            eprint(f"cryptows: {DEMO_BANNER}")
        with bugs_reported("doctor"):
            try:
                with progress_line(spec.venues, show=sys.stderr.isatty()) as progress:
                    report = await diagnose(
                        spec.settings,
                        spec.venues,
                        spec.symbols,
                        demo=spec.demo,
                        progress=progress,
                    )
            except ExceptionGroup as group:
                raise first_error(group) from None
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False), flush=True)
    else:
        console = Console(highlight=False)
        console.print(render(report, console.width))
    return report.exit_code
