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
from cryptows.market.types import (
    ArbEvent,
    ArbEventType,
    CloseReason,
    Leg,
    Opportunity,
    SuppressReason,
)
from tests.packed import Codes, Field, int_field

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
class _OracleRoute:
    """A pending or open pair: the first crossing, the peak, the values last evaluated."""

    first_ms: int
    peak_net: float
    last: Opportunity
    buy_recv_ms: int
    sell_recv_ms: int


Values = tuple[float, float | None, float, float | None, int, str | None]


def _event_values(o: Opportunity) -> Values:
    return (o.buy_price, o.buy_size, o.sell_price, o.sell_size, o.rank, o.shared_leg)


@dataclass
class Oracle:
    """Brute force: every step re-evaluates all ordered pairs of the group, re-ranks by
    comparing every open route with every other, and finds UPDATEs by comparing each open
    route's values with those of its last event."""

    fees: Mapping[str, float]
    threshold: float
    hysteresis: float
    gross: bool = False
    equivalents: tuple[tuple[str, str], ...] = ()
    confirm_ms: int = 0
    open: dict[PairKey, _OracleRoute] = field(default_factory=dict)
    pending: dict[PairKey, _OracleRoute] = field(default_factory=dict)
    emitted: dict[PairKey, Values] = field(default_factory=dict)
    """Open pair -> the values of its last event."""
    groups: dict[PairKey, str] = field(default_factory=dict)
    reason: dict[PairKey, SuppressReason] = field(default_factory=dict)
    suppressed: dict[SuppressReason, int] = field(
        default_factory=lambda: dict.fromkeys(SuppressReason, 0)
    )
    closed: list[Opportunity] = field(default_factory=list)

    def step(self, legs: Mapping[LegKey, Leg], changed: LegKey, now_ms: int) -> list[ArbEvent]:
        """``update(legs, changed, now_ms)``: the pairs involving ``changed`` are evaluated
        (the others are re-evaluated too, as a check that nothing else moves, but may not
        confirm a candidate)."""
        before = self._open_sets()
        live = {
            (a[0], a[1], b[0], b[1]) for a in legs for b in legs if a[0] != b[0]
        }  # different venues only
        events: list[ArbEvent] = []
        for pair in sorted(live | set(self.open) | set(self.pending) | set(self.reason)):
            buy = legs.get((pair[0], pair[1]))
            sell = legs.get((pair[2], pair[3]))
            involved = changed in ((pair[0], pair[1]), (pair[2], pair[3]))
            self._pair(pair, buy, sell, now_ms, involved, events)
        return self._settle(before, now_ms, events)

    def tick(self, now_ms: int) -> list[ArbEvent]:
        before = self._open_sets()
        for pair in sorted(self.pending):
            route = self.pending[pair]
            if now_ms - route.first_ms < self.confirm_ms:
                continue
            del self.pending[pair]
            metric = route.last.gross_pct if self.gross else route.last.net_pct
            if metric >= self.threshold:
                self._open_route(pair, route, now_ms)
            else:
                self.suppressed[SuppressReason.UNCONFIRMED] += 1
        return self._settle(before, now_ms, [])

    def close_all(self, now_ms: int) -> list[ArbEvent]:
        self.pending.clear()
        return [self._close(pair, now_ms, CloseReason.RUN_END) for pair in sorted(self.open)]

    # -- helpers ----------------------------------------------------------------------------

    def _open_sets(self) -> dict[str, frozenset[PairKey]]:
        sets: dict[str, set[PairKey]] = {}
        for pair in self.open:
            sets.setdefault(self.groups[pair], set()).add(pair)
        return {g: frozenset(s) for g, s in sets.items()}

    def _compatible(self, a: str, b: str) -> tuple[bool, str | None]:
        if a == b:
            return True, None
        if any({a, b} == {x, y} for x, y in self.equivalents):
            low, high = min(a, b), max(a, b)
            return True, f"{low}={high}"
        return False, None

    def _pair(
        self,
        pair: PairKey,
        buy: Leg | None,
        sell: Leg | None,
        now_ms: int,
        involved: bool,
        events: list[ArbEvent],
    ) -> None:
        state = self.open.get(pair)
        if buy is None or sell is None or buy.ask is None or sell.bid is None:
            # No price to compare: nothing qualifies, nothing is suppressed.
            self.reason.pop(pair, None)
            if state is not None:
                events.append(self._close(pair, now_ms, CloseReason.LEG_GONE))
            if self.pending.pop(pair, None) is not None:
                self.suppressed[SuppressReason.UNCONFIRMED] += 1
            return
        ask, bid = buy.ask, sell.bid
        gross = (bid - ask) / ask * 100
        fee_a = self.fees.get(buy.venue, 0.0)
        fee_b = self.fees.get(sell.venue, 0.0)
        fees = fee_a + fee_b
        net = gross - fees
        metric = gross if self.gross else net
        compatible, converted = self._compatible(buy.quote, sell.quote)
        both_usable = buy.usable and sell.usable

        def build(route: _OracleRoute, peak: float) -> Opportunity:
            if buy.ask_size is None or sell.bid_size is None:
                size = profit = None
            else:
                size = min(buy.ask_size, sell.bid_size)
                profit = size * (bid - ask) - size * ask * fee_a / 100 - size * bid * fee_b / 100
            return Opportunity(
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
                opened_ms=route.first_ms,
                duration_ms=now_ms - route.first_ms,
                size=size,
                converted=converted,
                est_profit=profit,
                profit_asset=sell.quote or None,
                rank=route.last.rank,
                shared_leg=route.last.shared_leg,
            )

        if state is not None:
            if both_usable and compatible and metric >= self.threshold - self.hysteresis:
                self.reason.pop(pair, None)
                state.peak_net = max(state.peak_net, net)
                state.last = build(state, state.peak_net)
                state.buy_recv_ms, state.sell_recv_ms = buy.recv_ms, sell.recv_ms
                return
            why = CloseReason.LEG_STALE if not both_usable else CloseReason.BELOW_THRESHOLD
            events.append(self._close(pair, now_ms, why))
        elif both_usable and compatible and metric >= self.threshold:
            self.reason.pop(pair, None)
            route = self.pending.get(pair)
            if route is None:
                route = _OracleRoute(now_ms, net, _BLANK, buy.recv_ms, sell.recv_ms)
                self.pending[pair] = route
                self.groups[pair] = comparison_group(buy.base, buy.quote)
            route.peak_net = max(route.peak_net, net)
            route.last = build(route, route.peak_net)
            route.buy_recv_ms, route.sell_recv_ms = buy.recv_ms, sell.recv_ms
            if involved and now_ms - route.first_ms >= self.confirm_ms:
                del self.pending[pair]
                self._open_route(pair, route, now_ms)
            return
        elif self.pending.pop(pair, None) is not None:
            self.suppressed[SuppressReason.UNCONFIRMED] += 1
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

    def _as_of(self, route: _OracleRoute, now_ms: int, **changes: Any) -> Opportunity:
        return msgspec.structs.replace(
            route.last,
            duration_ms=now_ms - route.first_ms,
            buy_age_ms=max(0, now_ms - route.buy_recv_ms),
            sell_age_ms=max(0, now_ms - route.sell_recv_ms),
            **changes,
        )

    def _open_route(self, pair: PairKey, route: _OracleRoute, now_ms: int) -> None:
        route.last = self._as_of(route, now_ms, peak_net_pct=route.peak_net)
        self.open[pair] = route

    def _settle(
        self, before: dict[str, frozenset[PairKey]], now_ms: int, events: list[ArbEvent]
    ) -> list[ArbEvent]:
        after = self._open_sets()
        for group in set(before) | set(after):
            if before.get(group) != after.get(group):
                self._rank(after.get(group, frozenset()), now_ms)
        for pair in sorted(self.open):
            route = self.open[pair]
            values = _event_values(route.last)
            if pair not in self.emitted:
                events.append(ArbEvent(type=OPEN, ts_ms=now_ms, opportunity=route.last))
            elif values != self.emitted[pair]:
                events.append(ArbEvent(type=UPDATE, ts_ms=now_ms, opportunity=route.last))
            self.emitted[pair] = values
        return sorted(events, key=lambda e: pair_of(e.opportunity))

    def _rank(self, pairs: frozenset[PairKey], now_ms: int) -> None:
        """Brute force: a route's betters are the open routes of its group with a higher net
        (equal net: a smaller pair key)."""
        for pair in pairs:
            mine = self.open[pair].last
            betters = [
                q
                for q in pairs
                if self.open[q].last.net_pct > mine.net_pct
                or (self.open[q].last.net_pct == mine.net_pct and q < pair)
            ]
            rank = 1 + sum(1 for q in betters if self.open[q].last.symbol == mine.symbol)
            buy = any(q[:2] == pair[:2] for q in betters)
            sell = any(q[2:] == pair[2:] for q in betters)
            shared = "both" if buy and sell else "buy" if buy else "sell" if sell else None
            if (rank, shared) != (mine.rank, mine.shared_leg):
                self.open[pair].last = self._as_of(
                    self.open[pair], now_ms, rank=rank, shared_leg=shared
                )

    def _close(self, pair: PairKey, now_ms: int, why: CloseReason) -> ArbEvent:
        route = self.open.pop(pair)
        self.emitted.pop(pair)
        closed = self._as_of(route, now_ms, peak_net_pct=route.peak_net, close_reason=why)
        self.closed.append(closed)
        return ArbEvent(type=CLOSE, ts_ms=now_ms, opportunity=closed)


