"""Local statistics of a snapshot, checked against arithmetic done by hand in the test."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cryptows.analysis.stats import MarketStats, SymbolStats, compute_stats
from cryptows.errors import UsageError
from cryptows.market.aggregator import Aggregator
from cryptows.market.types import (
    BestPrice,
    MidSample,
    Opportunity,
    Snapshot,
    SymbolSummary,
    SymbolView,
    VenueQuote,
)
from cryptows.models import Channel, Quote, VenueHealth, VenueState, VenueStatus
from cryptows.symbols import parse_symbol

FEES = {"binance": 0.1, "bybit": 0.1, "okx": 0.1}


def _book(venue: str, mid: float, ts: int, half: float = 0.5) -> Quote:
    return Quote(
        venue=venue,
        symbol="BTCUSDT",
        channel=Channel.BOOK,
        bid=mid - half,
        ask=mid + half,
        bid_size=1.0,
        ask_size=1.0,
        recv_wall_ms=ts,
    )


def _only(stats: MarketStats, symbol: str = "BTCUSDT") -> SymbolStats:
    return next(s for s in stats.symbols if s.symbol == symbol)


@pytest.fixture
def fed() -> Snapshot:
    """A market built by the real aggregator from quotes at fixed times.

    - t=900: okx quotes mid 200 (usable then: one history sample (900, 200)).
    - t=950: okx backs off: its quote is stale from now on.
    - t=2000: binance mid 50 -> sample (2000, 50), okx excluded.
    - t=5000..9000: binance mids 100, 101, 102, 101, 103 -> one sample each.
    - t=9500: bybit bid 103.6 / ask 104.4 (mid 104): no sample (< 1 s after 9000).
    Snapshot at t=10000; a 5 s window keeps the samples at 5000..9000.
    """
    agg = Aggregator(
        [parse_symbol("BTCUSDT")], fees_pct=FEES, threshold_pct=50.0, hysteresis_pct=1.0
    )
    agg.on_quote(_book("okx", 200.0, 900, half=1.0))
    agg.on_status(VenueStatus(venue="okx", state=VenueState.BACKOFF, reason="code 1001", ts_ms=950))
    agg.on_quote(_book("binance", 50.0, 2000))
    for i, mid in enumerate([100.0, 101.0, 102.0, 101.0, 103.0]):
        agg.on_quote(_book("binance", mid, 5000 + 1000 * i))
    agg.on_quote(_book("bybit", 104.0, 9500, half=0.4))
    return agg.snapshot(10_000)


def test_window_statistics_match_hand_arithmetic(fed: Snapshot) -> None:
    assert list(fed.symbols[0].history) == [
        (900, 200.0),
        (2000, 50.0),
        (5000, 100.0),
        (6000, 101.0),
        (7000, 102.0),
        (8000, 101.0),
        (9000, 103.0),
    ]
    s = _only(compute_stats(fed, window_s=5))

    # Window: 10000 - 5 * 1000 = 5000 <= ts <= 10000 -> mids 100, 101, 102, 101, 103.
    assert s.samples == 5
    assert s.span_s == 4.0  # (9000 - 5000) / 1000

    # mean = 507 / 5 = 101.4; deviations -1.4, -0.4, 0.6, -0.4, 1.6;
    # squares 1.96 + 0.16 + 0.36 + 0.16 + 2.56 = 5.2; population variance 5.2 / 5 = 1.04;
    # z = (103 - 101.4) / sqrt(1.04) = 1.6 / 1.0198039... = 1.568929...
    z = 1.6 / math.sqrt(1.04)
    assert z == pytest.approx(1.5689290811)
    assert s.zscore == round(z, 4) == 1.5689

    # return = (103 / 100 - 1) * 100 = 3 %.
    assert s.return_pct == pytest.approx(3.0, abs=1e-9)

    # Simple returns: 1/100, 1/101, -1/102, 2/101; their mean and population stdev (in %).
    r = [1 / 100, 1 / 101, -1 / 102, 2 / 101]
    r_mean = (r[0] + r[1] + r[2] + r[3]) / 4
    r_var = sum((x - r_mean) ** 2 for x in r) / 4
    vol = math.sqrt(r_var) * 100
    assert vol == pytest.approx(1.0756121793)
    assert s.volatility_pct == pytest.approx(vol, abs=1e-6)


def test_stale_venue_is_excluded_and_named(fed: Snapshot) -> None:
    s = _only(compute_stats(fed, window_s=5))
    # okx (bid 199, ask 201) is backing off: not counted, not best, named with its reason.
    assert s.venues == 2
    assert s.stale_venues == ("okx",)
    assert len(s.stale_reasons) == 1
    assert "backing off" in s.stale_reasons[0]
    assert "code 1001" in s.stale_reasons[0]
    # Usable: binance 102.5 / 103.5 (mid 103), bybit 103.6 / 104.4 (mid 104).
    assert (s.best_bid, s.best_bid_venue) == (103.6, "bybit")
    assert (s.best_ask, s.best_ask_venue) == (103.5, "binance")
    assert s.mid == pytest.approx((103 + 104) / 2)
    # cross = (103.6 - 103.5) / 103.5 * 100 = 0.0966183...
    assert s.cross_spread_pct == pytest.approx((103.6 - 103.5) / 103.5 * 100, abs=1e-6)
    # dispersion = pstdev(103, 104) / 103.5 * 1e4 = 0.5 / 103.5 * 1e4 = 48.309178...
    assert s.dispersion_bps == pytest.approx(0.5 / 103.5 * 10_000, abs=1e-4)
    assert s.open_opportunities == 0
    assert s.best_net_pct is None


def test_wider_window_takes_older_samples(fed: Snapshot) -> None:
    # 10000 - 9000 = 1000: samples from 1000 on (50, 100, 101, 102, 101, 103); 900 excluded.
    s = _only(compute_stats(fed, window_s=9))
    assert s.samples == 6
    assert s.return_pct == pytest.approx((103 / 50 - 1) * 100, abs=1e-6)  # 106 %


# -- hand-built snapshots ------------------------------------------------------------------


def _vq(venue: str, bid: float | None, ask: float | None, *, usable: bool = True) -> VenueQuote:
    return VenueQuote(
        venue=venue,
        symbol="ETHUSDT",
        bid=bid,
        bid_size=None,
        ask=ask,
        ask_size=None,
        last=None,
        volume_24h=None,
        exchange_ts_ms=None,
        recv_ms=0,
        age_ms=0,
        usable=usable,
        stale_reason="" if usable else "quote older than 5000 ms",
    )


def _view(symbol: str, history: list[MidSample], **kw: Any) -> SymbolView:
    return SymbolView(
        symbol=symbol,
        quotes=kw.pop("quotes", ()),
        best_buy=kw.pop("best_buy", None),
        best_sell=kw.pop("best_sell", None),
        summary=kw.pop(
            "summary",
            SymbolSummary(
                venues=0,
                min_mid=None,
                max_mid=None,
                mean_mid=None,
                cross_spread_pct=None,
                dispersion_bps=None,
            ),
        ),
        history=tuple(history),
    )


def _snap(*views: SymbolView, **kw: Any) -> Snapshot:
    kw.setdefault("open_opportunities", ())
    return Snapshot(
        ts_ms=100_000,
        symbols=views,
        recent_closed=(),
        suppressed=(),
        venue_states=kw.pop("venue_states", ()),
        **kw,
    )


def _series(mids: list[float], end: int = 100_000) -> list[MidSample]:
    return [MidSample(end - 1000 * (len(mids) - 1 - i), m) for i, m in enumerate(mids)]


def test_none_cases() -> None:
    snap = _snap(
        _view("NOQUOTES", []),
        _view("ONE", _series([10.0])),
        _view("TWO", _series([10.0, 11.0])),
        _view("FOUR", _series([10.0, 11.0, 12.0, 13.0])),
        _view("FLAT", _series([7.0] * 6)),
    )
    by = {s.symbol: s for s in compute_stats(snap, window_s=60).symbols}

    empty = by["NOQUOTES"]
    assert empty.samples == 0
    assert empty.venues == 0
    assert empty.stale_venues == ()
    assert (empty.best_bid, empty.best_ask, empty.mid, empty.last) == (None, None, None, None)
    assert (empty.zscore, empty.return_pct, empty.volatility_pct, empty.span_s) == (
        None,
        None,
        None,
        None,
    )

    # One sample: no return, no volatility, no z-score.
    assert (by["ONE"].return_pct, by["ONE"].volatility_pct, by["ONE"].zscore) == (None, None, None)
    # Two samples: a return (10 -> 11 = +10 %), but a single return has no volatility.
    assert by["TWO"].return_pct == pytest.approx(10.0)
    assert by["TWO"].volatility_pct is None
    assert by["TWO"].zscore is None
    # Four samples: below the 5 needed for a z-score; volatility of 1/10, 1/11, 1/12 exists.
    assert by["FOUR"].zscore is None
    assert by["FOUR"].volatility_pct is not None
    # Flat: zero standard deviation -> no z-score; zero return and zero volatility.
    assert by["FLAT"].zscore is None
    assert by["FLAT"].return_pct == 0.0
    assert by["FLAT"].volatility_pct == 0.0


def test_negative_zscore_and_samples_outside_window() -> None:
    # Window 4 s at t=100000: 96000..100000 -> 103, 102, 101, 102, 99 (the 500 at 95000 is out).
    # mean = 507 / 5 = 101.4; squares 2.56 + 0.36 + 0.16 + 0.36 + 5.76 = 9.2; var = 1.84;
    # z = (99 - 101.4) / sqrt(1.84) = -2.4 / 1.356466 = -1.769303...
    snap = _snap(_view("X", _series([500.0, 103.0, 102.0, 101.0, 102.0, 99.0])))
    s = compute_stats(snap, window_s=4).symbols[0]
    assert s.samples == 5
    assert s.zscore == round(-2.4 / math.sqrt(1.84), 4) == -1.7693
    assert s.return_pct == pytest.approx((99 / 103 - 1) * 100, abs=1e-6)


def test_quotes_opportunities_and_health() -> None:
    view = _view(
        "ETHUSDT",
        [],
        quotes=(
            _vq("binance", 2000.0, 2001.0),
            _vq("okx", 2010.0, 2011.0, usable=False),
        ),
        best_buy=BestPrice(venue="binance", price=2001.0, size=None),
        best_sell=BestPrice(venue="binance", price=2000.0, size=None),
        summary=SymbolSummary(
            venues=1,
            min_mid=2000.5,
            max_mid=2000.5,
            mean_mid=2000.5,
            cross_spread_pct=-0.0499750124,
            dispersion_bps=None,
            last=2000.7,
            change_24h_pct=-1.25,
        ),
    )

    def opp(net: float, symbol: str = "ETHUSDT") -> Opportunity:
        return Opportunity(
            symbol=symbol,
            buy_venue="binance",
            buy_symbol=symbol,
            buy_price=1.0,
            buy_size=None,
            buy_age_ms=0,
            sell_venue="bybit",
            sell_symbol=symbol,
            sell_price=1.0,
            sell_size=None,
            sell_age_ms=0,
            gross_pct=net + 0.2,
            fees_pct=0.2,
            net_pct=net,
            peak_net_pct=net,
            opened_ms=0,
            duration_ms=0,
            size=None,
        )

    health = (
        VenueHealth(
            venue="binance",
            state=VenueState.LIVE,
            msgs_per_s=12.345,
            lag_p50_ms=41.26,
            reconnects=0,
        ),
        VenueHealth(venue="okx", state=VenueState.STALE, reconnects=3, last_error="timeout"),
    )
    snap = _snap(
        view,
        open_opportunities=(opp(0.31), opp(0.52), opp(0.9, symbol="BTCUSDT")),
        health=health,
        demo=True,
    )
    stats = compute_stats(snap, window_s=10)
    assert (stats.ts_ms, stats.window_s, stats.demo) == (100_000, 10.0, True)
    s = stats.symbols[0]
    assert s.venues == 1
    assert s.stale_venues == ("okx",)
    assert s.stale_reasons == ("quote older than 5000 ms",)
    assert (s.best_bid, s.best_bid_venue, s.best_ask, s.best_ask_venue) == (
        2000.0,
        "binance",
        2001.0,
        "binance",
    )
    assert (s.mid, s.last, s.change_24h_pct) == (2000.5, 2000.7, -1.25)
    assert s.cross_spread_pct == -0.049975  # rounded to 6 decimals
    # Two open routes on ETHUSDT (the BTCUSDT one is not counted); the best net is 0.52.
    assert s.open_opportunities == 2
    assert s.best_net_pct == 0.52

    assert [(v.venue, v.state, v.reconnects, v.last_error) for v in stats.venues] == [
        ("binance", "live", 0, ""),
        ("okx", "stale", 3, "timeout"),
    ]
    assert stats.venues[0].msgs_per_s == 12.35  # rounded to 2 decimals
    assert stats.venues[0].lag_p50_ms == 41.3
    assert stats.venues[1].lag_p50_ms is None


def test_venues_fall_back_to_feed_states() -> None:
    snap = _snap(venue_states=(("binance", "live", ""), ("okx", "backing off", "code 1006")))
    venues = compute_stats(snap, window_s=10).venues
    assert [(v.venue, v.state, v.reason, v.msgs_per_s) for v in venues] == [
        ("binance", "live", "", None),
        ("okx", "backing off", "code 1006", None),
    ]


@pytest.mark.parametrize("window", [0, -1, math.inf, math.nan])
def test_window_must_be_positive(window: float) -> None:
    with pytest.raises(UsageError, match="window"):
        compute_stats(_snap(), window_s=window)


def test_same_snapshot_same_stats(fed: Snapshot) -> None:
    assert compute_stats(fed, 5) == compute_stats(fed, 5)
