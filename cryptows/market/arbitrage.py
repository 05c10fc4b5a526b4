"""Cross-venue arbitrage: net of taker fees, with an open/update/close lifecycle. Pure, synchronous.

This module is the lifecycle (:class:`ArbitrageEngine`); building a route's values (size,
estimated profit, ages) and ranking a group's open routes are :mod:`cryptows.market.routes`.

Specification (the property tests hold the engine to it against a brute-force oracle):

- **Groups.** Legs are compared within a group: one base asset and one *quote class*
  (:func:`comparison_group`): every USD-like quote asset (USD and the dollar stablecoins) forms
  one class, any other quote asset is its own. So ``BTCUSD`` (Coinbase) and ``BTCUSDT`` share a
  group, ``ETHBTC`` does not meet ``ETHUSDT``. A leg is keyed by ``(venue, symbol)``.
- **Pairs.** For two legs on *different* venues, the pair (buy leg A, sell leg B) buys at
  ``A.ask`` and sells at ``B.bid``: ``gross = (B.bid - A.ask) / A.ask * 100``,
  ``fees = fee[A.venue] + fee[B.venue]``, ``net = gross - fees``; the *metric* is ``net``, or
  ``gross`` in gross mode. Executable size is ``min(A.ask_size, B.bid_size)`` (``None`` if
  either is unknown). A pair is *compatible* when both quote assets are equal or declared
  equivalent (then the opportunity carries ``converted = "X=Y"``, the two assets sorted).
- **Estimated profit**, in ``profit_asset`` = the sell leg's quote asset (``None`` when it is
  unknown, i.e. the symbol could not be split), for the executable size, net of both taker fees
  on each leg's own notional, computed exactly as
  ``size * (B.bid - A.ask) - size * A.ask * fee[A.venue] / 100 - size * B.bid * fee[B.venue] / 100``
  (``None`` when size is ``None``); also in gross mode. A converted pair counts the two quote
  assets one for one, as the declared equivalence says.
- **Qualifies** when both legs are usable, compatible, ``A.ask`` and ``B.bid`` present, and
  metric >= threshold. **Holds** (while open) under the same conditions with
  metric >= threshold - hysteresis.
- **Lifecycle per pair**: *idle*, *pending* (a candidate, since ``first``) or *open*. An
  *evaluation* of a pair at ``now``:

  - idle and qualifies: pending with ``first = now``, ``peak = net``, then as pending below (so
    with ``confirm_ms = 0`` it opens at once);
  - pending and qualifies: ``peak = max(peak, net)``; if ``now - first >= confirm_ms``: OPEN at
    ``now`` (``opened_ms = first``, ``duration_ms = now - first``); else nothing is emitted;
  - pending and does not qualify: idle, nothing emitted, ``unconfirmed`` + 1;
  - open and holds: UPDATE if any of (buy price, buy size, sell price, sell size) differs from
    the last event's values, else nothing; ``peak = max(peak, net)``;
  - open and does not hold: CLOSE with its ``close_reason``: ``leg_gone`` when a leg is missing
    or ``A.ask`` / ``B.bid`` is ``None``, else ``leg_stale`` when a leg is not usable, else
    ``below_threshold``. A close carries the last values seen while open (so a stale or
    vanished price never appears in a close), with the duration and the legs' ages at ``now``.

  :meth:`ArbitrageEngine.tick` at ``now`` opens, at ``now`` and with their last evaluated
  values, the pending pairs with ``now - first >= confirm_ms`` whose metric still reaches the
  threshold (the threshold may have changed since; those that do not go idle, ``unconfirmed``
  + 1). Pending pairs are confirmed only by their own evaluation or a tick: a candidate that
  held, with no further update of its legs, opens at the first tick at or after
  ``first + confirm_ms``. :meth:`ArbitrageEngine.close_all` closes every open pair with
  ``run_end`` and drops the pending ones (not counted: they did not fail).
- **Rank and shared leg.** Within a group, the open routes are ordered by ``net_pct``, best
  first (ties: pair key). ``rank`` is the route's place among the open routes of its symbol
  (the opportunity's ``symbol``) in that order, 1 = best. ``shared_leg`` is ``"buy"`` when a
  route earlier in the group's order buys at the same leg (same venue and symbol), ``"sell"``
  when one sells at the same leg, ``"both"`` when both hold, else ``None``: such routes compete
  for the same book, their sizes do not add up. Both are reassigned only when the group's set
  of open routes changes (an OPEN or a CLOSE in the group), at the end of that call, from the
  nets as last evaluated; between such changes they are kept even if the nets reorder (so a
  route's rank never flickers with every price). An open route whose rank or shared leg changed
  by a reassignment gets an UPDATE in that call (unless it has its OPEN or an UPDATE there
  already, which then carries the new values), with its last values and its duration and ages
  at ``now``; a CLOSE carries the rank and shared leg last assigned.
- **Suppression** (for pairs that end an evaluation not open): the first applicable reason of
  quote_mismatch (incompatible quote assets and gross >= threshold), stale_leg (a leg unusable
  and metric >= threshold), below_fees (net mode, gross >= threshold > net). The counter of a
  reason goes up by one when a pair *enters* that reason (its previous evaluation had another
  reason or none), so a standing condition counts once, not once per frame. ``unconfirmed``
  counts candidates that went idle before opening (see above).
- **Cost.** :meth:`ArbitrageEngine.update` re-evaluates only pairs that involve the changed
  leg (pairs not involving it cannot change: their inputs did not), and of those only the ones
  that can open, update or close anything: the pairs already *tracked* (open, pending, or
  standing in a suppression reason), plus the untracked ones whose gross (plus a slack that is 0
  unless a fee is negative, since net <= gross + slack) reaches the threshold. An untracked pair
  below it neither qualifies nor enters a reason: its evaluation would change nothing. The
  engine keeps each group's bids and asks and first compares the changed leg with the group's
  best bid and best ask (gross is monotonic in the counterpart's price), through price cut-offs
  with a relative margin of 1e-9 that only ever let too much through; in the common case neither
  side crosses, no pair is looked at, and the update costs O(1) Python work plus a C-level
  ``max`` and ``min`` over the group's prices. A side that crosses has its legs screened the
  same way (O(legs in the group)). The pairs that pass are evaluated in the order the full scan
  would use (the caller's order of legs, buying first), so closes, promotions and new candidates
  are recorded in the same order. No value object is built per evaluation: a route's
  :class:`~cryptows.market.types.Opportunity` is built when an event carries it or
  :meth:`ArbitrageEngine.open_opportunities` asks for it. All this relies on the caller's
  contract: ``update`` is called for every leg added, changed or removed (the engine keeps a
  copy of the prices; a group whose size disagrees with the engine's count at an update is
  re-read, which covers a leg added or removed without one). ``screen=False`` evaluates every
  pair of the changed leg instead: the reference the tests hold the screened engine to. Time
  changes pairs only through ``max_quote_age_ms`` (the caller marks the aged leg unusable and
  calls ``update`` for it) and ``confirm_ms`` (the caller calls ``tick``, O(pending pairs)).
  Rank reassignment sorts the group's open routes (O(k log k) for k open routes) only on the
  calls that open or close one of them; an update that neither opens nor closes anything pays
  nothing for it.
- **Order.** Events of one call are ordered by (buy venue, buy symbol, sell venue, sell
  symbol); a call emits at most one event per pair.

Why this module is over 400 lines: the lifecycle rules (the spec above), the screening that
skips pairs which cannot open, update or close anything, and the evaluation that applies the
rules are one unit that the brute-force oracle checks as a whole; splitting the screening out
would separate it from the rules it must never contradict.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptows.market.routes import (
    USD_LIKE,
    LegKey,
    PairKey,
    Route,
    comparison_group,
    event_order,
    ranks,
    template,
)
from cryptows.market.types import (
    ArbEvent,
    ArbEventType,
    CloseReason,
    LegView,
    Opportunity,
    SuppressReason,
)

__all__ = ["USD_LIKE", "ArbitrageEngine", "LegKey", "PairKey", "comparison_group"]

_OPEN, _UPDATE, _CLOSE = ArbEventType.OPEN, ArbEventType.UPDATE, ArbEventType.CLOSE
_BUYS, _SELLS = 1, 2
"""Bits of a link between two legs: a pair in which the first leg buys / sells."""


@dataclass(slots=True, eq=False)
class _Book:
    """The engine's copy of one group's prices: each present leg's bid and ask (if any)."""

    bids: dict[LegKey, float]
    asks: dict[LegKey, float]
    size: int = 0
    """How many legs of the group are present (checked against the caller's mapping)."""


