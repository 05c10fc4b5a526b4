"""Feed building blocks without sockets: backoff, the conflating buffer, health, quote merge."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptows.feed.buffer import FeedBuffer
from cryptows.feed.connection import Backoff
from cryptows.feed.health import HealthTracker
from cryptows.market.merge import merge_quote
from cryptows.models import Channel, Quote, SymbolStatus, VenueState, VenueStatus


def _q(venue: str = "binance", symbol: str = "BTCUSDT", bid: float = 1.0, **kw: object) -> Quote:
    return Quote(venue=venue, symbol=symbol, channel=kw.pop("channel", Channel.BOOK), bid=bid, **kw)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=200), st.integers())
def test_backoff_is_full_jitter_within_the_cap(attempt: int, seed: int) -> None:
    backoff = Backoff(initial_s=1.0, max_s=60.0)
    delay = backoff.delay(attempt, random.Random(seed))
    assert 0.0 <= delay <= min(60.0, 2**attempt)


def test_backoff_grows_then_caps() -> None:
    backoff = Backoff(initial_s=1.0, max_s=60.0)
    rng = random.Random(1)
    means = [sum(backoff.delay(a, rng) for _ in range(2000)) / 2000 for a in range(10)]
    assert means[0] < means[2] < means[4] < means[5]
    assert means[9] == pytest.approx(30.0, rel=0.1)  # uniform(0, 60) once capped


async def test_buffer_conflates_quotes_per_stream_and_keeps_status_events() -> None:
    buf = FeedBuffer()
    buf.put(_q(bid=1.0))
    buf.put(VenueStatus(venue="okx", state=VenueState.LIVE))
    buf.put(_q(bid=2.0))
    buf.put(_q(symbol="ETHUSDT", bid=3.0))
    buf.put(_q(bid=4.0, channel=Channel.TICKER))
    events = await asyncio.wait_for(buf.get_batch(), 1)
    assert events == [
        VenueStatus(venue="okx", state=VenueState.LIVE),
        _q(bid=2.0),
        _q(symbol="ETHUSDT", bid=3.0),
        _q(bid=4.0, channel=Channel.TICKER),
    ]
    assert buf.conflated == 1
    assert len(buf) == 0


async def test_buffer_never_blocks_and_stays_bounded_without_a_reader() -> None:
    buf = FeedBuffer()
    for i in range(100_000):
        buf.put(_q(symbol=f"S{i % 50}USDT", bid=float(i + 1)))
    assert len(buf) == 50
    assert buf.conflated == 100_000 - 50


async def test_buffer_wakes_a_waiting_reader() -> None:
    buf = FeedBuffer()
    reader = asyncio.create_task(buf.get_batch())
    await asyncio.sleep(0)
    buf.put(SymbolStatus(venue="okx", symbol="X", message="m"))
    assert await asyncio.wait_for(reader, 1) == [SymbolStatus(venue="okx", symbol="X", message="m")]


def test_health_rates_lag_and_transitions() -> None:
    tracker = HealthTracker("bybit")
    for i in range(50):
        tracker.on_frame(100.0 + i * 0.1)  # 10 frames/s for 5 s
    for lag in range(1, 101):
        tracker.on_lag(float(lag))
    snap = tracker.snapshot(now_s=105.0)
    assert snap.messages == 50
    assert snap.msgs_per_s == pytest.approx(10.0)
    assert snap.lag_p50_ms == pytest.approx(50.0, abs=1)
    assert snap.lag_p99_ms == pytest.approx(99.0, abs=1)
    event = tracker.transition(VenueState.BACKOFF, "closed by venue", retry_at_ms=5)
    assert event is not None
    assert event.state is VenueState.BACKOFF
    assert tracker.transition(VenueState.BACKOFF, "closed by venue", retry_at_ms=5) is None
    assert tracker.snapshot().last_error == "closed by venue"
    assert not tracker.snapshot().usable
    assert tracker.symbol_error("ETHUSDT", "nope") is not None
    assert tracker.symbol_error("ETHUSDT", "nope") is None


def test_merge_prefers_book_bid_ask_and_keeps_missing_fields() -> None:
    book = _q(bid=100.0, ask=101.0, bid_size=1.0, ask_size=2.0)
    ticker = Quote(
        venue="binance", symbol="BTCUSDT", channel=Channel.TICKER, bid=99.0, ask=102.0,
        last=100.5, volume_24h=10.0, exchange_ts_ms=7,
    )  # fmt: skip
    merged = merge_quote(book, ticker)
    assert (merged.bid, merged.ask, merged.last, merged.volume_24h) == (100.0, 101.0, 100.5, 10.0)
    assert merged.channel is Channel.BOOK
    assert merged.exchange_ts_ms == 7
    first = merge_quote(None, ticker)
    assert (first.bid, first.ask) == (99.0, 102.0)
    # A one-sided book frame: the missing side is absent, never kept from an older frame.
    newer_book = merge_quote(merge_quote(ticker, book), _q(bid=100.2, ask=None))
    assert (newer_book.bid, newer_book.ask, newer_book.last) == (100.2, None, 100.5)
    crossed = merge_quote(book, _q(bid=None, ask=99.0))
    assert (crossed.bid, crossed.ask) == (None, 99.0)


def test_merge_keeps_the_receipt_time_of_the_prices() -> None:
    book = Quote(
        venue="bybit", symbol="BTCUSDT", channel=Channel.BOOK, bid=1.0, ask=2.0, recv_wall_ms=10
    )
    ticker = Quote(
        venue="bybit", symbol="BTCUSDT", channel=Channel.TICKER, last=1.5, recv_wall_ms=99
    )
    merged = merge_quote(book, ticker)
    assert merged.recv_wall_ms == 10
    assert merged.last == 1.5
