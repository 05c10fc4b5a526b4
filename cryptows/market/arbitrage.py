"""Cross-venue arbitrage: net of taker fees, with an open/update/close lifecycle. Pure, synchronous.

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
- **Qualifies** when both legs are usable, compatible, ``A.ask`` and ``B.bid`` present, and
  metric >= threshold. **Holds** (while open) under the same conditions with
  metric >= threshold - hysteresis.
- **Lifecycle per pair.** Not open and qualifies: OPEN (peak = net). Open and holds: UPDATE if
  any of (buy price, buy size, sell price, sell size) differs from the last event's values,
  else nothing; peak = max(peak, net). Open and does not hold: CLOSE (with the last values
  that were seen while open, so a stale or vanished price never appears in a close).
- **Suppression** (for pairs that end an evaluation not open): the first applicable reason of
  quote_mismatch (incompatible quote assets and gross >= threshold), stale_leg (a leg unusable
  and metric >= threshold), below_fees (net mode, gross >= threshold > net). The counter of a
  reason goes up by one when a pair *enters* that reason (its previous evaluation had another
  reason or none), so a standing condition counts once, not once per frame.
- **Cost.** :meth:`ArbitrageEngine.update` re-evaluates only the pairs that involve the changed
  leg, in both directions: O(legs in the group) per update. Pairs not involving it cannot
  change (their inputs did not), except through time (``max_quote_age_ms``), which the caller
  handles by marking the aged leg unusable and calling ``update`` for it.
- **Order.** Events of one call are ordered by (buy venue, buy symbol, sell venue, sell
  symbol).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import msgspec

from cryptows.market.types import ArbEvent, ArbEventType, Leg, Opportunity, SuppressReason

USD_LIKE: frozenset[str] = frozenset(
    {"USD", "USDT", "USDC", "FDUSD", "TUSD", "BUSD", "DAI", "USDE", "PYUSD", "USD1", "RLUSD",
     "USDP", "USDD", "USDS"}
)  # fmt: skip
"""Quote assets that are compared with each other (only when declared equivalent)."""

LegKey = tuple[str, str]
"""(venue, canonical symbol)."""
PairKey = tuple[str, str, str, str]
"""(buy venue, buy symbol, sell venue, sell symbol)."""


def comparison_group(base: str, quote: str) -> str:
    """The group a symbol's legs are compared in, e.g. ``BTC/USD*`` or ``ETH/BTC``."""
    return f"{base}/{'USD*' if quote in USD_LIKE else quote}"


@dataclass(slots=True)
class _Open:
    opened_ms: int
    peak_net: float
    last: Opportunity


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
        closed_history: int = 50,
    ) -> None:
        self.fees_pct = dict(fees_pct)
        self.threshold = threshold_pct
        self.hold_level = threshold_pct - hysteresis_pct
        self.gross = gross
        self._equivalent = {frozenset(pair) for pair in equivalents if pair[0] != pair[1]}
        self._open: dict[PairKey, _Open] = {}
        self._reason: dict[PairKey, SuppressReason] = {}
        self.suppressed: dict[SuppressReason, int] = dict.fromkeys(SuppressReason, 0)
        """How many times a pair entered each suppression reason."""
        self.closed: deque[Opportunity] = deque(maxlen=closed_history)
        """Recently closed opportunities, newest first."""

    # -- queries ----------------------------------------------------------------------------

    def open_opportunities(self) -> tuple[Opportunity, ...]:
        """Every open opportunity (as of its last evaluation), best net first."""
        return tuple(sorted((o.last for o in self._open.values()), key=lambda o: -o.net_pct))

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
        events.sort(key=_event_order)
        return events

    def close_all(self, now_ms: int) -> list[ArbEvent]:
        """Close every open opportunity (end of a run)."""
        events = [self._close(pair, now_ms) for pair in list(self._open)]
        events.sort(key=_event_order)
        return events

    # -- the rules --------------------------------------------------------------------------

    def _evaluate(
        self, pair: PairKey, buy: Leg | None, sell: Leg | None, now_ms: int, out: list[ArbEvent]
    ) -> None:
        current = self._open.get(pair)
        if buy is None or sell is None or buy.ask is None or sell.bid is None:
            if current is not None:
                out.append(self._close(pair, now_ms))
            self._reason.pop(pair, None)
            return
        ask, bid = buy.ask, sell.bid
        gross = (bid - ask) / ask * 100
        fees = self.fees_pct.get(buy.venue, 0.0) + self.fees_pct.get(sell.venue, 0.0)
        net = gross - fees
        metric = gross if self.gross else net
        compatible, converted = self._compatibility(buy.quote, sell.quote)
        usable = buy.usable and sell.usable and compatible
        level = self.hold_level if current is not None else self.threshold
        if usable and metric >= level:
            figures = (ask, bid, gross, fees, net)
            opportunity = self._opportunity(buy, sell, figures, converted, now_ms, current)
            if current is None:
                self._open[pair] = _Open(now_ms, net, opportunity)
                out.append(ArbEvent(type=ArbEventType.OPEN, ts_ms=now_ms, opportunity=opportunity))
            else:
                changed = _values(opportunity) != _values(current.last)
                current.peak_net = max(current.peak_net, net)
                current.last = opportunity
                if changed:
                    out.append(
                        ArbEvent(type=ArbEventType.UPDATE, ts_ms=now_ms, opportunity=opportunity)
                    )
            self._reason.pop(pair, None)
            return
        if current is not None:
            out.append(self._close(pair, now_ms))
        self._suppress(pair, self._why(gross, metric, compatible, buy.usable and sell.usable))

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

    def _opportunity(
        self,
        buy: Leg,
        sell: Leg,
        figures: tuple[float, float, float, float, float],
        converted: str | None,
        now_ms: int,
        current: _Open | None,
    ) -> Opportunity:
        ask, bid, gross, fees, net = figures
        opened = current.opened_ms if current is not None else now_ms
        peak = max(current.peak_net, net) if current is not None else net
        sizes = (buy.ask_size, sell.bid_size)
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
            opened_ms=opened,
            duration_ms=now_ms - opened,
            size=None if None in sizes else min(s for s in sizes if s is not None),
            converted=converted,
        )

    def _close(self, pair: PairKey, now_ms: int) -> ArbEvent:
        state = self._open.pop(pair)
        last = state.last
        since_last_event = now_ms - last.opened_ms - last.duration_ms
        closed = msgspec.structs.replace(
            last,
            peak_net_pct=state.peak_net,
            duration_ms=now_ms - state.opened_ms,
            buy_age_ms=last.buy_age_ms + since_last_event,
            sell_age_ms=last.sell_age_ms + since_last_event,
        )
        self.closed.appendleft(closed)
        return ArbEvent(type=ArbEventType.CLOSE, ts_ms=now_ms, opportunity=closed)


def _values(o: Opportunity) -> tuple[float, float | None, float, float | None]:
    return (o.buy_price, o.buy_size, o.sell_price, o.sell_size)


def _event_order(event: ArbEvent) -> PairKey:
    o = event.opportunity
    return (o.buy_venue, o.buy_symbol, o.sell_venue, o.sell_symbol)
