"""The arbitrage engine against an independent brute-force oracle, plus exact scenarios.

The oracle below is written from the specification in the module docstring of
:mod:`cryptows.market.arbitrage`, not from the engine's code: on every step it re-evaluates
*every* ordered pair of legs on different venues (O(n²)), whereas the engine only re-evaluates
the pairs that involve the changed leg. Both must produce the same events, the same open set and
the same suppression counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptows.market.arbitrage import ArbitrageEngine, comparison_group
from cryptows.market.types import ArbEvent, ArbEventType, Leg, Opportunity, SuppressReason

LegKey = tuple[str, str]
PairKey = tuple[str, str, str, str]

OPEN, UPDATE, CLOSE = ArbEventType.OPEN, ArbEventType.UPDATE, ArbEventType.CLOSE
STALE, BELOW, MISMATCH = (
    SuppressReason.STALE_LEG,
    SuppressReason.BELOW_FEES,
    SuppressReason.QUOTE_MISMATCH,
)


# ---------------------------------------------------------------------------------------------
# The oracle: written from the specification only.
# ---------------------------------------------------------------------------------------------


@dataclass
class _OracleOpen:
    opened_ms: int
    peak_net: float
    last: Opportunity
    buy_recv_ms: int
    sell_recv_ms: int


@dataclass
class Oracle:
    """Brute force: every step re-evaluates all ordered pairs of the group."""

    fees: Mapping[str, float]
    threshold: float
    hysteresis: float
    gross: bool = False
    equivalents: tuple[tuple[str, str], ...] = ()
    open: dict[PairKey, _OracleOpen] = field(default_factory=dict)
    reason: dict[PairKey, SuppressReason] = field(default_factory=dict)
    suppressed: dict[SuppressReason, int] = field(
        default_factory=lambda: dict.fromkeys(SuppressReason, 0)
    )
    closed: list[Opportunity] = field(default_factory=list)

    def step(self, legs: Mapping[LegKey, Leg], now_ms: int) -> list[ArbEvent]:
        live = {
            (a[0], a[1], b[0], b[1]) for a in legs for b in legs if a[0] != b[0]
        }  # different venues only
        events: list[ArbEvent] = []
        # Iterating the pair keys in sorted order yields the events in the specified order.
        for pair in sorted(live | set(self.open) | set(self.reason)):
            buy = legs.get((pair[0], pair[1]))
            sell = legs.get((pair[2], pair[3]))
            event = self._pair(pair, buy, sell, now_ms)
            if event is not None:
                events.append(event)
        return events

    def close_all(self, now_ms: int) -> list[ArbEvent]:
        return [self._close(pair, now_ms) for pair in sorted(self.open)]

    def _compatible(self, a: str, b: str) -> tuple[bool, str | None]:
        if a == b:
            return True, None
        if any({a, b} == {x, y} for x, y in self.equivalents):
            low, high = min(a, b), max(a, b)
            return True, f"{low}={high}"
        return False, None

    def _pair(
        self, pair: PairKey, buy: Leg | None, sell: Leg | None, now_ms: int
    ) -> ArbEvent | None:
        state = self.open.get(pair)
        if buy is None or sell is None or buy.ask is None or sell.bid is None:
            # No price to compare: nothing qualifies, nothing is suppressed.
            self.reason.pop(pair, None)
            return self._close(pair, now_ms) if state is not None else None
        ask, bid = buy.ask, sell.bid
        gross = (bid - ask) / ask * 100
        fees = self.fees.get(buy.venue, 0.0) + self.fees.get(sell.venue, 0.0)
        net = gross - fees
        metric = gross if self.gross else net
        compatible, converted = self._compatible(buy.quote, sell.quote)
        both_usable = buy.usable and sell.usable
        level = self.threshold if state is None else self.threshold - self.hysteresis
        if both_usable and compatible and metric >= level:
            self.reason.pop(pair, None)
            opened = now_ms if state is None else state.opened_ms
            peak = net if state is None else max(state.peak_net, net)
            if buy.ask_size is None or sell.bid_size is None:
                size = None
            else:
                size = min(buy.ask_size, sell.bid_size)
            opportunity = Opportunity(
                symbol=sell.symbol,
                buy_venue=buy.venue,
                buy_symbol=buy.symbol,
                buy_price=ask,
                buy_size=buy.ask_size,
                buy_age_ms=max(0, now_ms - buy.recv_ms),
                sell_venue=sell.venue,
                sell_symbol=sell.symbol,
                sell_price=bid,
                sell_size=sell.bid_size,
                sell_age_ms=max(0, now_ms - sell.recv_ms),
                gross_pct=gross,
                fees_pct=fees,
                net_pct=net,
                peak_net_pct=peak,
                opened_ms=opened,
                duration_ms=now_ms - opened,
                size=size,
                converted=converted,
            )
            if state is None:
                self.open[pair] = _OracleOpen(now_ms, net, opportunity, buy.recv_ms, sell.recv_ms)
                return ArbEvent(type=OPEN, ts_ms=now_ms, opportunity=opportunity)
            before = state.last
            state.peak_net, state.last = peak, opportunity
            state.buy_recv_ms, state.sell_recv_ms = buy.recv_ms, sell.recv_ms
            old = (before.buy_price, before.buy_size, before.sell_price, before.sell_size)
            new = (ask, buy.ask_size, bid, sell.bid_size)
            if old != new:
                return ArbEvent(type=UPDATE, ts_ms=now_ms, opportunity=opportunity)
            return None
        event = self._close(pair, now_ms) if state is not None else None
        # The pair ends this evaluation not open: the first applicable reason.
        reason: SuppressReason | None = None
        if not compatible and gross >= self.threshold:
            reason = MISMATCH
        elif not both_usable and metric >= self.threshold:
            reason = STALE
        elif not self.gross and gross >= self.threshold > net:
            reason = BELOW
        if reason is None:
            self.reason.pop(pair, None)
        else:
            if self.reason.get(pair) != reason:
                self.suppressed[reason] += 1
            self.reason[pair] = reason
        return event

    def _close(self, pair: PairKey, now_ms: int) -> ArbEvent:
        state = self.open.pop(pair)
        closed = msgspec.structs.replace(
            state.last,
            peak_net_pct=state.peak_net,
            duration_ms=now_ms - state.opened_ms,
            buy_age_ms=max(0, now_ms - state.buy_recv_ms),
            sell_age_ms=max(0, now_ms - state.sell_recv_ms),
        )
        self.closed.append(closed)
        return ArbEvent(type=CLOSE, ts_ms=now_ms, opportunity=closed)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _quote(symbol: str) -> str:
    assert symbol.startswith("BTC")
    return symbol[3:]


def make_leg(
    venue: str,
    bid: float | None,
    ask: float | None,
    *,
    symbol: str = "BTCUSDT",
    bid_size: float | None = 1.0,
    ask_size: float | None = 1.0,
    recv_ms: int = 0,
    usable: bool = True,
) -> Leg:
    return Leg(
        venue=venue,
        symbol=symbol,
        base="BTC",
        quote=_quote(symbol),
        bid=bid,
        bid_size=bid_size,
        ask=ask,
        ask_size=ask_size,
        recv_ms=recv_ms,
        usable=usable,
        stale_reason="" if usable else "venue reconnecting",
    )


def pair_of(o: Opportunity) -> PairKey:
    return (o.buy_venue, o.buy_symbol, o.sell_venue, o.sell_symbol)


def kinds(events: list[ArbEvent]) -> list[tuple[ArbEventType, PairKey]]:
    return [(e.type, pair_of(e.opportunity)) for e in events]


class Book:
    """A group's legs plus an engine; ``set``/``remove`` call ``update`` for that leg."""

    def __init__(self, engine: ArbitrageEngine) -> None:
        self.engine = engine
        self.legs: dict[LegKey, Leg] = {}
        self.log: list[ArbEvent] = []

    def set(self, leg: Leg, now_ms: int) -> list[ArbEvent]:
        key = (leg.venue, leg.symbol)
        self.legs[key] = leg
        return self._record(self.engine.update(self.legs, key, now_ms))

    def remove(self, venue: str, symbol: str, now_ms: int) -> list[ArbEvent]:
        key = (venue, symbol)
        self.legs.pop(key, None)
        return self._record(self.engine.update(self.legs, key, now_ms))

    def _record(self, events: list[ArbEvent]) -> list[ArbEvent]:
        self.log.extend(events)
        return events


