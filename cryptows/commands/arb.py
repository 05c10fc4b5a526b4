"""``cryptows arb``: the arbitrage scanner without the dashboard (live view, lines or NDJSON)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from cryptows.clock import wall_ms
from cryptows.commands.common import DEMO_BANNER, eprint, live_spec, venue_record
from cryptows.commands.session import Output, run_session
from cryptows.errors import UsageError
from cryptows.market.types import ArbEvent, ArbEventType, Opportunity, Snapshot
from cryptows.models import VenueStatus
from cryptows.service import LiveMarket, MarketEvent, check_threshold

UPDATE_EVERY_MS = 1000
"""NDJSON ``update`` lines are rate-limited to one per opportunity per second."""


def arb_record(event: ArbEvent, *, demo: bool) -> dict[str, Any]:
    """The NDJSON object for an opportunity event (schema in README)."""
    o = event.opportunity
    record: dict[str, Any] = {
        "type": event.type.value,
        "ts_ms": event.ts_ms,
        "symbol": o.symbol,
        "buy_venue": o.buy_venue,
        "buy_symbol": o.buy_symbol,
        "buy_price": o.buy_price,
        "buy_size": o.buy_size,
        "buy_age_ms": o.buy_age_ms,
        "sell_venue": o.sell_venue,
        "sell_symbol": o.sell_symbol,
        "sell_price": o.sell_price,
        "sell_size": o.sell_size,
        "sell_age_ms": o.sell_age_ms,
        "size": o.size,
        "gross_pct": o.gross_pct,
        "fees_pct": o.fees_pct,
        "net_pct": o.net_pct,
        "peak_net_pct": o.peak_net_pct,
        "est_profit": o.est_profit,
        "profit_asset": o.profit_asset,
        "opened_ms": o.opened_ms,
        "duration_ms": o.duration_ms,
        "rank": o.rank,
        "shared_leg": o.shared_leg,
        "converted": o.converted,
        "reason": None if o.close_reason is None else o.close_reason.value,
    }
    if demo:
        record["demo"] = True
    return record


@dataclass
class ArbStats:
    """What the exit summary reports."""

    opened: int = 0
    longest: Opportunity | None = None
    best: Opportunity | None = None

    def add(self, event: ArbEvent) -> None:
        o = event.opportunity
        if event.type is ArbEventType.OPEN:
            self.opened += 1
        if event.type is ArbEventType.CLOSE:
            if self.longest is None or o.duration_ms > self.longest.duration_ms:
                self.longest = o
        if self.best is None or o.peak_net_pct > self.best.peak_net_pct:
            self.best = o

    def line(self) -> str:
        text = f"arb: {self.opened} opportunit{'y' if self.opened == 1 else 'ies'}"
        if self.longest is not None:
            o = self.longest
            text += (
                f", longest {o.duration_ms / 1000:.1f} s ({o.symbol} buy {o.buy_venue} "
                f"sell {o.sell_venue})"
            )
        if self.best is not None:
            text += f", best net {self.best.peak_net_pct:.3f} %"
        return text


class ArbOutput(Output):
    """Reports the market's opportunity and venue events; subclasses render them."""

    refresh_s: float | None = 0.25

    def __init__(self, *, demo: bool, clock: Callable[[], int] = wall_ms) -> None:
        self.demo = demo
        self.clock = clock
        self.stats = ArbStats()
        self.broken = False
        """The reader of stdout went away: keep counting, stop writing."""

    def write(self, event: MarketEvent) -> None:
        if isinstance(event, VenueStatus):
            self.due(event.ts_ms)
            self.venue(event)
        elif isinstance(event, ArbEvent):
            self.due(event.ts_ms)
            self.report([event])

    def due(self, now_ms: int) -> None:
        """The market's clock has reached ``now_ms`` (an event's time): write what is due."""

    def finish(self) -> None:
        eprint(f"cryptows: {self.stats.line()}")

    def report(self, events: list[ArbEvent]) -> None:
        for event in events:
            self.stats.add(event)
            if self.broken:
                continue
            try:
                self.emit(event)
            except BrokenPipeError:
                self.broken = True
                raise

    def venue(self, status: VenueStatus) -> None:
        """A venue changed state."""

    def emit(self, event: ArbEvent) -> None:
        """An opportunity event."""


