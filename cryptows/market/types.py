"""Value types of the market layer: legs, opportunities and their events, the snapshot.

Everything here is immutable. The aggregator builds them; the CLI, the dashboard and the
analysis command only read them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, NamedTuple, Protocol

import msgspec

from cryptows.models import VenueHealth


class ArbEventType(StrEnum):
    """Lifecycle of an arbitrage opportunity."""

    OPEN = "open"
    """The metric (net, or gross with ``--gross``) reached the threshold and held ``confirm_ms``."""
    UPDATE = "update"
    """A leg's price or size, or the route's ``rank`` or ``shared_leg``, changed while open."""
    CLOSE = "close"
    """It ended; :attr:`Opportunity.close_reason` says why (:class:`CloseReason`)."""


class CloseReason(StrEnum):
    """Why an open opportunity closed (the ``reason`` of a ``close`` record)."""

    BELOW_THRESHOLD = "below_threshold"
    """The metric fell below ``threshold - hysteresis`` (both legs present and usable)."""
    LEG_STALE = "leg_stale"
    """A leg is not usable: its venue is not live, or its quote predates the venue's last
    outage or is older than ``max_quote_age_ms``."""
    LEG_GONE = "leg_gone"
    """A leg's quote was removed (unlisted, unsubscribed) or that side of its book is missing."""
    RUN_END = "run_end"
    """The run ended (``close_all``)."""


SharedLeg = Literal["buy", "sell", "both"]
"""Which leg a route shares with a better-placed open route (see :attr:`Opportunity.shared_leg`)."""


class SuppressReason(StrEnum):
    """Why a candidate that would have cleared the threshold did not fire."""

    STALE_LEG = "stale_leg"
    """One leg is not usable: its venue is not live, or its quote predates the venue's last
    outage or is older than ``max_quote_age_ms``."""
    BELOW_FEES = "below_fees"
    """Gross cleared the threshold, net (after both taker fees) did not."""
    QUOTE_MISMATCH = "quote_mismatch"
    """Same base asset, different quote assets not declared equivalent (USD is not USDT)."""
    UNCONFIRMED = "unconfirmed"
    """A candidate reached the threshold but stopped qualifying before ``confirm_ms`` passed."""