_BLANK = Opportunity(
    symbol="", buy_venue="", buy_symbol="", buy_price=0.0, buy_size=None, buy_age_ms=0,
    sell_venue="", sell_symbol="", sell_price=0.0, sell_size=None, sell_age_ms=0, gross_pct=0.0,
    fees_pct=0.0, net_pct=0.0, peak_net_pct=0.0, opened_ms=0, duration_ms=0, size=None,
)  # fmt: skip
"""A new candidate's values before its first evaluation (rank 1, no shared leg)."""


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


@dataclass(frozen=True)
class Config:
    fees: dict[str, float]
    threshold: float
    hysteresis: float
    gross: bool
    equivalents: tuple[tuple[str, str], ...]
    slots: tuple[LegKey, ...]
    confirm_ms: int = 0


@dataclass(frozen=True)
class Step:
    kind: str  # "set", "touch" (same prices, new receive time), "remove" or "tick"
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


# A step is one packed draw (tests/packed.py): a Hypothesis draw costs about 25 us.


# Every strategy is built once, here: a strategy built inside a composite is built and
# validated again on every draw, which cost more than the test itself.
_n_venues = st.integers(2, 6)
_mode = st.sampled_from(["USDT", "USD", "mixed"])
_symbols = {
    "USDT": st.sampled_from([("BTCUSDT",)]),
    "USD": st.sampled_from([("BTCUSD",)]),
    "mixed": st.sampled_from([("BTCUSDT",), ("BTCUSD",), ("BTCUSD", "BTCUSDT")]),
}
_bool = st.booleans()
_confirm_ms = st.sampled_from([0, 0, 1, 100, 250, 400])
_length = st.integers(1, 60)
# A step's fields, in the order of its packed codes.
_kind = Field(["set"] * 6 + ["touch", "remove", "tick", "tick"])
_slot = {n: Field(range(n)) for n in range(1, 13)}
_dt = int_field(1, 500)
_bid_tick = int_field(-20, 20)
_spread_ticks = int_field(0, 4)
_one_in_ten = Field([False] * 9 + [True])
_size = Field([None, 0.5, 1.0, 1.0, 2.0])
_usable = Field([True] * 5 + [False])
_lag = int_field(0, 50)
_step_codes = Codes(11)


