"""The dashboard on the live market service against the simulated venues (real sockets on
loopback): rows fill in, a venue that drops greys out with its reason and comes back, a forced
dislocation reaches the arbitrage panel, and quitting leaves nothing running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from cryptows.models import VenueState
from cryptows.service import LiveMarket
from cryptows.sim.cluster import SimCluster
from cryptows.symbols import parse_symbols
from cryptows.tui.app import CryptowsApp
from cryptows.tui.factory import make_app
from tests.integration.conftest import VENUES, bound, settings_for
from tests.tui.helpers import screen_text

SYMBOLS = ["BTCUSDT", "ETHUSDT"]


@pytest.fixture
async def cluster() -> AsyncIterator[SimCluster]:
    async with SimCluster(VENUES, seed=5, dislocations=False) as sims:
        yield sims


@pytest.fixture
def market(cluster: SimCluster) -> LiveMarket:
    return LiveMarket(settings_for(cluster), parse_symbols(SYMBOLS), VENUES, demo=True)


def _app(market: LiveMarket, tmp_path: Path) -> CryptowsApp:
    return make_app(market, state_path=tmp_path / "watch.json", refresh_hz=8)


async def _until(app: CryptowsApp, predicate: Callable[[str], bool], seconds: float) -> str:
    """Wait (bounded) until ``predicate(screen text)`` holds; returns that text."""
    text = ""
    try:
        async with asyncio.timeout(bound(seconds)):
            while True:  # noqa: ASYNC110 - polling what the screen shows is the point
                text = screen_text(app)
                if predicate(text):
                    return text
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"the screen never showed what was expected; last screen:\n{text}")


def _all_quoted(app: CryptowsApp) -> bool:
    snap = app.last_snapshot
    return snap is not None and all(len(v.quotes) == len(VENUES) for v in snap.symbols)


def _all_live(text: str) -> bool:
    return all(any(line.startswith(v) and " live " in line for line in text.splitlines())
               for v in VENUES)  # fmt: skip


async def test_rows_for_every_symbol_and_venue(market: LiveMarket, tmp_path: Path) -> None:
    app = _app(market, tmp_path)
    async with market, app.run_test(size=(120, 40)) as pilot:
        text = await _until(app, lambda t: "connecting" in t or _all_live(t), 10)
        await _until(app, _all_live, 10)
        snap = app.last_snapshot
        assert snap is not None
        assert [v.symbol for v in snap.symbols] == SYMBOLS
        text = await _until(app, lambda t: all(f" {s} " in t for s in SYMBOLS), 5)
        assert "DEMO" in text.splitlines()[0]
        await pilot.press("escape")  # whatever is focused, the watchlist keeps its cursor
        await pilot.press("enter")
        detail = await _until(app, lambda t: "BTCUSDT" in t and "by venue" in t, 5)
        rows = [
            line for line in detail.splitlines() if any(f" {v} " in f" {line} " for v in VENUES)
        ]
        for venue in VENUES:
            assert any(venue in line for line in rows), (venue, detail)


async def test_a_dropped_venue_greys_out_with_its_reason_and_comes_back(
    cluster: SimCluster, market: LiveMarket, tmp_path: Path
) -> None:
    app = _app(market, tmp_path)
    async with market, app.run_test(size=(120, 40)):
        await _until(app, lambda text: _all_live(text) and _all_quoted(app), 10)
        okx = cluster["okx"]
        okx.faults.handshake_status = 503  # keep it down long enough to look at
        okx.drop_all()

        def okx_down(text: str) -> bool:
            # Dropped, then refused (503) at every attempt, it alternates between backing off
            # and connecting (quick reconnects here): wait for a screen taken while it backs
            # off after a refusal, rather than look at whichever screen comes first.
            refused = (
                "503" in next(h for h in market.snapshot().health if h.venue == "okx").last_error
            )
            lines = [ln for ln in text.splitlines() if ln.startswith("okx ")]
            return (
                refused
                and len(lines) == 2
                and all(  # pane + health
                    " live " not in ln and ("backing off" in ln or "backoff" in ln) for ln in lines
                )
            )

        await _until(app, okx_down, 10)
        okx_health = next(h for h in market.snapshot().health if h.venue == "okx")
        assert "503" in okx_health.last_error
        snap = app.last_snapshot
        assert snap is not None
        okx_quotes = [q for v in snap.symbols for q in v.quotes if q.venue == "okx"]
        assert okx_quotes
        assert all(not q.usable and q.stale_reason.startswith("okx ") for q in okx_quotes)
        assert all(v.best_buy is None or v.best_buy.venue != "okx" for v in snap.symbols)
        assert all(v.best_sell is None or v.best_sell.venue != "okx" for v in snap.symbols)
        okx.faults.handshake_status = None
        await _until(app, _all_live, 10)
        health = {h.venue: h for h in market.snapshot().health}
        assert health["okx"].state is VenueState.LIVE
        assert health["okx"].reconnects >= 1


async def test_a_dislocation_shows_in_the_arbitrage_panel(
    cluster: SimCluster, market: LiveMarket, tmp_path: Path
) -> None:
    app = _app(market, tmp_path)
    async with market, app.run_test(size=(120, 40)):
        await _until(app, _all_live, 10)
        cluster.engine.dislocate("okx", "BTCUSDT", 1.5, 30_000)

        def opened(text: str) -> bool:
            lines = text.splitlines()
            start = next((i for i, ln in enumerate(lines) if ln.startswith("arb open")), None)
            end = next((i for i, ln in enumerate(lines) if ln.startswith("arb closed")), None)
            if start is None or end is None:
                return False
            return any("BTCUSDT" in ln and "→okx" in ln for ln in lines[start + 1 : end])

        await _until(app, opened, 10)
        snap = app.last_snapshot
        assert snap is not None
        assert any(o.sell_venue == "okx" and o.symbol == "BTCUSDT"
                   for o in snap.open_opportunities)  # fmt: skip


async def test_quitting_leaves_no_task_running(market: LiveMarket, tmp_path: Path) -> None:
    before = asyncio.all_tasks()
    app = _app(market, tmp_path)
    async with market:
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(app, _all_live_narrow, 10)
            await pilot.press("q")
            async with asyncio.timeout(bound(5)):
                while app.is_running:  # noqa: ASYNC110 - no event for "app stopped"
                    await asyncio.sleep(0.02)
        assert app.return_code == 0
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [], leftover
    assert (tmp_path / "watch.json").exists()


def _all_live_narrow(text: str) -> bool:
    return _all_live(text)
