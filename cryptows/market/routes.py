"""The routes the arbitrage engine compares: their keys, groups, values and ranks. Pure.

A *route* is an ordered pair of legs (buy one, sell the other). This module keeps a route's
last evaluated figures, builds its :class:`~cryptows.market.types.Opportunity` from them when it
is read (not per evaluation), and ranks a group's open routes;
the lifecycle that decides when routes open, update and close is
:class:`~cryptows.market.arbitrage.ArbitrageEngine`, whose module docstring is the
specification both follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter

import msgspec

from cryptows.market.types import ArbEvent, CloseReason, LegView, Opportunity, SharedLeg

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


PLACEHOLDER = Opportunity(
    symbol="", buy_venue="", buy_symbol="", buy_price=0.0, buy_size=None, buy_age_ms=0,
    sell_venue="", sell_symbol="", sell_price=0.0, sell_size=None, sell_age_ms=0, gross_pct=0.0,
    fees_pct=0.0, net_pct=0.0, peak_net_pct=0.0, opened_ms=0, duration_ms=0, size=None,
)  # fmt: skip
"""The base of every route's template (the fields a route fills in are overwritten)."""

_replace = msgspec.structs.replace


@dataclass(slots=True, eq=False)
class Route:
    """A pending or open pair: since when, its peak, and its last evaluated figures.

    Its :class:`~cryptows.market.types.Opportunity` is built from these only when someone reads
    it (:meth:`value`: an event, a snapshot), never per evaluation: an open route re-evaluated
    on every quote of its legs only updates a few numbers in place. ``stamp_ms`` is the time the
    value is "as of" (its duration and the legs' ages): the last evaluation, or a later
    promotion or re-rank, which re-stamp the last figures without re-evaluating them.
    """

    first_ms: int
    peak_net: float
    group: str
    symbol: str
    """The route's symbol (the sell leg's), for ranking."""
    template: Opportunity
    """The fields fixed for the route's life (symbol, venues, legs' symbols, ``converted``,
    ``profit_asset``, ``fees_pct``: fees are fixed, ``opened_ms``), and its rank and shared leg
    as last assigned."""
    fee_buy: float
    fee_sell: float
    ask: float = 0.0
    ask_size: float | None = None
    bid: float = 0.0
    bid_size: float | None = None
    gross: float = 0.0
    net: float = 0.0
    buy_recv: int = 0
    sell_recv: int = 0
    stamp_ms: int = 0
    """The time :meth:`value` is as of (last evaluation, promotion or re-rank)."""
    cached: Opportunity | None = None
    """:meth:`value` as last built; ``None`` once anything above changed."""

    def value(self) -> Opportunity:
        """The route's values as of ``stamp_ms`` (built once per change, then cached)."""
        cached = self.cached
        if cached is None:
            cached = self.cached = self.as_of(self.stamp_ms)
        return cached

    def as_of(self, now_ms: int, close_reason: CloseReason | None = None) -> Opportunity:
        """The last evaluated values with duration and ages at ``now_ms``: executable size and
        estimated profit by the exact rule of the specification."""
        ask, bid = self.ask, self.bid
        buy_size, sell_size = self.ask_size, self.bid_size
        if buy_size is None or sell_size is None:
            size = profit = None
        else:
            size = buy_size if buy_size <= sell_size else sell_size
            fee_buy, fee_sell = self.fee_buy, self.fee_sell
            profit = size * (bid - ask) - size * ask * fee_buy / 100 - size * bid * fee_sell / 100
        buy_age = now_ms - self.buy_recv
        sell_age = now_ms - self.sell_recv
        # At most 13 fields per replace: msgspec's replace gets several times slower beyond 14
        # keywords, so the fields that rarely change live in the template (see ``rerank``).
        if close_reason is None:
            return _replace(
                self.template,
                buy_price=ask,
                buy_size=buy_size,
                buy_age_ms=buy_age if buy_age > 0 else 0,
                sell_price=bid,
                sell_size=sell_size,
                sell_age_ms=sell_age if sell_age > 0 else 0,
                gross_pct=self.gross,
                net_pct=self.net,
                peak_net_pct=self.peak_net,
                duration_ms=now_ms - self.first_ms,
                size=size,
                est_profit=profit,
            )
        return _replace(
            self.template,
            buy_price=ask,
            buy_size=buy_size,
            buy_age_ms=buy_age if buy_age > 0 else 0,
            sell_price=bid,
            sell_size=sell_size,
            sell_age_ms=sell_age if sell_age > 0 else 0,
            gross_pct=self.gross,
            net_pct=self.net,
            peak_net_pct=self.peak_net,
            duration_ms=now_ms - self.first_ms,
            size=size,
            est_profit=profit,
            close_reason=close_reason,
        )

    def rerank(self, rank: int, shared: SharedLeg | None) -> None:
        """A new rank and shared leg (kept in the template: they change only on re-ranks)."""
        self.template = _replace(self.template, rank=rank, shared_leg=shared)
        self.cached = None


def template(
    buy: LegView, sell: LegView, converted: str | None, fees_pct: float, first_ms: int
) -> Opportunity:
    """A new route's fixed fields (:attr:`Route.template`): rank 1 and no shared leg until its
    first re-rank."""
    return _replace(
        PLACEHOLDER,
        symbol=sell.symbol,
        buy_venue=buy.venue,
        buy_symbol=buy.symbol,
        sell_venue=sell.venue,
        sell_symbol=sell.symbol,
        fees_pct=fees_pct,
        opened_ms=first_ms,
        converted=converted,
        profit_asset=sell.quote or None,
    )


def ranks(
    routes: Iterable[tuple[PairKey, Route]],
) -> Iterator[tuple[PairKey, Route, int, SharedLeg | None]]:
    """Each of a group's open routes with its rank within its symbol and its shared leg.

    Routes are ordered by their last net, best first (ties: pair key); a route shares its buy
    (sell) leg when a route earlier in that order buys (sells) at the same leg.
    """
    order = sorted(routes, key=lambda item: (-item[1].net, item[0]))
    counts: dict[str, int] = {}
    buys: set[LegKey] = set()
    sells: set[LegKey] = set()
    for pair, route in order:
        symbol = route.symbol
        rank = counts[symbol] = counts.get(symbol, 0) + 1
        buy, sell = (pair[0], pair[1]), (pair[2], pair[3])
        shared: SharedLeg | None
        if buy in buys:
            shared = "both" if sell in sells else "buy"
        else:
            shared = "sell" if sell in sells else None
        buys.add(buy)
        sells.add(sell)
        yield pair, route, rank, shared


event_order: Callable[[ArbEvent], PairKey] = attrgetter(
    "opportunity.buy_venue",
    "opportunity.buy_symbol",
    "opportunity.sell_venue",
    "opportunity.sell_symbol",
)
"""The sort key of the events of one engine call: the route's pair key."""