@st.composite
def configs(draw: st.DrawFn) -> Config:
    n = draw(_n_venues)
    venues = VENUES[:n]
    slots = tuple((v, s) for v in venues for s in draw(_symbols[draw(_mode)]))
    threshold = draw(_threshold)
    return Config(
        fees={v: draw(_fee) for v in venues},
        threshold=threshold,
        hysteresis=threshold * draw(_hysteresis_fraction),
        gross=draw(_bool),
        equivalents=(("USD", "USDT"),) if draw(_bool) else (),
        slots=slots,
        confirm_ms=draw(_confirm_ms),
    )


@st.composite
def steps(draw: st.DrawFn, n_slots: int) -> Step:
    codes = _step_codes.draw(draw)  # one draw for the whole step (tests/packed.py)
    kind, slot, dt_ms = _kind(codes[0]), _slot[n_slots](codes[1]), _dt(codes[2])
    if kind != "set":
        return Step(kind=kind, slot=slot, dt_ms=dt_ms)
    bid, spread, no_bid, no_ask, bid_size, ask_size, usable, lag = codes[3:]
    return Step(
        kind=kind,
        slot=slot,
        dt_ms=dt_ms,
        bid_tick=_bid_tick(bid),
        spread_ticks=_spread_ticks(spread),
        no_bid=_one_in_ten(no_bid),
        no_ask=_one_in_ten(no_ask),
        bid_size=_size(bid_size),
        ask_size=_size(ask_size),
        usable=_usable(usable),
        lag_ms=_lag(lag),
    )


