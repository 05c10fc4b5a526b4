"""The market commands' definitions: ``watch``, ``quotes``, ``arb`` and ``sim``.

Each body imports its implementation only when it runs (see :mod:`cryptows.commands.options`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptows.commands.options import (
    PANEL_ARB,
    PANEL_VENUES,
    VENUE_LIST,
    AllOption,
    ConfigOption,
    DemoOption,
    DurationOption,
    LogFileOption,
    QuoteOption,
    ReplayOption,
    ScreenLogFileOption,
    ScreenVerboseOption,
    SpeedOption,
    SymbolsArgument,
    ThresholdOption,
    VenuesOption,
    VerboseOption,
    json_option,
    run_async,
)


def watch(
    symbols: SymbolsArgument = None,
    threshold: ThresholdOption = None,
    venues: VenuesOption = None,
    all_symbols: AllOption = False,
    quote: QuoteOption = None,
    demo: DemoOption = False,
    replay: ReplayOption = None,
    speed: SpeedOption = None,
    config: ConfigOption = None,
    verbose: ScreenVerboseOption = 0,
    log_file: ScreenLogFileOption = None,
) -> None:
    """Open the live dashboard: every venue at once, best prices, arbitrage, venue health.

    One row per symbol: best bid and ask across venues (and where), mid, last, 24 h change,
    cross-venue dispersion and a sparkline. Enter shows each venue's quote; the arbitrage
    panel lists open and recent opportunities net of fees; the health panel shows each
    venue's state. A venue that is down, or a stale quote, is greyed with its reason.

    Keys: ? help, q quit, / add a symbol, Delete remove it, s sort, t threshold, p pause,
    Ctrl-P command palette (themes). The watchlist, sort, theme and threshold are remembered
    between runs; symbols given here replace the saved watchlist.

    With --all, every symbol at least two venues list (--quote USDT: only USDT pairs); the
    saved watchlist is left as it was.

    With --replay FILE, the dashboard plays a recording instead (REPLAY badge, the
    recording's clock in the header; p stops that clock too).

    Example: [bold]cryptows watch --demo BTCUSDT ETHUSDT SOLUSDT[/]
    """
    from cryptows.commands.watch import run_watch

    run_async(
        run_watch(
            symbols,
            venues,
            config,
            threshold=threshold,
            demo=demo,
            all_symbols=all_symbols,
            quote=quote,
            replay=replay,
            speed=speed,
        )
    )


def quotes(
    symbols: SymbolsArgument = None,
    venues: VenuesOption = None,
    all_symbols: AllOption = False,
    quote: QuoteOption = None,
    demo: DemoOption = False,
    as_json: Annotated[
        bool, json_option("NDJSON on stdout, one object per line: [bold]type[/] quote or venue.")
    ] = False,
    duration: DurationOption = None,
    replay: ReplayOption = None,
    speed: SpeedOption = None,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Stream live quotes from every venue at once.

    A live table on a terminal; NDJSON with --json (for pipes and bots); plain lines otherwise.
    Ctrl-C stops cleanly and prints one summary line per venue on stderr.

    With --replay FILE, a recording's quotes instead (it ends with the recording).

    Example: [bold]cryptows quotes --demo BTCUSDT ETHUSDT[/]
    """
    from cryptows.commands.quotes import run_quotes

    run_async(
        run_quotes(
            symbols,
            venues,
            config,
            demo=demo,
            as_json=as_json,
            duration=duration,
            all_symbols=all_symbols,
            quote=quote,
            replay=replay,
            speed=speed,
        )
    )


def arb(
    symbols: SymbolsArgument = None,
    threshold: ThresholdOption = None,
    gross: Annotated[
        bool,
        typer.Option(
            "--gross",
            help="Compare the gross spread (before fees) with the threshold.",
            rich_help_panel=PANEL_ARB,
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
            rich_help_panel=PANEL_ARB,
        ),
    ] = None,
    venues: VenuesOption = None,
    all_symbols: AllOption = False,
    quote: QuoteOption = None,
    demo: DemoOption = False,
    as_json: Annotated[
        bool,
        json_option(
            "NDJSON on stdout: [bold]type[/] open, update (at most 1/s each), close (with its "
            "[bold]reason[/]), venue. Fields in the README."
        ),
    ] = False,
    duration: DurationOption = None,
    replay: ReplayOption = None,
    speed: SpeedOption = None,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
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

    With --all, every symbol listed on at least two of the venues (--quote USDT: only USDT
    pairs), read from their symbol lists at start.

    With --replay FILE, scan a recording instead, on its own clock: [bold]cryptows arb
    --replay btc.ndjson.gz --speed 0 --json[/] gives the same lines every time.

    Example: [bold]cryptows arb --demo --threshold 0.1[/]
    """
    from cryptows.commands.arb import run_arb

    run_async(
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
            all_symbols=all_symbols,
            quote=quote,
            replay=replay,
            speed=speed,
        )
    )


def record(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="The recording to write (gzip NDJSON; replaced if it exists), e.g. "
            "[bold]btc.ndjson.gz[/].",
            show_default=False,
        ),
    ],
    symbols: SymbolsArgument = None,
    venues: VenuesOption = None,
    demo: DemoOption = False,
    duration: DurationOption = None,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Record every venue's raw frames, with their receipt times, to replay them later.

    Writes each frame with its venue and receive times (wall and monotonic), and every
    connection state change, to FILE: one header line (versions, venues, symbols, endpoints,
    start time), then one record a line. Nothing secret is written. The file is flushed every
    half second, so a killed recorder loses at most about a second; Ctrl-C (or --duration)
    closes it and prints a summary. A progress line (frames, bytes, time) shows on a terminal.

    Replay it with --replay on watch, arb, quotes and analyze, e.g. [bold]cryptows arb
    --replay btc.ndjson.gz --speed 0 --json[/].

    Example: [bold]cryptows record btc.ndjson.gz BTCUSDT ETHUSDT --demo --duration 60[/]
    """
    from cryptows.commands.record import run_record

    run_async(run_record(file, symbols, venues, config, demo=demo, duration=duration))


def sim(
    port_base: Annotated[
        int,
        typer.Option(
            "--port-base",
            metavar="N",
            help=f"First port; venue i listens on N+i ({VENUE_LIST}). 0 picks free ports.",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Market seed (same seed, same prices).")] = 7,
    venues: Annotated[
        str | None,
        typer.Option(
            "--venues",
            metavar="LIST",
            help=f"Comma-separated venues to simulate among {VENUE_LIST}. Default: all of them.",
            show_default=False,
            rich_help_panel=PANEL_VENUES,
        ),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            metavar="VENUE:ACTION[@S][=ARG]",
            help="Inject a fault, e.g. bybit:drop@10, okx:close@5=1011, binance:stall@20=15, "
            "coinbase:garbage@3, bybit:oversize@8, okx:reject=ETHUSDT, binance:refuse=451, "
            "okx:slow=3, bybit:nopong, *:quiet, okx:skew=2000 (OKX's server time 2 s ahead), "
            "okx:dislocate@2=ETHUSDT:1:4 (OKX's ETHUSDT 1 % up for 4 s, from 2 s after start; "
            "ARG is SYMBOL:PCT[:SECONDS]). "
            "Repeatable.",
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
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Run the simulated exchanges on loopback and print their endpoints until Ctrl-C.

    Each venue speaks its real protocol (WebSocket and REST on one port), so any client of that
    exchange works against it by changing only host and port.
    """
    from cryptows.commands.sim import run_sim

    run_async(
        run_sim(
            port_base=port_base,
            seed=seed,
            venues=venues,
            faults=fault or [],
            write_config=write_config,
        )
    )
