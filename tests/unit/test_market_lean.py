"""The lean aggregation path against references that do all the work the lean one skips.

- The screened engine (the default: it skips the pairs that cannot open, update or close
  anything) against the same engine with ``screen=False`` (every pair of the changed leg
  evaluated, as the brute-force oracle of ``test_arbitrage`` assumes), on configurations the
  oracle test does not draw: negative fees, negative and very large thresholds, extreme price
  ratios, threshold changes mid-run, legs added or removed without an ``update``.
- The in-place :class:`~cryptows.market.merge.QuoteSlot` against :func:`merge_quote`.
- The aggregator (mutable slots passed to the engine as legs, no ``Quote`` or ``Leg`` per
  frame) against a reference pipeline that builds both per frame, the way the aggregator did
  before, and feeds an unscreened engine: same events, same snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptows.market.aggregator import Aggregator
from cryptows.market.arbitrage import ArbitrageEngine
from cryptows.market.merge import QuoteSlot, merge_quote
from cryptows.market.routes import LegKey, comparison_group
from cryptows.market.types import ArbEvent, Leg, MidSample, SuppressReason
from cryptows.market.usability import Usability
from cryptows.market.views import symbol_view
from cryptows.models import Channel, Quote, SymbolStatus, VenueState, VenueStatus
from cryptows.symbols import parse_symbol
from tests.packed import Codes, Field, int_field

VENUES = ("okx", "binance", "kraken", "coinbase", "bybit")  # deliberately unsorted


# ---------------------------------------------------------------------------------------------
# 1. Screened engine == unscreened engine.
# ---------------------------------------------------------------------------------------------

_fee = st.one_of(st.sampled_from([0.0, 0.1, 0.25, -0.05, -0.2]), st.floats(-0.5, 1.0))
_THRESHOLDS = [0.0, 0.05, 0.5, -0.3, -50.0, -99.5, -100.0, -150.0, 1e3, 1e6]
_threshold_float = st.floats(-2.0, 2.0)
_threshold = st.one_of(st.sampled_from(_THRESHOLDS), _threshold_float)
_ECHO = "echo"
_FLOAT = "float"


@dataclass(frozen=True)
class EngineStep:
    kind: str  # set, touch, remove, tick, threshold, silent_set, silent_remove
    slot: int
    dt_ms: int
    bid: float | None = None
    ask: float | None = None
    bid_size: float | None = 1.0
    ask_size: float | None = 1.0
    usable: bool = True
    threshold: float = 0.0


# A step is ONE draw: its discrete fields are decoded from one drawn bytes string, each to the
# same values with the same weights as the sampled_from / integers / one_of branch it replaces
# (a Hypothesis draw costs about 25 µs, and steps drawn field by field made most of this
# property's time; see tests/packed.py). Only the st.floats branches still draw their
# float from Hypothesis. The fields, in the order of the step's codes:
_kind = Field(["set"] * 8 + ["touch", "remove", "tick", "threshold", "silent_set", "silent_remove"])
_slot = {n: Field(range(n)) for n in range(2, 11)}
_dt = int_field(1, 400)
_threshold_branch = Field(["value", _FLOAT])  # the two branches of _threshold
_threshold_value = Field(_THRESHOLDS)
# A price (the bid; the ask unless it echoes the bid): 100 + t * 0.05 for t in -30..30 (around
# 100, crossing often), one of _price_value, or a float; None first: one_of(none(), <price>).
_bid_branch = Field([None, "tick", "value", _FLOAT])
_price_tick = int_field(-30, 30)
_price_value = Field([1e-6, 0.01, 49.0, 50.0, 99.999999999, 100.000000001, 200.0, 1e6, 1e12])
_price_float = st.floats(1e-3, 1e4)
_spread = Field([0.0, 0.0, 0.05, 0.2, -0.1])  # -0.1: a crossed book
_ask_branch = Field([None, _ECHO, "tick", "value", _FLOAT])  # one_of(none(), just(echo), price)
"""``_ECHO``: the bid plus the drawn spread (100.0 without a bid)."""
_size = Field([None, 0.5, 1.0, 2.0])
_usable = Field([True] * 5 + [False])
_engine_step_codes = Codes(15)


def _price(draw: st.DrawFn, branch: str | None, tick: int, value: int) -> float | None:
    if branch == "tick":
        return 100 + _price_tick(tick) * 0.05
    if branch == "value":
        return _price_value(value)
    return draw(_price_float) if branch == _FLOAT else None


@st.composite
def engine_steps(draw: st.DrawFn, n_slots: int) -> EngineStep:
    codes = _engine_step_codes.draw(draw)
    kind, slot, dt_ms = _kind(codes[0]), _slot[n_slots](codes[1]), _dt(codes[2])
    if kind == "threshold":
        if _threshold_branch(codes[3]) == _FLOAT:
            return EngineStep(kind, slot, dt_ms, threshold=draw(_threshold_float))
        return EngineStep(kind, slot, dt_ms, threshold=_threshold_value(codes[4]))
    if kind not in ("set", "silent_set"):
        return EngineStep(kind, slot, dt_ms)
    bid_branch, bid_tick, bid_value, spread, ask_branch, ask_tick, ask_value = codes[5:12]
    bid = _price(draw, _bid_branch(bid_branch), bid_tick, bid_value)
    ask_kind = _ask_branch(ask_branch)
    if ask_kind != _ECHO:
        ask = _price(draw, ask_kind, ask_tick, ask_value)
    else:
        ask = bid + _spread(spread) if bid is not None else 100.0
    return EngineStep(
        kind,
        slot,
        dt_ms,
        bid=bid,
        ask=ask if ask is None or ask > 0 else 1e-6,
        bid_size=_size(codes[12]),
        ask_size=_size(codes[13]),
        usable=_usable(codes[14]),
    )


_n_venues = st.integers(2, 5)
_symbols = st.sampled_from([("BTCUSDT",), ("BTCUSD", "BTCUSDT"), ("BTCUSD",)])
_n_fees = {n: st.integers(0, n) for n in range(2, 6)}
_hysteresis_fraction = st.sampled_from([0.0, 0.25, 0.5])
_confirm_ms = st.sampled_from([0, 0, 1, 150, 400])
_bool = st.booleans()
_length = st.integers(1, 80)
_steps = {n: engine_steps(n) for n in range(2, 11)}


@st.composite
def engine_scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[LegKey, ...], list[Any]]:
    n = draw(_n_venues)
    venues = VENUES[:n]
    symbols = draw(_symbols)
    slots = tuple((v, s) for v in venues for s in symbols)
    threshold = draw(_threshold)
    config = {
        "fees_pct": {v: draw(_fee) for v in venues[: draw(_n_fees[n])]},  # some unknown
        "threshold_pct": threshold,
        "hysteresis_pct": abs(threshold) * draw(_hysteresis_fraction),
        "gross": draw(_bool),
        "equivalents": (("USD", "USDT"),) if draw(_bool) else (),
        "confirm_ms": draw(_confirm_ms),
        "closed_history": 10_000,
    }
    length = draw(_length)
    plan = draw(st.lists(_steps[len(slots)], min_size=length, max_size=length))
    return config, slots, plan


def _leg(key: LegKey, step: EngineStep, now: int) -> Leg:
    return Leg(
        venue=key[0],
        symbol=key[1],
        base="BTC",
        quote=key[1][3:],
        bid=step.bid,
        bid_size=step.bid_size,
        ask=step.ask,
        ask_size=step.ask_size,
        recv_ms=now,
        usable=step.usable,
    )


def _same_state(a: ArbitrageEngine, b: ArbitrageEngine) -> None:
    assert a.open_opportunities() == b.open_opportunities()
    assert a.pending == b.pending
    assert a.suppressed == b.suppressed
    assert list(a.closed) == list(b.closed)  # the same closes, in the same order


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(engine_scenarios())
def test_screened_engine_matches_the_unscreened_one(
    scenario: tuple[dict[str, Any], tuple[LegKey, ...], list[EngineStep]],
) -> None:
    config, slots, plan = scenario
    lean = ArbitrageEngine(**config)
    full = ArbitrageEngine(**config, screen=False)
    legs: dict[LegKey, Leg] = {}
    ghosts: list[LegKey] = []
    silent = False
    now = 1_000
    for step in plan:
        now += step.dt_ms
        key = slots[step.slot]
        if step.kind == "tick":
            assert lean.tick(now) == full.tick(now)
        elif step.kind == "threshold":
            for engine in (lean, full):
                engine.threshold = step.threshold
        elif step.kind.startswith("silent"):
            # A contract breach the engine tolerates: a leg added or removed without an update
            # (the next update of a present leg of the group re-reads the group's prices,
            # seeing that the group's size changed). Such legs are "ghosts", never updated,
            # and one at a time: a leg *changed* (or one added and another removed) without an
            # update is not detected (nor needed: pairs are evaluated on updates of their legs).
            if silent:
                continue
            silent = True
            if step.kind == "silent_remove":
                if ghosts:
                    legs.pop(ghosts.pop(step.slot % len(ghosts)), None)
            else:
                ghost = (f"ghost{len(legs)}{now}", key[1])
                ghosts.append(ghost)
                legs[ghost] = _leg(ghost, step, now)
        else:
            if step.kind == "remove":
                legs.pop(key, None)
            elif step.kind == "touch" and key in legs:
                legs[key] = msgspec.structs.replace(legs[key], recv_ms=now)
            else:
                legs[key] = _leg(key, step, now)
            got = lean.update(legs, key, now)
            assert got == full.update(legs, key, now)
            silent = silent and key not in legs  # an update of a present leg checks the size
        _same_state(lean, full)
    now += 1
    assert lean.close_all(now) == full.close_all(now)
    _same_state(lean, full)


def test_the_screen_skips_what_cannot_change_and_keeps_what_can() -> None:
    evaluated: list[tuple[str, ...]] = []

    class Counting(ArbitrageEngine):
        def _evaluate(self, pair: Any, *args: Any) -> None:
            evaluated.append(pair)
            super()._evaluate(pair, *args)

    venues = [f"v{i:02d}" for i in range(16)]
    engine = Counting(dict.fromkeys(venues, 0.1), threshold_pct=0.5, hysteresis_pct=0.1)
    legs: dict[LegKey, Leg] = {}

    def put(venue: str, bid: float, ask: float, now: int) -> list[ArbEvent]:
        key = (venue, "BTCUSDT")
        legs[key] = Leg(venue=venue, symbol="BTCUSDT", base="BTC", quote="USDT", bid=bid,
                        bid_size=1.0, ask=ask, ask_size=1.0, recv_ms=now)  # fmt: skip
        evaluated.clear()
        return engine.update(legs, key, now)

    for venue in venues:
        put(venue, 99.99, 100.01, 0)
    # Quiet market: no pair crosses, none is evaluated.
    assert put("v03", 99.98, 100.0, 1) == []
    assert evaluated == []
    # v15 dislocates up: its 15 pairs selling there open, only those are evaluated.
    events = put("v15", 101.0, 101.02, 2)
    assert len(events) == 15
    assert len(evaluated) == 15
    assert all(pair[2] == "v15" for pair in evaluated)
    # Another venue moves: only its open pair is re-evaluated (and updated).
    (update,) = put("v03", 99.97, 99.99, 3)
    assert evaluated == [("v03", "BTCUSDT", "v15", "BTCUSDT")]
    assert update.opportunity.buy_price == 99.99
    # v15 falls back: its 15 open pairs close, nothing else is looked at.
    assert len(put("v15", 99.99, 100.01, 4)) == 15
    assert len(evaluated) == 15
    assert put("v07", 99.99, 100.01, 5) == []
    assert evaluated == []


def test_a_standing_suppression_is_re_evaluated_until_it_ends() -> None:
    # below_fees counts entering the condition once: the pair stays tracked while it stands.
    engine = ArbitrageEngine({"a": 0.3, "b": 0.3}, threshold_pct=0.5, hysteresis_pct=0.0)
    legs: dict[LegKey, Leg] = {}

    def put(venue: str, bid: float, ask: float, now: int) -> None:
        key = (venue, "BTCUSDT")
        legs[key] = Leg(venue=venue, symbol="BTCUSDT", base="BTC", quote="USDT", bid=bid,
                        bid_size=1.0, ask=ask, ask_size=1.0, recv_ms=now)  # fmt: skip
        engine.update(legs, key, now)

    put("a", 99.0, 100.0, 0)
    put("b", 100.8, 101.0, 1)  # gross 0.8 >= 0.5 > net 0.2
    put("b", 100.1, 101.0, 2)  # gross 0.1: out of the condition (an evaluation the screen
    put("b", 100.7, 101.0, 3)  # must not skip, or this re-entry would not count)
    assert engine.suppressed[SuppressReason.BELOW_FEES] == 2


def test_fees_are_fixed_at_construction() -> None:
    engine = ArbitrageEngine({"a": 0.1}, threshold_pct=0.5, hysteresis_pct=0.0)
    assert engine.fees_pct == {"a": 0.1}
    with pytest.raises(TypeError):
        engine.fees_pct["a"] = -1.0  # type: ignore[index]


# ---------------------------------------------------------------------------------------------
# 2. QuoteSlot == merge_quote.
# ---------------------------------------------------------------------------------------------

# One draw for a quote's discrete fields (see section 1): its channel, and for each optional
# field whether it is None (one_of's first branch) or drawn (a float, or exchange_ts_ms).
_channel = Field(list(Channel))
_present = Field([False, True])
_quote_codes = Codes(9)
_float = st.floats(1.0, 200.0)
_ts = st.integers(0, 10**6)
_mono = st.integers(0, 10**9)


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    channel, *present, has_ts = _quote_codes.draw(draw)
    bid, bid_size, ask, ask_size, last, volume, change = (
        draw(_float) if _present(code) else None for code in present
    )
    return Quote(
        venue="okx",
        symbol="BTCUSDT",
        channel=_channel(channel),
        bid=bid,
        bid_size=bid_size,
        ask=ask,
        ask_size=ask_size,
        last=last,
        volume_24h=volume,
        change_24h_pct=change,
        exchange_ts_ms=draw(_ts) if _present(has_ts) else None,
        recv_mono_ns=draw(_mono),
        recv_wall_ms=draw(_ts),
    )


@given(st.lists(quotes(), min_size=1, max_size=12))
def test_quote_slot_merges_exactly_like_merge_quote(frames: list[Quote]) -> None:
    merged = merge_quote(None, frames[0])
    slot = QuoteSlot(frames[0])
    assert slot.to_quote() == merged
    for frame in frames[1:]:
        merged = merge_quote(merged, frame)
        slot.merge(frame)
        assert slot.to_quote() == merged


# ---------------------------------------------------------------------------------------------
# 3. The aggregator == a pipeline that builds a Quote and a Leg per frame.
# ---------------------------------------------------------------------------------------------


class Reference:
    """The aggregator's rules, the plain way: a merged ``Quote`` and a fresh ``Leg`` per frame,
    an unscreened engine (only what the random streams below exercise)."""

    def __init__(self, symbols: tuple[str, ...], max_age: int, **engine: Any) -> None:
        self.engine = ArbitrageEngine(**engine, screen=False)
        self.usability = Usability(max_age)
        self.symbols = symbols
        self.quotes: dict[str, dict[str, Quote]] = {s: {} for s in symbols}
        self.groups: dict[str, dict[LegKey, Leg]] = {}
        self.venue_symbols: dict[str, dict[str, None]] = {}
        """Venue -> its symbols, in the order it first quoted them (a status re-checks them in
        that order, which orders the closes it causes)."""
        self.now = 0

    def _legs(self, symbol: str) -> dict[LegKey, Leg]:
        parsed = parse_symbol(symbol)
        return self.groups.setdefault(comparison_group(parsed.base, parsed.quote), {})

    def on_quote(self, quote: Quote) -> list[ArbEvent]:
        now = self.now = max(self.now, quote.recv_wall_ms)
        merged = merge_quote(self.quotes[quote.symbol].get(quote.venue), quote)
        self.venue_symbols.setdefault(quote.venue, {})[quote.symbol] = None
        self.quotes[quote.symbol][quote.venue] = merged
        usable, reason = self.usability.check(quote.venue, quote.symbol, merged.recv_wall_ms, now)
        parsed = parse_symbol(quote.symbol)
        key = (quote.venue, quote.symbol)
        legs = self._legs(quote.symbol)
        legs[key] = Leg(venue=quote.venue, symbol=quote.symbol, base=parsed.base,
                        quote=parsed.quote, bid=merged.bid, bid_size=merged.bid_size,
                        ask=merged.ask, ask_size=merged.ask_size, recv_ms=merged.recv_wall_ms,
                        usable=usable, stale_reason=reason)  # fmt: skip
        events: list[ArbEvent] = []
        if self.usability.max_quote_age_ms > 0:
            for other in list(legs):
                if other != key:
                    events.extend(self._recheck(legs, other, now))
        return events + self.engine.update(legs, key, now)

    def _recheck(self, legs: dict[LegKey, Leg], key: LegKey, now: int) -> list[ArbEvent]:
        leg = legs[key]
        usable, reason = self.usability.check(key[0], key[1], leg.recv_ms, now)
        legs[key] = msgspec.structs.replace(leg, usable=usable, stale_reason=reason)
        return self.engine.update(legs, key, now) if usable != leg.usable else []

    def on_status(self, status: VenueStatus) -> list[ArbEvent]:
        now = self.now = max(self.now, status.ts_ms)
        self.usability.on_status(status)
        events: list[ArbEvent] = []
        for symbol in self.venue_symbols.get(status.venue, {}):
            events += self._recheck(self._legs(symbol), (status.venue, symbol), now)
        return events

    def unlist(self, venue: str, symbol: str, ts: int) -> list[ArbEvent]:
        now = self.now = max(self.now, ts)
        if self.quotes[symbol].pop(venue, None) is None:
            return []
        del self.venue_symbols[venue][symbol]
        legs = self._legs(symbol)
        del legs[(venue, symbol)]
        return self.engine.update(legs, (venue, symbol), now)

    def tick(self, ts: int) -> list[ArbEvent]:
        now = self.now = max(self.now, ts)
        events: list[ArbEvent] = []
        if self.usability.max_quote_age_ms > 0:
            for legs in self.groups.values():
                for key in list(legs):
                    events += self._recheck(legs, key, now)
        return events + self.engine.tick(now)

    def views(self, now: int) -> list[Any]:
        # No history here: the aggregator's is compared on its own (it samples the same mids).
        return [symbol_view(s, self.quotes[s], (), self.usability.check, now) for s in self.symbols]


# A feed event is ONE draw too (see section 1). Its fields, in the order of its codes:
_feed_kind = Field(["quote"] * 10 + ["status", "unlist", "tick"])
_feed_venue = Field(VENUES[:4])
_feed_symbol = Field(["BTCUSDT", "BTCUSD"])
_feed_dt = int_field(0, 300)
_feed_tick = int_field(-20, 20)
_feed_spread = Field([0.0, 0.05, 0.1])
_feed_channel = Field([Channel.BOOK] * 3 + [Channel.TICKER])
_feed_one_sided = Field([None] * 8 + ["bid", "ask"])
_feed_last = Field([None, _ECHO])  # the branches of one_of(none(), just(bid))
_feed_state = Field([VenueState.LIVE] * 2 + [VenueState.BACKOFF])
_feed_codes = Codes(12)
_feed_max_age = st.sampled_from([0, 0, 250])
_feed_confirm = st.sampled_from([0, 0, 200])


@st.composite
def feed(draw: st.DrawFn) -> tuple[int, int, list[tuple[Any, ...]]]:
    length = draw(_length)
    events: list[tuple[Any, ...]] = []
    for _ in range(length):
        codes = _feed_codes.draw(draw)
        kind, venue, symbol = _feed_kind(codes[0]), _feed_venue(codes[1]), _feed_symbol(codes[2])
        dt = _feed_dt(codes[3])
        if kind == "quote":
            tick, spread, channel, one_sided, bid_size, ask_size, last = codes[4:11]
            bid = 100 + _feed_tick(tick) * 0.05
            ask = bid + _feed_spread(spread)
            side = _feed_one_sided(one_sided)
            events.append(
                (kind, venue, symbol, dt, _feed_channel(channel), None if side == "bid" else bid,
                 None if side == "ask" else ask, _size(bid_size), _size(ask_size),
                 None if _feed_last(last) is None else bid)
            )  # fmt: skip
        elif kind == "status":
            events.append((kind, venue, symbol, dt, _feed_state(codes[11])))
        else:
            events.append((kind, venue, symbol, dt))
    return draw(_feed_max_age), draw(_feed_confirm), events


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(feed())
def test_aggregator_matches_a_quote_and_leg_per_frame_reference(
    scenario: tuple[int, int, list[tuple[Any, ...]]],
) -> None:
    max_age, confirm_ms, stream = scenario
    symbols = ("BTCUSDT", "BTCUSD")
    engine: dict[str, Any] = {
        "fees_pct": {"okx": 0.05, "binance": 0.1, "kraken": 0.0},
        "threshold_pct": 0.2,
        "hysteresis_pct": 0.05,
        "equivalents": (("USD", "USDT"),),
        "confirm_ms": confirm_ms,
    }
    agg = Aggregator(
        [parse_symbol(s) for s in symbols], max_quote_age_ms=max_age, history_interval_ms=0,
        **engine,
    )  # fmt: skip
    ref = Reference(symbols, max_age, **engine)
    now = 1_000
    for item in stream:
        kind, venue, symbol, dt = item[:4]
        now += dt
        if kind == "quote":
            channel, bid, ask, bid_size, ask_size, last = item[4:]
            quote = Quote(venue=venue, symbol=symbol, channel=channel, bid=bid, ask=ask,
                          bid_size=bid_size, ask_size=ask_size, last=last,
                          recv_wall_ms=now)  # fmt: skip
            got, expected = agg.on_quote(quote), ref.on_quote(quote)
        elif kind == "status":
            status = VenueStatus(venue=venue, state=item[4], ts_ms=now)
            got, expected = agg.on_status(status), ref.on_status(status)
        elif kind == "unlist":
            unlisted = SymbolStatus(venue=venue, symbol=symbol, message="gone", unlisted=True,
                                    ts_ms=now)  # fmt: skip
            got, expected = agg.on_symbol_status(unlisted), ref.unlist(venue, symbol, now)
        else:
            got, expected = agg.tick(now), ref.tick(now)
        assert _by_pair(got) == _by_pair(expected)
        snap = agg.snapshot(now + 7)
        views = [msgspec.structs.replace(v, history=()) for v in snap.symbols]
        assert views == ref.views(now + 7)
        assert snap.open_opportunities == ref.engine.open_opportunities()
        assert snap.recent_closed == tuple(ref.engine.closed)
        assert [c.total for c in snap.suppressed] == [
            ref.engine.suppressed[r] for r in SuppressReason
        ]
        for view in snap.symbols:
            assert all(isinstance(sample, MidSample) for sample in view.history)


def _by_pair(events: list[ArbEvent]) -> Mapping[tuple[str, ...], list[ArbEvent]]:
    """Events per pair, in order (a status or a tick may make several engine calls, whose
    events the aggregator and the reference both concatenate in the same call order)."""
    grouped: dict[tuple[str, ...], list[ArbEvent]] = {}
    for event in events:
        o = event.opportunity
        grouped.setdefault((o.buy_venue, o.buy_symbol, o.sell_venue, o.sell_symbol), []).append(
            event
        )
    return grouped
