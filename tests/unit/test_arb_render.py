"""What `arb` shows: the live view (rendered to text) and the plain lines of a pipe."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cryptows.commands.arb import LineArbOutput, LiveArbOutput, render_arb
from cryptows.config import load_settings
from cryptows.market.types import ArbEvent
from cryptows.models import Channel, Quote, VenueState, VenueStatus
from cryptows.service import LiveMarket
from cryptows.symbols import parse_symbols

NOW = 1_800_000_000_000


def _quote(venue: str, bid: float, ask: float, at: int) -> Quote:
    return Quote(
        venue=venue, symbol="BTCUSDT", channel=Channel.BOOK, bid=bid, bid_size=0.5, ask=ask,
        ask_size=0.25, recv_wall_ms=at,
    )  # fmt: skip


def _market() -> tuple[LiveMarket, list[ArbEvent]]:
    settings = load_settings(None, overrides={"arb.threshold_pct": 0.1, "arb.confirm_ms": 0})
    market = LiveMarket(
        settings, parse_symbols(["BTCUSDT"]), ("binance", "okx", "bybit"), clock=lambda: NOW
    )
    events = market.subscribe()
    market.put(_quote("binance", 96_800.0, 96_870.1, NOW - 40))
    market.put(_quote("okx", 97_620.5, 97_630.0, NOW - 12))
    market.put(_quote("bybit", 97_500.0, 97_510.0, NOW - 20))
    return market, [e for e in events.drain() if isinstance(e, ArbEvent)]


def _text(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_the_live_view_shows_routes_ranks_and_closed_reasons() -> None:
    market, _ = _market()
    view = LiveArbOutput(market, demo=True, gross=False)
    text = _text(render_arb(market.snapshot(), view))
    assert "DEMO" in text.splitlines()[0]
    assert "threshold 0.1 % (net of taker fees)" in text
    routes = [ln for ln in text.splitlines() if "binance 96,870.1" in ln]
    assert len(routes) == 2  # buy binance, sell okx (best) and sell bybit (shares the buy leg)
    assert any("okx 97,620.5" in ln for ln in routes)
    market.put(
        VenueStatus(venue="okx", state=VenueState.BACKOFF, reason="connection lost", ts_ms=NOW)
    )
    text = _text(render_arb(market.snapshot(), view))
    closed = text[text.index("recently closed") :]
    assert "binance → okx" in closed
    assert "leg_stale" in closed or "stale" in closed


def test_plain_lines_say_open_and_close_with_the_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    market, opened = _market()
    out = LineArbOutput(demo=False)
    for event in opened:
        out.write(event)
    for event in market.close_all():
        out.write(event)
    lines = capsys.readouterr().out.splitlines()
    opens = [ln for ln in lines if ln.startswith("OPEN ")]
    closes = [ln for ln in lines if ln.startswith("CLOSE")]
    assert len(opens) == len(closes) == 2
    assert any("buy binance@96870.1 sell okx@97620.5" in ln and "#1" in ln for ln in opens)
    assert any("(size not additive)" in ln for ln in opens)  # the route sharing the buy leg
    assert all(ln.endswith(": run_end") for ln in closes)
