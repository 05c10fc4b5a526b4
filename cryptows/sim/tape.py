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

import zlib
from collections import deque
from dataclasses import dataclass

__all__ = ["Candle", "Tape", "Trade"]

_KEEP_TRADES = 1_000
_KEEP_MINUTES = 1_500  # a day of 1 m candles, and then some
_MINUTE_MS = 60_000


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
        interval_ms: int,
        now_ms: int,
        *,
        limit: int = 500,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]:
        """Candles of ``interval_ms`` (a multiple of a minute), oldest first, the last one the
        interval running at ``now_ms``; at most ``limit``, the latest of those opening within
        ``[start_ms, end_ms]`` (the earliest ones when only ``start_ms`` is given, as the
        venues' REST calls do). History starts when the tape did."""
        if interval_ms < _MINUTE_MS or interval_ms % _MINUTE_MS:
            raise ValueError(f"interval {interval_ms} ms is not a whole number of minutes")
        self._minute(now_ms)  # roll forward to now
        out: list[Candle] = []
        for minute in self._minutes:
            opened = _floor(minute.open_ms, interval_ms)
            if out and out[-1].open_ms == opened:
                prev = out[-1]
                out[-1] = Candle(
                    opened,
                    prev.open,
                    max(prev.high, minute.high),
                    min(prev.low, minute.low),
                    minute.close,
                    prev.volume + minute.volume,
                    prev.quote_volume + minute.quote_volume,
                    prev.trades + minute.trades,
                )
            else:
                out.append(
                    Candle(
                        opened,
                        minute.open,
                        minute.high,
                        minute.low,
                        minute.close,
                        minute.volume,
                        minute.quote_volume,
                        minute.trades,
                    )
                )
        chosen = [
            c
            for c in out
            if (start_ms is None or c.open_ms >= start_ms)
            and (end_ms is None or c.open_ms <= end_ms)
        ]
        if start_ms is not None and end_ms is None:
            return chosen[:limit]
        return chosen[-limit:] if limit > 0 else []

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
