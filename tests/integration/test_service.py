"""The market service every front end shares: one staleness rule, ordered events, failures that
end the run (never a silent stall)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from rich.console import Console

from cryptows.commands.arb import LiveArbOutput
from cryptows.commands.common import load_spec
from cryptows.commands.quotes import TableOutput
from cryptows.commands.session import Output, run_session
from cryptows.config import load_settings
from cryptows.errors import RuntimeFailure, UsageError
from cryptows.market.types import ArbEvent, ArbEventType
from cryptows.models import Channel, Quote, VenueState, VenueStatus
from cryptows.service import LiveMarket, MarketEvent
from cryptows.sim.cluster import SimCluster
from cryptows.symbols import parse_symbols
from tests.integration.conftest import VENUES, bound, settings_for, until


def _market(cluster: SimCluster, symbols: list[str], **kw: object) -> LiveMarket:
    settings = settings_for(cluster)
    return LiveMarket(settings, parse_symbols(symbols), VENUES, demo=True, **kw)  # type: ignore[arg-type]


def _quote(venue: str, bid: float, ask: float, at: int) -> Quote:
    return Quote(
        venue=venue, symbol="BTCUSDT", channel=Channel.BOOK, bid=bid, bid_size=1.0, ask=ask,
        ask_size=2.0, recv_wall_ms=at,
    )  # fmt: skip


def _render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


async def test_every_venue_quotes_reach_the_snapshot_with_health(cluster: SimCluster) -> None:
    async with _market(cluster, ["BTCUSDT", "ETHUSDT"]) as market:

        def complete() -> bool:
            snap = market.snapshot()
            return all(len(v.quotes) == len(VENUES) for v in snap.symbols)

        await until(complete, 10, "a quote from every venue for every symbol")
        snap = market.snapshot()
        assert [v.symbol for v in snap.symbols] == ["BTCUSDT", "ETHUSDT"]
        assert [h.venue for h in snap.health] == list(VENUES)
        assert all(h.state is VenueState.LIVE for h in snap.health)
        assert snap.demo
        assert all(q.usable for v in snap.symbols for q in v.quotes)
    # closing the market leaves no task of its own running
    leftovers = [t for t in asyncio.all_tasks() if t.get_name().startswith(("feed-", "market-"))]
    assert [t for t in leftovers if not t.done()] == []


def test_one_staleness_rule_for_quotes_arb_and_the_snapshot() -> None:
    """A venue that went down: the snapshot, the quotes table, the arb view and the arbitrage
    engine all treat its quote as unusable, for the same reason."""
    settings = load_settings(None, overrides={"arb.threshold_pct": 0.1, "arb.confirm_ms": 0})
    now = 1_000_000
    market = LiveMarket(settings, parse_symbols(["BTCUSDT"]), ("binance", "okx"), clock=lambda: now)
    events = market.subscribe()
    market.put(_quote("binance", 100.0, 100.1, now - 10))
    market.put(_quote("okx", 101.0, 101.1, now - 5))  # +0.9 % gross: an opportunity
    opened = [e for e in events.drain() if isinstance(e, ArbEvent)]
    assert [e.type for e in opened] == [ArbEventType.OPEN]
    market.put(
        VenueStatus(venue="okx", state=VenueState.BACKOFF, reason="connection lost", ts_ms=now)
    )
    closed = [e for e in events.drain() if isinstance(e, ArbEvent)]
    assert [e.type for e in closed] == [ArbEventType.CLOSE]

    snap = market.snapshot()
    okx = next(q for q in snap.symbols[0].quotes if q.venue == "okx")
    assert not okx.usable
    assert okx.stale_reason == "okx backing off: connection lost"
    assert snap.symbols[0].best_sell is not None
    assert snap.symbols[0].best_sell.venue == "binance"  # the stale okx bid is not the best
    table = _render(TableOutput(market, demo=False).render())
    okx_rows = [line for line in table.splitlines() if "okx" in line and "BTCUSDT" in line]
    binance_rows = [line for line in table.splitlines() if "binance" in line and "BTC" in line]
    assert len(okx_rows) == 1
    assert "STALE" in okx_rows[0]
    assert binance_rows
    assert "STALE" not in binance_rows[0]
    arb_view = LiveArbOutput(market, demo=False, gross=False)
    assert "stale leg" in _render(_arb_render(arb_view, market))  # the suppression is counted


def _arb_render(view: LiveArbOutput, market: LiveMarket) -> object:
    from cryptows.commands.arb import render_arb

    return render_arb(market.snapshot(), view)


async def test_events_keep_order_and_every_quote_reaches_the_aggregator() -> None:
    """No quote is conflated away before the aggregator: 10,000 quotes put without a pause all
    count, and a slow quote subscriber gets only the newest per stream."""
    settings = load_settings(None)
    market = LiveMarket(settings, parse_symbols(["BTCUSDT"]), ("binance", "okx"), clock=lambda: 5)
    seen: list[float] = []
    original = market.aggregator.on_quote

    def spy(quote: Quote) -> list[ArbEvent]:
        seen.append(quote.bid or 0.0)
        return original(quote)

    market.aggregator.on_quote = spy  # type: ignore[method-assign]
    slow = market.subscribe(quotes=True)
    for i in range(10_000):
        market.put(_quote("binance", 100.0 + i / 1000, 100.5 + i / 1000, i))
    assert len(seen) == 10_000
    waiting = slow.drain()
    assert len(waiting) == 1  # conflated for the slow reader, not for the aggregator
    assert isinstance(waiting[0], Quote)
    assert waiting[0].bid == pytest.approx(100.0 + 9_999 / 1000)


class _Exploding(Output):
    def write(self, event: MarketEvent) -> None:
        if isinstance(event, VenueStatus):
            raise ValueError("boom in the output")


async def test_an_exception_in_an_output_ends_the_run_with_one_line_and_a_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRYPTOWS_LOG_DIR", str(tmp_path / "logs"))
    async with SimCluster(("binance", "okx"), seed=3, dislocations=False) as sims:
        spec = load_spec(
            ["BTCUSDT"], "binance,okx", None, demo=True, sim_overrides=sims.overrides()
        )
        with pytest.raises(RuntimeFailure) as caught:
            async with asyncio.timeout(bound(20)):
                await run_session(spec, 30, lambda market: _Exploding())
    message = str(caught.value)
    assert "internal error in the output: ValueError: boom in the output" in message
    assert "\n" not in message
    log = tmp_path / "logs" / "crash.log"
    assert str(log) in message
    assert "Traceback" in log.read_text()
    assert "boom in the output" in log.read_text()


async def test_a_bug_in_the_aggregator_ends_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRYPTOWS_LOG_DIR", str(tmp_path))

    def broken(self: object, quote: Quote) -> list[ArbEvent]:
        raise ZeroDivisionError("division by zero in the engine")

    monkeypatch.setattr("cryptows.market.aggregator.Aggregator.on_quote", broken)
    async with SimCluster(("binance", "okx"), seed=3, dislocations=False) as sims:
        spec = load_spec(
            ["BTCUSDT"], "binance,okx", None, demo=True, sim_overrides=sims.overrides()
        )
        with pytest.raises(RuntimeFailure, match="internal error in the market aggregator"):
            async with asyncio.timeout(bound(20)):
                await run_session(spec, 30, lambda market: Output())


async def test_a_symbol_listed_nowhere_fails_the_run_but_one_added_later_does_not(
    cluster: SimCluster,
) -> None:
    async with _market(cluster, ["BTCUSDT", "NOPEUSDT"]) as market:
        async with asyncio.timeout(bound(10)):
            failure = await market.wait_failed()
        assert isinstance(failure, UsageError)
        assert "NOPEUSDT is not listed on any of" in str(failure)
    async with _market(cluster, ["BTCUSDT"]) as market:
        assert market.add_symbol("zzz-usdt") == "ZZZUSDT"
        await until(
            lambda: (
                len([p for p in market.snapshot().problems if p[1] == "ZZZUSDT"]) == len(VENUES)
            ),
            10,
            "every venue reports ZZZUSDT unlisted",
        )
        assert market.failure is None


async def test_adding_and_removing_symbols_resubscribes(cluster: SimCluster) -> None:
    async with _market(cluster, ["BTCUSDT"]) as market:
        with pytest.raises(UsageError, match="already watched"):
            market.add_symbol("btc/usdt")
        market.add_symbol("ETH-USDT")
        assert market.symbols == ("BTCUSDT", "ETHUSDT")

        def eth_everywhere() -> bool:
            views = {v.symbol: v for v in market.snapshot().symbols}
            return "ETHUSDT" in views and len(views["ETHUSDT"].quotes) == len(VENUES)

        await until(eth_everywhere, 10, "ETHUSDT quoted by every venue after adding it")
        market.remove_symbol("BTCUSDT")
        assert [v.symbol for v in market.snapshot().symbols] == ["ETHUSDT"]
        with pytest.raises(UsageError, match="cannot be empty"):
            market.remove_symbol("ETHUSDT")
        with pytest.raises(UsageError):
            market.set_threshold(-1)
        market.set_threshold(0.25)
        assert market.snapshot().threshold_pct == 0.25


class _Recorder(Output):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")

    def finish(self) -> None:
        self.calls.append("finish")


async def test_the_live_view_is_left_before_the_summary_is_printed() -> None:
    recorder = _Recorder()
    async with SimCluster(("binance", "okx"), seed=3, dislocations=False) as sims:
        spec = load_spec(
            ["BTCUSDT"], "binance,okx", None, demo=True, sim_overrides=sims.overrides()
        )
        async with asyncio.timeout(bound(20)):
            await run_session(spec, 1.0, lambda market: recorder)
    assert recorder.calls == ["start", "stop", "finish"]
