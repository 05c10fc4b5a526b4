"""One symbol's part of a snapshot: its venues' quotes, best prices and cross-venue summary. Pure.

The aggregator keeps the merged quotes; :func:`symbol_view` turns them into the immutable
:class:`~cryptows.market.types.SymbolView` that the CLI, the dashboard and the analysis read,
judging every quote's usability at the snapshot's time.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import msgspec

from cryptows.market.types import BestPrice, MidSample, SymbolSummary, SymbolView, VenueQuote

UsabilityCheck = Callable[[str, str, int, int], tuple[bool, str]]
"""``(venue, symbol, recv_ms, now) -> (usable, reason)``: see :meth:`.usability.Usability.check`."""


class QuoteFields(Protocol):
    """What a view reads of a venue's merged quote: a :class:`~cryptows.models.Quote`, or the
    aggregator's in-place slot (:class:`~cryptows.market.merge.QuoteSlot`)."""

    @property
    def bid(self) -> float | None: ...
    @property
    def bid_size(self) -> float | None: ...
    @property
    def ask(self) -> float | None: ...
    @property
    def ask_size(self) -> float | None: ...
    @property
    def last(self) -> float | None: ...
    @property
    def volume_24h(self) -> float | None: ...
    @property
    def change_24h_pct(self) -> float | None: ...
    @property
    def exchange_ts_ms(self) -> int | None: ...
    @property
    def recv_wall_ms(self) -> int: ...


def symbol_view(
    symbol: str,
    quotes: Mapping[str, QuoteFields],
    history: Iterable[MidSample],
    usability: UsabilityCheck,
    now: int,
) -> SymbolView:
    """``symbol``'s view at ``now`` from its latest merged quote per venue (``quotes``).

    Every venue's quote is listed, in venue order; only the usable ones count for the best
    prices and the summary (``last`` from the newest one that has a last price, the 24 h change
    as the median of theirs).
    """
    rows: list[VenueQuote] = []
    best_buy: BestPrice | None = None
    best_sell: BestPrice | None = None
    mids: list[float] = []
    changes: list[float] = []
    newest: tuple[int, float] | None = None
    for venue in sorted(quotes):
        q = quotes[venue]
        usable, reason = usability(venue, symbol, q.recv_wall_ms, now)
        vq = VenueQuote(
            venue=venue,
            symbol=symbol,
            bid=q.bid,
            bid_size=q.bid_size,
            ask=q.ask,
            ask_size=q.ask_size,
            last=q.last,
            volume_24h=q.volume_24h,
            exchange_ts_ms=q.exchange_ts_ms,
            recv_ms=q.recv_wall_ms,
            age_ms=now - q.recv_wall_ms,
            usable=usable,
            stale_reason=reason,
            change_24h_pct=q.change_24h_pct,
        )
        rows.append(vq)
        if not usable:
            continue
        if q.change_24h_pct is not None:
            changes.append(q.change_24h_pct)
        if q.last is not None and (newest is None or q.recv_wall_ms >= newest[0]):
            newest = (q.recv_wall_ms, q.last)
        if q.ask is not None and (best_buy is None or q.ask < best_buy.price):
            best_buy = BestPrice(venue=venue, price=q.ask, size=q.ask_size)
        if q.bid is not None and (best_sell is None or q.bid > best_sell.price):
            best_sell = BestPrice(venue=venue, price=q.bid, size=q.bid_size)
        mid = vq.mid
        if mid is not None:
            mids.append(mid)
    return SymbolView(
        symbol=symbol,
        quotes=tuple(rows),
        best_buy=best_buy,
        best_sell=best_sell,
        summary=msgspec.structs.replace(
            summary(mids, best_buy, best_sell),
            last=newest[1] if newest is not None else None,
            change_24h_pct=statistics.median(changes) if changes else None,
        ),
        history=tuple(history),
    )


def summary(
    mids: list[float], best_buy: BestPrice | None, best_sell: BestPrice | None
) -> SymbolSummary:
    """Cross-venue statistics; ``dispersion_bps`` needs two venues (one has no dispersion)."""
    cross = None
    if best_buy is not None and best_sell is not None:
        cross = (best_sell.price - best_buy.price) / best_buy.price * 100
    if not mids:
        return SymbolSummary(
            venues=0,
            min_mid=None,
            max_mid=None,
            mean_mid=None,
            cross_spread_pct=cross,
            dispersion_bps=None,
        )
    mean = statistics.fmean(mids)
    dispersion = statistics.pstdev(mids, mean) / mean * 10_000 if len(mids) >= 2 else None
    return SymbolSummary(
        venues=len(mids),
        min_mid=min(mids),
        max_mid=max(mids),
        mean_mid=mean,
        cross_spread_pct=cross,
        dispersion_bps=dispersion,
    )
