"""A deterministic market for dashboard tests: a real Aggregator fed fixed events at fixed times.

The story at ``FIXED_NOW`` (2026-01-01 12:34:56 UTC):

- four venues; ``coinbase`` backs off 3 s before now (retry in 4 s), so its quotes are greyed;
- ``BTCUSDT`` ~96,960 with two open routes for the last 12 s: buy bybit, sell okx (rank 1) and
  buy binance, sell okx (rank 2, sharing the okx sell leg);
- ``ETHUSDT`` ~3,412 with one closed opportunity (buy binance, sell bybit, 5 s, 15 s ago; closed
  below the threshold);
- ``DOGEUSDT`` ~0.3214, not listed on okx, and bybit's DOGE quote is 45 s old (stale by age);
  a route buying binance and selling coinbase opened 10 s ago and closed with a stale leg when
  coinbase went into backoff;
- one notice from the service (about ``BTCUSD``, watched earlier in the run: listed on one venue).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import msgspec

from cryptows.errors import CryptowsError, UsageError
from cryptows.market.aggregator import Aggregator
from cryptows.market.types import Snapshot
from cryptows.models import (
    Channel,
    FeedEvent,
    Quote,
    SymbolStatus,
    VenueHealth,
    VenueState,
    VenueStatus,
)
from cryptows.symbols import Symbol, parse_symbol, parse_symbols

FIXED_NOW = 1_767_270_896_000
"""2026-01-01 12:34:56 UTC, in ms."""
VENUES = ("binance", "bybit", "okx", "coinbase")
SYMBOLS = ("BTCUSDT", "ETHUSDT", "DOGEUSDT")
FEES = {"binance": 0.1, "bybit": 0.1, "okx": 0.08, "coinbase": 0.6}
THRESHOLD = 0.1
HYSTERESIS = 0.02
MAX_AGE_MS = 30_000
NOTICE = (
    "BTCUSD is listed on coinbase only (not on binance, bybit, okx): no cross-venue price or "
    "arbitrage for it"
)
SAMPLES = 23
"""One round of quotes per second, from 25 s to 3 s before now."""

_BASE = {"BTCUSDT": 96_960.0, "ETHUSDT": 3_412.5, "DOGEUSDT": 0.32145}
_WAVE = {"BTCUSDT": 40.0, "ETHUSDT": 3.0, "DOGEUSDT": 0.0004}
_HALF_SPREAD = {"BTCUSDT": 0.05, "ETHUSDT": 0.01, "DOGEUSDT": 0.00001}
_SIZES = {"BTCUSDT": (0.42, 1.3), "ETHUSDT": (12.5, 8.25), "DOGEUSDT": (125_000.0, 98_500.0)}
_CHANGE = {"BTCUSDT": 1.23, "ETHUSDT": -0.87, "DOGEUSDT": 4.56}


def _offset(symbol: str, venue: str, i: int) -> float:
    """Each venue's relative offset from the common mid in round ``i`` (the dislocations)."""
    if symbol == "BTCUSDT" and i >= 13:  # bybit and binance cheap, okx rich: open since -12 s
        return {"bybit": -0.0015, "binance": -0.0014, "okx": 0.0015}.get(venue, 0.0)
    if symbol == "ETHUSDT" and 5 <= i < 10:  # binance cheap, bybit rich for 5 s
        return {"binance": -0.0017, "bybit": 0.0017}.get(venue, 0.0)
    if symbol == "DOGEUSDT" and venue == "coinbase" and i >= 15:  # rich from -10 s on
        return 0.009
    return {"binance": 0.0, "bybit": 0.00002, "okx": -0.00002, "coinbase": 0.00004}[venue]


def quote(symbol: str, venue: str, mid: float, ts_ms: int, *, last: float | None = None) -> Quote:
    """A book quote around ``mid`` received at ``ts_ms`` (with last, volume and 24 h change)."""
    half = _HALF_SPREAD[symbol]
    bid_size, ask_size = _SIZES[symbol]
    return Quote(
        venue=venue,
        symbol=symbol,
        channel=Channel.BOOK,
        bid=round(mid - half, 8),
        bid_size=bid_size,
        ask=round(mid + half, 8),
        ask_size=ask_size,
        last=round(last if last is not None else mid, 8),
        volume_24h=1000.0,
        change_24h_pct=_CHANGE[symbol] + VENUES.index(venue) * 0.01,
        exchange_ts_ms=ts_ms - 20,
        recv_wall_ms=ts_ms,
    )


def story(now: int = FIXED_NOW) -> list[FeedEvent]:
    """Every feed event of the frozen market, in time order."""
    events: list[tuple[int, FeedEvent]] = []
    start = now - 60_000
    for venue in VENUES:
        events.append((start, VenueStatus(venue=venue, state=VenueState.LIVE, ts_ms=start)))
    events.append((start, SymbolStatus(
        venue="okx", symbol="DOGEUSDT", message="not listed on okx", unlisted=True, ts_ms=start
    )))  # fmt: skip
    events.append((now - 45_000, quote("DOGEUSDT", "bybit", 0.32150, now - 45_000)))
    for i in range(SAMPLES):
        ts = now - 25_000 + i * 1000
        for symbol in SYMBOLS:
            mid = _BASE[symbol] + _WAVE[symbol] * math.sin(i / 3)
            for venue in VENUES:
                if symbol == "DOGEUSDT" and venue in ("okx", "bybit"):
                    continue
                if venue == "coinbase" and i > 20:
                    continue
                events.append((ts, quote(symbol, venue, mid * (1 + _offset(symbol, venue, i)), ts)))
    events.append((now - 3_000, VenueStatus(
        venue="coinbase", state=VenueState.BACKOFF, reason="closed by venue with code 1006",
        ts_ms=now - 3_000, retry_at_ms=now + 4_000,
    )))  # fmt: skip
    events.sort(key=lambda e: e[0])
    return [e for _, e in events]