def engine_for(
    fees: Mapping[str, float] | None = None,
    *,
    threshold: float = 0.5,
    hysteresis: float = 0.0,
    gross: bool = False,
    equivalents: tuple[tuple[str, str], ...] = (),
) -> ArbitrageEngine:
    return ArbitrageEngine(
        fees if fees is not None else {"a": 0.0, "b": 0.0},
        threshold_pct=threshold,
        hysteresis_pct=hysteresis,
        gross=gross,
        equivalents=equivalents,
    )


AB: PairKey = ("a", "BTCUSDT", "b", "BTCUSDT")
BA: PairKey = ("b", "BTCUSDT", "a", "BTCUSDT")


# ---------------------------------------------------------------------------------------------
# 1. The property: engine == oracle on random groups and random update sequences.
# ---------------------------------------------------------------------------------------------

VENUES = ("okx", "binance", "kraken", "coinbase", "bybit", "bitstamp")  # deliberately unsorted
TICK = 0.05
_fee = st.one_of(st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.25, 0.5, 0.7]), st.floats(0.0, 0.7))
_threshold = st.one_of(st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]), st.floats(0.0, 1.0))
_hysteresis_fraction = st.one_of(st.sampled_from([0.0, 0.25, 0.5]), st.floats(0.0, 0.5))
_size = st.sampled_from([None, 0.5, 1.0, 1.0, 2.0])