class ArbitrageEngine:
    """Tracks every pair's lifecycle; see the module docstring for the exact rules."""

    def __init__(
        self,
        fees_pct: Mapping[str, float],
        *,
        threshold_pct: float,
        hysteresis_pct: float,
        gross: bool = False,
        equivalents: Iterable[tuple[str, str]] = (),
        confirm_ms: int = 0,
        closed_history: int = 50,
        screen: bool = True,
    ) -> None:
        self._screen = screen
        """Skip the pairs that cannot change anything (module docstring, **Cost**). Without it,
        an update evaluates every pair of the changed leg: the reference the screened engine is
        tested against (same events, counters, open set and closed history)."""
        self._fees = dict(fees_pct)
        # What lets an update skip the pairs that cannot change anything (module docstring).
        lowest = min(self._fees.values(), default=0.0)
        self._slack = -2.0 * lowest if lowest < 0 else 0.0
        """How far a pair's net can exceed its gross: 0 unless a fee is negative."""
        self._threshold = self._edge = 0.0
        self.threshold = threshold_pct
        self.hold_level = threshold_pct - hysteresis_pct
        self.gross = gross
        self.confirm_ms = confirm_ms
        """A candidate opens only once it has qualified for this long (engine time)."""
        self._equivalent = {frozenset(pair) for pair in equivalents if pair[0] != pair[1]}
        self._open: dict[PairKey, Route] = {}
        self._pending: dict[PairKey, Route] = {}
        self._group_open: dict[str, dict[PairKey, Route]] = {}
        """Group -> its open routes (for rank and shared leg)."""
        self._reason: dict[PairKey, SuppressReason] = {}
        self.suppressed: dict[SuppressReason, int] = dict.fromkeys(SuppressReason, 0)
        """How many times a pair entered each suppression reason (``unconfirmed``: how many
        candidates went idle before opening)."""
        self.closed: deque[Opportunity] = deque(maxlen=closed_history)
        """Recently closed opportunities, newest first."""
        # Work of the current call, settled (ranked, emitted) at its end.
        self._opened: list[PairKey] = []
        self._changed: dict[PairKey, None] = {}
        self._dirty: set[str] = set()
        self._books: dict[str, _Book] = {}
        self._leg_books: dict[LegKey, _Book] = {}
        """Present leg -> its group's book."""
        self._links: dict[LegKey, dict[LegKey, int]] = {}
        """Leg -> the legs it forms a tracked pair with (open, pending or in a suppression
        reason), as bits: ``_BUYS`` for the pair in which it buys, ``_SELLS`` for the other."""

    @property
    def fees_pct(self) -> Mapping[str, float]:
        """Taker fee per venue, in percent (read-only: fixed at construction)."""
        return MappingProxyType(self._fees)

    @property
    def threshold(self) -> float:
        """The metric (net, or gross) a candidate must reach; applies from the next evaluation
        of each pair (and to the candidates confirmed by the next tick)."""
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._threshold = value
        # A pair's gross (+ slack) reaches the threshold only if sell bid >= buy ask * edge.
        self._edge = 1.0 + (value - self._slack) / 100

    # -- queries ----------------------------------------------------------------------------

    def open_opportunities(self) -> tuple[Opportunity, ...]:
        """Every open opportunity (as of its last evaluation), best net first."""
        values = (route.value() for route in self._open.values())
        return tuple(sorted(values, key=lambda o: -o.net_pct))

    @property
    def pending(self) -> int:
        """How many candidates are waiting for ``confirm_ms``."""
        return len(self._pending)

    # -- updates ----------------------------------------------------------------------------

    def update(
        self, legs: Mapping[LegKey, LegView], changed: LegKey, now_ms: int
    ) -> list[ArbEvent]:
        """Re-evaluate the pairs involving leg ``changed`` among ``legs`` (one group) that can
        open, update or close anything (module docstring, **Cost**)."""
        leg = legs.get(changed)
        links = self._links.get(changed)
        if not self._screen:
            venue = changed[0]
            every = {key: _BUYS | _SELLS for key in legs if key[0] != venue}
            return self._run(legs, changed, leg, every, links, now_ms) if every else []
        if leg is None:
            # It left the group: its tracked pairs close or go idle, the others stay idle.
            book = self._leg_books.pop(changed, None)
            if book is not None:
                book.size -= 1
                book.bids.pop(changed, None)
                book.asks.pop(changed, None)
                if book.size != len(legs):
                    self._resync(book, legs)
            if not links:
                return []
            return self._run(legs, changed, leg, dict(links), links, now_ms)
        book = self._leg_books.get(changed)
        if book is None:
            book = self._join(changed, leg)
        bid, ask = leg.bid, leg.ask
        bids, asks = book.bids, book.asks
        if bid is None:
            bids.pop(changed, None)
        else:
            bids[changed] = bid
        if ask is None:
            asks.pop(changed, None)
        else:
            asks[changed] = ask
        if book.size != len(legs):
            self._resync(book, legs)
            bids, asks = book.bids, book.asks
        # An untracked pair changes nothing unless its gross (+ slack) reaches the threshold,
        # i.e. unless sell bid >= buy ask * edge. Price cut-offs with a relative margin of 1e-9
        # (far above the rounding of a computed gross, given edge > 0.01: a threshold above
        # -99 %) screen the other legs: first the group's best bid and ask, then, for a side
        # that crosses, each leg of it. A leg let through needlessly costs an evaluation that
        # changes nothing; none that matters is missed. NaN prices are let through.
        edge = self._edge
        buys: list[LegKey] | None = None
        if ask is not None and bids:
            if ask > 0 and edge > 0.01:
                cut = ask * edge * (1 - 1e-9)
                if not max(bids.values()) < cut:
                    buys = [key for key, price in bids.items() if not price < cut]
            else:
                buys = list(bids)
        sells: list[LegKey] | None = None
        if bid is not None and asks:
            if bid > 0 and edge > 0.01:
                cut = bid / edge * (1 + 1e-9)
                if not min(asks.values()) > cut:
                    sells = [key for key, price in asks.items() if not price > cut]
            else:
                sells = list(asks)
        if buys is None and sells is None:
            if not links:
                return []
            return self._run(legs, changed, leg, dict(links), links, now_ms)
        wanted: dict[LegKey, int] = dict(links) if links else {}
        venue = changed[0]
        if buys is not None:
            for key in buys:
                if key[0] != venue:
                    wanted[key] = wanted.get(key, 0) | _BUYS
        if sells is not None:
            for key in sells:
                if key[0] != venue:
                    wanted[key] = wanted.get(key, 0) | _SELLS
        if not wanted:
            return []
        return self._run(legs, changed, leg, wanted, links, now_ms)

    def _run(
        self,
        legs: Mapping[LegKey, LegView],
        changed: LegKey,
        leg: LegView | None,
        wanted: dict[LegKey, int],
        links: dict[LegKey, int] | None,
        now_ms: int,
    ) -> list[ArbEvent]:
        """Evaluate the ``wanted`` pairs of ``changed`` (other leg -> ``_BUYS``/``_SELLS``
        bits), ``links`` being its tracked ones before, and settle the call."""
        events: list[ArbEvent] = []
        opened, pending, reasons = self._open, self._pending, self._reason
        # In the caller's order of legs, buying first: the order the pairs' transitions
        # (closes, promotions, new candidates) are recorded in does not depend on the skips.
        order = wanted if len(wanted) == 1 else [key for key in legs if key in wanted]
        for key in order:
            other = legs.get(key)
            if other is None:
                continue
            bits = wanted[key]
            linked = links.get(key, 0) if links else 0
            if bits & _BUYS:
                pair = (*changed, *key)
                self._evaluate(pair, leg, other, now_ms, events)
                if (pair in opened or pair in pending or pair in reasons) != bool(linked & _BUYS):
                    self._relink(pair)
            if bits & _SELLS:
                pair = (*key, *changed)
                self._evaluate(pair, other, leg, now_ms, events)
                if (pair in opened or pair in pending or pair in reasons) != bool(linked & _SELLS):
                    self._relink(pair)
        if self._changed or self._opened or self._dirty:
            self._settle(now_ms, events)
        if len(events) > 1:
            events.sort(key=event_order)
        return events

    def tick(self, now_ms: int) -> list[ArbEvent]:
        """Open the candidates that have held for ``confirm_ms`` at ``now_ms``. O(pending)."""
        if not self._pending:
            return []
        events: list[ArbEvent] = []
        due = [pair for pair, p in self._pending.items() if now_ms - p.first_ms >= self.confirm_ms]
        for pair in due:
            route = self._pending.pop(pair)
            metric = route.gross if self.gross else route.net
            if metric >= self._threshold:
                self._promote(pair, route, now_ms)
            else:
                self.suppressed[SuppressReason.UNCONFIRMED] += 1
                self._relink(pair)
        self._settle(now_ms, events)
        events.sort(key=event_order)
        return events

    def close_all(self, now_ms: int) -> list[ArbEvent]:
        """Close every open opportunity (``run_end``) and drop the pending candidates."""
        self._pending.clear()
        reason = CloseReason.RUN_END
        events = [self._close(pair, now_ms, reason) for pair in list(self._open)]
        self._dirty.clear()
        self._links.clear()
        for pair in self._reason:
            self._relink(pair)
        events.sort(key=event_order)
        return events

    # -- the rules --------------------------------------------------------------------------

    def _evaluate(
        self,
        pair: PairKey,
        buy: LegView | None,
        sell: LegView | None,
        now_ms: int,
        out: list[ArbEvent],
    ) -> None:
        current = self._open.get(pair)
        if buy is None or sell is None or buy.ask is None or sell.bid is None:
            if current is not None:
                out.append(self._close(pair, now_ms, CloseReason.LEG_GONE))
            elif self._pending and self._pending.pop(pair, None) is not None:
                self.suppressed[SuppressReason.UNCONFIRMED] += 1
            self._reason.pop(pair, None)
            return
        ask, bid = buy.ask, sell.bid
        gross = (bid - ask) / ask * 100
        fee_buy = self._fees.get(buy.venue, 0.0)
        fee_sell = self._fees.get(sell.venue, 0.0)
        net = gross - (fee_buy + fee_sell)
        metric = gross if self.gross else net
        if buy.quote == sell.quote:
            compatible, converted = True, None
        else:
            compatible, converted = self._compatibility(buy.quote, sell.quote)
        legs_usable = buy.usable and sell.usable
        if current is not None:
            if legs_usable and compatible and metric >= self.hold_level:
                # (An open pair has no suppression reason.) Rank and shared leg are carried
                # over: only the four values can differ here.
                ask_size, bid_size = buy.ask_size, sell.bid_size
                if (ask, ask_size, bid, bid_size) != (
                    current.ask,
                    current.ask_size,
                    current.bid,
                    current.bid_size,
                ):
                    self._changed[pair] = None
                current.ask, current.ask_size = ask, ask_size
                current.bid, current.bid_size = bid, bid_size
                current.gross, current.net = gross, net
                if net > current.peak_net:
                    current.peak_net = net
                current.buy_recv, current.sell_recv = buy.recv_ms, sell.recv_ms
                current.stamp_ms = now_ms
                current.cached = None
                return
            reason = CloseReason.BELOW_THRESHOLD if legs_usable else CloseReason.LEG_STALE
            out.append(self._close(pair, now_ms, reason))
        elif legs_usable and compatible and metric >= self._threshold:
            route = self._pending.get(pair)
            if route is None:
                group = comparison_group(buy.base, buy.quote)
                fixed = template(buy, sell, converted, fee_buy + fee_sell, now_ms)
                route = Route(now_ms, net, group, sell.symbol, fixed, fee_buy, fee_sell)
                self._pending[pair] = route
            elif net > route.peak_net:
                route.peak_net = net
            route.ask, route.ask_size = ask, buy.ask_size
            route.bid, route.bid_size = bid, sell.bid_size
            route.gross, route.net = gross, net
            route.buy_recv, route.sell_recv = buy.recv_ms, sell.recv_ms
            route.stamp_ms = now_ms
            route.cached = None
            if now_ms - route.first_ms >= self.confirm_ms:
                del self._pending[pair]
                self._promote(pair, route, now_ms)
            self._reason.pop(pair, None)
            return
        elif self._pending and self._pending.pop(pair, None) is not None:
            self.suppressed[SuppressReason.UNCONFIRMED] += 1
        self._suppress(pair, self._why(gross, metric, compatible, legs_usable))

    def _why(
        self, gross: float, metric: float, compatible: bool, legs_usable: bool
    ) -> SuppressReason | None:
        if not compatible and gross >= self._threshold:
            return SuppressReason.QUOTE_MISMATCH
        if not compatible:
            return None
        if not legs_usable and metric >= self._threshold:
            return SuppressReason.STALE_LEG
        if not self.gross and gross >= self._threshold > metric:
            return SuppressReason.BELOW_FEES
        return None

    def _suppress(self, pair: PairKey, reason: SuppressReason | None) -> None:
        if reason is None:
            self._reason.pop(pair, None)
            return
        if self._reason.get(pair) is not reason:
            self.suppressed[reason] += 1
            self._reason[pair] = reason

    def _compatibility(self, buy_quote: str, sell_quote: str) -> tuple[bool, str | None]:
        if buy_quote == sell_quote:
            return True, None
        if frozenset((buy_quote, sell_quote)) in self._equivalent:
            first, second = sorted((buy_quote, sell_quote))
            return True, f"{first}={second}"
        return False, None

    def _promote(self, pair: PairKey, route: Route, now_ms: int) -> None:
        """A candidate that held opens at ``now_ms`` (its OPEN is emitted by ``_settle``)."""
        route.stamp_ms = now_ms
        route.cached = None
        self._open[pair] = route
        self._group_open.setdefault(route.group, {})[pair] = route
        self._opened.append(pair)
        self._dirty.add(route.group)

    def _close(self, pair: PairKey, now_ms: int, reason: CloseReason) -> ArbEvent:
        route = self._open.pop(pair)
        group = self._group_open[route.group]
        del group[pair]
        if group:
            self._dirty.add(route.group)
        else:
            del self._group_open[route.group]
        closed = route.as_of(now_ms, close_reason=reason)
        self.closed.appendleft(closed)
        return ArbEvent(type=_CLOSE, ts_ms=now_ms, opportunity=closed)

    def _settle(self, now_ms: int, out: list[ArbEvent]) -> None:
        """End of a call: re-rank the groups whose open set changed, emit OPENs and UPDATEs."""
        if self._dirty:
            for group in self._dirty:
                self._rerank(group, now_ms)
            self._dirty.clear()
        if self._opened:
            for pair in self._opened:
                self._changed.pop(pair, None)
                value = self._open[pair].value()
                out.append(ArbEvent(type=_OPEN, ts_ms=now_ms, opportunity=value))
            self._opened.clear()
        if self._changed:
            routes = self._open
            for pair in self._changed:
                route = routes[pair]
                changed = route.cached
                if changed is None:
                    changed = route.cached = route.as_of(route.stamp_ms)
                out.append(ArbEvent(type=_UPDATE, ts_ms=now_ms, opportunity=changed))
            self._changed.clear()

    def _rerank(self, group: str, now_ms: int) -> None:
        """Assign rank and shared leg to the group's open routes (module docstring)."""
        routes = self._group_open.get(group)
        if not routes:
            return
        for pair, route, rank, shared in ranks(routes.items()):
            last = route.template
            if rank != last.rank or shared != last.shared_leg:
                route.rerank(rank, shared)
                route.stamp_ms = now_ms
                self._changed[pair] = None

    # -- the books and links that let an update skip pairs ----------------------------------

    def _join(self, key: LegKey, leg: LegView) -> _Book:
        """A leg seen for the first time (or again after it left) joins its group's book."""
        group = comparison_group(leg.base, leg.quote)
        book = self._books.get(group)
        if book is None:
            book = self._books[group] = _Book({}, {})
        book.size += 1
        self._leg_books[key] = book
        return book

    def _resync(self, book: _Book, legs: Mapping[LegKey, LegView]) -> None:
        """Re-read a group's prices from the caller's mapping (its size disagreed with ours:
        a leg was added or removed without an ``update`` for it)."""
        for key in [k for k, b in self._leg_books.items() if b is book and k not in legs]:
            del self._leg_books[key]
        for key in legs:
            previous = self._leg_books.get(key)
            if previous is not None and previous is not book:
                previous.size -= 1
                previous.bids.pop(key, None)
                previous.asks.pop(key, None)
            self._leg_books[key] = book
        book.bids = {key: leg.bid for key, leg in legs.items() if leg.bid is not None}
        book.asks = {key: leg.ask for key, leg in legs.items() if leg.ask is not None}
        book.size = len(legs)

    def _relink(self, pair: PairKey) -> None:
        """Record whether ``pair`` is tracked (open, pending or in a reason) after a change."""
        tracked = pair in self._open or pair in self._pending or pair in self._reason
        buy, sell = (pair[0], pair[1]), (pair[2], pair[3])
        links = self._links.get(buy)
        linked = links is not None and links.get(sell, 0) & _BUYS != 0
        if tracked == linked:
            return
        if tracked:
            self._link(buy, sell, _BUYS)
            self._link(sell, buy, _SELLS)
        else:
            self._unlink(buy, sell, _BUYS)
            self._unlink(sell, buy, _SELLS)

    def _link(self, leg: LegKey, other: LegKey, bit: int) -> None:
        links = self._links.setdefault(leg, {})
        links[other] = links.get(other, 0) | bit

    def _unlink(self, leg: LegKey, other: LegKey, bit: int) -> None:
        links = self._links[leg]
        left = links[other] & ~bit
        if left:
            links[other] = left
        else:
            del links[other]
            if not links:
                del self._links[leg]