def health(now: int = FIXED_NOW) -> list[VenueHealth]:
    """Hand-written venue health matching :func:`story`."""
    return [
        VenueHealth(venue="binance", state=VenueState.LIVE, messages=9_120, msgs_per_s=152.3,
                    lag_p50_ms=12.0, lag_p99_ms=48.0),
        VenueHealth(venue="bybit", state=VenueState.LIVE, messages=5_210, msgs_per_s=88.0,
                    lag_p50_ms=25.0, lag_p99_ms=91.0, reconnects=1, last_error="pong timeout"),
        VenueHealth(venue="okx", state=VenueState.LIVE, messages=3_700, msgs_per_s=61.4,
                    lag_p50_ms=31.0, lag_p99_ms=120.0,
                    symbol_errors=(("DOGEUSDT", "not listed on okx"),)),
        VenueHealth(venue="coinbase", state=VenueState.BACKOFF,
                    reason="closed by venue with code 1006", retry_at_ms=now + 4_000,
                    messages=1_004, msgs_per_s=0.0, lag_p50_ms=40.0, lag_p99_ms=210.0,
                    reconnects=3, last_error="closed by venue with code 1006"),
    ]  # fmt: skip


class FrozenMarket:
    """A :class:`~cryptows.service.MarketService` whose clock stands still at ``FIXED_NOW``.

    ``scenario``: ``"normal"`` (the story above), ``"connecting"`` (no data yet, every venue
    connecting) or ``"offline"`` (the story, then every venue backing off).
    """

    def __init__(
        self, scenario: str = "normal", *, demo: bool = True, replay: bool = False
    ) -> None:
        self.demo = demo
        self.replay = replay
        self.finished = False
        """A replay that has played its last record (tests set it)."""
        self.paused = False
        """What the app last passed to :meth:`set_paused`."""
        self.venues = VENUES
        self.now = FIXED_NOW
        self.failure: CryptowsError | None = None
        self.snapshots = 0
        """How many snapshots were taken (a paused display takes none)."""
        self.notices: list[str] = [] if scenario == "connecting" else [NOTICE]
        """The service's warnings so far (tests append to raise a new one)."""
        self._symbols: list[Symbol] = list(parse_symbols(list(SYMBOLS)))
        self.aggregator = Aggregator(
            self._symbols,
            fees_pct=FEES,
            threshold_pct=THRESHOLD,
            hysteresis_pct=HYSTERESIS,
            max_quote_age_ms=MAX_AGE_MS,
            demo=demo,
        )
        if scenario == "connecting":
            self.health = [VenueHealth(venue=v, state=VenueState.CONNECTING) for v in VENUES]
            return
        self.feed(story())
        self.health = health()
        if scenario == "offline":
            down = [
                VenueStatus(venue=v, state=VenueState.BACKOFF, reason="no route to host",
                            ts_ms=FIXED_NOW - 1_000, retry_at_ms=FIXED_NOW + 9_000)
                for v in VENUES
            ]  # fmt: skip
            self.feed(down)
            self.health = [
                msgspec.structs.replace(h, state=VenueState.BACKOFF, reason="no route to host",
                                        retry_at_ms=FIXED_NOW + 9_000)
                for h in self.health
            ]  # fmt: skip

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(s.canonical for s in self._symbols)

    def feed(self, events: Iterable[FeedEvent]) -> None:
        """Apply feed events to the aggregator (tests use this to move the market)."""
        for event in events:
            self.aggregator.on_event(event)

    def snapshot(self, now_ms: int | None = None) -> Snapshot:
        self.snapshots += 1
        snap = self.aggregator.snapshot(self.now if now_ms is None else now_ms)
        return msgspec.structs.replace(snap, health=tuple(self.health), notices=tuple(self.notices))

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def set_threshold(self, threshold_pct: float) -> None:
        if not math.isfinite(threshold_pct) or not 0 <= threshold_pct <= 20:
            raise UsageError(f"threshold {threshold_pct:g} % is out of range (0 to 20)")
        self.aggregator.set_threshold(threshold_pct, min(HYSTERESIS, threshold_pct))

    def add_symbol(self, text: str) -> str:
        symbol = parse_symbol(text)
        if symbol.canonical in self.symbols:
            raise UsageError(f"{symbol.canonical} is already watched")
        self._symbols.append(symbol)
        self.aggregator.set_symbols(self._symbols, self.now)
        return symbol.canonical

    def remove_symbol(self, symbol: str) -> None:
        if symbol not in self.symbols:
            raise UsageError(f"{symbol} is not watched")
        self._symbols = [s for s in self._symbols if s.canonical != symbol]
        self.aggregator.set_symbols(self._symbols, self.now)