class JsonArbOutput(ArbOutput):
    """NDJSON on stdout: open/update/close/venue lines (updates at most 1/s per opportunity)."""

    def __init__(
        self,
        *,
        demo: bool,
        stream: IO[bytes] | None = None,
        clock: Callable[[], int] = wall_ms,
        replay: bool = False,
    ) -> None:
        super().__init__(demo=demo, clock=clock)
        if replay:
            # Held updates are written as the recording's events reach their time (due()),
            # never on the wall clock's timer: the same file gives the same lines.
            self.refresh_s = None
        self.stream = stream or sys.stdout.buffer
        self._encoder = msgspec.json.Encoder()
        self._last_update: dict[tuple[str, str, str, str], int] = {}
        self._held: dict[tuple[str, str, str, str], ArbEvent] = {}
        """The newest update held back by the 1/s limit, per open pair (written later)."""

    def _line(self, record: dict[str, Any]) -> None:
        self.stream.write(self._encoder.encode(record) + b"\n")
        self.stream.flush()

    def venue(self, status: VenueStatus) -> None:
        self._line(venue_record(status, demo=self.demo))

    def emit(self, event: ArbEvent) -> None:
        o = event.opportunity
        key = (o.buy_venue, o.buy_symbol, o.sell_venue, o.sell_symbol)
        if event.type is ArbEventType.UPDATE:
            if event.ts_ms - self._last_update.get(key, 0) < UPDATE_EVERY_MS:
                self._held[key] = event  # written by refresh() once the second is over
                return
            self._last_update[key] = event.ts_ms
            self._held.pop(key, None)
        elif event.type is ArbEventType.OPEN:
            self._last_update[key] = event.ts_ms
        else:
            self._last_update.pop(key, None)
            self._held.pop(key, None)  # the close carries the final values
        self._line(arb_record(event, demo=self.demo))

    def refresh(self) -> None:
        self.due(self.clock())

    def due(self, now_ms: int) -> None:
        now = now_ms
        due = [k for k in self._held if now - self._last_update[k] >= UPDATE_EVERY_MS]
        for key in due:
            event = self._held.pop(key)
            self._last_update[key] = now
            if self.broken:
                continue
            try:
                self._line(arb_record(event, demo=self.demo))
            except BrokenPipeError:
                self.broken = True


def profit_text(o: Opportunity) -> str:
    """``est +12.34 USDT`` (size unknown: ``est ?``)."""
    if o.est_profit is None:
        return "est ?"
    asset = f" {o.profit_asset}" if o.profit_asset else ""
    return f"est {o.est_profit:+.6g}{asset}"


def rank_text(o: Opportunity) -> str:
    """``#1``, or ``#2 shares sell leg`` for a route competing with a better one for one size."""
    text = f"#{o.rank}"
    if o.shared_leg is not None:
        text += f" shares {o.shared_leg} leg{'s' if o.shared_leg == 'both' else ''}"
    return text


class LineArbOutput(ArbOutput):
    """Human lines for a pipe without ``--json``: one per open and per close.

    ``OPEN  BTCUSDT   buy binance@96870.1 sell okx@97620.5 gross 0.775 % net 0.575 % size 0.21
    est +116.7 USDT #1`` (a route that shares a leg with a better one says ``#2 shares sell leg
    (size not additive)``); ``CLOSE … peak 0.575 % after 3.2 s: below_threshold``.
    """

    def emit(self, event: ArbEvent) -> None:
        if event.type is ArbEventType.UPDATE:
            return
        o = event.opportunity
        prefix = "DEMO " if self.demo else ""
        verb = "OPEN " if event.type is ArbEventType.OPEN else "CLOSE"
        if event.type is ArbEventType.OPEN:
            tail = f"net {o.net_pct:.3f} % size {_size(o.size)} {profit_text(o)} {rank_text(o)}"
            if o.shared_leg is not None:
                tail += " (size not additive)"
        else:
            reason = o.close_reason.value if o.close_reason is not None else "closed"
            tail = f"peak {o.peak_net_pct:.3f} % after {o.duration_ms / 1000:.1f} s: {reason}"
        print(
            f"{prefix}{verb} {o.symbol:<9} buy {o.buy_venue}@{o.buy_price:.10g} "
            f"sell {o.sell_venue}@{o.sell_price:.10g} gross {o.gross_pct:.3f} % {tail}",
            flush=True,
        )

    def venue(self, status: VenueStatus) -> None:
        reason = f": {status.reason}" if status.reason else ""
        eprint(f"cryptows: {status.venue} {status.state.value}{reason}")


class LiveArbOutput(ArbOutput):
    """A Rich live view on a terminal, redrawn at 4 Hz from the event loop."""

    def __init__(self, market: LiveMarket, *, demo: bool, gross: bool) -> None:
        from rich.console import Console
        from rich.live import Live

        super().__init__(demo=demo)
        self.market = market
        self.gross = gross
        self.live = Live(console=Console(), auto_refresh=False, transient=False)

    def start(self) -> None:
        self.live.start()

    def refresh(self) -> None:
        # the market's clock: the wall clock, or a replay's recorded one
        self.live.update(render_arb(self.market.snapshot(), self), refresh=True)

    def stop(self) -> None:
        self.live.stop()