@dataclass(frozen=True)
class Config:
    fees: dict[str, float]
    threshold: float
    hysteresis: float
    gross: bool
    equivalents: tuple[tuple[str, str], ...]
    slots: tuple[LegKey, ...]


@dataclass(frozen=True)
class Step:
    kind: str  # "set", "touch" (same prices, new receive time) or "remove"
    slot: int
    dt_ms: int
    bid_tick: int = 0
    spread_ticks: int = 0
    no_bid: bool = False
    no_ask: bool = False
    bid_size: float | None = 1.0
    ask_size: float | None = 1.0
    usable: bool = True
    lag_ms: int = 0


@st.composite
def configs(draw: st.DrawFn) -> Config:
    n = draw(st.integers(2, 6))
    venues = VENUES[:n]
    mode = draw(st.sampled_from(["USDT", "USD", "mixed"]))
    options: dict[str, list[tuple[str, ...]]] = {
        "USDT": [("BTCUSDT",)],
        "USD": [("BTCUSD",)],
        "mixed": [("BTCUSDT",), ("BTCUSD",), ("BTCUSD", "BTCUSDT")],
    }
    choices = options[mode]
    slots = tuple((v, s) for v in venues for s in draw(st.sampled_from(choices)))
    threshold = draw(_threshold)
    return Config(
        fees={v: draw(_fee) for v in venues},
        threshold=threshold,
        hysteresis=threshold * draw(_hysteresis_fraction),
        gross=draw(st.booleans()),
        equivalents=(("USD", "USDT"),) if draw(st.booleans()) else (),
        slots=slots,
    )


