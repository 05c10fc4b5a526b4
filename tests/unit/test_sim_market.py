"""The simulator's market engine: seeded paths, venue profiles, 24 h statistics, dislocations."""

from __future__ import annotations

import math

import pytest

from cryptows.clock import wall_ms
from cryptows.sim.binance import BinanceSim
from cryptows.sim.cluster import SIMULATORS, SimCluster, venue_profiles
from cryptows.sim.faults import apply_fault, parse_fault, run_script
from cryptows.sim.market import STEP_MS, MarketEngine, VenueProfile

# Seed 7 at 60 s: (bid, ask, bid size, ask size, last, 24 h volume, 24 h open, seq). These pin
# the order of the engine's random draws: a change here changes every seeded market. (The last
# price is the last trade's, at the touch of its moment, on the tick grid; trade sizes are on the
# lot, so the volumes moved in their last digits when trades came.)
GOLDEN = {
    ("binance", "BTCUSDT"): (96458.12, 96465.84, 0.052837, 0.202431, 96458.12,
                             23739.93923054337, 98503.82, 2),
    ("okx", "BTCUSDT"): (96452.79, 96462.45, 0.394041, 0.251842, 96417.18, 10470.022014258035,
                         98501.8, 2),
    ("coinbase", "SOLUSD"): (189.65, 189.71, 115.655153, 92.524279, 189.71,
                             3795674.517206004, 188.3, 2),
    ("bybit", "DOGEUSDT"): (0.31977, 0.31982, 41292.478833, 39147.902811, 0.31976,
                            1383977899.5187519, 0.31634, 2),
}  # fmt: skip


def _fields(engine: MarketEngine, venue: str, symbol: str, at_ms: int) -> tuple[float, ...]:
    b = engine.book(venue, symbol, at_ms)
    return (b.bid, b.ask, b.bid_size, b.ask_size, b.last, b.volume_24h, b.open_24h, b.seq)


@pytest.mark.parametrize(("venue", "symbol"), list(GOLDEN))
def test_seed_7_gives_the_same_prices_as_ever(venue: str, symbol: str) -> None:
    engine = MarketEngine(7, start_ms=0)
    assert _fields(engine, venue, symbol, 60_000) == GOLDEN[venue, symbol]


def test_first_random_dislocation_of_seed_7() -> None:
    engine = MarketEngine(7, start_ms=0)
    book = engine.book("okx", "SOLUSDT", 5_600)
    assert engine.book("okx", "SOLUSDT", 5_650).bid == pytest.approx(book.bid * 1.0093, rel=2e-4)


def test_the_engine_is_built_on_the_registry_profiles() -> None:
    assert list(venue_profiles()) == list(SIMULATORS) == ["binance", "bybit", "okx", "coinbase"]
    engine = MarketEngine(7, start_ms=0)
    for name, cls in SIMULATORS.items():
        assert engine.listings(name) == cls.profile.listings
    assert engine.listed("coinbase", "BTCUSD")
    assert not engine.listed("binance", "BTCUSD")
    assert not engine.listed("kraken", "BTCUSDT")
    assert engine.listings("kraken") == frozenset()


def test_a_cluster_of_some_venues_keeps_the_seeded_market() -> None:
    full = SimCluster(seed=7).engine
    some = SimCluster(["okx", "binance"], seed=7).engine
    start = full._now_ms  # noqa: SLF001 - both started within the same test
    some._now_ms = start  # noqa: SLF001
    for venue, symbol in GOLDEN:
        at = start + 30_000
        assert _fields(some, venue, symbol, at) == _fields(full, venue, symbol, at)


def test_profiles_given_explicitly_drive_spread_and_listings() -> None:
    wide = VenueProfile(frozenset({"BTCUSDT"}), half_spread_bps=50.0, base_volume_usd=1e6)
    engine = MarketEngine(7, start_ms=0, venues={"wide": wide})
    book = engine.book("wide", "BTCUSDT", 0)
    assert (book.ask - book.bid) / book.bid == pytest.approx(0.01, rel=0.01)
    assert engine.listings("wide") == {"BTCUSDT"}
    assert not engine.listed("binance", "BTCUSDT")


