"""The arbitrage panel's ranks, shared legs, profits and close reasons; the market's notices."""

from __future__ import annotations

import msgspec
import pytest
from textual.notifications import Notify

from cryptows.market.types import CloseReason, Snapshot
from cryptows.tui import format as fmt
from cryptows.tui.widgets.arb_panel import ArbPanel, arb_lines, split_rows
from cryptows.tui.widgets.lines import Line, Lines
from cryptows.tui.widgets.notes import NoticeLog, notice_fits, notice_line
from tests.tui.frozen import FIXED_NOW, NOTICE, FrozenMarket
from tests.tui.helpers import Build, screen_text


def plain(line: Line) -> str:
    return "".join(t for t, _ in line)


def panel(snapshot: Snapshot, width: int, room: int = 20) -> list[str]:
    return [plain(line) for line in arb_lines(snapshot, width=width, room=room)[0]]


def row(lines: list[str], *words: str) -> str:
    """The one line holding every word."""
    (found,) = [ln for ln in lines if all(w in ln for w in words)]
    return found


def test_open_routes_show_rank_shared_leg_and_estimated_profit() -> None:
    lines = panel(FrozenMarket().snapshot(), 120)
    assert row(lines, "bybit→okx").split()[2] == "#1"
    shared = row(lines, "binance→okx")
    assert " #2 shares sell " in shared
    assert "+0.290%" in shared  # gross fits at 120
    assert "+44.8 USDT" in shared
    assert "+48.9 USDT" in row(lines, "bybit→okx")
    assert row(lines, "shares buy/sell/both:").endswith("sizes and profits do not add up")


def test_at_80_columns_the_mark_shortens_and_gross_goes_before_any_number_is_cut() -> None:
    lines = panel(FrozenMarket().snapshot(), 80)
    assert "gross" not in lines[0]
    assert lines[0].split() == ["arb", "open", "rank", "buy→sell", "net", "size", "est",
                                "profit", "leg", "ages", "for"]  # fmt: skip
    shared = row(lines, "bin→okx")
    assert shared.split()[1:4] == ["BTCUSDT", "#2", "sell"]
    assert "+0.110%" in shared
    assert "+44.8 USDT" in shared
    assert "3.0s/3.0s" in shared
    assert all(len(ln) <= 80 for ln in lines)


@pytest.mark.parametrize("width", range(50, 141, 3))
def test_no_line_is_wider_than_the_panel(width: int) -> None:
    snapshot = FrozenMarket().snapshot()
    lines = panel(snapshot, width)
    assert all(len(ln) <= width for ln in lines), (width, lines)
    for o in snapshot.open_opportunities:  # the kept values are whole
        assert fmt.pct(o.net_pct, 3) in row(lines, "◆", f"#{o.rank}")
        assert fmt.profit(o.est_profit, o.profit_asset) in row(lines, "◆", f"#{o.rank}")


def test_routes_are_grouped_by_symbol_best_first_and_ranked_within() -> None:
    snapshot = FrozenMarket().snapshot()
    first, second = snapshot.open_opportunities  # best net first, as the engine lists them
    tie = msgspec.structs.replace(second, net_pct=first.net_pct + 0.01)  # rank kept: no flicker
    eth = msgspec.structs.replace(first, symbol="ETHUSDT", net_pct=0.5)
    ops = (tie, eth, first)
    lines = panel(msgspec.structs.replace(snapshot, open_opportunities=ops), 80)
    rows = [ln.split()[1:3] for ln in lines if ln.startswith("◆")]
    assert rows == [["ETHUSDT", "#1"], ["BTCUSDT", "#1"], ["BTCUSDT", "#2"]]


def test_closed_routes_say_why_in_one_word() -> None:
    snapshot = FrozenMarket().snapshot()
    lines = panel(snapshot, 80)
    assert row(lines, "DOGEUSDT", "bin→cb").endswith(" stale")
    assert row(lines, "ETHUSDT", "bin→byb").endswith(" below")
    closed = snapshot.recent_closed[0]
    more = tuple(
        msgspec.structs.replace(closed, symbol=symbol, close_reason=reason)
        for symbol, reason in (("AUSDT", CloseReason.LEG_GONE), ("BUSDT", CloseReason.RUN_END))
    )
    lines = panel(msgspec.structs.replace(snapshot, recent_closed=more), 80)
    assert row(lines, "AUSDT").endswith(" gone")
    assert row(lines, "BUSDT").endswith(" end")


def test_suppressed_counts_take_a_free_line_only() -> None:
    snapshot = FrozenMarket().snapshot()
    assert "  suppressed: stale leg 2 · below fees 17" in panel(snapshot, 80, room=20)
    assert not any("suppressed" in ln for ln in panel(snapshot, 80, room=7))
    none = msgspec.structs.replace(snapshot, suppressed=(("below_fees", 0), ("unconfirmed", 0)))
    assert not any("suppressed" in ln for ln in panel(none, 80, room=20))
    some = msgspec.structs.replace(snapshot, suppressed=(("below_fees", 3), ("unconfirmed", 5)))
    assert "  suppressed: below fees 3 · unconfirmed 5" in panel(some, 80, room=20)


