"""Local statistics of a market snapshot: the numbers a model explains, never computes.

:func:`compute_stats` turns the final :class:`~cryptows.market.types.Snapshot` of an
``analyze`` run into a :class:`MarketStats`. Every figure is computed here, in plain Python;
the prompt (:mod:`cryptows.analysis.prompt`) embeds them and tells the model to copy, not redo.

Definitions (per symbol, ``window`` = the history samples with
``snapshot.ts_ms - window_s * 1000 <= ts_ms <= snapshot.ts_ms``; each sample is the mean mid of
the usable venues, at most one per second):

- ``zscore``: ``(m_last - mean(m)) / pstdev(m)`` over the window's mids ``m`` (the latest
  sample included); ``None`` with fewer than :data:`MIN_ZSCORE_SAMPLES` samples or a zero
  standard deviation.
- ``return_pct``: ``(m_last / m_first - 1) * 100``; ``None`` with fewer than 2 samples.
- ``volatility_pct``: population standard deviation of the successive simple returns
  ``m_i / m_{i-1} - 1``, times 100. Per sample interval (about one second), **not annualised**
  and not scaled to the window; ``None`` with fewer than 3 samples (two returns).
- ``venues``, ``mid``, ``last``, ``change_24h_pct``, ``cross_spread_pct``, ``dispersion_bps``,
  best bid/ask: taken from the snapshot (usable venues only; see
  :class:`~cryptows.market.types.SymbolSummary`).
- ``open_opportunities`` / ``best_net_pct``: open arbitrage routes whose sell or buy symbol is
  this symbol, and the best ``net_pct`` among them.

Derived figures are rounded (:data:`ZSCORE_DECIMALS`, :data:`PCT_DECIMALS`,
:data:`BPS_DECIMALS`) so that what the model sees, what it must copy back and what the CLI shows
are the same numbers; prices are not rounded.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import msgspec

from cryptows.errors import UsageError
from cryptows.market.types import Snapshot, SymbolView

MIN_ZSCORE_SAMPLES = 5
"""A z-score needs at least this many samples in the window."""
ZSCORE_DECIMALS = 4
PCT_DECIMALS = 6
"""Percent figures (return, volatility, cross spread, net): 1e-6 % = 1e-4 bp."""
BPS_DECIMALS = 4


class VenueStat(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's connection health at the snapshot."""

    venue: str
    state: str
    """``live``, ``stale``, ``backing off``, ... (:class:`~cryptows.models.VenueState`)."""
    reason: str = ""
    msgs_per_s: float | None = None
    """Frames per second over the last few seconds (``None``: not measured)."""
    lag_p50_ms: float | None = None
    """Median receipt lag, clock offset included (``None``: not measured)."""
    reconnects: int | None = None
    last_error: str = ""


class SymbolStats(msgspec.Struct, frozen=True, kw_only=True):
    """The local statistics of one symbol (definitions: the module docstring)."""

    symbol: str
    venues: int
    """Usable venues with a mid."""
    stale_venues: tuple[str, ...]
    """Venues that quoted the symbol but are not usable now, in venue order."""
    stale_reasons: tuple[str, ...]
    """Why, one per ``stale_venues`` entry."""
    best_bid: float | None
    best_bid_venue: str | None
    best_ask: float | None
    best_ask_venue: str | None
    mid: float | None
    """Mean mid of the usable venues at the snapshot."""
    last: float | None
    change_24h_pct: float | None
    cross_spread_pct: float | None
    """``(best_bid - best_ask) / best_ask * 100``: positive means a crossed market (gross)."""
    dispersion_bps: float | None
    zscore: float | None
    return_pct: float | None
    volatility_pct: float | None
    """Per-sample (about 1 s) volatility of simple returns, in percent, not annualised."""
    samples: int
    """History samples inside the window."""
    span_s: float | None
    """Seconds from the first to the last sample in the window (``None`` below 2 samples)."""
    open_opportunities: int
    best_net_pct: float | None


class MarketStats(msgspec.Struct, frozen=True, kw_only=True):
    """The local statistics of a whole snapshot."""

    ts_ms: int
    window_s: float
    demo: bool
    """The data comes from the simulator, not from real venues."""
    symbols: tuple[SymbolStats, ...]
    venues: tuple[VenueStat, ...]


