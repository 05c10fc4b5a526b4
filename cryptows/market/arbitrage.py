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
- **Cost.** :meth:`ArbitrageEngine.update` re-evaluates only the pairs that involve the changed
  leg, in both directions: O(legs in the group) per update. Pairs not involving it cannot
  change (their inputs did not), except through time: ``max_quote_age_ms`` (the caller marks
  the aged leg unusable and calls ``update`` for it) and ``confirm_ms`` (the caller calls
  ``tick``, O(pending pairs)). Rank reassignment sorts the group's open routes (O(k log k) for k
  open routes) only on the calls that open or close one of them; an update that neither opens
  nor closes anything pays nothing for it.
- **Order.** Events of one call are ordered by (buy venue, buy symbol, sell venue, sell
  symbol); a call emits at most one event per pair.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from cryptows.market.routes import (
    PLACEHOLDER,
    USD_LIKE,
    LegKey,
    PairKey,
    Route,
    at,
    comparison_group,
    event_order,
    opportunity,
    ranks,
)
from cryptows.market.types import (
    ArbEvent,
    ArbEventType,
    CloseReason,
    Leg,
    Opportunity,
    SuppressReason,
)

__all__ = ["USD_LIKE", "ArbitrageEngine", "LegKey", "PairKey", "comparison_group"]

_OPEN, _UPDATE, _CLOSE = ArbEventType.OPEN, ArbEventType.UPDATE, ArbEventType.CLOSE


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
    ) -> None:
        self.fees_pct = dict(fees_pct)
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

    # -- queries ----------------------------------------------------------------------------

    def open_opportunities(self) -> tuple[Opportunity, ...]:
        """Every open opportunity (as of its last evaluation), best net first."""
        return tuple(sorted((o.last for o in self._open.values()), key=lambda o: -o.net_pct))

    @property
    def pending(self) -> int:
        """How many candidates are waiting for ``confirm_ms``."""
        return len(self._pending)

    # -- updates ----------------------------------------------------------------------------

    def update(self, legs: Mapping[LegKey, Leg], changed: LegKey, now_ms: int) -> list[ArbEvent]:
        """Re-evaluate the pairs involving leg ``changed`` among ``legs`` (one group)."""
        events: list[ArbEvent] = []
        leg = legs.get(changed)
        for key, other in legs.items():
            if key[0] == changed[0]:
                continue
            # With leg None (it left the group), the pairs it was part of close.
            self._evaluate((*changed, *key), leg, other, now_ms, events)
            self._evaluate((*key, *changed), other, leg, now_ms, events)
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
            last = route.last
            metric = last.gross_pct if self.gross else last.net_pct
            if metric >= self.threshold:
                self._promote(pair, route, now_ms)
            else:
                self.suppressed[SuppressReason.UNCONFIRMED] += 1
        self._settle(now_ms, events)
        events.sort(key=event_order)
        return events

    def close_all(self, now_ms: int) -> list[ArbEvent]:
        """Close every open opportunity (``run_end``) and drop the pending candidates."""
        self._pending.clear()
        reason = CloseReason.RUN_END
        events = [self._close(pair, now_ms, reason) for pair in list(self._open)]
        self._dirty.clear()
        events.sort(key=event_order)
        return events

    # -- the rules --------------------------------------------------------------------------

    def _evaluate(
        self, pair: PairKey, buy: Leg | None, sell: Leg | None, now_ms: int, out: list[ArbEvent]
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
        fee_buy = self.fees_pct.get(buy.venue, 0.0)
        fee_sell = self.fees_pct.get(sell.venue, 0.0)
        net = gross - (fee_buy + fee_sell)
        metric = gross if self.gross else net
        compatible, converted = self._compatibility(buy.quote, sell.quote)
        legs_usable = buy.usable and sell.usable
        if current is not None:
            if legs_usable and compatible and metric >= self.hold_level:
                peak = current.peak_net if current.peak_net >= net else net
                before = current.last
                figures = (ask, bid, gross, fee_buy, fee_sell, net)
                values = opportunity(buy, sell, figures, converted, now_ms, current, peak)
                current.peak_net = peak
                current.last = values
                current.buy_recv, current.sell_recv = buy.recv_ms, sell.recv_ms
                # rank and shared_leg are carried over: only the four values can differ here
                if (ask, buy.ask_size, bid, sell.bid_size) != (
                    before.buy_price,
                    before.buy_size,
                    before.sell_price,
                    before.sell_size,
                ):
                    self._changed[pair] = None
                self._reason.pop(pair, None)
                return
            reason = CloseReason.BELOW_THRESHOLD if legs_usable else CloseReason.LEG_STALE
            out.append(self._close(pair, now_ms, reason))
        elif legs_usable and compatible and metric >= self.threshold:
            route = self._pending.get(pair)
            if route is None:
                group = comparison_group(buy.base, buy.quote)
                route = Route(now_ms, net, PLACEHOLDER, buy.recv_ms, sell.recv_ms, group)
                self._pending[pair] = route
            elif net > route.peak_net:
                route.peak_net = net
            figures = (ask, bid, gross, fee_buy, fee_sell, net)
            route.last = opportunity(buy, sell, figures, converted, now_ms, route, route.peak_net)
            route.buy_recv, route.sell_recv = buy.recv_ms, sell.recv_ms
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
        if not compatible and gross >= self.threshold:
            return SuppressReason.QUOTE_MISMATCH
        if not compatible:
            return None
        if not legs_usable and metric >= self.threshold:
            return SuppressReason.STALE_LEG
        if not self.gross and gross >= self.threshold > metric:
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
        route.last = at(route, now_ms, peak_net_pct=route.peak_net)
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
        closed = at(route, now_ms, peak_net_pct=route.peak_net, close_reason=reason)
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
                out.append(ArbEvent(type=_OPEN, ts_ms=now_ms, opportunity=self._open[pair].last))
            self._opened.clear()
        if self._changed:
            for pair in self._changed:
                route = self._open[pair]
                out.append(ArbEvent(type=_UPDATE, ts_ms=now_ms, opportunity=route.last))
            self._changed.clear()

    def _rerank(self, group: str, now_ms: int) -> None:
        """Assign rank and shared leg to the group's open routes (module docstring)."""
        routes = self._group_open.get(group)
        if not routes:
            return
        for pair, route, rank, shared in ranks(routes.items()):
            last = route.last
            if rank != last.rank or shared != last.shared_leg:
                route.last = at(route, now_ms, rank=rank, shared_leg=shared)
                self._changed[pair] = None