def render_arb(snapshot: Snapshot, view: LiveArbOutput) -> Any:
    """The live view: banner, open opportunities, recent closed ones, venue states."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    if view.demo:
        parts.append(Text(DEMO_BANNER, style="bold black on yellow"))
    metric = "gross" if view.gross else "net of taker fees"
    title = f"arbitrage scanner: threshold {snapshot.threshold_pct:g} % ({metric})"
    parts.append(Text(title, "bold"))
    table = Table(title="open opportunities", expand=False)
    for column in ("symbol", "rank", "buy", "size", "age", "sell", "size", "age", "gross %",
                   "net %", "peak %", "est profit", "open for"):  # fmt: skip
        left = column in ("symbol", "rank", "buy", "sell")
        table.add_column(column, justify="left" if left else "right")
    shared = False
    ops = sorted(snapshot.open_opportunities, key=lambda o: (o.symbol, o.rank))
    for o in ops:
        since = max(0, snapshot.ts_ms - o.opened_ms - o.duration_ms)  # time since its last event
        shared = shared or o.shared_leg is not None
        table.add_row(
            o.symbol + (f" ({o.converted})" if o.converted else ""),
            rank_text(o) + (" *" if o.shared_leg is not None else ""),
            f"{o.buy_venue} {o.buy_price:,.6g}",
            _size(o.buy_size),
            f"{o.buy_age_ms + since} ms",
            f"{o.sell_venue} {o.sell_price:,.6g}",
            _size(o.sell_size),
            f"{o.sell_age_ms + since} ms",
            f"{o.gross_pct:.3f}",
            f"{o.net_pct:.3f}",
            f"{o.peak_net_pct:.3f}",
            profit_text(o).removeprefix("est "),
            f"{(o.duration_ms + since) / 1000:.1f} s",
        )
    parts.append(table)
    if shared:
        parts.append(
            Text(
                "* shares a leg with a better-ranked route: both draw on the same book, "
                "so their sizes and profits do not add up",
                style="yellow",
            )
        )
    closed = Table(title="recently closed", expand=False)
    for column in ("symbol", "buy → sell", "peak net %", "lasted", "why"):
        closed.add_column(column)
    for o in snapshot.recent_closed[:8]:
        closed.add_row(
            o.symbol,
            f"{o.buy_venue} → {o.sell_venue}",
            f"{o.peak_net_pct:.3f}",
            f"{o.duration_ms / 1000:.1f} s",
            o.close_reason.value.replace("_", " ") if o.close_reason is not None else "",
        )
    parts.append(closed)
    states = "  ".join(
        f"{h.venue} {h.state.value}"
        + (f" ({h.reason or h.connections_note})" if h.reason or h.connections_note else "")
        for h in snapshot.health
    )
    parts.append(Text(states))
    suppressed = ", ".join(f"{reason.replace('_', ' ')} {n}" for reason, n in snapshot.suppressed)
    parts.append(Text(f"suppressed candidates: {suppressed}", style="dim"))
    parts.append(Text(view.stats.line(), style="dim"))
    return Group(*parts)


def _size(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


async def run_arb(
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    threshold: float | None,
    gross: bool,
    max_age_ms: int | None,
    duration: float | None,
    demo: bool,
    as_json: bool,
    all_symbols: bool = False,
    quote: str | None = None,
    replay: Path | None = None,
    speed: float | None = None,
) -> None:
    """Scan for cross-venue arbitrage until Ctrl-C or ``duration`` (closing what is open)."""
    from cryptows.commands.universe import check_all_options, expand_all

    asset = check_all_options(symbols, all_symbols=all_symbols, quote=quote)
    extra = {"arb.threshold_pct": threshold, "arb.max_quote_age_ms": max_age_ms}
    async with live_spec(
        symbols,
        venues,
        config,
        demo=demo,
        extra=extra,
        replay=replay,
        speed=speed,
        all_symbols=all_symbols,
    ) as spec:
        check_threshold(spec.settings.arb.threshold_pct)
        if len(spec.venues) >= 2 and all_symbols:
            spec = await expand_all(spec, asset)
        if len(spec.venues) < 2:
            raise UsageError(
                f"arbitrage needs at least two venues, got {', '.join(spec.venues)}; "
                "pass e.g. --venues binance,okx"
            )

        def make_output(market: LiveMarket) -> Output:  # spec.demo: --demo or a sim config
            if as_json:
                return JsonArbOutput(demo=spec.demo, clock=market.clock, replay=market.replay)
            if sys.stdout.isatty():
                return LiveArbOutput(market, demo=spec.demo, gross=gross)
            return LineArbOutput(demo=spec.demo)

        await run_session(spec, duration, make_output, gross=gross)