def compute_stats(snapshot: Snapshot, window_s: float) -> MarketStats:
    """The statistics of ``snapshot`` over its last ``window_s`` seconds of history.

    Raises:
        UsageError: ``window_s`` is not a positive finite number.
    """
    if not (math.isfinite(window_s) and window_s > 0):
        raise UsageError(
            f"the analysis window must be a positive number of seconds, not {window_s}"
        )
    cutoff = snapshot.ts_ms - window_s * 1000
    symbols = tuple(_symbol_stats(view, snapshot, cutoff) for view in snapshot.symbols)
    return MarketStats(
        ts_ms=snapshot.ts_ms,
        window_s=float(window_s),
        demo=snapshot.demo,
        symbols=symbols,
        venues=_venue_stats(snapshot),
    )


def zscore(mids: Sequence[float]) -> float | None:
    """``(mids[-1] - mean) / pstdev`` (unrounded); ``None`` below the minimum or at zero spread."""
    if len(mids) < MIN_ZSCORE_SAMPLES:
        return None
    mean = statistics.fmean(mids)
    sd = statistics.pstdev(mids)
    # A spread at float noise level would give an absurd z-score: treat it as zero.
    if sd <= abs(mean) * 1e-12 or sd == 0:
        return None
    return (mids[-1] - mean) / sd


def simple_returns(mids: Sequence[float]) -> list[float]:
    """``mids[i] / mids[i-1] - 1`` for each successive pair (pairs with a zero base skipped)."""
    return [b / a - 1 for a, b in zip(mids, mids[1:], strict=False) if a != 0]


def return_pct(mids: Sequence[float]) -> float | None:
    """``(mids[-1] / mids[0] - 1) * 100`` (unrounded); ``None`` below 2 samples."""
    if len(mids) < 2 or mids[0] == 0:
        return None
    return (mids[-1] / mids[0] - 1) * 100


def volatility_pct(mids: Sequence[float]) -> float | None:
    """pstdev of :func:`simple_returns`, in percent (unrounded); ``None`` below 2 returns."""
    returns = simple_returns(mids)
    if len(returns) < 2:
        return None
    return statistics.pstdev(returns) * 100


def _round(value: float | None, decimals: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def _symbol_stats(view: SymbolView, snapshot: Snapshot, cutoff: float) -> SymbolStats:
    window = [(ts, mid) for ts, mid in view.history if cutoff <= ts <= snapshot.ts_ms]
    mids = [mid for _, mid in window]
    stale = [q for q in view.quotes if not q.usable]
    ops = [
        o
        for o in snapshot.open_opportunities
        if view.symbol in (o.symbol, o.buy_symbol, o.sell_symbol)
    ]
    summary = view.summary
    return SymbolStats(
        symbol=view.symbol,
        venues=summary.venues,
        stale_venues=tuple(q.venue for q in stale),
        stale_reasons=tuple(q.stale_reason for q in stale),
        best_bid=view.best_sell.price if view.best_sell is not None else None,
        best_bid_venue=view.best_sell.venue if view.best_sell is not None else None,
        best_ask=view.best_buy.price if view.best_buy is not None else None,
        best_ask_venue=view.best_buy.venue if view.best_buy is not None else None,
        mid=summary.mean_mid,
        last=summary.last,
        change_24h_pct=_round(summary.change_24h_pct, PCT_DECIMALS),
        cross_spread_pct=_round(summary.cross_spread_pct, PCT_DECIMALS),
        dispersion_bps=_round(summary.dispersion_bps, BPS_DECIMALS),
        zscore=_round(zscore(mids), ZSCORE_DECIMALS),
        return_pct=_round(return_pct(mids), PCT_DECIMALS),
        volatility_pct=_round(volatility_pct(mids), PCT_DECIMALS),
        samples=len(window),
        span_s=(window[-1][0] - window[0][0]) / 1000 if len(window) >= 2 else None,
        open_opportunities=len(ops),
        best_net_pct=_round(max(o.net_pct for o in ops), PCT_DECIMALS) if ops else None,
    )


def _venue_stats(snapshot: Snapshot) -> tuple[VenueStat, ...]:
    """From the market service's health; from the feed's venue states when it has none."""
    if snapshot.health:
        return tuple(
            VenueStat(
                venue=h.venue,
                state=h.state.value,
                reason=h.reason,
                msgs_per_s=round(h.msgs_per_s, 2),
                lag_p50_ms=_round(h.lag_p50_ms, 1),
                reconnects=h.reconnects,
                last_error=h.last_error,
            )
            for h in snapshot.health
        )
    return tuple(
        VenueStat(venue=venue, state=state, reason=reason)
        for venue, state, reason in snapshot.venue_states
    )
