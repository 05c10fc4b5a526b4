"""``cryptows quotes``: stream normalised quotes (live table on a TTY, NDJSON with ``--json``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from cryptows.commands.common import DEMO_BANNER, eprint, live_spec, venue_record
from cryptows.commands.session import Output, run_session
from cryptows.models import Quote, SymbolStatus, VenueStatus
from cryptows.numbers import price
from cryptows.service import LiveMarket, MarketEvent


def quote_record(quote: Quote, *, demo: bool) -> dict[str, Any]:
    """The NDJSON object for a quote (schema in README)."""
    record: dict[str, Any] = {
        "type": "quote",
        "venue": quote.venue,
        "symbol": quote.symbol,
        "channel": quote.channel.value,
        "bid": quote.bid,
        "bid_size": quote.bid_size,
        "ask": quote.ask,
        "ask_size": quote.ask_size,
        "last": quote.last,
        "volume_24h": quote.volume_24h,
        "exchange_ts_ms": quote.exchange_ts_ms,
        "recv_ts_ms": quote.recv_wall_ms,
    }
    if demo:
        record["demo"] = True
    return record


class JsonOutput(Output):
    """NDJSON to stdout, one object per line, flushed per line (for pipes and bots)."""

    wants_quotes = True

    def __init__(self, *, demo: bool, stream: IO[bytes] | None = None) -> None:
        self.demo = demo
        self.stream = stream or sys.stdout.buffer
        self._encoder = msgspec.json.Encoder()

    def write(self, event: MarketEvent) -> None:
        if isinstance(event, Quote):
            record = quote_record(event, demo=self.demo)
        elif isinstance(event, VenueStatus):
            record = venue_record(event, demo=self.demo)
        elif isinstance(event, SymbolStatus):
            # symbol problems are diagnostics: stderr, so stdout keeps its two line types
            eprint(f"cryptows: {event.venue}: {event.symbol}: {event.message}")
            return
        else:
            return
        self.stream.write(self._encoder.encode(record) + b"\n")
        self.stream.flush()


class LineOutput(Output):
    """Plain text lines for a pipe without ``--json``."""

    wants_quotes = True

    def __init__(self, *, demo: bool) -> None:
        self.prefix = "DEMO " if demo else ""

    def write(self, event: MarketEvent) -> None:
        if isinstance(event, Quote):
            print(
                f"{self.prefix}{event.venue:<9} {event.symbol:<10} bid {_num(event.bid)} "
                f"ask {_num(event.ask)} last {_num(event.last)}",
                flush=True,
            )
        elif isinstance(event, VenueStatus):
            reason = f": {event.reason}" if event.reason else ""
            eprint(f"cryptows: {event.venue} {event.state.value}{reason}")
        elif isinstance(event, SymbolStatus):
            eprint(f"cryptows: {event.venue}: {event.symbol}: {event.message}")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.10g}"


class TableOutput(Output):
    """A compact Rich live table (one row per symbol and venue), redrawn at 4 Hz from the
    market's snapshot, so what is stale here is exactly what is stale in ``arb`` and ``watch``."""

    refresh_s = 0.25  # redraw at 4 Hz, from the event loop

    def __init__(self, market: LiveMarket, *, demo: bool) -> None:
        from rich.console import Console
        from rich.live import Live

        self.market = market
        self.demo = demo
        # Refreshed from the event loop (see run_session), never from Rich's own thread, so
        # rendering cannot race the loop that updates the quotes and the health counters.
        self.live = Live(
            get_renderable=self.render, console=Console(), auto_refresh=False, transient=False
        )

    def start(self) -> None:
        self.live.start()

    def refresh(self) -> None:
        self.live.refresh()

    def stop(self) -> None:
        self.live.stop()

    def render(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        snapshot = self.market.snapshot()
        table = Table(title="DEMO DATA — simulated venues" if self.demo else None, expand=False)
        for column in ("symbol", "venue", "bid", "ask", "spread bps", "last", "vol 24h", "age"):
            table.add_column(column, justify="left" if column in ("symbol", "venue") else "right")
        for view in sorted(snapshot.symbols, key=lambda v: v.symbol):
            for q in view.quotes:
                spread = "-" if q.spread_bps is None else f"{q.spread_bps:.2f}"
                age = f"{q.age_ms / 1000:.1f}s" if q.recv_ms else "-"
                if not q.usable:
                    age = f"STALE {age}"
                volume = "-" if q.volume_24h is None else f"{q.volume_24h:,.2f}"
                table.add_row(
                    q.symbol,
                    q.venue,
                    price(q.bid),
                    price(q.ask),
                    spread,
                    price(q.last),
                    volume,
                    age,
                    style=None if q.usable else "dim strike",
                )
        lines: list[Table | Text] = [table]
        for h in snapshot.health:
            style = "green" if h.usable else "red"
            detail = (
                f" ({h.reason or h.connections_note})" if h.reason or h.connections_note else ""
            )
            if h.retry_at_ms is not None and not h.usable:
                detail += (
                    f" until {time.strftime('%H:%M:%S', time.localtime(h.retry_at_ms / 1000))}"
                )
            lag = f"  lag p50 {h.lag_p50_ms:.0f} ms" if h.lag_p50_ms is not None else ""
            lines.append(
                Text(
                    f"{h.venue:<9} {h.state.value}{detail}  {h.msgs_per_s:.0f} msg/s{lag}  "
                    f"reconnects {h.reconnects}  bad frames {h.bad_frames}",
                    style,
                )
            )
        lines.append(
            Text("lag = receipt time minus the venue's timestamp (includes clock offset)", "dim")
        )
        for venue, symbol, message in snapshot.problems:
            lines.append(Text(f"{venue} {symbol}: {message}", style="yellow"))
        if self.demo:
            lines.insert(0, Text(DEMO_BANNER, style="bold black on yellow"))
        return Group(*lines)


async def run_quotes(
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    demo: bool,
    as_json: bool,
    duration: float | None,
    all_symbols: bool = False,
    quote: str | None = None,
    replay: Path | None = None,
    speed: float | None = None,
) -> None:
    """Stream quotes until Ctrl-C or ``duration`` seconds; summary per venue on stderr."""
    from cryptows.commands.universe import check_all_options, expand_all

    asset = check_all_options(symbols, all_symbols=all_symbols, quote=quote)
    async with live_spec(
        symbols, venues, config, demo=demo, replay=replay, speed=speed, all_symbols=all_symbols
    ) as spec:
        if all_symbols:
            spec = await expand_all(spec, asset)

        # spec.demo, not the flag: a config pointing at `cryptows sim` is labelled DEMO too.
        def make_output(market: LiveMarket) -> Output:
            if as_json:
                return JsonOutput(demo=spec.demo)
            if sys.stdout.isatty():
                return TableOutput(market, demo=spec.demo)
            return LineOutput(demo=spec.demo)

        await run_session(spec, duration, make_output)
