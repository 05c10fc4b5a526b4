"""The dashboard on a frozen market: what it shows, at 80x24 and at 120x40."""

from __future__ import annotations

import pytest

from cryptows.market.types import Snapshot
from cryptows.models import Channel, Quote, VenueState
from cryptows.tui.screens.detail import DetailScreen
from cryptows.tui.widgets.arb_panel import ArbPanel
from cryptows.tui.widgets.detail_pane import DetailPane
from cryptows.tui.widgets.health_panel import HealthPanel
from cryptows.tui.widgets.lines import Lines
from cryptows.tui.widgets.venue_table import VenueTable
from cryptows.tui.widgets.watchlist import Watchlist
from tests.tui.frozen import FIXED_NOW, SYMBOLS, VENUES, FrozenMarket
from tests.tui.helpers import Build, screen_text


def btc_quote(venue: str, bid: float, ask: float, ts: int = FIXED_NOW) -> Quote:
    return Quote(venue=venue, symbol="BTCUSDT", channel=Channel.BOOK, bid=bid, bid_size=0.5,
                 ask=ask, ask_size=0.5, last=(bid + ask) / 2, recv_wall_ms=ts)  # fmt: skip


async def test_every_symbol_and_venue_is_shown(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        watchlist = app.query_one(Watchlist)
        assert watchlist.row_order == SYMBOLS
        assert watchlist.cell_text("BTCUSDT", "bid") == "97,140.14"
        assert watchlist.cell_text("BTCUSDT", "bid_venue").strip() == "okx"
        assert watchlist.cell_text("DOGEUSDT", "last") == "0.321797"
        health = app.query_one(HealthPanel).text
        for venue in VENUES:
            assert venue in health
        assert "retry in 4 s" in health
        assert "includes the clock offset" in health


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (100, 30)])
async def test_no_cell_is_truncated(build: Build, size: tuple[int, int]) -> None:
    """Every watchlist cell's whole text is on screen, on the line of its symbol."""
    app = build()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app).splitlines()
        watchlist = app.query_one(Watchlist)
        assert "bid" in watchlist.columns_shown
        assert "last" in watchlist.columns_shown
        for symbol in watchlist.row_order:
            line = next(line for line in text if f" {symbol} " in line)
            for column in watchlist.columns_shown:
                cell = watchlist.cell_text(symbol, column).strip()
                assert cell in line, (symbol, column, cell, line)
        for line in text:
            assert len(line.rstrip()) <= size[0]


async def test_wide_terminal_uses_the_room(build: Build) -> None:
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        watchlist = app.query_one(Watchlist)
        assert {"mid", "last", "spark"} <= set(watchlist.columns_shown)
        assert watchlist.cell_text("BTCUSDT", "bid_venue").strip() == "okx"
        assert watchlist.cell_text("BTCUSDT", "ask_venue").strip() == "bybit"
        pane = app.query_one(DetailPane)
        assert pane.display
        assert pane.symbol == "BTCUSDT"
        text = screen_text(app)
        assert "backoff  backing off: closed by venue with code 1006" in text
        assert "bybit→okx" in text
        await pilot.press("down")  # the pane follows the cursor at once, not at the next refresh
        await pilot.pause()
        assert pane.symbol == "ETHUSDT"
        assert "ETHUSDT  best ask 3,415.04 okx" in screen_text(app)


