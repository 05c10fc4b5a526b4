"""Each key does what the help says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.notifications import Notify

from cryptows.errors import CryptowsError, RuntimeFailure, UsageError
from cryptows.models import Channel, Quote
from cryptows.tui.app import CryptowsApp
from cryptows.tui.keys import KEYS
from cryptows.tui.screens.detail import DetailScreen
from cryptows.tui.screens.help import HelpScreen
from cryptows.tui.screens.prompt import AddSymbolScreen, ThresholdScreen
from cryptows.tui.state import SortMode, load_watch_state
from cryptows.tui.widgets.watchlist import Watchlist
from tests.tui.frozen import FIXED_NOW, SYMBOLS, VENUES, FrozenMarket
from tests.tui.helpers import Build, current_screen, screen_text, sort_mode


def notes(seen: list[object], severity: str | None = None) -> list[str]:
    """The notifications among the messages seen (of one severity)."""
    return [
        m.notification.message
        for m in seen
        if isinstance(m, Notify) and severity in (None, m.notification.severity)
    ]


def order(app: CryptowsApp) -> tuple[str, ...]:
    return app.query_one(Watchlist).row_order


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_keys_exit_cleanly_and_save(build: Build, state_path: Path, key: str) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0
    assert load_watch_state(state_path).symbols == SYMBOLS


async def test_help_lists_every_key(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in KEYS:
            assert f" {key.display}  " in text, key
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_sort_cycles_through_the_modes(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert order(app) == SYMBOLS
        await pilot.press("s")
        assert sort_mode(app) is SortMode.SYMBOL
        assert order(app) == ("BTCUSDT", "DOGEUSDT", "ETHUSDT")
        await pilot.press("s")  # dispersion, widest first; DOGE has one usable venue: last
        assert order(app) == ("BTCUSDT", "ETHUSDT", "DOGEUSDT")
        await pilot.press("s")  # 24 h change, largest first
        assert order(app) == ("DOGEUSDT", "BTCUSDT", "ETHUSDT")
        assert "sort: change" in screen_text(app).splitlines()[0]
        await pilot.press("s")
        assert sort_mode(app) is SortMode.GIVEN
        assert order(app) == SYMBOLS


async def test_live_sort_reorders_at_most_once_a_second(build: Build, market: FrozenMarket) -> None:
    now = [FIXED_NOW]
    app = build(clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "s")  # dispersion
        assert order(app) == ("BTCUSDT", "ETHUSDT", "DOGEUSDT")
        # ETH's venues now disagree far more than BTC's
        market.feed([
            Quote(venue="okx", symbol="ETHUSDT", channel=Channel.BOOK, bid=3_300.0, ask=3_300.1,
                  recv_wall_ms=now[0] + 100),
        ])  # fmt: skip
        now[0] += 500
        app.refresh_now()
        assert order(app) == ("BTCUSDT", "ETHUSDT", "DOGEUSDT")  # not yet: under a second
        now[0] += 500
        app.refresh_now()
        assert order(app) == ("ETHUSDT", "BTCUSDT", "DOGEUSDT")


async def test_pause_freezes_the_display_not_the_market(build: Build, market: FrozenMarket) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        watchlist = app.query_one(Watchlist)
        before = watchlist.cell_text("BTCUSDT", "last")
        await pilot.press("p")
        await pilot.pause()
        assert "PAUSED" in screen_text(app).splitlines()[0]
        taken = market.snapshots
        market.feed([Quote(venue="binance", symbol="BTCUSDT", channel=Channel.BOOK, bid=97_500.0,
                           ask=97_500.2, last=97_500.1, recv_wall_ms=FIXED_NOW)])  # fmt: skip
        app.refresh_now()
        assert watchlist.cell_text("BTCUSDT", "last") == before
        assert market.snapshots == taken
        await pilot.press("p")
        await pilot.pause()
        assert watchlist.cell_text("BTCUSDT", "last") == "97,500.10"
        assert "PAUSED" not in screen_text(app).splitlines()[0]


async def test_threshold_key_changes_the_threshold(
    build: Build, market: FrozenMarket, state_path: Path
) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ThresholdScreen)
        await pilot.press("backspace", "backspace", "backspace", "0", ".", "2", "5", "enter")
        await pilot.pause()
        assert not isinstance(current_screen(app), ThresholdScreen)
        assert "threshold net ≥ 0.25%" in screen_text(app).splitlines()[0]
        assert market.aggregator.engine.threshold == 0.25
    assert load_watch_state(state_path).threshold_pct == 0.25


@pytest.mark.parametrize("typed", ["abc", "99"])
async def test_bad_threshold_is_an_error_notification(
    build: Build, market: FrozenMarket, typed: str
) -> None:
    seen: list[object] = []
    app = build()
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("t", "backspace", "backspace", "backspace", *typed, "enter")
        await pilot.pause()
        assert notes(seen, "error")
        assert market.aggregator.engine.threshold == 0.1
        assert "threshold net ≥ 0.1%" in screen_text(app).splitlines()[0]


async def test_add_symbol(build: Build, state_path: Path) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, AddSymbolScreen)
        await pilot.press(*"sol-usdt", "enter")
        await pilot.pause()
        assert order(app) == (*SYMBOLS, "SOLUSDT")
        assert app.query_one(Watchlist).selected_key == "SOLUSDT"
        assert "SOLUSDT" in screen_text(app)
    assert load_watch_state(state_path).symbols == (*SYMBOLS, "SOLUSDT")


@pytest.mark.parametrize("typed", ["b@d!", "btcusdt"])
async def test_bad_symbol_is_an_error_notification(build: Build, typed: str) -> None:
    seen: list[object] = []
    app = build()
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("slash", *typed, "enter")
        await pilot.pause()
        assert len(notes(seen, "error")) == 1
        assert order(app) == SYMBOLS
        assert app.return_code is None


async def test_delete_removes_the_selected_symbol(build: Build, state_path: Path) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "delete")
        await pilot.pause()
        assert order(app) == ("BTCUSDT", "DOGEUSDT")
        table_lines = screen_text(app).splitlines()[1:5]  # column labels and rows
        assert "DOGEUSDT" in "".join(table_lines)
        assert "ETHUSDT" not in "".join(table_lines)
    assert load_watch_state(state_path).symbols == ("BTCUSDT", "DOGEUSDT")


async def test_enter_opens_the_detail_of_the_selected_symbol(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.symbol == "BTCUSDT"
        text = screen_text(app)
        for venue in VENUES:
            assert f"│ {venue} " in text
        assert "97,140.14" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)


async def test_analysis_without_settings_says_so(build: Build) -> None:
    seen: list[object] = []
    app = build()  # no [analysis] settings given (tests/tui/test_analysis.py covers the rest)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert notes(seen, "error") == ["analysis is not configured"]


@pytest.mark.parametrize(("failure", "code"), [(UsageError("no such symbol"), 2),
                                               (RuntimeFailure("feed crashed"), 1)])  # fmt: skip
async def test_market_failure_ends_the_app_with_its_code(
    build: Build, market: FrozenMarket, failure: CryptowsError, code: int
) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        market.failure = failure
        app.refresh_now()
        await pilot.pause()
    assert app.return_code == code


async def test_failure_is_seen_by_the_refresh_timer(build: Build, market: FrozenMarket) -> None:
    app = build(refresh_hz=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        market.failure = UsageError("DOGEUSDT is listed on no venue")
        async with asyncio.timeout(5):
            while app.return_code is None:
                await pilot.pause(0.02)
    assert app.return_code == 2


async def test_command_palette_is_kept(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


async def test_a_bug_in_the_app_is_one_line_and_a_log_not_a_traceback(
    build: Build,
    market: FrozenMarket,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRYPTOWS_LOG_DIR", str(tmp_path / "logs"))
    app = build()

    async def run_into_the_bug() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            monkeypatch.setattr(market, "snapshot", lambda now_ms=None: 1 / 0)
            await pilot.press("p", "p")  # resuming refreshes at once
            await pilot.pause()

    with pytest.raises(ZeroDivisionError):  # run_test re-raises it for the test to see
        await run_into_the_bug()
    assert app.return_code == 1
    assert app.crash is not None
    assert "internal error in the dashboard: ZeroDivisionError" in str(app.crash)
    assert "ZeroDivisionError" in (tmp_path / "logs" / "crash.log").read_text()
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err + printed.out  # no traceback (with locals) printed