@st.composite
def steps(draw: st.DrawFn, n_slots: int) -> Step:
    kind = draw(st.sampled_from(["set"] * 6 + ["touch", "remove"]))
    slot = draw(st.integers(0, n_slots - 1))
    dt_ms = draw(st.integers(1, 500))
    if kind != "set":
        return Step(kind=kind, slot=slot, dt_ms=dt_ms)
    return Step(
        kind=kind,
        slot=slot,
        dt_ms=dt_ms,
        bid_tick=draw(st.integers(-20, 20)),
        spread_ticks=draw(st.integers(0, 4)),
        no_bid=draw(st.sampled_from([False] * 9 + [True])),
        no_ask=draw(st.sampled_from([False] * 9 + [True])),
        bid_size=draw(_size),
        ask_size=draw(_size),
        usable=draw(st.sampled_from([True] * 5 + [False])),
        lag_ms=draw(st.integers(0, 50)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Config, list[Step]]:
    config = draw(configs())
    length = draw(st.integers(1, 60))  # drawn explicitly: plain lists come out short
    plan = draw(st.lists(steps(len(config.slots)), min_size=length, max_size=length))
    return config, plan


def _apply(step: Step, key: LegKey, legs: dict[LegKey, Leg], now: int) -> None:
    if step.kind == "remove":
        legs.pop(key, None)
        return
    if step.kind == "touch":
        previous = legs.get(key)
        if previous is not None:
            legs[key] = msgspec.structs.replace(previous, recv_ms=now)
            return
        step = Step(kind="set", slot=step.slot, dt_ms=step.dt_ms)  # first quote: a plain one
    bid = 100 + step.bid_tick * TICK
    ask = 100 + (step.bid_tick + step.spread_ticks) * TICK  # bid <= ask
    legs[key] = Leg(
        venue=key[0],
        symbol=key[1],
        base="BTC",
        quote=_quote(key[1]),
        bid=None if step.no_bid else bid,
        bid_size=step.bid_size,
        ask=None if step.no_ask else ask,
        ask_size=step.ask_size,
        recv_ms=now - step.lag_ms,
        usable=step.usable,
        stale_reason="" if step.usable else "quote too old",
    )


def _check_invariants(
    config: Config,
    legs: Mapping[LegKey, Leg],
    events: list[ArbEvent],
    tracked: set[PairKey],
    now: int,
) -> None:
    for event in events:
        o = event.opportunity
        pair = pair_of(o)
        assert event.ts_ms == now
        assert o.buy_venue != o.sell_venue
        if event.type is CLOSE:
            assert pair in tracked, f"CLOSE for a pair not open: {pair}"
            tracked.discard(pair)
            continue
        if event.type is OPEN:
            assert pair not in tracked, f"second OPEN without CLOSE: {pair}"
            tracked.add(pair)
            level = config.threshold
        else:
            assert pair in tracked, f"UPDATE for a pair not open: {pair}"
            level = config.threshold - config.hysteresis
        buy, sell = legs[(o.buy_venue, o.buy_symbol)], legs[(o.sell_venue, o.sell_symbol)]
        assert buy.usable, "OPEN/UPDATE with a stale buy leg"
        assert sell.usable, "OPEN/UPDATE with a stale sell leg"
        assert (o.buy_price, o.sell_price) == (buy.ask, sell.bid)
        quotes = {buy.quote, sell.quote}
        if len(quotes) == 2:
            assert config.equivalents, "USD and USDT compared without a declared equivalence"
            assert o.converted == "USD=USDT"
        else:
            assert o.converted is None
        metric = o.gross_pct if config.gross else o.net_pct
        assert metric >= level
        assert o.peak_net_pct >= o.net_pct


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_engine_matches_brute_force_oracle(scenario: tuple[Config, list[Step]]) -> None:
    config, plan = scenario
    kwargs: dict[str, Any] = {
        "threshold_pct": config.threshold,
        "hysteresis_pct": config.hysteresis,
        "gross": config.gross,
        "equivalents": config.equivalents,
    }
    engine = ArbitrageEngine(config.fees, closed_history=10_000, **kwargs)
    oracle = Oracle(
        config.fees,
        threshold=config.threshold,
        hysteresis=config.hysteresis,
        gross=config.gross,
        equivalents=config.equivalents,
    )
    legs: dict[LegKey, Leg] = {}
    tracked: set[PairKey] = set()
    now = 1_000
    for step in plan:
        now += step.dt_ms
        key = config.slots[step.slot]
        _apply(step, key, legs, now)

        got = engine.update(legs, key, now)
        expected = oracle.step(legs, now)

        assert got == expected
        _check_invariants(config, legs, got, tracked, now)
        assert tracked == set(oracle.open)
        open_now = engine.open_opportunities()
        assert {pair_of(o) for o in open_now} == set(oracle.open)
        nets = [o.net_pct for o in open_now]
        assert nets == sorted(nets, reverse=True)
        for o in open_now:
            state = oracle.open[pair_of(o)]
            assert o.opened_ms == state.opened_ms
            assert o.peak_net_pct == state.peak_net
            assert (o.buy_price, o.buy_size, o.sell_price, o.sell_size, o.size) == (
                state.last.buy_price,
                state.last.buy_size,
                state.last.sell_price,
                state.last.sell_size,
                state.last.size,
            )
        assert engine.suppressed == oracle.suppressed

    now += 1
    final = engine.close_all(now)
    assert final == oracle.close_all(now)
    assert {pair_of(e.opportunity) for e in final} == tracked
    assert all(e.type is CLOSE for e in final)
    assert engine.open_opportunities() == ()

    def order(o: Opportunity) -> tuple[PairKey, int]:
        return pair_of(o), o.opened_ms

    assert sorted(engine.closed, key=order) == sorted(oracle.closed, key=order)


# ---------------------------------------------------------------------------------------------
# 2. Hand-written scenarios with exact numbers.
# ---------------------------------------------------------------------------------------------


def test_one_dislocation_opens_once_updates_and_closes_once() -> None:
    book = Book(engine_for({"a": 0.1, "b": 0.1}, threshold=0.5, hysteresis=0.1))
    assert book.set(make_leg("a", 99.99, 100.0), 1_000) == []
    assert book.set(make_leg("b", 99.99, 100.0), 1_000) == []

    (opened,) = book.set(make_leg("b", 101.0, 101.1), 2_000)
    assert opened.type is OPEN
    assert pair_of(opened.opportunity) == AB
    o = opened.opportunity
    assert (o.buy_price, o.sell_price) == (100.0, 101.0)
    assert o.gross_pct == pytest.approx(1.0)
    assert o.fees_pct == pytest.approx(0.2)
    assert o.net_pct == pytest.approx(0.8)
    assert o.peak_net_pct == o.net_pct
    assert (o.opened_ms, o.duration_ms) == (2_000, 0)

    for bid in (100.9, 101.2, 100.95):
        assert kinds(book.set(make_leg("b", bid, 101.3), 2_500)) == [(UPDATE, AB)]
    # Same values again (a new frame, later): no event.
    assert book.set(make_leg("b", 100.95, 101.3), 2_600) == []
    # Leg a's bid is not part of a->b: no event for it either.
    assert book.set(make_leg("a", 99.5, 100.0), 2_700) == []

    (closed,) = book.set(make_leg("b", 100.0, 100.01), 3_000)
    assert closed.type is CLOSE
    assert pair_of(closed.opportunity) == AB
    assert [e.type for e in book.log] == [OPEN, UPDATE, UPDATE, UPDATE, CLOSE]
    assert book.engine.open_opportunities() == ()
    assert list(book.engine.closed) == [closed.opportunity]


def test_hysteresis_band_keeps_open_and_only_threshold_reopens() -> None:
    book = Book(engine_for(threshold=0.5, hysteresis=0.2))
    book.set(make_leg("a", 99.0, 100.0), 0)
    assert kinds(book.set(make_leg("b", 100.6, 101.0), 1)) == [(OPEN, AB)]  # net 0.6
    # A dip into [0.3, 0.5): still open, an update.
    (dip,) = book.set(make_leg("b", 100.4, 101.0), 2)
    assert dip.type is UPDATE
    assert dip.opportunity.net_pct == pytest.approx(0.4)
    (edge,) = book.set(make_leg("b", 100.31, 101.0), 3)
    assert edge.type is UPDATE
    # Below threshold - hysteresis: closed.
    assert kinds(book.set(make_leg("b", 100.25, 101.0), 4)) == [(CLOSE, AB)]
    # Back into the band from below: not enough to reopen.
    assert book.set(make_leg("b", 100.45, 101.0), 5) == []
    assert kinds(book.set(make_leg("b", 100.55, 101.0), 6)) == [(OPEN, AB)]


def test_peak_net_and_duration_are_tracked() -> None:
    book = Book(engine_for(threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0, recv_ms=1_000), 1_000)
    (e1,) = book.set(make_leg("b", 100.6, 101.0, recv_ms=1_000), 1_000)
    (e2,) = book.set(make_leg("b", 100.9, 101.0, recv_ms=2_000), 2_000)
    (e3,) = book.set(make_leg("b", 100.7, 101.0, recv_ms=3_000), 3_000)
    assert [e.opportunity.net_pct for e in (e1, e2, e3)] == pytest.approx([0.6, 0.9, 0.7])
    assert [e.opportunity.peak_net_pct for e in (e1, e2, e3)] == pytest.approx([0.6, 0.9, 0.9])
    assert [e.opportunity.duration_ms for e in (e1, e2, e3)] == [0, 1_000, 2_000]
    assert {e.opportunity.opened_ms for e in (e1, e2, e3)} == {1_000}
    (closed,) = book.set(make_leg("b", 100.0, 101.0, recv_ms=4_500), 4_500)
    assert closed.opportunity.peak_net_pct == pytest.approx(0.9)
    assert closed.opportunity.duration_ms == 3_500
    assert closed.opportunity.opened_ms == 1_000


@pytest.mark.parametrize(
    ("ask_size", "bid_size", "size"),
    [(2.0, 0.5, 0.5), (0.25, 3.0, 0.25), (1.0, 1.0, 1.0), (None, 1.0, None), (1.0, None, None)],
)
def test_executable_size_is_min_of_ask_and_bid_sizes(
    ask_size: float | None, bid_size: float | None, size: float | None
) -> None:
    book = Book(engine_for(threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0, ask_size=ask_size, bid_size=7.0), 0)
    (event,) = book.set(make_leg("b", 101.0, 102.0, bid_size=bid_size, ask_size=9.0), 0)
    o = event.opportunity
    assert (o.buy_size, o.sell_size, o.size) == (ask_size, bid_size, size)


def test_size_change_alone_is_an_update() -> None:
    book = Book(engine_for(threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0, ask_size=1.0), 0)
    assert kinds(book.set(make_leg("b", 101.0, 102.0, bid_size=1.0), 0)) == [(OPEN, AB)]
    (event,) = book.set(make_leg("a", 99.0, 100.0, ask_size=3.0), 1)
    assert event.type is UPDATE
    assert event.opportunity.size == 1.0
    (event,) = book.set(make_leg("b", 101.0, 102.0, bid_size=None), 2)
    assert event.type is UPDATE
    assert event.opportunity.size is None
    # The sell leg's ask size is not one of the pair's values.
    assert book.set(make_leg("b", 101.0, 102.0, bid_size=None, ask_size=5.0), 3) == []


def test_gross_mode_opens_on_gross_even_when_net_is_below_threshold() -> None:
    fees = {"a": 0.5, "b": 0.5}
    gross_book = Book(engine_for(fees, threshold=0.5, gross=True))
    net_book = Book(engine_for(fees, threshold=0.5))
    for book in (gross_book, net_book):
        book.set(make_leg("a", 99.0, 100.0), 0)
        book.set(make_leg("b", 100.8, 101.0), 0)  # gross 0.8, net -0.2
    (event,) = gross_book.log
    assert event.type is OPEN
    assert event.opportunity.gross_pct == pytest.approx(0.8)
    assert event.opportunity.net_pct == pytest.approx(-0.2)
    assert gross_book.engine.suppressed[BELOW] == 0
    assert net_book.log == []
    assert net_book.engine.suppressed[BELOW] == 1


def test_below_fees_counts_entering_the_condition_not_frames() -> None:
    book = Book(engine_for({"a": 0.3, "b": 0.3}, threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0), 0)
    for t, bid in enumerate((100.8, 100.9, 100.7, 100.8), start=1):  # gross >= 0.5 > net
        assert book.set(make_leg("b", bid, 101.0), t) == []
        assert book.engine.suppressed[BELOW] == 1
    book.set(make_leg("b", 100.2, 101.0), 10)  # gross 0.2: leaves the condition
    assert book.engine.suppressed[BELOW] == 1
    book.set(make_leg("b", 100.6, 101.0), 11)  # re-enters
    assert book.engine.suppressed[BELOW] == 2
    book.set(make_leg("b", None, 101.0), 12)  # no bid: no condition
    book.set(make_leg("b", 100.6, 101.0), 13)
    assert book.engine.suppressed[BELOW] == 3
    assert book.log == []
    assert book.engine.suppressed[STALE] == book.engine.suppressed[MISMATCH] == 0


def test_stale_leg_closes_immediately_and_counts_while_metric_holds() -> None:
    book = Book(engine_for(threshold=0.5, hysteresis=0.2))
    book.set(make_leg("a", 99.0, 100.0, recv_ms=1_000), 1_000)
    book.set(make_leg("b", 101.0, 102.0, recv_ms=1_000), 1_000)
    (closed,) = book.set(make_leg("b", 101.0, 102.0, recv_ms=1_000, usable=False), 5_000)
    assert closed.type is CLOSE
    assert pair_of(closed.opportunity) == AB
    assert closed.opportunity.sell_price == 101.0
    assert book.engine.suppressed[STALE] == 1
    # Still stale and still above threshold: no new count, no event.
    assert book.set(make_leg("b", 101.2, 102.0, recv_ms=1_000, usable=False), 5_100) == []
    assert book.engine.suppressed[STALE] == 1
    # Stale but below threshold: no stale_leg.
    book.set(make_leg("b", 100.2, 102.0, recv_ms=1_000, usable=False), 5_200)
    assert book.engine.suppressed[STALE] == 1
    book.set(make_leg("b", 101.2, 102.0, recv_ms=1_000, usable=False), 5_300)
    assert book.engine.suppressed[STALE] == 2
    # The buy leg going stale counts too; back to usable reopens.
    assert kinds(book.set(make_leg("b", 101.2, 102.0, recv_ms=6_000), 6_000)) == [(OPEN, AB)]
    assert kinds(book.set(make_leg("a", 99.0, 100.0, usable=False), 6_100)) == [(CLOSE, AB)]
    assert book.engine.suppressed[STALE] == 3
    assert book.engine.suppressed[BELOW] == book.engine.suppressed[MISMATCH] == 0


def test_stale_leg_in_the_hysteresis_band_closes_without_counting() -> None:
    book = Book(engine_for(threshold=0.5, hysteresis=0.2))
    book.set(make_leg("a", 99.0, 100.0), 0)
    book.set(make_leg("b", 100.6, 102.0), 0)
    assert kinds(book.set(make_leg("b", 100.4, 102.0), 1)) == [(UPDATE, AB)]
    assert kinds(book.set(make_leg("b", 100.4, 102.0, usable=False), 2)) == [(CLOSE, AB)]
    assert book.engine.suppressed[STALE] == 0  # metric 0.4 < threshold


def test_removing_a_leg_closes_its_pairs() -> None:
    book = Book(engine_for({"a": 0.0, "b": 0.0, "c": 0.0}, threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0), 0)
    book.set(make_leg("c", 99.0, 100.0), 0)
    book.set(make_leg("b", 101.0, 102.0), 0)
    assert {pair_of(o) for o in book.engine.open_opportunities()} == {
        AB,
        ("c", "BTCUSDT", "b", "BTCUSDT"),
    }
    events = book.remove("b", "BTCUSDT", 10)
    assert kinds(events) == [(CLOSE, AB), (CLOSE, ("c", "BTCUSDT", "b", "BTCUSDT"))]
    assert all(e.opportunity.sell_price == 101.0 for e in events)
    assert book.engine.open_opportunities() == ()


def test_both_directions_are_separate_pairs() -> None:
    book = Book(engine_for(threshold=0.0))
    book.set(make_leg("a", 100.0, 100.0), 0)
    events = book.set(make_leg("b", 100.0, 100.0), 0)  # gross 0 >= 0 both ways
    assert kinds(events) == [(OPEN, AB), (OPEN, BA)]
    # One update closes a->b and leaves b->a open with new values.
    events = book.set(make_leg("b", 99.0, 99.5), 1)
    assert kinds(events) == [(CLOSE, AB), (UPDATE, BA)]
    assert {pair_of(o) for o in book.engine.open_opportunities()} == {BA}


def test_events_of_one_call_are_ordered_by_pair_key() -> None:
    venues = ("okx", "binance", "kraken", "coinbase")
    book = Book(engine_for(dict.fromkeys(venues, 0.0), threshold=0.5))
    for venue in venues[1:]:
        book.set(make_leg(venue, 99.0, 100.0), 0)
    events = book.set(make_leg("okx", 101.0, 102.0), 0)
    assert [pair_of(e.opportunity) for e in events] == [
        ("binance", "BTCUSDT", "okx", "BTCUSDT"),
        ("coinbase", "BTCUSDT", "okx", "BTCUSDT"),
        ("kraken", "BTCUSDT", "okx", "BTCUSDT"),
    ]
    closed = book.engine.close_all(1)
    assert [pair_of(e.opportunity) for e in closed] == [pair_of(e.opportunity) for e in events]


def test_same_venue_legs_never_pair() -> None:
    book = Book(engine_for({"cb": 0.0}, threshold=0.0, equivalents=(("USD", "USDT"),)))
    book.set(make_leg("cb", 90.0, 91.0, symbol="BTCUSD"), 0)
    book.set(make_leg("cb", 110.0, 111.0, symbol="BTCUSDT"), 0)
    book.set(make_leg("cb", 120.0, 121.0, symbol="BTCUSD"), 1)
    assert book.log == []
    assert book.engine.open_opportunities() == ()
    assert set(book.engine.suppressed.values()) == {0}


def test_usd_and_usdt_need_a_declared_equivalence() -> None:
    legs = (
        make_leg("a", 99.0, 100.0, symbol="BTCUSD"),
        make_leg("b", 101.0, 102.0, symbol="BTCUSDT"),
    )
    strict = Book(engine_for(threshold=0.5))
    for leg in legs:
        strict.set(leg, 0)
    strict.set(make_leg("b", 101.5, 102.0, symbol="BTCUSDT"), 1)  # still mismatched: once
    assert strict.log == []
    assert strict.engine.suppressed[MISMATCH] == 1

    converting = Book(engine_for(threshold=0.5, equivalents=(("USDT", "USD"),)))
    for leg in legs:
        converting.set(leg, 0)
    (event,) = converting.log
    o = event.opportunity
    assert event.type is OPEN
    assert o.converted == "USD=USDT"
    assert (o.symbol, o.buy_symbol, o.sell_symbol) == ("BTCUSDT", "BTCUSD", "BTCUSDT")
    assert converting.engine.suppressed[MISMATCH] == 0


def test_comparison_group_classes() -> None:
    usd = {comparison_group("BTC", q) for q in ("USD", "USDT", "USDC")}
    assert usd == {"BTC/USD*"}
    assert comparison_group("ETH", "BTC") == "ETH/BTC"
    assert comparison_group("ETH", "BTC") != comparison_group("ETH", "USDT")
    assert comparison_group("ETH", "EUR") == "ETH/EUR"
    assert comparison_group("ETH", "USDT") != comparison_group("BTC", "USDT")


@pytest.mark.parametrize("vanish", ["no_bid", "stale", "removed", "price_drop"])
def test_close_carries_last_open_values_with_updated_duration_and_ages(vanish: str) -> None:
    book = Book(engine_for(threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0, recv_ms=1_000), 1_000)
    book.set(make_leg("b", 101.0, 102.0, recv_ms=1_000), 1_000)
    (update,) = book.set(make_leg("b", 101.5, 102.0, bid_size=0.5, recv_ms=2_000), 2_000)
    assert update.type is UPDATE
    assert (update.opportunity.buy_age_ms, update.opportunity.sell_age_ms) == (1_000, 0)
    if vanish == "no_bid":
        events = book.set(make_leg("b", None, 102.0, recv_ms=5_000), 5_000)
    elif vanish == "stale":
        events = book.set(make_leg("b", 140.0, 141.0, recv_ms=5_000, usable=False), 5_000)
    elif vanish == "removed":
        events = book.remove("b", "BTCUSDT", 5_000)
    else:
        events = book.set(make_leg("b", 99.5, 102.0, recv_ms=5_000), 5_000)
    (closed,) = events
    o = closed.opportunity
    assert closed.type is CLOSE
    assert closed.ts_ms == 5_000
    assert (o.buy_price, o.sell_price, o.sell_size, o.size) == (100.0, 101.5, 0.5, 0.5)
    assert o.net_pct == update.opportunity.net_pct
    assert o.peak_net_pct == update.opportunity.peak_net_pct
    assert (o.opened_ms, o.duration_ms) == (1_000, 4_000)
    assert (o.buy_age_ms, o.sell_age_ms) == (4_000, 3_000)
    assert book.engine.closed[0] == o


def test_close_all_closes_exactly_the_open_set() -> None:
    book = Book(engine_for({"a": 0.0, "b": 0.0, "c": 0.0}, threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0), 0)
    book.set(make_leg("b", 101.0, 102.0), 0)
    book.set(make_leg("c", 100.6, 100.8), 0)
    open_pairs = {pair_of(o) for o in book.engine.open_opportunities()}
    assert open_pairs == {AB, ("a", "BTCUSDT", "c", "BTCUSDT")}
    events = book.engine.close_all(100)
    assert {pair_of(e.opportunity) for e in events} == open_pairs
    assert all(e.type is CLOSE and e.opportunity.duration_ms == 100 for e in events)
    assert book.engine.open_opportunities() == ()
    assert book.engine.close_all(200) == []


# ---------------------------------------------------------------------------------------------
# 3. Cost: update evaluates O(legs in the group) pairs, not O(legs²).
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> list[PairKey]:
    seen: list[PairKey] = []
    original = ArbitrageEngine._evaluate

    def counting(self: ArbitrageEngine, pair: PairKey, *args: Any, **kwargs: Any) -> None:
        seen.append(pair)
        original(self, pair, *args, **kwargs)

    monkeypatch.setattr(ArbitrageEngine, "_evaluate", counting)
    return seen


@pytest.mark.parametrize("n", [2, 4, 8, 16])
def test_update_evaluates_only_the_changed_legs_pairs(n: int, evaluations: list[PairKey]) -> None:
    venues = [f"v{i:02d}" for i in range(n)]
    book = Book(engine_for(dict.fromkeys(venues, 0.1), threshold=0.5))
    for venue in venues:
        book.set(make_leg(venue, 99.0, 100.0), 0)
    assert len(book.legs) == n
    for t, venue in enumerate(venues * 2, start=1):
        evaluations.clear()
        book.set(make_leg(venue, 99.0 + t % 3, 100.0 + t % 3), t)
        assert len(evaluations) == 2 * (n - 1)
        assert len(set(evaluations)) == 2 * (n - 1)
        assert all(venue in (p[0], p[2]) for p in evaluations)
    evaluations.clear()
    book.remove(venues[0], "BTCUSDT", 10_000)
    assert len(evaluations) == 2 * (n - 1)