async def test_narrow_terminal_drops_columns_rather_than_cutting(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        watchlist = app.query_one(Watchlist)
        assert "mid" not in watchlist.columns_shown
        assert watchlist.cell_text("BTCUSDT", "bid_venue").strip() == "okx"
        assert not app.query_one(DetailPane).display


async def test_opportunity_stands_out_and_ages_advance(build: Build, market: FrozenMarket) -> None:
    now = [FIXED_NOW]
    app = build(clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        watchlist = app.query_one(Watchlist)
        assert watchlist.cell_text("BTCUSDT", "symbol").startswith("◆")
        assert not watchlist.cell_text("ETHUSDT", "symbol").startswith("◆")
        arb = app.query_one(ArbPanel).text
        assert "byb→okx" in arb
        assert "3.0s/3.0s" in arb
        assert "12s" in arb
        assert "bin→byb" in arb
        assert "+0.168%" in arb
        now[0] += 2_000
        app.refresh_now()
        assert "5.0s/5.0s" in app.query_one(ArbPanel).text
        assert "14s" in app.query_one(ArbPanel).text


async def test_unusable_quotes_are_greyed_with_their_reason(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # DOGEUSDT
        await pilot.pause()
        table = app.screen.query_one("#detail-table", VenueTable)
        assert table.row_order == VENUES
        assert table.cell_text("coinbase", "state").strip() == "backoff"
        assert table._shown["coinbase"]["bid"][1] == "cells--stale"
        assert table.cell_text("bybit", "state").strip() == "stale"
        assert table.cell_text("okx", "state").strip() == "unlisted"
        notes = app.screen.query_one("#detail-notes", Lines).text
        assert "quote older than 30000 ms" in notes
        assert "not listed on okx" in notes
        assert "coinbase: backing off: closed by venue with code 1006" in notes


async def test_tick_colours_follow_the_last_move(build: Build, market: FrozenMarket) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        watchlist = app.query_one(Watchlist)
        market.feed([btc_quote("binance", 97_300.0, 97_300.2)])  # newest last: up
        app.refresh_now()
        assert watchlist._shown["BTCUSDT"]["last"] == ("97,300.10", "cells--up")
        market.feed([btc_quote("binance", 97_100.0, 97_100.2, FIXED_NOW + 1)])
        app.refresh_now()
        assert watchlist._shown["BTCUSDT"]["last"] == ("97,100.10", "cells--down")


async def test_refresh_touches_only_changed_rows(
    build: Build, market: FrozenMarket, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Snapshot] = []
    app = build(on_refreshed=seen.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        watchlist = app.query_one(Watchlist)
        repainted: list[str] = []
        original = watchlist._refresh_rows

        def spy(indexes: list[int]) -> None:
            repainted.extend(watchlist.row_order[i] for i in indexes)
            original(indexes)

        monkeypatch.setattr(watchlist, "_refresh_rows", spy)
        monkeypatch.setattr(watchlist, "_rebuild", lambda rows: pytest.fail("table rebuilt"))
        seen.clear()
        app.refresh_now()
        assert repainted == []
        assert seen == []
        market.feed([btc_quote("binance", 96_990.0, 96_990.2)])
        app.refresh_now()
        assert repainted == ["BTCUSDT"]
        assert len(seen) == 1
        assert app.last_paint_snapshot_ts_ms == FIXED_NOW


async def test_connecting_state_is_never_blank(build: Build) -> None:
    app = build(market=FrozenMarket("connecting"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "connecting to binance, bybit, okx, coinbase" in text
        assert app.query_one(Watchlist).row_order == SYMBOLS


async def test_offline_says_so_and_stays_open(build: Build) -> None:
    market = FrozenMarket("offline")
    app = build(market=market)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert all(h.state is VenueState.BACKOFF for h in market.health)
        assert "offline: no venue is live" in screen_text(app)
        assert app.return_code is None


@pytest.mark.parametrize("demo", [True, False])
async def test_demo_badge(build: Build, demo: bool) -> None:
    app = build(market=FrozenMarket(demo=demo))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert ("DEMO" in screen_text(app).splitlines()[0]) is demo


async def test_header_never_cuts_the_clock_at_80_columns(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "s", "p", "t", "backspace", "backspace", "backspace")
        await pilot.press(*"12.125", "enter")
        await pilot.pause()
        header = screen_text(app).splitlines()[0].rstrip()
        assert "PAUSED" in header
        assert "12.125%" in header
        assert header.endswith("12:34:56 UTC") or header.endswith("12:34:56")


async def test_a_refresh_before_the_detail_screen_is_composed_is_shown_once_it_is(
    build: Build,
) -> None:
    """The refresh timer can fire between Enter pushing the detail screen and its compose."""
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.last_snapshot is not None
        screen = DetailScreen("DOGEUSDT", VENUES)
        assert screen.show(app.last_snapshot) is False  # nothing composed yet: kept, not a crash
        await app.push_screen(screen)
        await pilot.pause()
        table = screen.query_one("#detail-table", VenueTable)
        assert table.row_order == VENUES
        assert table.cell_text("okx", "state").strip() == "unlisted"


@pytest.mark.parametrize("replay", [True, False])
async def test_replay_badge_and_clock_and_pause_stops_the_recording(
    build: Build, replay: bool
) -> None:
    market = FrozenMarket(replay=replay)
    app = build(market=market)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.refresh_now()
        header = screen_text(app).splitlines()[0]
        assert ("REPLAY" in header) is replay
        assert "12:34:56" in header  # the market's (the recording's) clock, not the terminal's
        assert "ENDED" not in header
        market.finished = replay  # the recording has played out
        app.refresh_now()
        await pilot.pause()
        header = screen_text(app).splitlines()[0]
        assert ("REPLAY ENDED" in header) is replay
        assert "12:34:56" in header  # its last moment stays on screen
        await pilot.press("p")
        assert market.paused  # a replay's clock stops with the display
        await pilot.press("p")
        assert not market.paused


async def test_a_refresh_as_the_app_shuts_down_does_nothing(build: Build) -> None:
    """The refresh timer can tick once more after the screens are gone (CI saw
    ScreenStackError from a tick during shutdown): that tick does nothing."""
    app = build()
    async with app.run_test(size=(80, 24)):
        pass
    assert not app.screen_stack
    app.refresh_now()  # no ScreenStackError
