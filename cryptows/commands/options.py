"""What the command definitions share: their options, the help panels, logging, and running.

The definitions (``cli_*`` modules) stay light: they import the command implementations only
when a command runs, so ``cryptows --help`` and a Ctrl-C at start-up stay quick. This module
too: nothing here imports the configuration, the venue adapters, msgspec or the network
libraries at import time (``tests/unit/test_bench.py`` checks what ``cryptows --help`` loads).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from cryptows.crash import crash_log_path
from cryptows.registry import VENUE_NAMES

PANEL_CONFIG = "Configuration"
PANEL_OUTPUT = "Output"
PANEL_VENUES = "Venues"
PANEL_RUN = "Run"
PANEL_ARB = "Arbitrage"
PANEL_GATEWAY = "Gateway"
PANEL_LOGGING = "Logging"

VENUE_LIST = ", ".join(VENUE_NAMES)
"""The supported venues, in registry order, for help texts."""


def run_async(main: Coroutine[Any, Any, int | None]) -> None:
    """Run a command's coroutine; a non-zero code it returns becomes the exit code."""
    import asyncio  # ~15 ms: only when a command runs, never for --help

    code = asyncio.run(main)
    if code:
        raise typer.Exit(code)


def json_option(help: str) -> Any:
    """``--json`` with what this command prints (one object, or NDJSON lines)."""
    return typer.Option("--json", help=help, rich_help_panel=PANEL_OUTPUT)


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

