"""The simulator's universe: several hundred books, partly overlapping venues, consistent prices."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict

import pytest

from cryptows.sim.cluster import SIMULATORS, SimCluster
from cryptows.sim.market import MarketEngine
from cryptows.sim.universe import (
    CORE_INSTRUMENTS,
    CORE_LISTINGS,
    LISTINGS,
    WIDE_INSTRUMENTS,
    symbol_of,
    tick_of,
)
from cryptows.symbols import listed_alternatives, parse_symbol

ALL = frozenset().union(*(cls.profile.listings for cls in SIMULATORS.values()))


def _venues_listing(symbol: str) -> int:
    return sum(symbol in cls.profile.listings for cls in SIMULATORS.values())


def test_several_hundred_books_and_big_venues_list_hundreds() -> None:
    assert len(ALL) >= 300
    sizes = {name: len(cls.profile.listings) for name, cls in SIMULATORS.items()}
    for venue in ("binance", "bybit", "okx"):
        assert 300 <= sizes[venue] <= 512, sizes  # 512: what one Binance connection carries
    assert sizes["coinbase"] >= 150, sizes
    assert {name: cls.profile.listings for name, cls in SIMULATORS.items()} == LISTINGS


def test_venues_overlap_partly_like_the_real_market() -> None:
    histogram = Counter(_venues_listing(symbol) for symbol in ALL)
    assert set(histogram) == {1, 2, 3, 4}, histogram
    assert min(histogram.values()) >= 20, histogram
    bases: dict[str, set[str]] = defaultdict(set)
    for name, cls in SIMULATORS.items():
        for symbol in cls.profile.listings:
            bases[symbol_of(symbol).base].add(name)
    for venue in SIMULATORS:  # every venue has bases nobody else lists
        assert any(where == {venue} for where in bases.values()), venue
    for base in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "LINK", "AVAX"):
        assert bases[base] == set(SIMULATORS), base


@pytest.mark.parametrize("venue", list(SIMULATORS))
def test_each_venue_lists_in_its_own_quote_assets(venue: str) -> None:
    quotes = Counter(symbol_of(s).quote for s in SIMULATORS[venue].profile.listings)
    main = "USD" if venue == "coinbase" else "USDT"
    assert quotes.most_common(1)[0][0] == main, quotes
    assert quotes[main] > sum(quotes.values()) / 2
    assert quotes["BTC"], quotes
    assert quotes["USDC"], quotes
    if venue == "coinbase":
        assert 0 < quotes["USDT"] < quotes["USD"] / 4
    else:
        assert quotes["USD"] == 0


def test_the_core_keeps_its_listing_facts() -> None:
    for venue, core in CORE_LISTINGS.items():
        assert LISTINGS[venue] & set(CORE_INSTRUMENTS) == core, venue
    assert [v for v, listed in LISTINGS.items() if "BTCUSD" in listed] == ["coinbase"]
    assert "DOGEUSD" not in ALL
    assert listed_alternatives("DOGEUSD", ALL) == ["DOGEUSDT"]
    assert "NMRUSDT" not in LISTINGS["okx"]
    for unlisted in ("FOOUSDT", "NOPEUSDT", "ZZZUSDT", "ETHEUR"):
        assert unlisted not in ALL


def test_every_book_reads_back_and_has_a_sensible_tick() -> None:
    for symbol in ALL:
        assert parse_symbol(symbol) == symbol_of(symbol), symbol
        assert symbol_of(symbol).base != symbol_of(symbol).quote, symbol  # no BTCBTC
        assert symbol in CORE_INSTRUMENTS or symbol in WIDE_INSTRUMENTS
    for symbol, instrument in WIDE_INSTRUMENTS.items():
        ticks = instrument.price / tick_of(symbol)
        assert 300 <= ticks <= 10_000_000, (symbol, instrument)


def _mid_usd(engine: MarketEngine, venue: str, symbol: str, at_ms: int) -> float:
    book = engine.book(venue, symbol, at_ms)
    mid = (book.bid + book.ask) / 2
    if book.symbol.quote == "BTC":
        btc = engine.book("binance", "BTCUSDT", at_ms)
        mid *= (btc.bid + btc.ask) / 2
    return mid


def _allowed(symbol: str, mid_usd: float) -> float:
    """0.25 %, plus two ticks (a BTC-quoted book's tick can be 0.3 % of its price)."""
    price = mid_usd / 97_000 if symbol_of(symbol).quote == "BTC" else mid_usd
    return 0.0025 + 2 * tick_of(symbol) / price


@pytest.mark.parametrize("at_ms", [0, 120_000])
def test_a_base_has_consistent_prices_across_venues_and_quotes(at_ms: int) -> None:
    """The same book agrees across venues; a base's books in other quote assets (USDC, USD,
    BTC) follow its USDT book. Only the core's own cross-quote books (BTCUSD, ETHBTC ...) walk
    on their own, as they always have (their paths are pinned by the seeded-market tests)."""
    engine = MarketEngine(7, start_ms=0, dislocations=False)
    by_base: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    by_symbol: dict[str, list[float]] = defaultdict(list)
    for venue, cls in SIMULATORS.items():
        for symbol in sorted(cls.profile.listings):
            mid = _mid_usd(engine, venue, symbol, at_ms)
            by_symbol[symbol].append(mid)
            if symbol in CORE_INSTRUMENTS and not symbol.endswith("USDT"):
                continue
            by_base[symbol_of(symbol).base].append((venue, symbol, mid))
    for symbol, mids in by_symbol.items():
        assert max(mids) / min(mids) - 1 < _allowed(symbol, min(mids)), (symbol, mids)
    checked = 0
    for base, books in by_base.items():
        centre = statistics.median(m for _, _, m in books)
        for venue, symbol, mid in books:
            allowed = _allowed(symbol, mid)
            assert abs(mid / centre - 1) < allowed, (base, venue, symbol, mid, centre)
        checked += len({symbol_of(s).quote for _, s, _ in books}) > 1
    assert checked >= 100  # bases quoted in more than one quote asset


def test_prices_are_plausible_per_base() -> None:
    engine = MarketEngine(7, start_ms=0, dislocations=False)
    expect = {"BTC": (50_000, 200_000), "ETH": (1_000, 10_000), "PEPE": (1e-6, 1e-4)}
    expect |= {"SHIB": (1e-6, 1e-4), "DOGE": (0.05, 2), "AAVE": (50, 2_000), "MKR": (500, 5_000)}
    for venue, cls in SIMULATORS.items():
        for symbol in cls.profile.listings:
            base = symbol_of(symbol).base
            if base in expect and not symbol.endswith("BTC"):
                low, high = expect[base]
                assert low < _mid_usd(engine, venue, symbol, 0) < high, (venue, symbol)


def test_wide_books_follow_btc_and_move() -> None:
    engine = MarketEngine(3, start_ms=0, dislocations=False)
    first = {s: _mid_usd(engine, "binance", s, 0) for s in ("PEPEUSDT", "TAOUSDT", "XRPBTC")}
    later = {s: _mid_usd(engine, "binance", s, 600_000) for s in first}
    assert all(later[s] != first[s] for s in first)
    assert all(abs(math.log(later[s] / first[s])) < 0.2 for s in first)


def test_the_same_seed_and_requests_give_the_same_wide_market() -> None:
    def path(seed: int) -> list[tuple[float, ...]]:
        engine = MarketEngine(seed, start_ms=0)
        out: list[tuple[float, ...]] = []
        for at in range(0, 30_000, 700):
            for venue, symbol in (
                ("okx", "WIFUSDT"),
                ("coinbase", "AMPUSD"),
                ("bybit", "SPECUSDT"),
            ):
                b = engine.book(venue, symbol, at)
                out.append((b.bid, b.ask, b.bid_size, b.last, b.volume_24h, b.open_24h, b.seq))
        return out

    assert path(7) == path(7)
    assert path(7) != path(8)


def test_wide_books_cost_nothing_until_asked_for() -> None:
    cluster = SimCluster(seed=7)
    wide = cluster.engine._wide  # noqa: SLF001 - the laziness is the point
    assert not wide._books  # noqa: SLF001
    assert not wide._assets  # noqa: SLF001
    cluster.engine.book("okx", "WIFUSDT", cluster.engine._now_ms + 1_000)  # noqa: SLF001
    assert list(wide._books) == [("okx", "WIFUSDT")]  # noqa: SLF001
    assert list(wide._assets) == ["WIF"]  # noqa: SLF001
    with pytest.raises(KeyError):
        cluster.engine.book("coinbase", "BNSOLUSDT", 0)  # a Binance-only book
