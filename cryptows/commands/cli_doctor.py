"""The ``doctor`` command's definition; its body imports the checks only when it runs (see
:mod:`cryptows.commands.options`)."""

from __future__ import annotations

from typing import Annotated

from cryptows.commands.options import (
    ConfigOption,
    DemoOption,
    LogFileOption,
    SymbolsArgument,
    VenuesOption,
    VerboseOption,
    json_option,
    run_async,
)


def doctor(
    symbols: SymbolsArgument = None,
    venues: VenuesOption = None,
    as_json: Annotated[
        bool,
        json_option(
            "One JSON document on stdout: venues -> endpoints -> steps (ok, ms, detail, "
            "hint), clock, symbols, proxies."
        ),
    ] = False,
    demo: DemoOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Find out why no data arrives: check every venue step by step.

    For each of a venue's endpoints (ws_urls, every one tried): DNS, TCP
    connect, TLS, the WebSocket handshake (through your proxy, as the feed
    goes) and the first quote after subscribing; then the clock against the
    venue's server time, and whether the venue lists each symbol. Every step
    is timed and bounded by feed.open_timeout_s. Each failure has a hint: a
    firewall or proxy, a geo-block (and the endpoint that works instead), a
    slow handshake, a drifting clock, a misspelt symbol, being offline.

    Each venue ends with a verdict: OK, degraded (it works, but something is
    wrong on the way) or failing (no endpoint works). Exit 0 when every venue
    works on at least one endpoint, 1 when one fails entirely.

    Examples:

      [bold]cryptows doctor[/]  (the configured venues and symbols)
      [bold]cryptows doctor DOGEUSD --venues binance[/]  (not listed: DOGEUSDT?)
      [bold]HTTPS_PROXY=http://proxy:3128 cryptows doctor[/]  (through a proxy)
      [bold]cryptows doctor --json | jq '.venues[].verdict'[/]
      [bold]cryptows doctor --demo[/]  (offline, against the simulated venues)
    """
    from cryptows.commands.doctor import run_doctor

    run_async(run_doctor(symbols, venues, config, demo=demo, as_json=as_json))
