"""The gateway commands' definitions: ``analyze`` and ``models``.

Each body imports its implementation only when it runs (see :mod:`cryptows.commands.options`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cryptows.commands.options import (
    PANEL_GATEWAY,
    BaseUrlOption,
    ConfigOption,
    DemoOption,
    JsonObjectOption,
    LogFileOption,
    ReplayOption,
    SpeedOption,
    SymbolsArgument,
    VenuesOption,
    VerboseOption,
    json_option,
    run_async,
)


def analyze(
    symbols: SymbolsArgument = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            metavar="MODEL",
            help="Model id, e.g. deepseek-v3.2 or gpt-4.1; repeat to compare models side by "
            "side. Default: [bold]analysis.model[/] from the config.",
            show_default=False,
            rich_help_panel=PANEL_GATEWAY,
        ),
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            metavar="TASK",
            help="sentiment, anomaly, signal, or all (the three at once). Default: "
            "[bold]analysis.task[/] (all).",
            show_default=False,
        ),
    ] = None,
    window: Annotated[
        float,
        typer.Option(
            "--window",
            metavar="S",
            min=0.5,
            max=600,
            help="Seconds of live data to collect before analysing.",
        ),
    ] = 10.0,
    venues: VenuesOption = None,
    demo: DemoOption = False,
    replay: ReplayOption = None,
    speed: SpeedOption = None,
    as_json: Annotated[
        bool,
        json_option(
            "Print one JSON object: the local statistics once, one entry per model and task."
        ),
    ] = False,
    base_url: BaseUrlOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the exact requests (key redacted) with estimated tokens and cost; send "
            "nothing. Works offline and without a key.",
            rich_help_panel=PANEL_GATEWAY,
        ),
    ] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            metavar="USD",
            min=0.0,
            help="Spend guard: refuse before sending when the estimate exceeds USD. Default: "
            "[bold]analysis.max_cost_usd[/] (0.05).",
            show_default=False,
            rich_help_panel=PANEL_GATEWAY,
        ),
    ] = None,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Ask models behind the HolySheep gateway for commentary on the live market.

    Collects --window seconds of live (or --demo) data, computes the statistics locally
    (spread, dispersion, z-score of the latest mid, return, volatility, open opportunities,
    venue health), shows them, then asks each model to explain and judge them: sentiment,
    anomalies, a signal. Tokens and cost per call and in total; commentary, not financial
    advice. The key comes from HOLYSHEEP_API_KEY (or the config) and is never shown.

    With --replay FILE, the window is the recording's first --window seconds (or all of it),
    e.g. [bold]cryptows analyze --replay btc.ndjson.gz --speed 0 --dry-run[/].

    Example: [bold]cryptows analyze --demo --dry-run[/]
    """
    from cryptows.commands.analyze import run_analyze

    run_async(
        run_analyze(
            symbols,
            venues,
            config,
            models=model,
            task=task,
            window_s=window,
            demo=demo,
            replay=replay,
            speed=speed,
            as_json=as_json,
            base_url=base_url,
            dry_run=dry_run,
            max_cost_usd=max_cost,
        )
    )


def models(
    as_json: JsonObjectOption = False,
    base_url: BaseUrlOption = None,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """List the price table (USD per million tokens) and the gateway's own model list.

    Prices are the built-in table overridden by [analysis.prices."<model>"] in the config;
    cost figures in analyze come from them. The gateway is asked (GET /models) only when a key
    is set.
    """
    from cryptows.commands.models import run_models

    run_async(run_models(config, base_url=base_url, as_json=as_json))