_configs = configs()
_steps = {n: steps(n) for n in _slot}


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Config, list[Step]]:
    config = draw(_configs)
    length = draw(_length)  # drawn explicitly: plain lists come out short
    plan = draw(st.lists(_steps[len(config.slots)], min_size=length, max_size=length))
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
    assert len({pair_of(e.opportunity) for e in events}) == len(events), "two events, one pair"
    for event in events:
        o = event.opportunity
        pair = pair_of(o)
        assert event.ts_ms == now
        assert o.buy_venue != o.sell_venue
        assert o.opened_ms + o.duration_ms == now
        assert o.rank >= 1
        assert o.shared_leg in (None, "buy", "sell", "both")
        if event.type is CLOSE:
            assert pair in tracked, f"CLOSE for a pair not open: {pair}"
            tracked.discard(pair)
            buy_leg, sell_leg = legs.get(pair[:2]), legs.get(pair[2:])
            if buy_leg is None or sell_leg is None or buy_leg.ask is None or sell_leg.bid is None:
                assert o.close_reason is CloseReason.LEG_GONE
            elif not (buy_leg.usable and sell_leg.usable):
                assert o.close_reason is CloseReason.LEG_STALE
            else:
                assert o.close_reason is CloseReason.BELOW_THRESHOLD
            continue
        assert o.close_reason is None
        if event.type is OPEN:
            assert pair not in tracked, f"second OPEN without CLOSE: {pair}"
            tracked.add(pair)
            assert o.duration_ms >= config.confirm_ms, "opened before confirm_ms"
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
        assert o.profit_asset == sell.quote
        if o.size is None:
            assert o.est_profit is None
        else:
            notional_fees = o.size * (o.buy_price * config.fees[o.buy_venue] + o.sell_price
                                      * config.fees[o.sell_venue]) / 100  # fmt: skip
            expected = o.size * (o.sell_price - o.buy_price) - notional_fees
            assert o.est_profit == pytest.approx(expected, abs=1e-9)


def _check_ranks(open_now: tuple[Opportunity, ...]) -> None:
    """Within a symbol the open routes' ranks are 1..n; a rank-1 route shares nothing."""
    by_symbol: dict[str, list[int]] = {}
    for o in open_now:
        by_symbol.setdefault(o.symbol, []).append(o.rank)
    for ranks in by_symbol.values():
        assert sorted(ranks) == list(range(1, len(ranks) + 1))
    legs_seen = [(pair_of(o)[:2], pair_of(o)[2:]) for o in open_now]
    for o in open_now:
        if o.shared_leg in ("buy", "both"):
            assert sum(b == pair_of(o)[:2] for b, _ in legs_seen) >= 2
        if o.shared_leg in ("sell", "both"):
            assert sum(s == pair_of(o)[2:] for _, s in legs_seen) >= 2


