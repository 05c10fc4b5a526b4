"""Per-venue health bookkeeping: state, message rate, bad frames, lag percentiles, reconnects."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from cryptows.clock import wall_ms
from cryptows.models import SymbolStatus, VenueHealth, VenueState, VenueStatus

_RATE_WINDOW_S = 5
_LAG_SAMPLES = 512
_CHANGES_KEPT = 32


def _percentile(sorted_values: list[float], pct: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass(frozen=True, slots=True)
class StateChange:
    """One state transition, timed on the feed's own monotonic clock."""

    at_s: float
    """Monotonic time of the change."""
    state: VenueState
    reason: str
    last_rx_s: float | None
    """Monotonic time the connection last received anything (a frame or a pong) before the
    change, if a connection was open: for ``stale``, ``at_s - last_rx_s`` is how long the feed
    took to give up on a silent venue."""


class HealthTracker:
    """Mutable counters behind one venue's :class:`~cryptows.models.VenueHealth`.

    Cheap on the hot path (``on_frame``/``on_lag`` are O(1)); the percentiles are computed only
    when a snapshot is taken.
    """

    def __init__(self, venue: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.venue = venue
        self.clock = clock
        self.state = VenueState.CONNECTING
        self.reason = ""
        self.retry_at_ms: int | None = None
        self.messages = 0
        self.bad_frames = 0
        self.reconnects = 0
        self.last_error = ""
        self.symbol_errors: dict[str, str] = {}
        self._buckets: deque[list[int]] = deque()  # [second, count], seconds before _second
        self._second = 0
        """The second (``int`` of the monotonic time) frames are being counted in now."""
        self._second_base = 0
        """:attr:`messages` before that second's first frame."""
        self._from_s = 0.0
        self._until_s = 0.0  # [from, until): the current second; empty until the first frame
        self._lags: deque[float] = deque(maxlen=_LAG_SAMPLES)
        self.changes: deque[StateChange] = deque(maxlen=_CHANGES_KEPT)
        """The most recent state changes, oldest first."""

    def transition(
        self,
        state: VenueState,
        reason: str = "",
        retry_at_ms: int | None = None,
        *,
        last_rx_s: float | None = None,
    ) -> VenueStatus | None:
        """Move to ``state``; returns the event to publish, or ``None`` if nothing changed.

        ``last_rx_s`` is the open connection's last receipt (monotonic), kept with the change.
        """
        if (state, reason, retry_at_ms) == (self.state, self.reason, self.retry_at_ms):
            return None
        self.state, self.reason, self.retry_at_ms = state, reason, retry_at_ms
        self.changes.append(StateChange(self.clock(), state, reason, last_rx_s))
        if state in (VenueState.BACKOFF, VenueState.FAILED, VenueState.STALE) and reason:
            self.last_error = reason
        return VenueStatus(
            venue=self.venue, state=state, reason=reason, ts_ms=wall_ms(), retry_at_ms=retry_at_ms
        )

    def symbol_error(
        self,
        symbol: str,
        message: str,
        *,
        unlisted: bool = False,
        suggestions: tuple[str, ...] = (),
    ) -> SymbolStatus | None:
        """Record that ``symbol`` cannot be streamed; returns the event to publish if new."""
        if self.symbol_errors.get(symbol) == message:
            return None
        self.symbol_errors[symbol] = message
        return SymbolStatus(
            venue=self.venue,
            symbol=symbol,
            message=message,
            unlisted=unlisted,
            suggestions=suggestions,
            ts_ms=wall_ms(),
        )

    def symbol_ok(self, symbol: str) -> SymbolStatus | None:
        """``symbol`` streams after all: clear its error; returns the event to publish if any."""
        if self.symbol_errors.pop(symbol, None) is None:
            return None
        return SymbolStatus(
            venue=self.venue, symbol=symbol, message="streaming", ok=True, ts_ms=wall_ms()
        )

    def on_frame(self, now_s: float) -> None:
        """Count one received frame at monotonic time ``now_s``."""
        # The hot path (every frame): a count and a comparison; the second's bucket is only
        # written when the next second begins.
        self.messages += 1
        if not self._from_s <= now_s < self._until_s:
            self._next_second(now_s)

    def _next_second(self, now_s: float) -> None:
        """The frame just counted is the first of another second: close the current one."""
        count = self.messages - 1 - self._second_base
        if count:
            self._buckets.append([self._second, count])
        second = int(now_s)
        self._second, self._second_base = second, self.messages - 1
        self._from_s, self._until_s = float(second), float(second + 1)
        while self._buckets and self._buckets[0][0] <= second - _RATE_WINDOW_S:
            self._buckets.popleft()

    def _rate_buckets(self) -> list[list[int]]:
        """Every second's [second, count], the current one included."""
        current = self.messages - self._second_base
        return [*self._buckets, [self._second, current]] if current else list(self._buckets)

    def on_lag(self, lag_ms: float) -> None:
        """Record one receipt-minus-exchange-timestamp sample."""
        self._lags.append(lag_ms)

    def snapshot(self, now_s: float | None = None) -> VenueHealth:
        """The current :class:`VenueHealth`."""
        now = self.clock() if now_s is None else now_s
        second = int(now)
        recent = sum(c for s, c in self._rate_buckets() if second - _RATE_WINDOW_S < s < second)
        lags = sorted(self._lags)
        return VenueHealth(
            venue=self.venue,
            state=self.state,
            reason=self.reason,
            retry_at_ms=self.retry_at_ms,
            messages=self.messages,
            msgs_per_s=recent / (_RATE_WINDOW_S - 1),
            bad_frames=self.bad_frames,
            lag_p50_ms=_percentile(lags, 50) if lags else None,
            lag_p99_ms=_percentile(lags, 99) if lags else None,
            reconnects=self.reconnects,
            last_error=self.last_error,
            symbol_errors=tuple(sorted(self.symbol_errors.items())),
        )
