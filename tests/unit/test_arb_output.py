"""arb outputs: NDJSON (held updates, closed pipe, every field), plain lines and the live view."""

from __future__ import annotations

import io
import json
from typing import Any, cast

import pytest
from rich.console import Console

from cryptows.commands.arb import JsonArbOutput, LineArbOutput, LiveArbOutput, render_arb
from cryptows.market.aggregator import Aggregator
from cryptows.market.types import Snapshot
from cryptows.models import Channel, Quote, VenueState, VenueStatus
from cryptows.symbols import parse_symbols


def _q(venue: str, bid: float | None, ask: float, at: int) -> Quote:
    return Quote(
        venue=venue, symbol="BTCUSDT", channel=Channel.BOOK, bid=bid, bid_size=1.0, ask=ask,
        ask_size=1.0, recv_wall_ms=at,
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class Writer:
    """The output as the session drives it: the market's events in, in order."""

    def __init__(self, stream: io.BytesIO) -> None:
        self.agg = Aggregator(
            parse_symbols(["BTCUSDT"]),
            fees_pct={"a": 0.1, "b": 0.1},
            threshold_pct=0.1,
            hysteresis_pct=0.02,
        )
        self.clock = Clock()
        self.output = JsonArbOutput(demo=False, stream=stream, clock=self.clock)

    def write(self, quote: Quote) -> None:
        for event in self.agg.on_quote(quote):
            self.output.write(event)

    def refresh(self) -> None:
        self.output.refresh()

    def finish(self) -> None:
        for event in self.agg.close_all(self.clock.now):
            self.output.write(event)
        self.output.finish()

    @property
    def broken(self) -> bool:
        return self.output.broken


def _output(stream: io.BytesIO | None = None) -> tuple[Writer, io.BytesIO, Clock]:
    out = stream or io.BytesIO()
    writer = Writer(out)
    return writer, out, writer.clock


def _types(out: io.BytesIO) -> list[tuple[str, float]]:
    return [(r["type"], r["sell_price"]) for r in map(json.loads, out.getvalue().splitlines())]


def test_updates_within_a_second_are_held_then_written_with_the_newest_values() -> None:
    writer, out, clock = _output()
    writer.write(_q("a", 100.0, 100.1, 1000))
    writer.write(_q("b", 101.0, 101.1, 1001))  # open
    writer.write(_q("b", 101.2, 101.3, 1200))  # update, held (< 1 s after the open)
    writer.write(_q("b", 101.5, 101.6, 1300))  # newer update, still held
    clock.now = 1500
    writer.refresh()
    assert _types(out) == [("open", 101.0)]
    clock.now = 2100
    writer.refresh()  # the second is over: the newest held update is written
    assert _types(out) == [("open", 101.0), ("update", 101.5)]
    writer.refresh()
    assert len(_types(out)) == 2
    writer.finish()
    assert _types(out)[-1] == ("close", 101.5)


class _ClosedPipe(io.BytesIO):
    def write(self, data: bytes) -> int:  # type: ignore[override]
        raise BrokenPipeError


def test_a_closed_pipe_stops_writing_but_keeps_the_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    writer, _, _ = _output(_ClosedPipe())
    writer.write(_q("a", 100.0, 100.1, 1000))
    with pytest.raises(BrokenPipeError):
        writer.write(_q("b", 101.0, 101.1, 1001))
    assert writer.broken
    writer.write(_q("b", 101.2, 101.3, 3000))  # no exception once broken
    writer.finish()
    assert "arb: 1 opportunity" in capsys.readouterr().err


# -- the fields of item 3: reason, est_profit, opened_ms, rank, shared_leg ------------------------

NEW_FIELDS = {"est_profit", "profit_asset", "opened_ms", "rank", "shared_leg", "reason"}


def _records(out: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_record_has_the_new_fields_with_their_values() -> None:
    writer, out, clock = _output()
    writer.write(_q("a", 100.0, 100.1, 1000))
    writer.write(_q("b", 101.0, 101.1, 1001))  # open
    clock.now = 3000
    writer.write(_q("b", 101.2, 101.3, 3000))  # update (a second later)
    writer.write(_q("b", 100.0, 100.1, 3001))  # close: below the threshold
    opened, updated, closed = _records(out)
    for record in (opened, updated, closed):
        assert NEW_FIELDS <= set(record)
        assert (record["opened_ms"], record["rank"], record["shared_leg"]) == (1001, 1, None)
        assert record["profit_asset"] == "USDT"
    assert [r["type"] for r in (opened, updated, closed)] == ["open", "update", "close"]
    assert [r["reason"] for r in (opened, updated, closed)] == [None, None, "below_threshold"]
    # size 1: (101 - 100.1) - 100.1 * 0.1 % - 101 * 0.1 %
    assert opened["est_profit"] == pytest.approx(0.9 - 0.1001 - 0.101)
    assert updated["est_profit"] == pytest.approx(1.1 - 0.1001 - 0.1012)
    assert closed["duration_ms"] == 2000


def test_the_run_end_close_says_run_end() -> None:
    writer, out, clock = _output()
    writer.write(_q("a", 100.0, 100.1, 1000))
    writer.write(_q("b", 101.0, 101.1, 1001))
    clock.now = 1500
    writer.finish()
    assert [(r["type"], r["reason"]) for r in _records(out)] == [
        ("open", None),
        ("close", "run_end"),
    ]


def test_an_open_confirmed_by_a_tick_has_ts_ms_after_opened_ms() -> None:
    out = io.BytesIO()
    agg = Aggregator(parse_symbols(["BTCUSDT"]), fees_pct={"a": 0.1, "b": 0.1},
                     threshold_pct=0.1, hysteresis_pct=0.02, confirm_ms=250)  # fmt: skip
    output = JsonArbOutput(demo=False, stream=out, clock=Clock())
    for event in [*agg.on_quote(_q("a", 100.0, 100.1, 1000)), *agg.on_quote(_q("b", 101.0,
                  101.1, 1001)), *agg.tick(1250), *agg.tick(1251)]:  # fmt: skip
        output.write(event)
    (opened,) = _records(out)
    assert (opened["type"], opened["ts_ms"], opened["opened_ms"]) == ("open", 1251, 1001)
    assert opened["duration_ms"] == 250


def _shared_market() -> Aggregator:
    """a -> b and c -> b both open; c -> b is worse and sells into the same b bid."""
    agg = Aggregator(parse_symbols(["BTCUSDT"]), fees_pct={"a": 0.1, "b": 0.1, "c": 0.1},
                     threshold_pct=0.1, hysteresis_pct=0.02)  # fmt: skip
    agg.on_quote(_q("b", 101.0, 101.1, 1000))
    agg.on_quote(_q("a", 100.0, 100.1, 1001))
    agg.on_quote(_q("c", 100.2, 100.3, 1002))
    return agg


def test_line_output_marks_shared_routes_and_says_why_a_route_closed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    agg = Aggregator(parse_symbols(["BTCUSDT"]), fees_pct={"a": 0.1, "b": 0.1, "c": 0.1},
                     threshold_pct=0.1, hysteresis_pct=0.02)  # fmt: skip
    output = LineArbOutput(demo=False)
    for quote in (_q("b", 101.0, 101.1, 1000), _q("a", 100.0, 100.1, 1001),
                  _q("c", 100.2, 100.3, 1002), _q("b", None, 101.1, 1003)):  # fmt: skip
        for event in agg.on_quote(quote):
            output.write(event)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("OPEN  BTCUSDT   buy a@100.1 sell b@101")
    assert "size 1 est +0.6989 USDT #1" in lines[0]
    assert "shares" not in lines[0]
    assert lines[1].endswith("#2 shares sell leg (size not additive)")
    assert all(line.startswith("CLOSE") and line.endswith(": leg_gone") for line in lines[2:])


def _render(snapshot: Snapshot) -> str:
    view = LiveArbOutput(cast(Any, None), demo=False, gross=False)
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(render_arb(snapshot, view))
    return console.export_text()


def test_live_view_marks_shared_routes_shows_profit_and_close_reasons() -> None:
    agg = _shared_market()
    text = _render(agg.snapshot(1100))
    rows = [line for line in text.splitlines() if "BTCUSDT" in line]
    assert len(rows) == 2
    assert "#1" in rows[0]
    assert "*" not in rows[0]
    assert "#2 shares sell leg *" in rows[1]
    assert "+0.6989 USDT" in rows[0]
    assert "do not add up" in text
    assert "unconfirmed 0" in text

    agg.on_status(VenueStatus(venue="b", state=VenueState.STALE, reason="silent", ts_ms=1200))
    text = _render(agg.snapshot(1300))
    assert "do not add up" not in text
    closed = [line for line in text.splitlines() if "→ b" in line]
    assert len(closed) == 2
    assert all("leg stale" in line for line in closed)
