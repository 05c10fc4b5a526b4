"""The ``cryptows`` command line: parse, build services, run, render. Command bodies stay thin.

stdout carries data only; diagnostics go to stderr. Any :class:`~cryptows.errors.CryptowsError`
becomes one line ``cryptows: error: <message>`` on stderr and its exit code (2 usage/config, 1
runtime); Typer's own usage errors exit 2 as well.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from cryptows import __version__
from cryptows import config as cfg
from cryptows.errors import CryptowsError, UsageError

PANEL_CONFIG = "Configuration"


def _no_type_noise() -> None:
    """Typer prints each parameter's Python type beside it (``<bool>`` on every flag,
    ``<list[str]>`` on the symbols): noise for users. Show a metavar only where one says
    something (PATH, PCT, MS ...)."""
    option_type = TyperOption.display_type_rich

    def option_display(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag or self.metavar is None:
            return None if self.is_flag else option_type(self, ctx)
        return self.metavar

    TyperOption.display_type_rich = option_display  # type: ignore[method-assign]
    TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


_no_type_noise()
PANEL_OUTPUT = "Output"


def report_error(err: CryptowsError) -> NoReturn:
    """Print ``err`` as one stderr line and exit with its code: the CLI's single error handler."""
    message = " ".join(str(err).split())  # one line, whatever the message holds
    print(f"cryptows: error: {message}", file=sys.stderr, flush=True)
    sys.exit(err.exit_code)


class _CryptowsGroup(TyperGroup):
    """Root command group: every error of a run ends as one stderr line and an exit code.

    Domain errors go through :func:`report_error`; Click/Typer usage errors (bad option value,
    unknown command) become ``cryptows: error: <what>; see `<command> --help``` with exit 2, in
    place of Typer's multi-line box. Handling this here, rather than around ``app()``, means
    ``typer.testing.CliRunner`` and the console script behave the same.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Ctrl-C before the command's own handler was installed (or after it was removed):
            # asyncio.run has already cancelled and unwound the run; stopping is not an error.
            return 0

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except CryptowsError as err:
            report_error(err)
        except typer.TyperException as err:  # Typer's (vendored Click) usage errors
            ctx = getattr(err, "ctx", None)
            if type(err).__name__ == "NoArgsIsHelpError":  # bare command: show its help
                typer.echo(err.format_message(), err=True)
                sys.exit(2)
            hint = f"; see `{ctx.command_path} --help`" if ctx is not None else ""
            failure = UsageError(f"{err.format_message().rstrip('.')}{hint}")
            failure.exit_code = err.exit_code
            report_error(failure)
        except typer.Abort:  # Ctrl-C before a command installed its own handler: a clean stop
            sys.exit(0)
        if result == 130:  # Typer's code for Ctrl-C while parsing arguments: a clean stop too
            result = 0
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    name="cryptows",
    cls=_CryptowsGroup,
    help="Live crypto quotes from several exchanges, cross-venue arbitrage and LLM analysis.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a key held in a local must never reach a traceback
    rich_markup_mode="rich",
    add_completion=False,
)

config_app = typer.Typer(
    no_args_is_help=True,
    help="Write, show and locate the configuration file.",
    rich_markup_mode="rich",
)
app.add_typer(config_app, name="config")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="PATH",
        help="Config file to use (must exist). Default: [bold]$CRYPTOWS_CONFIG[/], else the "
        "per-user config directory (see [bold]cryptows config path[/]).",
        show_default=False,
        rich_help_panel=PANEL_CONFIG,
    ),
]
"""The shared ``--config PATH`` option; every command that reads settings takes it."""

JsonObjectOption = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON object.", rich_help_panel=PANEL_OUTPUT),
]
"""``--json`` for commands whose whole output is one JSON object."""


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"cryptows {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Live crypto quotes from several exchanges, cross-venue arbitrage and LLM analysis."""


# -- config ----------------------------------------------------------------------------------


