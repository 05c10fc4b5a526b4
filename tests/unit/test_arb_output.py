"""arb NDJSON writer: held updates are written later; a closed pipe keeps the summary."""

from __future__ import annotations

import io
import json

import pytest

from cryptows.commands.arb import JsonArbOutput
from cryptows.market.aggregator import Aggregator
from cryptows.models import Channel, Quote
from cryptows.symbols import parse_symbols


def _q(venue: str, bid: float, ask: float, at: int) -> Quote:
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