class Leg(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's current top of book for one symbol, as the arbitrage engine sees it."""

    venue: str
    symbol: str
    """Canonical symbol on that venue (``BTCUSD`` on Coinbase, ``BTCUSDT`` elsewhere)."""
    base: str
    quote: str
    """Quote asset of ``symbol``."""
    bid: float | None
    bid_size: float | None
    ask: float | None
    ask_size: float | None
    recv_ms: int
    """Wall-clock ms of the last update of this leg."""
    usable: bool = True
    """False when the venue is not live, or the quote predates its last outage or is too old
    (:class:`~cryptows.market.usability.Usability`)."""
    stale_reason: str = ""


class LegView(Protocol):
    """What the arbitrage engine reads of a leg: a :class:`Leg`, or any object with the same
    attributes (the aggregator passes its mutable per-venue slots, so that no ``Leg`` is built
    per quote). The engine copies the values it keeps and never holds on to the object."""

    @property
    def venue(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def base(self) -> str: ...
    @property
    def quote(self) -> str: ...
    @property
    def bid(self) -> float | None: ...
    @property
    def bid_size(self) -> float | None: ...
    @property
    def ask(self) -> float | None: ...
    @property
    def ask_size(self) -> float | None: ...
    @property
    def recv_ms(self) -> int: ...
    @property
    def usable(self) -> bool: ...


class Opportunity(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Buy ``symbol`` on ``buy_venue`` at its ask, sell on ``sell_venue`` at its bid.

    (``gc=False``, as :class:`ArbEvent`: they hold only strings, numbers, enum members and each
    other, so they can never be part of a reference cycle; untracked, the many kept by a run's
    consumers cost the garbage collector nothing.)
    """

    symbol: str
    """The symbol compared (the sell leg's when an equivalence converts one leg)."""
    buy_venue: str
    buy_symbol: str
    buy_price: float
    buy_size: float | None
    buy_age_ms: int
    sell_venue: str
    sell_symbol: str
    sell_price: float
    sell_size: float | None
    sell_age_ms: int
    gross_pct: float
    """``(sell_price - buy_price) / buy_price * 100``."""
    fees_pct: float
    """Both legs' taker fees, in percent."""
    net_pct: float
    """``gross_pct - fees_pct``."""
    peak_net_pct: float
    """Best ``net_pct`` seen since the first crossing (``opened_ms``)."""
    opened_ms: int
    """When the candidate first reached the threshold (the ``open`` is emitted ``confirm_ms``
    or more later)."""
    duration_ms: int
    """From ``opened_ms`` to this value's evaluation (to the close, in a close)."""
    size: float | None
    """Executable size: ``min(buy_size, sell_size)`` (base asset)."""
    converted: str | None = None
    """Set when the legs' quote assets differ by a declared equivalence, e.g. ``"USD=USDT"``."""
    est_profit: float | None = None
    """``size * (sell_price - buy_price)`` minus both legs' taker fees on their notional, in
    ``profit_asset``; ``None`` when ``size`` is unknown (exact rule: :mod:`.arbitrage`)."""
    profit_asset: str | None = None
    """The sell leg's quote asset (``None`` when the symbol could not be split)."""
    rank: int = 1
    """1 = the best open route of its symbol by ``net_pct`` (as of the last change of the
    group's set of open routes)."""
    shared_leg: SharedLeg | None = None
    """This route buys (``"buy"``), sells (``"sell"``) or both at the same book side as a
    better-placed open route: the two compete for one size, which does not add up."""
    close_reason: CloseReason | None = None
    """Set on a closed opportunity only."""


class ArbEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One lifecycle event of one opportunity."""

    type: ArbEventType
    ts_ms: int
    opportunity: Opportunity


class VenueQuote(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's merged view of one symbol in a snapshot."""

    venue: str
    symbol: str
    bid: float | None
    bid_size: float | None
    ask: float | None
    ask_size: float | None
    last: float | None
    volume_24h: float | None
    exchange_ts_ms: int | None
    recv_ms: int
    age_ms: int
    usable: bool
    stale_reason: str = ""
    change_24h_pct: float | None = None
    """The venue's rolling 24 h price change, in percent."""

    @property
    def mid(self) -> float | None:
        """``(bid + ask) / 2`` when both are present."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> float | None:
        """``(ask - bid) / mid`` in basis points, when both sides are present."""
        if self.bid is None or self.ask is None:
            return None
        return (self.ask - self.bid) / ((self.ask + self.bid) / 2) * 10_000


class BestPrice(msgspec.Struct, frozen=True, kw_only=True):
    """The best usable price on one side and where it is."""

    venue: str
    price: float
    size: float | None


class SymbolSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Cross-venue statistics over the usable venues of one symbol."""

    venues: int
    """How many usable venues have a mid."""
    min_mid: float | None
    max_mid: float | None
    mean_mid: float | None
    cross_spread_pct: float | None
    """``(best_bid - best_ask) / best_ask * 100``: positive means a crossed market (gross)."""
    dispersion_bps: float | None
    """Population standard deviation of the mids, in basis points of their mean."""
    last: float | None = None
    """Last traded price on the usable venue whose quote is newest."""
    change_24h_pct: float | None = None
    """Median of the usable venues' 24 h changes, in percent."""


class MidSample(NamedTuple):
    """One sample of a symbol's history."""

    ts_ms: int
    """Wall-clock ms of the sample."""
    mid: float
    """Mean mid of the venues usable then."""


class SymbolView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about one symbol in a snapshot."""

    symbol: str
    quotes: tuple[VenueQuote, ...]
    """One per venue that has quoted it, usable or not, in venue order."""
    best_buy: BestPrice | None
    """Lowest usable ask."""
    best_sell: BestPrice | None
    """Highest usable bid."""
    summary: SymbolSummary
    history: tuple[MidSample, ...]
    """Samples, oldest first, bounded (for sparklines and statistics)."""


class SuppressedCount(NamedTuple):
    """How many candidates did not fire for one reason."""

    reason: str
    """A :class:`SuppressReason` value."""
    total: int


class VenueStateEntry(NamedTuple):
    """A venue's connection state as last reported by the feed."""

    venue: str
    state: str
    """A :class:`~cryptows.models.VenueState` value (``"live"`` before any report)."""
    reason: str
    """Why, for every state but live (may be empty)."""


class SymbolProblem(NamedTuple):
    """A symbol one venue cannot stream right now (e.g. not listed there)."""

    venue: str
    symbol: str
    message: str


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The whole market at one moment: what the UI, the CLI and the analysis command read."""

    ts_ms: int
    symbols: tuple[SymbolView, ...]
    open_opportunities: tuple[Opportunity, ...]
    recent_closed: tuple[Opportunity, ...]
    """Most recent closed opportunities, newest first (bounded)."""
    suppressed: tuple[SuppressedCount, ...]
    """Candidates that did not fire, one count per :class:`SuppressReason`, in its order."""
    venue_states: tuple[VenueStateEntry, ...]
    """Every venue seen, by name, as last reported by the feed."""
    demo: bool = False
    threshold_pct: float = 0.0
    """The arbitrage threshold in force (net, or gross when ``gross``)."""
    gross: bool = False
    problems: tuple[SymbolProblem, ...] = ()
    """Symbols a venue cannot stream (e.g. not listed there), by venue then symbol."""
    health: tuple[VenueHealth, ...] = ()
    """Every venue's connection health, in venue order (filled by the market service)."""
    notices: tuple[str, ...] = ()
    """Warnings about the run so far, oldest first (e.g. a symbol listed on one venue only)."""