@settings(
    max_examples=400,
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
        "confirm_ms": config.confirm_ms,
    }
    engine = ArbitrageEngine(config.fees, closed_history=10_000, **kwargs)
    oracle = Oracle(
        config.fees,
        threshold=config.threshold,
        hysteresis=config.hysteresis,
        gross=config.gross,
        equivalents=config.equivalents,
        confirm_ms=config.confirm_ms,
    )
    legs: dict[LegKey, Leg] = {}
    tracked: set[PairKey] = set()
    now = 1_000
    for step in plan:
        now += step.dt_ms
        if step.kind == "tick":
            got = engine.tick(now)
            expected = oracle.tick(now)
        else:
            key = config.slots[step.slot]
            _apply(step, key, legs, now)
            got = engine.update(legs, key, now)
            expected = oracle.step(legs, key, now)

        assert got == expected
        _check_invariants(config, legs, got, tracked, now)
        assert tracked == set(oracle.open)
        open_now = engine.open_opportunities()
        assert {pair_of(o) for o in open_now} == set(oracle.open)
        nets = [o.net_pct for o in open_now]
        assert nets == sorted(nets, reverse=True)
        _check_ranks(open_now)
        for o in open_now:
            state = oracle.open[pair_of(o)]
            assert o.opened_ms == state.first_ms
            assert o.peak_net_pct == state.peak_net
            assert _event_values(o) == _event_values(state.last)
            assert (o.size, o.est_profit) == (state.last.size, state.last.est_profit)
        assert engine.pending == len(oracle.pending)
        assert engine.suppressed == oracle.suppressed

    now += 1
    final = engine.close_all(now)
    assert final == oracle.close_all(now)
    assert {pair_of(e.opportunity) for e in final} == tracked
    assert all(e.type is CLOSE and e.opportunity.close_reason is CloseReason.RUN_END for e in final)
    assert engine.open_opportunities() == ()
    assert engine.pending == 0

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
    # Equal nets rank by pair key; opposite directions share no book side.
    assert [(e.opportunity.rank, e.opportunity.shared_leg) for e in events] == [
        (1, None),
        (2, None),
    ]
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
        # O(legs), never O(legs^2): at most the changed leg's pairs, each at most once (the
        # engine skips pairs that cannot open, update or close anything; test_market_lean.py
        # counts exactly which ones it evaluates).
        assert len(evaluations) <= 2 * (n - 1)
        assert len(set(evaluations)) == len(evaluations)
        assert all(venue in (p[0], p[2]) for p in evaluations)
    evaluations.clear()
    book.remove(venues[0], "BTCUSDT", 10_000)
    assert len(evaluations) <= 2 * (n - 1)


# ---------------------------------------------------------------------------------------------
# 4. Close reasons, estimated profit, confirmation, rank and shared legs.
# ---------------------------------------------------------------------------------------------

GONE, STALE_R, BELOW_R, RUN_END = (
    CloseReason.LEG_GONE,
    CloseReason.LEG_STALE,
    CloseReason.BELOW_THRESHOLD,
    CloseReason.RUN_END,
)
UNCONFIRMED = SuppressReason.UNCONFIRMED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("price_drop", BELOW_R),
        ("venue_down", STALE_R),
        ("removed", GONE),
        ("no_bid", GONE),
        ("no_ask_on_buy_leg", GONE),
        ("down_and_dropped", STALE_R),  # a stale leg is the reason, whatever its price
        ("down_and_no_bid", GONE),  # a missing side wins over staleness
    ],
)
def test_every_close_carries_its_reason(change: str, reason: CloseReason) -> None:
    book = Book(engine_for(threshold=0.5, hysteresis=0.1))
    book.set(make_leg("a", 99.0, 100.0), 0)
    assert kinds(book.set(make_leg("b", 101.0, 102.0), 0)) == [(OPEN, AB)]
    if change == "price_drop":
        events = book.set(make_leg("b", 100.3, 102.0), 10)
    elif change == "venue_down":
        events = book.set(make_leg("b", 101.0, 102.0, usable=False), 10)
    elif change == "removed":
        events = book.remove("b", "BTCUSDT", 10)
    elif change == "no_bid":
        events = book.set(make_leg("b", None, 102.0), 10)
    elif change == "no_ask_on_buy_leg":
        events = book.set(make_leg("a", 99.0, None), 10)
    elif change == "down_and_dropped":
        events = book.set(make_leg("b", 100.0, 102.0, usable=False), 10)
    else:
        events = book.set(make_leg("b", None, 102.0, usable=False), 10)
    (closed,) = events
    assert closed.type is CLOSE
    assert closed.opportunity.close_reason is reason
    assert book.engine.closed[0].close_reason is reason


def test_close_all_says_run_end_and_open_or_update_carry_no_reason() -> None:
    book = Book(engine_for(threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0), 0)
    (opened,) = book.set(make_leg("b", 101.0, 102.0), 0)
    (updated,) = book.set(make_leg("b", 101.5, 102.0), 1)
    assert opened.opportunity.close_reason is None
    assert updated.opportunity.close_reason is None
    (closed,) = book.engine.close_all(5)
    assert closed.opportunity.close_reason is RUN_END
    assert (closed.ts_ms, closed.opportunity.duration_ms) == (5, 5)