@pytest.mark.parametrize("venue", list(SIMULATORS))
def test_24h_statistics_are_the_engines(venue: str) -> None:
    engine = MarketEngine(11, start_ms=0)
    for symbol in sorted(engine.listings(venue)):
        for at in (0, 20_000, 90_000):
            b = engine.book(venue, symbol, at)
            assert b.high_24h >= max(b.open_24h, b.last, b.ask)
            assert b.low_24h <= min(b.open_24h, b.last, b.bid)
            # 1 % beyond open and last, or the quote where it has gone further since a trade
            high = max(max(b.open_24h, b.last) * 1.01, b.ask)
            assert b.high_24h == pytest.approx(high, abs=b.tick)
            assert b.low_24h == pytest.approx(
                min(min(b.open_24h, b.last) * 0.99, b.bid), abs=b.tick
            )
            for price in (b.high_24h, b.low_24h):
                assert math.isclose(price / b.tick, round(price / b.tick), abs_tol=1e-6)
            assert b.quote_volume_24h == pytest.approx(b.volume_24h * b.last)


def test_dislocate_lasts_its_duration_from_now_even_on_a_lagging_engine() -> None:
    engine = MarketEngine(7, start_ms=0, dislocations=False)
    calm = MarketEngine(7, start_ms=0, dislocations=False)
    # Nobody asked for a book for 10 s: the engine is still at 0.
    engine.dislocate("binance", "BTCUSDT", 2.0, 3_000, now_ms=10_000)
    for at, moved in ((10_000, True), (12_950, True), (13_000 + STEP_MS, False)):
        got, base = engine.book("binance", "BTCUSDT", at), calm.book("binance", "BTCUSDT", at)
        ratio = (got.bid + got.ask) / (base.bid + base.ask)
        assert ratio == pytest.approx(1.02 if moved else 1.0, abs=2e-4), at
        other = engine.book("okx", "BTCUSDT", at)
        assert other.bid == calm.book("okx", "BTCUSDT", at).bid  # one venue only


def test_dislocating_leaves_the_seeded_path_alone() -> None:
    engine = MarketEngine(7, start_ms=0)
    engine.dislocate("coinbase", "ETHUSDT", -1.0, 1_000, now_ms=30_000)
    assert _fields(engine, "okx", "BTCUSDT", 60_000) == GOLDEN["okx", "BTCUSDT"]


async def test_dislocate_fault_and_method() -> None:
    engine = MarketEngine(7, start_ms=wall_ms() - 1_000, dislocations=False)
    sim = BinanceSim(engine)
    with pytest.raises(ValueError, match="binance does not list BTCUSD"):
        sim.dislocate("BTCUSD", 1.0, 2)
    await apply_fault(sim, parse_fault("binance:dislocate=ETHUSDT:-3:60", ["binance"]))
    [moved] = engine._active  # noqa: SLF001
    assert (moved.venue, moved.symbol) == ("binance", "ETHUSDT")
    assert moved.factor == pytest.approx(0.97)
    assert engine._now_ms > wall_ms() - 1_000  # noqa: SLF001 - advanced to now first
    assert 59_000 <= moved.until_ms - engine._now_ms <= 60_000  # noqa: SLF001


async def test_dislocate_on_every_venue_skips_those_without_the_symbol() -> None:
    cluster = SimCluster(seed=7, dislocations=False)
    step = parse_fault("*:dislocate@0.01=BTCUSD:1", list(cluster.servers))
    await run_script(cluster.servers, [step])
    active = cluster.engine._active  # noqa: SLF001
    assert [(d.venue, d.symbol) for d in active] == [("coinbase", "BTCUSD")]