JsonObjectOption = Annotated[bool, json_option("Print one JSON object.")]
"""``--json`` for commands whose whole output is one JSON object."""

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
        help=f"Comma-separated venues among {VENUE_LIST}, e.g. "
        f"[bold]{','.join(VENUE_NAMES[:2])}[/]. Default: those enabled in the config (all of "
        "them).",
        show_default=False,
        rich_help_panel=PANEL_VENUES,
    ),
]
AllOption = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Every symbol listed on at least two of the venues, from their symbol lists "
        "(read once at start; a venue whose list cannot be read is left out). Takes no SYMBOL.",
        rich_help_panel=PANEL_VENUES,
    ),
]
QuoteOption = Annotated[
    str | None,
    typer.Option(
        "--quote",
        metavar="ASSET",
        help="With --all: only symbols quoted in ASSET, e.g. [bold]USDT[/] (USD is not USDT).",
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


def _speed(value: float | None) -> float | None:
    if value is not None and not value >= 0:
        raise typer.BadParameter(f"must be 0 (as fast as possible) or more, got {value:g}")
    return value


ReplayOption = Annotated[
    Path | None,
    typer.Option(
        "--replay",
        metavar="FILE",
        help="Play a recording (from [bold]cryptows record[/]) through the same parsers and "
        "engine instead of connecting to any venue, e.g. [bold]--replay btc.ndjson.gz --speed "
        "0[/]. Not with --demo.",
        show_default=False,
        rich_help_panel=PANEL_VENUES,
    ),
]
SpeedOption = Annotated[
    float | None,
    typer.Option(
        "--speed",
        metavar="X",
        callback=_speed,
        help="With --replay: X times the recorded pace (2 = twice as fast); 0 = as fast as "
        "possible (same file, same output). Default: 1.",
        show_default=False,
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
        rich_help_panel=PANEL_ARB,
    ),
]
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


# -- logging: -v/--verbose and --log-file on the root and on every command --------------------
#
# Each option records its value in the context's ``meta`` (shared by the root and the command)
# and (re)starts logging with what is known so far, so ``cryptows -v quotes`` and ``cryptows
# quotes -v`` both work (counts add up; the command's --log-file wins). Typer passes nothing to
# the function (``expose_value=False``): declare the options, the logging follows.


@dataclass
class _LogRequest:
    verbosity: int = 0
    log_file: Path | None = None


def screen_log_path() -> Path:
    """Where ``watch`` logs without ``--log-file``: beside ``crash.log``."""
    return crash_log_path().with_name("watch.log")


def start_logging(ctx: typer.Context, *, screen: bool = False) -> None:
    """Start logging for this run as the ``-v``/``--log-file`` seen so far ask.

    ``screen``: the command owns the terminal (``watch``), so without ``--log-file`` the
    records go to :func:`screen_log_path` (created with the first record), never to stderr.
    """
    from cryptows import logs  # imports the configuration: only when a command runs

    request: _LogRequest = ctx.meta.setdefault("cryptows.logging", _LogRequest())
    path = request.log_file
    try:
        if path is None and screen:
            logs.start(request.verbosity, log_file=screen_log_path(), lazy=True)
        else:
            logs.start(request.verbosity, log_file=path)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write the log file {path}: {exc.strerror or exc}", ctx, param_hint="--log-file"
        ) from None
    ctx.call_on_close(logs.stop)


def _logging_callback(*, screen: bool, verbose: bool) -> Callable[[typer.Context, Any], Any]:
    """The callback of ``-v`` (``verbose``) or of ``--log-file``: note the value, and on a
    command (the root starts logging in its own callback) start logging with it."""

    def record(ctx: typer.Context, value: Any) -> Any:
        request: _LogRequest = ctx.meta.setdefault("cryptows.logging", _LogRequest())
        if verbose:
            request.verbosity += value or 0
        elif value is not None:
            request.log_file = value
        if ctx.parent is not None:
            start_logging(ctx, screen=screen)
        return value

    return record


def _verbose(*, screen: bool, where: str) -> Any:
    return typer.Option(
        "-v",
        "--verbose",
        count=True,
        show_default=False,
        expose_value=False,
        callback=_logging_callback(screen=screen, verbose=True),
        help=f"More log detail: -v info, -vv debug, -vvv the libraries' debug too. {where}",
        rich_help_panel=PANEL_LOGGING,
    )


def _log_file(*, screen: bool, where: str) -> Any:
    return typer.Option(
        "--log-file",
        metavar="PATH",
        expose_value=False,
        callback=_logging_callback(screen=screen, verbose=False),
        help=f"Append the log to PATH. {where} The API key and bearer tokens are redacted.",
        show_default=False,
        rich_help_panel=PANEL_LOGGING,
    )


_TO_STDERR = "Default: stderr (stdout never carries log lines)."
_TO_SCREEN_LOG = (
    f"Default: {screen_log_path()}, written only when something is logged "
    "([bold]$CRYPTOWS_LOG_DIR[/] moves it); never stderr, which the dashboard's screen owns."
)
_TO_EITHER = f"{_TO_STDERR} For watch, see [bold]cryptows watch --help[/]."

VerboseOption = Annotated[int, _verbose(screen=False, where="To stderr unless --log-file.")]
"""``-v/--verbose``: every command declares it (``verbose: VerboseOption = 0``)."""
LogFileOption = Annotated[Path | None, _log_file(screen=False, where=_TO_STDERR)]
"""``--log-file PATH``: every command declares it (``log_file: LogFileOption = None``)."""
ScreenVerboseOption = Annotated[int, _verbose(screen=True, where="To the log file only.")]
"""``-v`` for a full-screen command (``watch``): its log never goes to stderr."""
ScreenLogFileOption = Annotated[Path | None, _log_file(screen=True, where=_TO_SCREEN_LOG)]
"""``--log-file`` for a full-screen command, defaulting to :func:`screen_log_path`."""
RootVerboseOption = Annotated[int, _verbose(screen=False, where="Also accepted after the command.")]
"""``cryptows -v COMMAND``: adds to the command's own ``-v``."""
RootLogFileOption = Annotated[Path | None, _log_file(screen=False, where=_TO_EITHER)]
"""``cryptows --log-file PATH COMMAND``: the command's own ``--log-file`` wins."""
