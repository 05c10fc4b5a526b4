"""The trade tape of one simulated (venue, book): its trades and the candles they make.

The market engine records a :class:`Trade` whenever a book trades (the trade sets the book's
last price, at the touch: the ask when the buyer took, the bid when the seller did). Every
venue's trade stream, recent-trades REST call, kline/candle stream and REST call reads the same
tape, so on every connection the same trade has the same id, and a candle's close is the last
trade's price.

Trade ids increase by one per trade from a large per-book start (real venues' ids are large);
they are the same on every connection and in REST, as on the real venues.
"""

from __future__ import annotations

import calendar
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

__all__ = [
    "MONTH",
    "WEEK",
    "Candle",
    "Interval",
    "Tape",
    "Trade",
    "choose",
    "merge",
    "period_close",
    "period_open",
]

WEEK: Final = "week"
"""The calendar week (Monday 00:00 UTC on), as an interval."""
MONTH: Final = "month"
"""The calendar month (the 1st, 00:00 UTC on), as an interval."""
Interval = int | Literal["week", "month"]
"""A candle interval: milliseconds (a whole number of minutes), or :data:`WEEK`/:data:`MONTH`."""

_KEEP_TRADES = 1_000
_KEEP_MINUTES = 1_500  # a day of 1 m candles, and then some
_MINUTE_MS = 60_000
_WEEK_MS = 7 * 86_400_000
_MONDAY_MS = 4 * 86_400_000  # 1970-01-05, the first Monday after the epoch


@dataclass(frozen=True, slots=True)
class Trade:
    """One trade of a simulated book."""

    id: int
    """Increases by one per trade of this (venue, book)."""
    ts_ms: int
    price: float
    size: float
    """In the base asset."""
    buyer_taker: bool
    """The buyer took liquidity (traded at the ask); else the seller did (at the bid)."""


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLCV of one interval; an interval without a trade repeats the previous close."""

    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    """Base-asset volume."""
    quote_volume: float
    trades: int


@dataclass(slots=True)
class _Minute:
    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    quote_volume: float = 0.0
    trades: int = 0


class Tape:
    """A (venue, book)'s recent trades (the last 1,000) and 1 m candles (the last 1,500)."""

    def __init__(self, key: str, price: float, start_ms: int) -> None:
        """Args:
        key: the book's name on its venue (``"binance/BTCUSDT"``): sets the first trade id.
        price: the price before the first trade (the first candles' open).
        start_ms: when the tape starts (its first candle's minute).
        """
        self._next_id = 100_000_000 + zlib.crc32(key.encode()) % 900_000_000
        self.trades: deque[Trade] = deque(maxlen=_KEEP_TRADES)
        """The most recent trades, oldest first."""
        self._price = price
        self._minutes: deque[_Minute] = deque(maxlen=_KEEP_MINUTES)
        self._minutes.append(_Minute(_floor(start_ms, _MINUTE_MS), price, price, price, price))

    @property
    def last_id(self) -> int:
        """The id of the latest trade (one less than the first one's before any trade)."""
        return self._next_id - 1

    def record(self, ts_ms: int, price: float, size: float, *, buyer_taker: bool) -> Trade:
        """Add a trade at ``ts_ms`` (never earlier than the previous one)."""
        trade = Trade(self._next_id, ts_ms, price, size, buyer_taker)
        self._next_id += 1
        self.trades.append(trade)
        minute = self._minute(ts_ms)
        minute.high = max(minute.high, price)
        minute.low = min(minute.low, price)
        minute.close = price
        minute.volume += size
        minute.quote_volume += size * price
        minute.trades += 1
        self._price = price
        return trade

    def since(self, after_id: int) -> list[Trade]:
        """The kept trades with an id above ``after_id``, oldest first."""
        if not self.trades or self.trades[-1].id <= after_id:
            return []
        first = self.trades[0].id
        start = max(0, after_id + 1 - first)
        return list(self.trades)[start:]

    def candles(
        self,
        interval: Interval,
        now_ms: int,
        *,
        limit: int = 500,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]:
        """Candles of ``interval`` (ms, a multiple of a minute; or :data:`WEEK`, :data:`MONTH`),
        oldest first, the last one the interval running at ``now_ms``, chosen by
        :func:`choose`. History starts when the tape did."""
        if isinstance(interval, int) and (interval < _MINUTE_MS or interval % _MINUTE_MS):
            raise ValueError(f"interval {interval} ms is not a whole number of minutes")
        self._minute(now_ms)  # roll forward to now
        out: list[Candle] = []
        for minute in self._minutes:
            candle = Candle(
                period_open(minute.open_ms, interval),
                minute.open,
                minute.high,
                minute.low,
                minute.close,
                minute.volume,
                minute.quote_volume,
                minute.trades,
            )
            if out and out[-1].open_ms == candle.open_ms:
                out[-1] = merge(out[-1], candle)
            else:
                out.append(candle)
        return choose(out, limit=limit, start_ms=start_ms, end_ms=end_ms)

    def _minute(self, ts_ms: int) -> _Minute:
        """The candle of the minute of ``ts_ms``, adding flat ones for the minutes in between."""
        current = self._minutes[-1]
        opened = _floor(ts_ms, _MINUTE_MS)
        while current.open_ms < opened:
            price = self._price
            current = _Minute(current.open_ms + _MINUTE_MS, price, price, price, price)
            self._minutes.append(current)
        return current


def _floor(ts_ms: int, interval_ms: int) -> int:
    return ts_ms - ts_ms % interval_ms


def period_open(ts_ms: int, interval: Interval) -> int:
    """Open time of the ``interval`` candle holding ``ts_ms`` (UTC; weeks start on Monday,
    months on the 1st, as every venue's calendar candles do)."""
    if interval == MONTH:
        day = datetime.fromtimestamp(ts_ms / 1000, UTC)
        return calendar.timegm((day.year, day.month, 1, 0, 0, 0)) * 1000
    if interval == WEEK:
        return ts_ms - (ts_ms - _MONDAY_MS) % _WEEK_MS
    return _floor(ts_ms, interval)


def period_close(open_ms: int, interval: Interval) -> int:
    """The last millisecond of the ``interval`` candle opening at ``open_ms``."""
    if interval == MONTH:
        day = datetime.fromtimestamp(open_ms / 1000, UTC)
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000 - 1
    return open_ms + (_WEEK_MS if interval == WEEK else interval) - 1


def merge(first: Candle, then: Candle) -> Candle:
    """One candle covering ``first`` and the one that ``then`` follows it."""
    return Candle(
        first.open_ms,
        first.open,
        max(first.high, then.high),
        min(first.low, then.low),
        then.close,
        first.volume + then.volume,
        first.quote_volume + then.quote_volume,
        first.trades + then.trades,
    )


def choose(
    candles: list[Candle], *, limit: int, start_ms: int | None = None, end_ms: int | None = None
) -> list[Candle]:
    """At most ``limit`` of ``candles`` (oldest first) opening within ``[start_ms, end_ms]``:
    the earliest ones when only ``start_ms`` is given, as the venues' REST calls do, else the
    latest."""
    chosen = [
        c
        for c in candles
        if (start_ms is None or c.open_ms >= start_ms) and (end_ms is None or c.open_ms <= end_ms)
    ]
    if start_ms is not None and end_ms is None:
        return chosen[:limit]
    return chosen[-limit:] if limit > 0 else []
