"""The market aggregator: merging, usability, best prices, summary, history, arbitrage flow."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cryptows.market.aggregator as aggregator_module
from cryptows.market.aggregator import Aggregator
from cryptows.market.types import ArbEventType, SymbolView
from cryptows.models import Channel, Quote, SymbolStatus, VenueState, VenueStatus
from cryptows.symbols import parse_symbol

FEES = {"binance": 0.1, "okx": 0.1, "bybit": 0.1, "coinbase": 0.1}


def _agg(symbols: tuple[str, ...] = ("BTCUSDT",), **kw: Any) -> Aggregator:
    kw.setdefault("fees_pct", FEES)
    kw.setdefault("threshold_pct", 0.1)
    kw.setdefault("hysteresis_pct", 0.05)
    return Aggregator([parse_symbol(s) for s in symbols], **kw)


def _q(
    venue: str,
    bid: float | None,
    ask: float | None,
    ts: int,
    symbol: str = "BTCUSDT",
    channel: Channel = Channel.BOOK,
    **kw: Any,
) -> Quote:
    return Quote(
        venue=venue,
        symbol=symbol,
        channel=channel,
        bid=bid,
        ask=ask,
        bid_size=kw.pop("bid_size", 1.0 if bid is not None else None),
        ask_size=kw.pop("ask_size", 2.0 if ask is not None else None),
        recv_wall_ms=ts,
        **kw,
    )


def _status(venue: str, state: VenueState, ts: int, reason: str = "") -> VenueStatus:
    return VenueStatus(venue=venue, state=state, reason=reason, ts_ms=ts)


def _view(agg: Aggregator, now: int, symbol: str = "BTCUSDT") -> SymbolView:
    return next(v for v in agg.snapshot(now).symbols if v.symbol == symbol)


def _types(events: list[Any]) -> list[ArbEventType]:
    return [e.type for e in events]


# -- merging and best prices ---------------------------------------------------------------------


def test_book_bid_ask_win_over_ticker_and_ticker_fields_are_kept() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 99.0, 101.0, 1000, channel=Channel.TICKER, last=100.0))
    view = _view(agg, 1000)
    assert (view.quotes[0].bid, view.quotes[0].ask) == (99.0, 101.0)  # ticker fills until book

    agg.on_quote(_q("binance", 99.5, 100.5, 1100))
    agg.on_quote(
        _q("binance", 98.0, 102.0, 1200, channel=Channel.TICKER, last=100.2, volume_24h=5.0)
    )
    vq = _view(agg, 1300).quotes[0]
    assert (vq.bid, vq.ask) == (99.5, 100.5)
    assert (vq.last, vq.volume_24h) == (100.2, 5.0)
    # The age is that of the prices shown: the ticker did not supply them.
    assert vq.recv_ms == 1100
    assert vq.age_ms == 200


def test_best_buy_is_lowest_ask_and_best_sell_highest_bid_with_their_venues() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.2, 1, ask_size=3.0))
    agg.on_quote(_q("okx", 100.1, 100.3, 2, bid_size=4.0))
    agg.on_quote(_q("bybit", 99.9, 100.25, 3))
    view = _view(agg, 10)
    assert view.best_buy is not None
    assert view.best_sell is not None
    assert (view.best_buy.venue, view.best_buy.price, view.best_buy.size) == ("binance", 100.2, 3.0)
    assert (view.best_sell.venue, view.best_sell.price, view.best_sell.size) == ("okx", 100.1, 4.0)


# -- usability ---------------------------------------------------------------------------------


def test_venue_not_live_is_excluded_with_its_reason_and_its_opportunities_close() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    events = agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    assert _types(events) == [ArbEventType.OPEN]

    events = agg.on_status(
        _status("binance", VenueState.BACKOFF, 1500, "closed by venue with code 1001")
    )
    assert _types(events) == [ArbEventType.CLOSE]
    assert agg.engine.open_opportunities() == ()
    snap = agg.snapshot(2000)
    view = snap.symbols[0]
    binance = next(q for q in view.quotes if q.venue == "binance")
    assert not binance.usable
    assert binance.stale_reason == "binance backing off: closed by venue with code 1001"
    assert view.best_buy is not None
    assert view.best_buy.venue == "okx"
    assert view.summary.venues == 1
    assert ("binance", "backing off", "closed by venue with code 1001") in snap.venue_states
    assert ("okx", "live", "") in snap.venue_states

    # Quotes from a venue that is not live stay unusable.
    assert agg.on_quote(_q("binance", 100.0, 100.1, 2100)) == []
    assert agg.engine.open_opportunities() == ()


def test_venue_coming_back_live_reopens_the_opportunity() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    agg.on_status(_status("okx", VenueState.STALE, 1200, "nothing received for 30 s"))
    assert _view(agg, 1300).quotes[1].stale_reason == "okx stale: nothing received for 30 s"
    assert agg.engine.open_opportunities() == ()

    # Live again, but okx's prices predate the outage: nothing reopens on them.
    assert agg.on_status(_status("okx", VenueState.LIVE, 1400)) == []
    stale = _view(agg, 1450).quotes[1]
    assert not stale.usable
    assert stale.stale_reason == "okx: no fresh quote since it reconnected"
    # A fresh quote after the reconnect makes the leg usable and the opportunity reopens.
    events = agg.on_quote(_q("okx", 101.0, 101.1, 1450))
    assert _types(events) == [ArbEventType.OPEN]
    assert len(agg.engine.open_opportunities()) == 1
    assert all(q.usable for q in _view(agg, 1500).quotes)
    assert len(agg.snapshot(1500).recent_closed) == 1


def test_not_live_legs_count_stale_leg_suppression() -> None:
    agg = _agg()
    agg.on_status(_status("okx", VenueState.STALE, 0, "nothing received for 30 s"))
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    assert agg.engine.open_opportunities() == ()
    assert dict(agg.snapshot(1002).suppressed)["stale_leg"] == 1


def test_quote_older_than_max_age_is_flagged_by_tick_and_its_opportunity_closes() -> None:
    agg = _agg(max_quote_age_ms=500)
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    assert _types(agg.on_quote(_q("okx", 101.0, 101.1, 1001))) == [ArbEventType.OPEN]
    assert agg.tick(1400) == []  # nothing aged yet
    view = _view(agg, 1501)
    assert [q.usable for q in view.quotes] == [False, True]
    assert view.quotes[0].stale_reason == "quote older than 500 ms"

    events = agg.tick(1501)
    assert _types(events) == [ArbEventType.CLOSE]
    assert events[0].ts_ms == 1501
    assert agg.tick(1600) == []  # flags already flipped: no more engine work

    # A fresh quote makes its leg usable again; okx's has aged out meanwhile: no reopening.
    assert agg.on_quote(_q("binance", 100.0, 100.1, 1700)) == []
    assert [q.usable for q in _view(agg, 1700).quotes] == [True, False]
    assert _types(agg.on_quote(_q("okx", 101.0, 101.1, 1800))) == [ArbEventType.OPEN]


def test_on_quote_rechecks_the_age_of_the_other_legs() -> None:
    agg = _agg(max_quote_age_ms=500)
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    # okx arrives after binance's quote aged out, with no tick in between: no opportunity.
    assert agg.on_quote(_q("okx", 101.0, 101.1, 2000)) == []
    assert agg.engine.open_opportunities() == ()
    # binance refreshes: now both are fresh.
    assert _types(agg.on_quote(_q("binance", 100.0, 100.1, 2100))) == [ArbEventType.OPEN]


def test_tick_without_max_age_or_candidates_is_a_no_op() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    assert agg.tick(10**12) == []
    assert len(agg.engine.open_opportunities()) == 1
    assert all(q.usable for q in _view(agg, 10**12).quotes)


# -- summary, history, ordering ------------------------------------------------------------------


def test_summary_numbers() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 99.0, 101.0, 1))  # mid 100
    agg.on_quote(_q("okx", 101.0, 103.0, 2))  # mid 102
    agg.on_quote(_q("bybit", 103.0, 105.0, 3))  # mid 104
    agg.on_quote(_q("coinbase", None, 50.0, 4))  # no mid, but the best ask
    s = _view(agg, 5).summary
    assert s.venues == 3
    assert (s.min_mid, s.max_mid, s.mean_mid) == (100.0, 104.0, 102.0)
    # best sell 103 (bybit), best buy 50 (coinbase)
    assert s.cross_spread_pct == pytest.approx((103.0 - 50.0) / 50.0 * 100)
    # population std of 100, 102, 104 = sqrt(8/3)
    assert s.dispersion_bps == pytest.approx(math.sqrt(8 / 3) / 102.0 * 10_000)


def test_summary_is_empty_without_usable_mids_and_has_no_dispersion_with_one_venue() -> None:
    agg = _agg()
    s = _view(agg, 0).summary
    assert (s.venues, s.min_mid, s.mean_mid, s.cross_spread_pct, s.dispersion_bps) == (
        0,
        None,
        None,
        None,
        None,
    )
    agg.on_quote(_q("binance", 99.0, 101.0, 1))
    s = _view(agg, 2).summary
    assert (s.venues, s.mean_mid, s.dispersion_bps) == (1, 100.0, None)
    assert s.cross_spread_pct == pytest.approx(-2 / 101 * 100)


def test_history_is_bounded_over_a_long_run() -> None:
    agg = _agg(history_size=300, history_interval_ms=1000)
    for i in range(10_000):
        venue = ("binance", "okx")[i % 2]
        agg.on_quote(_q(venue, 100.0 + i % 7, 101.0 + i % 7, 1_000 * i))
    history = _view(agg, 10_000_000).history
    assert len(history) == 300
    assert history[-1][0] == 1_000 * 9_999
    assert [t for t, _ in history] == sorted(t for t, _ in history)


def test_history_takes_at_most_one_sample_per_interval_of_the_mean_usable_mid() -> None:
    agg = _agg(history_interval_ms=1000)
    for i in range(100):
        agg.on_quote(_q("binance", 99.0, 101.0, 100 * i))
        agg.on_quote(_q("okx", 101.0, 103.0, 100 * i + 50))
    history = _view(agg, 10_000).history
    times = [t for t, _ in history]
    assert times == list(range(0, 10_000, 1000))
    assert all(b - a >= 1000 for a, b in zip(times, times[1:], strict=False))
    assert history[0] == (0, 100.0)  # only binance had quoted
    assert all(mid == 101.0 for _, mid in history[1:])


def test_snapshot_orders_configured_symbols_first_then_others_sorted_and_venues_by_name() -> None:
    agg = _agg(("SOLUSDT", "BTCUSDT"), demo=True)
    agg.on_quote(_q("okx", 1.0, 1.1, 1, symbol="XRPUSDT"))
    agg.on_quote(_q("okx", 1.0, 1.1, 1, symbol="ETHUSDT"))
    agg.on_quote(_q("okx", 100.0, 100.1, 2))
    agg.on_quote(_q("binance", 100.0, 100.1, 3))
    agg.on_status(_status("coinbase", VenueState.CONNECTING, 4))
    snap = agg.snapshot(10)
    assert [v.symbol for v in snap.symbols] == ["SOLUSDT", "BTCUSDT", "ETHUSDT", "XRPUSDT"]
    assert snap.symbols[0].quotes == ()  # configured, not quoted yet
    assert [q.venue for q in snap.symbols[1].quotes] == ["binance", "okx"]
    assert [v for v, _, _ in snap.venue_states] == ["binance", "coinbase", "okx"]
    assert snap.venue_states[1] == ("coinbase", "connecting", "")
    assert [r for r, _ in snap.suppressed] == [
        "stale_leg",
        "below_fees",
        "quote_mismatch",
        "unconfirmed",
    ]
    assert snap.demo is True
    assert snap.ts_ms == 10


def test_symbols_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(text: str) -> Any:
        calls.append(text)
        return parse_symbol(text)

    monkeypatch.setattr(aggregator_module, "parse_symbol", counting)
    agg = _agg()
    for i in range(50):
        agg.on_quote(_q("okx", 1.0, 1.1, i, symbol="ETHUSDT"))
        agg.on_quote(_q("okx", 100.0, 100.1, i))
    assert calls == ["ETHUSDT"]  # BTCUSDT came parsed with the configured symbols


def test_unparseable_symbol_is_still_shown_and_compared_with_itself() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 1.0, 1.01, 1, symbol="FOOBAR"))
    events = agg.on_quote(_q("okx", 1.1, 1.11, 2, symbol="FOOBAR"))
    assert _types(events) == [ArbEventType.OPEN]
    assert [v.symbol for v in agg.snapshot(3).symbols] == ["BTCUSDT", "FOOBAR"]


# -- feed events -------------------------------------------------------------------------------


def test_on_event_dispatches_and_symbol_problems_are_remembered_until_ok() -> None:
    agg = _agg()
    agg.on_event(_q("binance", 100.0, 100.1, 1))
    assert _types(agg.on_event(_q("okx", 101.0, 101.1, 2))) == [ArbEventType.OPEN]
    assert _types(agg.on_event(_status("okx", VenueState.STOPPED, 3))) == [ArbEventType.CLOSE]
    assert _view(agg, 4).quotes[1].stale_reason == "okx stopped"

    problem = SymbolStatus(venue="binance", symbol="ETHUSDT", message="no data for 60 s")
    assert agg.on_event(problem) == []
    assert agg.symbol_problems == {("binance", "ETHUSDT"): "no data for 60 s"}
    agg.on_symbol_status(SymbolStatus(venue="binance", symbol="ETHUSDT", message="", ok=True))
    assert agg.symbol_problems == {}


# -- arbitrage flow ----------------------------------------------------------------------------


def test_arbitrage_opens_updates_and_closes_with_hysteresis() -> None:
    agg = _agg(threshold_pct=0.1, hysteresis_pct=0.05)
    agg.on_quote(_q("binance", 99.9, 100.0, 1000))
    # gross 0.35 %, net 0.15 % >= 0.1: open
    events = agg.on_quote(_q("okx", 100.35, 100.4, 1001))
    assert _types(events) == [ArbEventType.OPEN]
    opened = events[0].opportunity
    assert (opened.buy_venue, opened.sell_venue) == ("binance", "okx")
    assert opened.net_pct == pytest.approx(0.15)
    assert opened.size == 1.0

    # net 0.07 %: below the threshold, inside the hysteresis band: still open, updated
    events = agg.on_quote(_q("okx", 100.27, 100.4, 1002))
    assert _types(events) == [ArbEventType.UPDATE]
    assert events[0].opportunity.net_pct == pytest.approx(0.07)
    assert events[0].opportunity.peak_net_pct == pytest.approx(0.15)

    # an unchanged quote: nothing
    assert agg.on_quote(_q("okx", 100.27, 100.4, 1003)) == []

    # net 0.04 % < 0.1 - 0.05: close, with the last values seen while open
    events = agg.on_quote(_q("okx", 100.24, 100.4, 1004))
    assert _types(events) == [ArbEventType.CLOSE]
    closed = events[0].opportunity
    assert closed.sell_price == 100.27
    assert closed.duration_ms == 3
    assert closed.peak_net_pct == pytest.approx(0.15)
    snap = agg.snapshot(1005)
    assert snap.open_opportunities == ()
    assert snap.recent_closed == (closed,)


def test_close_all_ends_the_run() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    events = agg.close_all(2000)
    assert _types(events) == [ArbEventType.CLOSE]
    assert events[0].opportunity.duration_ms == 999
    assert agg.snapshot(2000).open_opportunities == ()


def test_usd_is_not_usdt_without_a_declared_equivalence() -> None:
    agg = _agg(("BTCUSDT", "BTCUSD"))
    agg.on_quote(_q("coinbase", 99.9, 100.0, 1, symbol="BTCUSD"))
    assert agg.on_quote(_q("binance", 105.0, 105.1, 2)) == []
    snap = agg.snapshot(3)
    assert snap.open_opportunities == ()
    assert dict(snap.suppressed)["quote_mismatch"] == 1
    # a standing mismatch counts once
    agg.on_quote(_q("binance", 105.0, 105.2, 4))
    assert dict(agg.snapshot(5).suppressed)["quote_mismatch"] == 1


def test_declared_equivalence_converts_usd_to_usdt() -> None:
    agg = _agg(("BTCUSDT", "BTCUSD"), equivalents=[("USD", "USDT")])
    agg.on_quote(_q("coinbase", 99.9, 100.0, 1, symbol="BTCUSD"))
    events = agg.on_quote(_q("binance", 105.0, 105.1, 2))
    assert _types(events) == [ArbEventType.OPEN]
    o = events[0].opportunity
    assert (o.buy_venue, o.buy_symbol, o.sell_venue, o.sell_symbol) == (
        "coinbase",
        "BTCUSD",
        "binance",
        "BTCUSDT",
    )
    assert o.converted == "USD=USDT"
    assert dict(agg.snapshot(3).suppressed)["quote_mismatch"] == 0


def test_legs_of_other_groups_never_meet() -> None:
    agg = _agg(("BTCUSDT", "ETHUSDT", "ETHBTC"))
    agg.on_quote(_q("binance", 100.0, 100.1, 1))
    assert agg.on_quote(_q("okx", 200.0, 200.1, 2, symbol="ETHUSDT")) == []
    assert agg.on_quote(_q("bybit", 300.0, 300.1, 3, symbol="ETHBTC")) == []
    # the same symbol on another venue does meet
    assert _types(agg.on_quote(_q("coinbase", 1.0, 1.1, 4, symbol="ETHUSDT"))) == ["open"]
    assert [o.symbol for o in agg.engine.open_opportunities()] == ["ETHUSDT"]
    assert dict(agg.snapshot(5).suppressed) == {
        "stale_leg": 0,
        "below_fees": 0,
        "quote_mismatch": 0,
        "unconfirmed": 0,
    }


# -- property: best prices against a brute force -------------------------------------------------

VENUES = ("binance", "okx", "bybit", "coinbase")
_price = st.integers(min_value=9_900, max_value=10_100).map(lambda c: c / 100)


@st.composite
def _feed_event(draw: st.DrawFn) -> tuple[str, Any]:
    venue = draw(st.sampled_from(VENUES))
    kind = draw(st.sampled_from(("book", "book", "book", "ticker", "status")))
    dt = draw(st.integers(min_value=0, max_value=400))
    if kind == "status":
        state = draw(st.sampled_from(list(VenueState)))
        return "status", (venue, state, dt)
    if kind == "ticker":
        return "ticker", (venue, draw(_price), dt)
    bid = draw(_price)
    spread = draw(st.integers(min_value=0, max_value=50)) / 100
    return "book", (venue, bid, bid + spread, dt)


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(_feed_event(), max_size=60),
    max_age=st.sampled_from((0, 300, 1000)),
    final_dt=st.integers(min_value=0, max_value=2000),
)
def test_best_prices_match_a_brute_force_over_usable_quotes(
    events: list[tuple[str, Any]], max_age: int, final_dt: int
) -> None:
    agg = _agg(max_quote_age_ms=max_age, threshold_pct=0.05, hysteresis_pct=0.02)
    now = 1_000_000
    book: dict[str, tuple[float, float]] = {}
    recv: dict[str, int] = {}  # when the prices shown were received (a bare ticker sets none)
    state: dict[str, VenueState] = {}
    down: dict[str, int] = {}  # when the venue last left LIVE
    for kind, args in events:
        now += args[-1]
        if kind == "status":
            venue, vstate, _ = args
            state[venue] = vstate
            if vstate is not VenueState.LIVE:
                down[venue] = now
            agg.on_event(_status(venue, vstate, now, "because"))
        elif kind == "ticker":
            venue, last, _ = args
            recv.setdefault(venue, now)
            agg.on_event(_q(venue, None, None, now, channel=Channel.TICKER, last=last))
        else:
            venue, bid, ask, _ = args
            recv[venue] = now
            book[venue] = (bid, ask)
            agg.on_event(_q(venue, bid, ask, now))
    now += final_dt

    def usable(venue: str) -> bool:
        if state.get(venue, VenueState.LIVE) is not VenueState.LIVE:
            return False
        if venue in down and recv[venue] <= down[venue]:
            return False  # prices from before the outage are not reused
        return max_age == 0 or now - recv[venue] <= max_age

    live = [v for v in book if usable(v)]
    view = _view(agg, now)
    assert {q.venue for q in view.quotes} == set(recv)
    assert {q.venue for q in view.quotes if q.usable} == {v for v in recv if usable(v)}
    if live:
        assert view.best_buy is not None
        assert view.best_sell is not None
        assert view.best_buy.price == min(book[v][1] for v in live)
        assert view.best_sell.price == max(book[v][0] for v in live)
        assert book[view.best_buy.venue][1] == view.best_buy.price
        assert book[view.best_sell.venue][0] == view.best_sell.price
        mids = [(book[v][0] + book[v][1]) / 2 for v in live]
        assert view.summary.venues == len(live)
        assert view.summary.mean_mid == pytest.approx(statistics.fmean(mids))
    else:
        assert view.best_buy is None
        assert view.best_sell is None
        assert view.summary.venues == 0

    # After a tick at `now`, no open opportunity has a leg that is not usable at `now`.
    agg.tick(now)
    for o in agg.engine.open_opportunities():
        assert usable(o.buy_venue)
        assert usable(o.sell_venue)


# -- close reasons, confirmation on the engine's clock -------------------------------------------


def _reasons(events: list[Any]) -> list[str | None]:
    return [e.opportunity.close_reason for e in events]


def test_close_reasons_from_the_aggregator() -> None:
    # leg_stale: the venue is not live
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    events = agg.on_status(_status("okx", VenueState.STALE, 1500, "no frame for 5 s"))
    assert _reasons(events) == ["leg_stale"]

    # leg_stale: the quote aged out (max_quote_age_ms), seen by a tick
    agg = _agg(max_quote_age_ms=500)
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    assert _reasons(agg.tick(1501)) == ["leg_stale"]

    # leg_gone: that side of the book went missing
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    assert _reasons(agg.on_quote(_q("okx", None, 101.1, 1002))) == ["leg_gone"]

    # below_threshold, then run_end
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    assert _reasons(agg.on_quote(_q("okx", 100.0, 100.1, 1002))) == ["below_threshold"]
    agg.on_quote(_q("okx", 101.0, 101.1, 1003))
    assert _reasons(agg.close_all(1004)) == ["run_end"]


def test_unlisted_symbol_removes_the_venues_quote_and_closes_with_leg_gone() -> None:
    agg = _agg()
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    # A transient problem keeps the quote (its freshness rules decide).
    silent = SymbolStatus(venue="okx", symbol="BTCUSDT", message="no data for 60 s", ts_ms=1100)
    assert agg.on_event(silent) == []
    unlisted = SymbolStatus(
        venue="okx", symbol="BTCUSDT", message="not listed on okx", unlisted=True, ts_ms=1200
    )
    events = agg.on_event(unlisted)
    assert _types(events) == [ArbEventType.CLOSE]
    assert _reasons(events) == ["leg_gone"]
    assert events[0].ts_ms == 1200
    assert [q.venue for q in _view(agg, 1300).quotes] == ["binance"]
    assert agg.on_event(unlisted) == []  # already gone


def test_unwatched_symbol_closes_with_leg_gone() -> None:
    agg = _agg(("BTCUSDT", "ETHUSDT"))
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    agg.on_quote(_q("okx", 101.0, 101.1, 1001))
    events = agg.set_symbols([parse_symbol("ETHUSDT")], 2000)
    assert _types(events) == [ArbEventType.CLOSE]
    assert _reasons(events) == ["leg_gone"]


def test_confirmation_runs_on_frame_times_and_ticks() -> None:
    agg = _agg(confirm_ms=250)
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    assert agg.on_quote(_q("okx", 101.0, 101.1, 1010)) == []  # crosses at 1010
    assert agg.tick(1100) == []
    # A frame for other pairs of the group (new candidates, due at 1550) does not confirm it...
    assert agg.on_quote(_q("bybit", 100.5, 100.55, 1300)) == []
    # ...the next tick does, with the tick's time as ts_ms; the younger candidates wait.
    (opened,) = agg.tick(1350)
    assert opened.type is ArbEventType.OPEN
    o = opened.opportunity
    assert (o.buy_venue, o.sell_venue) == ("binance", "okx")
    assert (opened.ts_ms, o.opened_ms, o.duration_ms) == (1350, 1010, 340)
    assert (o.buy_age_ms, o.sell_age_ms) == (350, 340)
    assert _types(agg.tick(1550)) == [ArbEventType.OPEN, ArbEventType.OPEN]


def test_a_blip_at_the_threshold_opens_nothing_and_is_counted() -> None:
    agg = _agg(("ETHUSDT",), confirm_ms=250)
    agg.on_quote(_q("binance", 10.0, 10.01, 2000, symbol="ETHUSDT"))
    assert agg.on_quote(_q("coinbase", 10.1, 10.2, 2100, symbol="ETHUSDT")) == []  # net 0.7 %
    assert agg.on_quote(_q("coinbase", 10.0, 10.2, 2101, symbol="ETHUSDT")) == []  # gone again
    assert agg.tick(2500) == []
    assert agg.engine.open_opportunities() == ()
    assert dict(agg.snapshot(2500).suppressed)["unconfirmed"] == 1


def test_set_confirm_ms_applies_to_the_next_candidates() -> None:
    agg = _agg()
    agg.set_confirm_ms(300)
    agg.on_quote(_q("binance", 100.0, 100.1, 1000))
    assert agg.on_quote(_q("okx", 101.0, 101.1, 1001)) == []
    assert _types(agg.on_quote(_q("okx", 101.0, 101.2, 1301))) == [ArbEventType.OPEN]
