"""What `quotes` shows: the live table (rendered to text) and the plain lines of a pipe."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cryptows.commands.quotes import JsonOutput, LineOutput, TableOutput
from cryptows.config import load_settings
from cryptows.models import Channel, Quote, SymbolStatus, VenueState, VenueStatus
from cryptows.service import LiveMarket
from cryptows.symbols import parse_symbols

NOW = 1_800_000_000_000


def _quote(venue: str, symbol: str, bid: float, ask: float, at: int = NOW - 1500) -> Quote:
    return Quote(
        venue=venue, symbol=symbol, channel=Channel.BOOK, bid=bid, bid_size=1.5, ask=ask,
        ask_size=2.0, last=bid, volume_24h=12_345.678, recv_wall_ms=at,
    )  # fmt: skip


def _market() -> LiveMarket:
    market = LiveMarket(
        load_settings(None),
        parse_symbols(["BTCUSDT", "DOGEUSDT", "PEPEUSDT"]),
        ("binance", "okx"),
        demo=True,
        clock=lambda: NOW,
    )
    market.put(_quote("binance", "BTCUSDT", 96_962.15, 96_962.16))
    market.put(_quote("okx", "BTCUSDT", 96_960.0, 96_961.0))
    market.put(_quote("binance", "DOGEUSDT", 0.321451, 0.321462))
    market.put(_quote("binance", "PEPEUSDT", 0.000004341, 0.000004342))
    market.put(VenueStatus(venue="okx", state=VenueState.BACKOFF, reason="connection lost",
                           ts_ms=NOW - 100, retry_at_ms=NOW + 4000))  # fmt: skip
    market.put(SymbolStatus(venue="okx", symbol="DOGEUSDT", message="not listed on okx"))
    return market


def _text(renderable: object, width: int = 120) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_the_live_table_shows_every_quote_whole_and_marks_stale_ones() -> None:
    text = _text(TableOutput(_market(), demo=True).render())
    lines = text.splitlines()
    assert "DEMO" in lines[0]
    btc_binance = next(ln for ln in lines if "BTCUSDT" in ln and "binance" in ln)
    assert "96,962.15" in btc_binance  # a whole price, never "96,962…"
    assert "96,962.16" in btc_binance
    assert "1.5s" in btc_binance  # the quote's age
    assert "STALE" not in btc_binance
    btc_okx = next(ln for ln in lines if "BTCUSDT" in ln and "okx" in ln and "│" in ln)
    assert "STALE" in btc_okx
    doge = next(ln for ln in lines if "DOGEUSDT" in ln and "binance" in ln)
    assert "0.321451" in doge
    pepe = next(ln for ln in lines if "PEPEUSDT" in ln and "binance" in ln)
    assert "0.000004341" in pepe  # four significant digits, never "0.000004"
    assert "0.000004342" in pepe
    okx_health = next(ln for ln in lines if ln.startswith("okx"))
    assert "connecting" in okx_health  # the feed's own health (not started here)
    assert "includes clock offset" in text
    assert "okx DOGEUSDT: not listed on okx" in text


def test_plain_lines_one_per_quote_and_status_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = LineOutput(demo=True)
    out.write(_quote("binance", "BTCUSDT", 96_962.15, 96_962.16))
    out.write(VenueStatus(venue="okx", state=VenueState.BACKOFF, reason="connection lost"))
    out.write(SymbolStatus(venue="okx", symbol="DOGEUSDT", message="not listed on okx"))
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "DEMO binance   BTCUSDT    bid 96962.15 ask 96962.16 last 96962.15"
    ]
    assert captured.err.splitlines() == [
        "cryptows: okx backing off: connection lost",
        "cryptows: okx: DOGEUSDT: not listed on okx",
    ]


def test_json_lines_keep_their_schema() -> None:
    stream = io.BytesIO()
    out = JsonOutput(demo=False, stream=stream)
    out.write(_quote("okx", "BTCUSDT", 1.0, 2.0, at=NOW))
    assert stream.getvalue() == (
        b'{"type":"quote","venue":"okx","symbol":"BTCUSDT","channel":"book","bid":1.0,'
        b'"bid_size":1.5,"ask":2.0,"ask_size":2.0,"last":1.0,"volume_24h":12345.678,'
        b'"exchange_ts_ms":null,"recv_ts_ms":1800000000000}\n'
    )