def test_est_profit_is_size_times_spread_minus_both_fees_on_their_own_notional() -> None:
    book = Book(engine_for({"a": 0.1, "b": 0.2}, threshold=0.5))
    book.set(make_leg("a", 99.0, 100.0, ask_size=2.0), 0)
    (event,) = book.set(make_leg("b", 101.0, 102.0, bid_size=1.5), 0)
    o = event.opportunity
    assert o.size == 1.5
    # 1.5 * (101 - 100) = 1.5 gross; fees 1.5 * 100 * 0.1 % = 0.15 and 1.5 * 101 * 0.2 % = 0.303
    assert o.est_profit == pytest.approx(1.5 - 0.15 - 0.303)
    assert o.profit_asset == "USDT"
    # Unknown size: no estimate, but still a quote asset.
    (event,) = book.set(make_leg("b", 101.0, 102.0, bid_size=None), 1)
    assert (event.opportunity.est_profit, event.opportunity.profit_asset) == (None, "USDT")


def test_est_profit_is_net_of_fees_in_gross_mode_too_and_in_the_sell_legs_quote() -> None:
    fees = {"a": 0.5, "b": 0.5}
    book = Book(engine_for(fees, threshold=0.5, gross=True, equivalents=(("USD", "USDT"),)))
    book.set(make_leg("a", 99.0, 100.0, symbol="BTCUSD"), 0)
    (event,) = book.set(make_leg("b", 100.8, 101.0, symbol="BTCUSDT"), 0)  # gross 0.8, net -0.2
    o = event.opportunity
    assert o.converted == "USD=USDT"
    assert o.est_profit is not None
    assert o.est_profit == pytest.approx(0.8 - 0.5 - 0.504)
    assert o.est_profit < 0
    assert o.profit_asset == "USDT"


def test_a_candidate_that_holds_for_confirm_ms_opens_with_opened_ms_at_the_first_crossing() -> None:
    book = Book(engine_for({"a": 0.0, "b": 0.0}, threshold=0.5, hysteresis=0.2))
    book.engine.confirm_ms = 250
    book.set(make_leg("a", 99.0, 100.0, recv_ms=900), 900)
    assert book.set(make_leg("b", 100.6, 101.0, recv_ms=1_000), 1_000) == []  # crosses: pending
    assert book.engine.pending == 1
    assert book.set(make_leg("b", 100.9, 101.0, recv_ms=1_100), 1_100) == []  # still held
    assert book.set(make_leg("b", 100.7, 101.0, recv_ms=1_249), 1_249) == []  # 249 ms: not yet
    (opened,) = book.set(make_leg("b", 100.8, 101.0, recv_ms=1_250), 1_250)
    o = opened.opportunity
    assert opened.type is OPEN
    assert opened.ts_ms == 1_250
    assert (o.opened_ms, o.duration_ms) == (1_000, 250)
    assert o.net_pct == pytest.approx(0.8)
    assert o.peak_net_pct == pytest.approx(0.9)  # the best net since the first crossing
    assert (o.buy_age_ms, o.sell_age_ms) == (350, 0)
    assert book.engine.pending == 0
    assert book.engine.suppressed[UNCONFIRMED] == 0


