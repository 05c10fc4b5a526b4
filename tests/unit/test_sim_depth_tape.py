"""The simulator's order books and trade tapes: one market, whatever asks for it."""

from __future__ import annotations

import math

import pytest

from cryptows.sim.depth import changes
from cryptows.sim.market import MarketEngine
from cryptows.sim.tape import Tape

BOOKS = [("binance", "BTCUSDT"), ("okx", "ETHUSDT"), ("coinbase", "BTC-USD"), ("bybit", "PEPEUSDT")]


def _canonical(symbol: str) -> str:
    return symbol.replace("-", "")


@pytest.mark.parametrize(("venue", "symbol"), BOOKS)
def test_the_depth_sits_behind_the_top_of_book(venue: str, symbol: str) -> None:
    engine = MarketEngine(3, start_ms=0)
    canonical = _canonical(symbol)
    for at in range(0, 30_000, 1_250):
        book = engine.book(venue, canonical, at)
        d = engine.depth(venue, canonical, at, 50)
        assert d.seq == book.seq
        assert d.bids[0] == (book.bid, book.bid_size)
        assert d.asks[0] == (book.ask, book.ask_size)
        assert len(d.bids) == len(d.asks) == 50
        bid_prices = [p for p, _ in d.bids]
        ask_prices = [p for p, _ in d.asks]
        assert bid_prices == sorted(bid_prices, reverse=True)
        assert len(set(bid_prices)) == 50
        assert ask_prices == sorted(ask_prices)
        assert len(set(ask_prices)) == 50
        lot = 1e-6 if venue != "bybit" else 1e-8
        for price, size in d.bids + d.asks:
            assert size > 0
            assert math.isclose(price / book.tick, round(price / book.tick), abs_tol=1e-6)
            assert math.isclose(size / lot, round(size / lot), abs_tol=1e-4)


def test_the_same_update_gives_the_same_depth_and_deltas_rebuild_it() -> None:
    one, two = MarketEngine(5, start_ms=0), MarketEngine(5, start_ms=0)
    previous = one.depth("okx", "BTCUSDT", 0, 400)
    two.depth("okx", "BTCUSDT", 0, 400)
    bids, asks = dict(previous.bids), dict(previous.asks)
    seqs = set()
    for at in range(100, 20_000, 100):
        now = one.depth("okx", "BTCUSDT", at, 400)
        assert now == two.depth("okx", "BTCUSDT", at, 400)  # the same seed, asked alike
        seqs.add(now.seq)
        for side, old, new in ((bids, previous.bids, now.bids), (asks, previous.asks, now.asks)):
            for price, size in changes(old, new):
                if size == 0:
                    del side[price]
                else:
                    side[price] = size
        assert sorted(bids.items(), reverse=True) == now.bids
        assert sorted(asks.items()) == now.asks
        previous = now
    assert len(seqs) > 20  # the book did change, many times


def test_a_small_move_changes_few_levels() -> None:
    engine = MarketEngine(5, start_ms=0)
    sizes = []
    previous = engine.depth("binance", "BTCUSDT", 0, 100)
    for at in range(50, 10_000, 50):
        now = engine.depth("binance", "BTCUSDT", at, 100)
        if now.seq != previous.seq:
            sizes.append(len(changes(previous.bids, now.bids)))
        previous = now
    assert sizes
    assert sorted(sizes)[len(sizes) // 2] < 30


@pytest.mark.parametrize(("venue", "symbol"), BOOKS)
def test_trades_set_the_last_price_at_the_touch(venue: str, symbol: str) -> None:
    engine = MarketEngine(3, start_ms=0)
    canonical = _canonical(symbol)
    seen: dict[int, object] = {}
    for at in range(0, 60_000, 500):
        book = engine.book(venue, canonical, at)
        tape = engine.tape(venue, canonical, at)
        for trade in tape.since(max(seen, default=0)):
            seen[trade.id] = trade
        if tape.trades:
            latest = tape.trades[-1]
            assert book.last == latest.price
            assert latest.ts_ms <= at
    ids = sorted(seen)
    assert len(ids) > 5
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # consecutive, none lost or repeated


def test_candles_come_from_the_tape() -> None:
    tape = Tape("test/X", 100.0, 60_000)
    tape.record(61_000, 101.0, 1.0, buyer_taker=True)
    tape.record(62_000, 99.0, 2.0, buyer_taker=False)
    tape.record(181_000, 102.0, 0.5, buyer_taker=True)
    ones = tape.candles(60_000, 250_000)
    assert [(c.open_ms, c.open, c.high, c.low, c.close, c.volume, c.trades) for c in ones] == [
        (60_000, 100.0, 101.0, 99.0, 99.0, 3.0, 2),
        (120_000, 99.0, 99.0, 99.0, 99.0, 0.0, 0),
        (180_000, 99.0, 102.0, 99.0, 102.0, 0.5, 1),
        (240_000, 102.0, 102.0, 102.0, 102.0, 0.0, 0),
    ]
    first, second = tape.candles(180_000, 250_000)  # 3 m candles: [0, 180 s) and [180 s, ...)
    assert (first.open_ms, first.open, first.high, first.low, first.close) == (0, 100, 101, 99, 99)
    assert (second.open, second.high, second.low, second.close, second.trades) == (
        99,
        102,
        99,
        102,
        1,
    )
    assert first.quote_volume == pytest.approx(101 + 198)
    assert [c.open_ms for c in tape.candles(60_000, 250_000, limit=2)] == [180_000, 240_000]
    assert [c.open_ms for c in tape.candles(60_000, 250_000, start_ms=100_000, limit=1)] == [
        120_000
    ]
    assert [t.id for t in tape.since(tape.last_id - 2)] == [tape.last_id - 1, tape.last_id]
    with pytest.raises(ValueError, match="minutes"):
        tape.candles(1_000, 250_000)


def test_calendar_candles_open_on_monday_and_on_the_first() -> None:
    from calendar import timegm

    from cryptows.sim.tape import MONTH, WEEK, period_close, period_open

    def ms(*day: int) -> int:
        return timegm((*day, 0, 0, 0)) * 1000

    wednesday = ms(2026, 12, 2) + 5_000
    assert period_open(wednesday, WEEK) == ms(2026, 11, 30)  # a Monday
    assert period_close(ms(2026, 11, 30), WEEK) == ms(2026, 12, 7) - 1
    assert period_open(wednesday, MONTH) == ms(2026, 12, 1)
    assert period_close(ms(2026, 12, 1), MONTH) == ms(2027, 1, 1) - 1  # December -> January
    assert period_close(ms(2027, 2, 1), MONTH) == ms(2027, 3, 1) - 1
    assert period_open(wednesday, 3_600_000) == wednesday - wednesday % 3_600_000
    tape = Tape("test/Y", 10.0, ms(2026, 11, 30) - 60_000)  # a Sunday's last minute
    tape.record(ms(2026, 11, 30) - 30_000, 11.0, 1.0, buyer_taker=True)
    tape.record(ms(2026, 11, 30) + 30_000, 12.0, 1.0, buyer_taker=True)
    weeks = tape.candles(WEEK, ms(2026, 11, 30) + 90_000)
    assert [(c.open_ms, c.close, c.trades) for c in weeks] == [
        (ms(2026, 11, 23), 11.0, 1),
        (ms(2026, 11, 30), 12.0, 1),
    ]
