"""The routes the arbitrage engine compares: their keys, groups, values and ranks. Pure.

A *route* is an ordered pair of legs (buy one, sell the other). This module builds a route's
:class:`~cryptows.market.types.Opportunity` from its two legs and ranks a group's open routes;
the lifecycle that decides when routes open, update and close is
:class:`~cryptows.market.arbitrage.ArbitrageEngine`, whose module docstring is the
specification both follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import msgspec

from cryptows.market.types import ArbEvent, Leg, Opportunity, SharedLeg

USD_LIKE: frozenset[str] = frozenset(
    {"USD", "USDT", "USDC", "FDUSD", "TUSD", "BUSD", "DAI", "USDE", "PYUSD", "USD1", "RLUSD",
     "USDP", "USDD", "USDS"}
)  # fmt: skip
"""Quote assets that are compared with each other (only when declared equivalent)."""

LegKey = tuple[str, str]
"""(venue, canonical symbol)."""
PairKey = tuple[str, str, str, str]
"""(buy venue, buy symbol, sell venue, sell symbol)."""

Figures = tuple[float, float, float, float, float, float]
"""A route's prices and spreads: (ask, bid, gross %, buy fee %, sell fee %, net %)."""


def comparison_group(base: str, quote: str) -> str:
    """The group a symbol's legs are compared in, e.g. ``BTC/USD*`` or ``ETH/BTC``."""
    return f"{base}/{'USD*' if quote in USD_LIKE else quote}"


@dataclass(slots=True)
class Route:
    """A pending or open pair: since when, its peak, and its last evaluated values."""

    first_ms: int
    peak_net: float
    last: Opportunity
    buy_recv: int
    sell_recv: int
    group: str


PLACEHOLDER = Opportunity(
    symbol="", buy_venue="", buy_symbol="", buy_price=0.0, buy_size=None, buy_age_ms=0,
    sell_venue="", sell_symbol="", sell_price=0.0, sell_size=None, sell_age_ms=0, gross_pct=0.0,
    fees_pct=0.0, net_pct=0.0, peak_net_pct=0.0, opened_ms=0, duration_ms=0, size=None,
)  # fmt: skip
"""Stands in for a new candidate's values until its first evaluation builds them."""


def opportunity(
    buy: Leg,
    sell: Leg,
    figures: Figures,
    converted: str | None,
    now_ms: int,
    route: Route,
    peak: float,
) -> Opportunity:
    """The route's values as evaluated at ``now_ms``: executable size, estimated profit (the
    exact rule of the specification), the legs' ages; rank and shared leg carried over."""
    ask, bid, gross, fee_buy, fee_sell, net = figures
    buy_size, sell_size = buy.ask_size, sell.bid_size
    if buy_size is None or sell_size is None:
        size = profit = None
    else:
        size = buy_size if buy_size <= sell_size else sell_size
        profit = size * (bid - ask) - size * ask * fee_buy / 100 - size * bid * fee_sell / 100
    previous = route.last
    return Opportunity(
        symbol=sell.symbol,
        buy_venue=buy.venue,
        buy_symbol=buy.symbol,
        buy_price=ask,
        buy_size=buy_size,
        buy_age_ms=max(0, now_ms - buy.recv_ms),
        sell_venue=sell.venue,
        sell_symbol=sell.symbol,
        sell_price=bid,
        sell_size=sell_size,
        sell_age_ms=max(0, now_ms - sell.recv_ms),
        gross_pct=gross,
        fees_pct=fee_buy + fee_sell,
        net_pct=net,
        peak_net_pct=peak,
        opened_ms=route.first_ms,
        duration_ms=now_ms - route.first_ms,
        size=size,
        converted=converted,
        est_profit=profit,
        profit_asset=sell.quote or None,
        rank=previous.rank,
        shared_leg=previous.shared_leg,
    )


def at(route: Route, now_ms: int, **changes: object) -> Opportunity:
    """The route's last values as of ``now_ms``: duration and legs' ages advanced."""
    return msgspec.structs.replace(
        route.last,
        duration_ms=now_ms - route.first_ms,
        buy_age_ms=max(0, now_ms - route.buy_recv),
        sell_age_ms=max(0, now_ms - route.sell_recv),
        **changes,
    )


def ranks(
    routes: Iterable[tuple[PairKey, Route]],
) -> Iterator[tuple[PairKey, Route, int, SharedLeg | None]]:
    """Each of a group's open routes with its rank within its symbol and its shared leg.

    Routes are ordered by their last net, best first (ties: pair key); a route shares its buy
    (sell) leg when a route earlier in that order buys (sells) at the same leg.
    """
    order = sorted(routes, key=lambda item: (-item[1].last.net_pct, item[0]))
    counts: dict[str, int] = {}
    buys: set[LegKey] = set()
    sells: set[LegKey] = set()
    for pair, route in order:
        symbol = route.last.symbol
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


def event_order(event: ArbEvent) -> PairKey:
    """The sort key of the events of one engine call: the route's pair key."""
    o = event.opportunity
    return (o.buy_venue, o.buy_symbol, o.sell_venue, o.sell_symbol)