def test_a_candidate_that_dips_before_confirm_ms_emits_nothing_and_is_counted() -> None:
    book = Book(engine_for({"a": 0.0, "b": 0.0}, threshold=0.5, hysteresis=0.2))
    book.engine.confirm_ms = 250
    book.set(make_leg("a", 99.0, 100.0), 0)
    assert book.set(make_leg("b", 100.5, 101.0), 1_000) == []  # exactly the threshold
    # Into the hysteresis band: that keeps an *open* one open, but a candidate needs the threshold.
    assert book.set(make_leg("b", 100.4, 101.0), 1_001) == []
    assert book.engine.suppressed[UNCONFIRMED] == 1
    assert book.engine.pending == 0
    # Crossing again starts a new candidate: its clock starts over.
    assert book.set(make_leg("b", 100.6, 101.0), 1_100) == []
    assert book.set(make_leg("b", 100.6, 101.0), 1_300) == []  # 200 ms after the new crossing
    (opened,) = book.set(make_leg("b", 100.7, 101.0), 1_350)
    assert (opened.ts_ms, opened.opportunity.opened_ms) == (1_350, 1_100)
    # Stale and vanished legs also end a candidate (and count).
    assert kinds(book.engine.close_all(2_000)) == [(CLOSE, AB)]
    logged = len(book.log)
    book.set(make_leg("b", 100.6, 101.0), 3_000)
    assert book.set(make_leg("b", 100.6, 101.0, usable=False), 3_010) == []
    book.set(make_leg("b", 100.6, 101.0), 3_100)
    assert book.remove("b", "BTCUSDT", 3_110) == []
    assert book.engine.suppressed[UNCONFIRMED] == 3
    assert len(book.log) == logged  # none of them emitted anything


def test_a_candidate_opens_from_tick_when_no_frame_arrives() -> None:
    book = Book(engine_for({"a": 0.0, "b": 0.0}, threshold=0.5))
    book.engine.confirm_ms = 250
    book.set(make_leg("a", 99.0, 100.0, recv_ms=990), 990)
    assert book.set(make_leg("b", 100.6, 101.0, recv_ms=1_000), 1_000) == []
    assert book.engine.tick(1_100) == []
    assert book.engine.tick(1_249) == []
    (opened,) = book.engine.tick(1_260)  # the first tick at or after 1_000 + 250
    o = opened.opportunity
    assert (opened.type, opened.ts_ms) == (OPEN, 1_260)
    assert (o.opened_ms, o.duration_ms) == (1_000, 260)
    assert (o.buy_age_ms, o.sell_age_ms) == (270, 260)
    assert o.net_pct == pytest.approx(0.6)
    assert book.engine.tick(2_000) == []  # opened once
    assert [pair_of(o) for o in book.engine.open_opportunities()] == [AB]


def test_tick_drops_a_candidate_below_a_raised_threshold_and_close_all_drops_quietly() -> None:
    book = Book(engine_for({"a": 0.0, "b": 0.0}, threshold=0.5))
    book.engine.confirm_ms = 250
    book.set(make_leg("a", 99.0, 100.0), 0)
    book.set(make_leg("b", 100.6, 101.0), 1_000)
    book.engine.threshold = 0.7
    assert book.engine.tick(1_300) == []
    assert book.engine.suppressed[UNCONFIRMED] == 1
    book.engine.threshold = 0.5
    book.set(make_leg("b", 100.6, 101.0), 2_000)
    assert book.engine.close_all(2_100) == []  # pending, never opened: nothing to close
    assert book.engine.pending == 0
    assert book.engine.suppressed[UNCONFIRMED] == 1


def _venues(*names: str) -> ArbitrageEngine:
    return engine_for(dict.fromkeys(names, 0.0), threshold=0.5)


def test_routes_sharing_a_sell_leg_are_ranked_and_marked() -> None:
    book = Book(_venues("a", "b", "c"))
    book.set(make_leg("b", 101.0, 101.5, bid_size=0.35), 0)  # both routes sell into b's bid
    (ab,) = book.set(make_leg("a", 99.0, 100.0, ask_size=0.21), 1)  # net 1.0
    assert pair_of(ab.opportunity) == AB
    assert (ab.opportunity.rank, ab.opportunity.shared_leg) == (1, None)
    cb: PairKey = ("c", "BTCUSDT", "b", "BTCUSDT")
    (opened,) = book.set(make_leg("c", 99.5, 100.2, ask_size=0.5), 2)  # net 0.8: worse
    assert (opened.type, pair_of(opened.opportunity)) == (OPEN, cb)
    assert (opened.opportunity.rank, opened.opportunity.shared_leg) == (2, "sell")
    # Each claims b's bid, but not both: the shared route's size is capped by the same 0.35.
    assert (ab.opportunity.size, opened.opportunity.size) == (0.21, 0.35)

    # c becomes the better route: the open set did not change, so ranks stay as they were.
    (update,) = book.set(make_leg("c", 99.5, 99.9, ask_size=0.5), 3)
    assert update.type is UPDATE
    assert update.opportunity.net_pct > ab.opportunity.net_pct
    assert (update.opportunity.rank, update.opportunity.shared_leg) == (2, "sell")

    # a -> b closes: c -> b is re-ranked in the same call and says so with an UPDATE.
    events = book.set(make_leg("a", 99.0, 101.2, ask_size=0.21), 4)
    assert kinds(events) == [(CLOSE, AB), (UPDATE, cb)]
    closed, promoted = events
    assert (closed.opportunity.rank, closed.opportunity.close_reason) == (1, BELOW_R)
    assert (promoted.opportunity.rank, promoted.opportunity.shared_leg) == (1, None)
    assert promoted.opportunity.sell_price == 101.0
    assert promoted.opportunity.duration_ms == 2  # opened at 2, re-ranked at 4