def test_slack_says_how_many_lines_are_free_or_missing() -> None:
    snapshot = FrozenMarket().snapshot()
    lines, slack = arb_lines(snapshot, width=80, room=20)
    assert slack == 20 - 7  # headers 2, open 2, footnote, closed 2 (suppressed uses a free one)
    assert len(lines) == 8
    assert arb_lines(snapshot, width=80, room=5)[1] == 5 - 7


def test_closed_rows_fill_what_open_ones_leave() -> None:
    assert split_rows(9, 2, 2) == (5, 2)
    assert split_rows(9, 2, 10) == (3, 4)  # up to four in the unused rows
    assert split_rows(32, 2, 30) == (20, 10)  # a third of the rows at most
    assert split_rows(9, 10, 10) == (5, 2)


@pytest.mark.parametrize(
    ("value", "asset", "text"),
    [
        (48.855, "USDT", "+48.9 USDT"),
        (1234.4, "USDT", "+1234 USDT"),
        (12_345.0, "USDC", "+12.3k USDC"),
        (2.5e6, "USDT", "+2.5M USDT"),
        (-3.21, "USDT", "-3.21 USDT"),
        (0.0012345, "BTC", "+0.00123 BTC"),
        (0.0, "USDT", "+0 USDT"),
        (None, "USDT", "-"),
        (5.0, None, "+5.00"),
    ],
)
def test_profit_is_compact_and_signed(value: float | None, asset: str | None, text: str) -> None:
    assert fmt.profit(value, asset) == text


# -- notices ------------------------------------------------------------------------------


def test_a_notice_that_does_not_fit_is_cut_at_a_clause() -> None:
    assert plain(notice_line(NOTICE, 120)) == f"⚠ {NOTICE}"
    assert plain(notice_line(NOTICE, 80)) == (
        "⚠ BTCUSD is listed on coinbase only (not on binance, bybit, okx)"
    )
    assert plain(notice_line("one long clause without a place to cut it", 20)).startswith("⚠ one")


def test_each_notice_is_new_once() -> None:
    log = NoticeLog()
    assert log.fresh(["a"]) == ["a"]
    assert log.fresh(["a"]) == []
    assert log.fresh(["a", "b", "c"]) == ["b", "c"]
    assert log.fresh(["a", "b", "c", "a"]) == []


def test_the_notice_line_needs_a_free_line_to_appear_and_none_to_stay() -> None:
    assert not notice_fits(0, shown=False)
    assert notice_fits(1, shown=False)
    assert notice_fits(0, shown=True)
    assert not notice_fits(-1, shown=True)


def notices(seen: list[object]) -> list[str]:
    return [m.notification.message for m in seen
            if isinstance(m, Notify) and m.notification.title == "cryptows"]  # fmt: skip


async def test_a_notice_is_toasted_exactly_once_and_the_latest_stays_shown(
    build: Build, market: FrozenMarket
) -> None:
    seen: list[object] = []
    now = [FIXED_NOW]
    app = build(clock=lambda: now[0])
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        for _ in range(4):
            now[0] += 500
            app.refresh_now()
            await pilot.pause()
        assert notices(seen) == [NOTICE]
        (toast,) = [m.notification for m in seen if isinstance(m, Notify)]
        assert (toast.severity, toast.markup) == ("warning", False)
        problems = app.query_one("#problems", Lines).text
        assert "⚠ BTCUSD is listed on coinbase only (not on binance, bybit, okx)" in problems
        market.notices.append("ETHBTC is listed on binance only (not on okx): no arbitrage")
        for _ in range(4):
            now[0] += 500
            app.refresh_now()
            await pilot.pause()
        app.action_pause()
        app.action_pause()  # a repaint of the same snapshot does not toast again either
        await pilot.pause()
        assert notices(seen) == [
            NOTICE,
            "ETHBTC is listed on binance only (not on okx): no arbitrage",
        ]
        problems = app.query_one("#problems", Lines).text
        assert "⚠ ETHBTC is listed on binance only (not on okx)" in problems
        assert "coinbase only" not in problems


async def test_the_notice_line_gives_way_to_a_full_arbitrage_panel(build: Build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "BTCUSD is listed" in screen_text(app)
        await pilot.resize_terminal(80, 19)
        for _ in range(100):  # the new size is laid out on a later refresh (slower under load)
            await pilot.pause(0.05)
            lines = app.query_one(ArbPanel).text.splitlines()
            if "BTCUSD is listed" not in screen_text(app) and lines[2:3] == ["  … 1 more open"]:
                break
        text = screen_text(app)
        assert "BTCUSD is listed" not in text
        assert "⚠ DOGEUSDT: not listed on okx" in text
        arb = app.query_one(ArbPanel).text.splitlines()
        assert arb[1].startswith("◆ BTCUSDT  #1 ")
        assert arb[2] == "  … 1 more open"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "BTCUSD is listed" in screen_text(app)