@config_app.command("init")
def config_init(
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the commented example configuration (every key, its default and why)."""
    path = cfg.write_example_config(cfg.locate_config(config).path, force=force)
    typer.echo(f"wrote {path}; check it with `cryptows config show`", err=True)


@config_app.command("show")
def config_show(
    config: ConfigOption = None,
    as_json: JsonObjectOption = False,
) -> None:
    """Show the effective settings and where each came from (secrets redacted)."""
    settings = cfg.load_settings(config)
    values = settings.effective()
    if as_json:
        rows = {
            key: {"value": value, "source": settings.source(key)} for key, value in values.items()
        }
        file = str(settings.config_file) if settings.config_file else None
        typer.echo(json.dumps({"config_file": file, "settings": rows}, indent=2))
        return
    texts = {key: f"{key} = {json.dumps(value)}" for key, value in values.items()}
    width = max(map(len, texts.values()))
    read = settings.config_file or "none (built-in defaults; `cryptows config path` shows where)"
    typer.echo(f"# config file: {read}")
    for key, text in texts.items():
        typer.echo(f"{text:<{width}}  # {settings.source(key)}")


@config_app.command("path")
def config_path(config: ConfigOption = None) -> None:
    """Print the config file path that would be used (a note on stderr says if it exists)."""
    location = cfg.locate_config(config)
    typer.echo(str(location.path))
    state = "exists" if location.exists else "does not exist yet (`cryptows config init` writes it)"
    typer.echo(f"from {location.origin}; {state}", err=True)


# -- other commands (quotes, watch, arb, analyze, sim, doctor, record, models) go below -------
# Keep each body thin: load settings with cfg.load_settings(config, overrides=...), build services,
# then asyncio.run(...) or App.run(). Raise CryptowsError subclasses; never print tracebacks.

PANEL_VENUES = "Venues"
PANEL_RUN = "Run"

SymbolsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="SYMBOL",
        help="Symbols such as BTCUSDT, btc-usdt or BTC/USDT, space- or comma-separated. "
        "Default: [bold]symbols[/] from the config, else BTCUSDT ETHUSDT.",
        show_default=False,
    ),
]
VenuesOption = Annotated[
    str | None,
    typer.Option(
        "--venues",
        metavar="LIST",
        help="Comma-separated venues, e.g. [bold]binance,okx[/]. Default: those enabled in the "
        "config (all four).",
        show_default=False,
        rich_help_panel=PANEL_VENUES,
    ),
]
DemoOption = Annotated[
    bool,
    typer.Option(
        "--demo",
        help="Use the embedded simulated exchanges on 127.0.0.1 (works offline; every output "
        "says DEMO).",
        rich_help_panel=PANEL_VENUES,
    ),
]


def _duration(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be more than 0 seconds, got {value:g}")
    return value


def _percent(text: str) -> float:
    """``0.1``, ``0.1%`` or ``0.1 %`` -> 0.1 (percent)."""
    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a percentage; e.g. 0.1 or 0.1%") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise typer.BadParameter(f"{text!r} is not a finite percentage")
    return value


DurationOption = Annotated[
    float | None,
    typer.Option(
        "--duration",
        metavar="S",
        callback=_duration,
        help="Stop by itself after S seconds (exit 0). Default: run until Ctrl-C.",
        show_default=False,
        rich_help_panel=PANEL_RUN,
    ),
]


ThresholdOption = Annotated[
    float | None,
    typer.Option(
        "--threshold",
        metavar="PCT",
        parser=_percent,
        help="Report when the spread net of both taker fees reaches PCT percent (0.1 or "
        "0.1% = 0.1 %). Default: [bold]arb.threshold_pct[/] from the config (0.1).",
        show_default=False,
        rich_help_panel="Arbitrage",
    ),
]


@app.command("watch")
def watch(
    symbols: SymbolsArgument = None,
    threshold: ThresholdOption = None,
    venues: VenuesOption = None,
    demo: DemoOption = False,
    config: ConfigOption = None,
) -> None:
    """Open the live dashboard: every venue at once, best prices, arbitrage, venue health.

    One row per symbol: best bid and ask across venues (and where), mid, last, 24 h change,
    cross-venue dispersion and a sparkline. Enter shows each venue's quote; the arbitrage
    panel lists open and recent opportunities net of fees; the health panel shows each
    venue's state. A venue that is down, or a stale quote, is greyed with its reason.

    Keys: ? help, q quit, / add a symbol, Delete remove it, s sort, t threshold, p pause,
    Ctrl-P command palette (themes). The watchlist, sort, theme and threshold are remembered
    between runs; symbols given here replace the saved watchlist.

    Example: [bold]cryptows watch --demo BTCUSDT ETHUSDT SOLUSDT[/]
    """
    from cryptows.commands.watch import run_watch

    code = asyncio.run(run_watch(symbols, venues, config, threshold=threshold, demo=demo))
    if code:
        raise typer.Exit(code)


@app.command("quotes")
def quotes(
    symbols: SymbolsArgument = None,
    venues: VenuesOption = None,
    demo: DemoOption = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="NDJSON on stdout, one object per line: [bold]type[/] quote or venue.",
            rich_help_panel=PANEL_OUTPUT,
        ),
    ] = False,
    duration: DurationOption = None,
    config: ConfigOption = None,
) -> None:
    """Stream live quotes from every venue at once.

    A live table on a terminal; NDJSON with --json (for pipes and bots); plain lines otherwise.
    Ctrl-C stops cleanly and prints one summary line per venue on stderr.

    Example: [bold]cryptows quotes --demo BTCUSDT ETHUSDT[/]
    """
    from cryptows.commands.quotes import run_quotes

    asyncio.run(run_quotes(symbols, venues, config, demo=demo, as_json=as_json, duration=duration))


@app.command("arb")
def arb(
    symbols: SymbolsArgument = None,
    threshold: ThresholdOption = None,
    gross: Annotated[
        bool,
        typer.Option(
            "--gross",
            help="Compare the gross spread (before fees) with the threshold.",
            rich_help_panel="Arbitrage",
        ),
    ] = False,
    max_age: Annotated[
        int | None,
        typer.Option(
            "--max-age",
            metavar="MS",
            min=0,
            help="Ignore quotes older than MS milliseconds even on a live connection (0 = off).",
            show_default=False,
            rich_help_panel="Arbitrage",
        ),
    ] = None,
    venues: VenuesOption = None,
    demo: DemoOption = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help=(
                "NDJSON on stdout: [bold]type[/] open, update (at most 1/s each), close (with "
                "its [bold]reason[/]), venue. Fields in the README."
            ),
            rich_help_panel=PANEL_OUTPUT,
        ),
    ] = False,
    duration: DurationOption = None,
    config: ConfigOption = None,
) -> None:
    """Scan every venue for cross-venue arbitrage, net of taker fees.

    Buy on the venue with the lowest ask, sell on the one with the highest bid: an opportunity
    opens when the net spread has stayed at or above the threshold for arb.confirm_ms
    (default 250 ms; shorter blips are counted as unconfirmed) and closes when it falls back
    (with a small hysteresis band), so one dislocation is one open/close pair. Each shows its
    estimated profit for the executable size after both taker fees, and its rank among the
    routes of its symbol; a route that shares a leg with a better one competes for the same
    size (the sizes do not add up). USD and USDT books are never compared unless you declare
    them equivalent in the config.

    A close says why: below_threshold (the spread fell back), leg_stale (a leg's venue is not
    live, or its quote is older than --max-age), leg_gone (a leg's quote was removed: symbol
    unlisted or unwatched, or that side of the book empty) or run_end (Ctrl-C, --duration).

    Example: [bold]cryptows arb --demo --threshold 0.1[/]
    """
    from cryptows.commands.arb import run_arb

    asyncio.run(
        run_arb(
            symbols,
            venues,
            config,
            threshold=threshold,
            gross=gross,
            max_age_ms=max_age,
            duration=duration,
            demo=demo,
            as_json=as_json,
        )
    )


PANEL_GATEWAY = "Gateway"

BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="OpenAI-compatible endpoint (e.g. http://127.0.0.1:8000/v1). Default: "
        "[bold]analysis.base_url[/] or $HOLYSHEEP_BASE_URL.",
        show_default=False,
        rich_help_panel=PANEL_GATEWAY,
    ),
]
"""``--base-url`` for every command that talks to the gateway."""


@app.command("analyze")
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
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: the local statistics once, one entry per model and task.",
            rich_help_panel=PANEL_OUTPUT,
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
) -> None:
    """Ask models behind the HolySheep gateway for commentary on the live market.

    Collects --window seconds of live (or --demo) data, computes the statistics locally
    (spread, dispersion, z-score of the latest mid, return, volatility, open opportunities,
    venue health), shows them, then asks each model to explain and judge them: sentiment,
    anomalies, a signal. Tokens and cost per call and in total; commentary, not financial
    advice. The key comes from HOLYSHEEP_API_KEY (or the config) and is never shown.

    Example: [bold]cryptows analyze --demo --dry-run[/]
    """
    from cryptows.commands.analyze import run_analyze

    code = asyncio.run(
        run_analyze(
            symbols,
            venues,
            config,
            models=model,
            task=task,
            window_s=window,
            demo=demo,
            as_json=as_json,
            base_url=base_url,
            dry_run=dry_run,
            max_cost_usd=max_cost,
        )
    )
    if code:
        raise typer.Exit(code)


@app.command("models")
def models(
    as_json: JsonObjectOption = False,
    base_url: BaseUrlOption = None,
    config: ConfigOption = None,
) -> None:
    """List the price table (USD per million tokens) and the gateway's own model list.

    Prices are the built-in table overridden by [analysis.prices."<model>"] in the config;
    cost figures in analyze come from them. The gateway is asked (GET /models) only when a key
    is set.
    """
    from cryptows.commands.models import run_models

    asyncio.run(run_models(config, base_url=base_url, as_json=as_json))


@app.command("sim")
def sim(
    port_base: Annotated[
        int,
        typer.Option(
            "--port-base",
            metavar="N",
            help="First port; venue i listens on N+i (binance, bybit, okx, coinbase). "
            "0 picks free ports.",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Market seed (same seed, same prices).")] = 7,
    venues: VenuesOption = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            metavar="VENUE:ACTION[@S][=ARG]",
            help="Inject a fault, e.g. bybit:drop@10, okx:close@5=1011, binance:stall@20=15, "
            "coinbase:garbage@3, bybit:oversize@8, okx:reject=ETHUSDT, binance:refuse=451, "
            "okx:slow=3, bybit:nopong. Repeatable.",
            show_default=False,
        ),
    ] = None,
    write_config: Annotated[
        Path | None,
        typer.Option(
            "--write-config",
            metavar="PATH",
            help="Also write a client config pointing at these venues, marked demo = true "
            "(then: cryptows quotes --config PATH; its output is labelled DEMO).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the simulated exchanges on loopback and print their endpoints until Ctrl-C.

    Each venue speaks its real protocol (WebSocket and REST on one port), so any client of that
    exchange works against it by changing only host and port.
    """
    from cryptows.commands.sim import run_sim

    asyncio.run(
        run_sim(
            port_base=port_base,
            seed=seed,
            venues=venues,
            faults=fault or [],
            write_config=write_config,
        )
    )


def main() -> None:
    """Console-script entry point (``cryptows``); ``python -m cryptows`` runs it too.

    Usage errors exit 2; a ``CryptowsError`` becomes one ``cryptows: error:`` line and its exit
    code (handled in the root group, see :class:`_CryptowsGroup`).
    """
    try:
        app(prog_name="cryptows")
    except CryptowsError as err:  # only reachable if raised outside a command run
        report_error(err)