def test_a_better_route_opening_demotes_the_current_best_in_the_same_call() -> None:
    book = Book(_venues("a", "b", "c"))
    book.set(make_leg("b", 101.0, 101.5), 0)
    book.set(make_leg("c", 99.5, 100.3), 0)  # c -> b: net 0.7
    cb: PairKey = ("c", "BTCUSDT", "b", "BTCUSDT")
    assert [(o.rank, o.shared_leg) for o in book.engine.open_opportunities()] == [(1, None)]
    events = book.set(make_leg("a", 99.0, 100.0), 5)  # a -> b: net 1.0, the new best
    assert kinds(events) == [(OPEN, AB), (UPDATE, cb)]
    assert (events[0].opportunity.rank, events[0].opportunity.shared_leg) == (1, None)
    demoted = events[1].opportunity
    assert (demoted.rank, demoted.shared_leg) == (2, "sell")
    assert (demoted.buy_price, demoted.sell_price, demoted.duration_ms) == (100.3, 101.0, 5)


def test_shared_buy_and_both_legs_and_ranks_per_symbol() -> None:
    book = Book(_venues("a", "b", "c", "d"))
    book.set(make_leg("a", 99.0, 100.0), 0)
    book.set(make_leg("d", 99.0, 100.1), 0)
    book.set(make_leg("b", 101.0, 101.2), 0)
    book.set(make_leg("c", 100.8, 101.2), 0)
    ranked = {pair_of(o)[::2]: (o.rank, o.shared_leg) for o in book.engine.open_opportunities()}
    assert ranked == {
        ("a", "b"): (1, None),  # net 1.0
        ("d", "b"): (2, "sell"),  # 0.899: sells into b like a -> b
        ("a", "c"): (3, "buy"),  # 0.8: buys a's ask like a -> b
        ("d", "c"): (4, "both"),  # 0.699: buys like d -> b, sells like a -> c
    }

    # Another symbol of the same group (USD vs USDT, not declared equivalent) ranks on its own.
    book.set(make_leg("a", 99.0, 100.0, symbol="BTCUSD"), 1)
    (other,) = book.set(make_leg("b", 101.0, 101.2, symbol="BTCUSD"), 1)
    assert other.opportunity.symbol == "BTCUSD"
    assert (other.opportunity.rank, other.opportunity.shared_leg) == (1, None)


def test_a_price_change_and_a_re_rank_in_one_call_are_one_update() -> None:
    book = Book(engine_for(dict.fromkeys("abc", 0.0), threshold=0.5, hysteresis=0.2))
    cb: PairKey = ("c", "BTCUSDT", "b", "BTCUSDT")
    book.set(make_leg("c", 99.5, 100.0), 0)
    assert kinds(book.set(make_leg("b", 100.6, 101.5), 0)) == [(OPEN, cb)]  # net 0.6
    assert kinds(book.set(make_leg("b", 100.35, 101.5), 1)) == [(UPDATE, cb)]  # in the band
    assert book.set(make_leg("a", 99.0, 99.95), 2) == []  # a -> b: 0.40, not enough to open
    # b's bid rises: a -> b opens as the better route; c -> b's price and rank change together.
    events = book.set(make_leg("b", 100.6, 101.5), 3)
    assert kinds(events) == [(OPEN, AB), (UPDATE, cb)]
    assert (events[0].opportunity.rank, events[0].opportunity.shared_leg) == (1, None)
    demoted = events[1].opportunity
    assert (demoted.sell_price, demoted.rank, demoted.shared_leg) == (100.6, 2, "sell")
