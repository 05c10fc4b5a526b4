"""A venue over several connections: splitting its symbols, pacing new connections, and one
venue-level health and state for the front ends.

- **Splitting.** A venue carries at most ``VenueLimits.max_topics_per_connection //
  topics_per_symbol`` symbols per connection (``venues.<name>.max_symbols_per_connection``
  may lower it); more symbols are split, in order, over as many connections as needed
  (:func:`split_symbols`). Each connection keeps its own liveness, backoff and reconnects.
- **Pacing.** Every connection attempt of a venue first takes a slot of the venue's
  :class:`ConnectGate` (its documented per-IP rate of new connections, with a margin), so a
  venue split in many connections, or a reconnect storm, never trips that limit.
- **One venue for the front ends.** :class:`VenueShards` sits between the connections and the
  feed's sink. Quotes and symbol events pass through. A venue's state is ``live`` while any of
  its connections is (``N/M conns live`` in the reason when not all are), else the most
  telling state of its connections. Each connection's own changes of state are passed on too,
  scoped to its symbols (``VenueStatus.symbols``): the market's usability rules apply them to
  those (venue, symbol) quotes alone, so a dead connection's quotes are never used while the
  venue's other connections keep theirs usable.
  Health (:meth:`VenueShards.health`) sums counts over the connections and says how many
  there are.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from cryptows.models import FeedEvent, VenueHealth, VenueState, VenueStatus
from cryptows.symbols import Symbol

_SEVERITY = (
    VenueState.FAILED,
    VenueState.STALE,
    VenueState.BACKOFF,
    VenueState.CONNECTING,
    VenueState.LIVE,
    VenueState.IDLE,
    VenueState.STOPPED,
)
"""Most telling first: the state a venue shows when none of its connections is live."""


def split_symbols(symbols: Sequence[Symbol], per_connection: int) -> list[tuple[Symbol, ...]]:
    """``symbols`` in order, in chunks of at most ``per_connection`` (at least one chunk)."""
    size = max(1, per_connection)
    chunks = [tuple(symbols[i : i + size]) for i in range(0, len(symbols), size)]
    return chunks or [()]


class ConnectGate:
    """At most ``limit`` connection attempts in any ``window_s`` (0: no limit)."""

    def __init__(
        self, limit: int, window_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.waited = 0
        """Attempts that had to wait for a slot."""

    def delay(self) -> float:
        """Seconds until a slot frees (0: one is free now)."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[0] + self.window_s - now

    async def acquire(self) -> None:
        """Wait for a slot and take it (callers queue in arrival order)."""
        async with self._lock:
            wait = self.delay()
            if wait > 0:
                self.waited += 1
            while wait > 0:
                await asyncio.sleep(wait)
                wait = self.delay()
            if self.limit > 0:
                self._times.append(self.clock())


class _ShardSink:
    """What one connection puts its events into: its :class:`VenueShards`, knowing which."""

    def __init__(self, shards: VenueShards, index: int) -> None:
        self.shards = shards
        self.index = index

    def put(self, event: FeedEvent) -> None:
        if isinstance(event, VenueStatus):
            self.shards.on_status(self.index, event)
        else:
            self.shards.sink.put(event)


class VenueShards:
    """One venue's connections seen as one venue (module docstring).

    Args:
        venue: The venue's name.
        symbols: Each connection's symbols, by connection.
        sink: Where the venue's events go.
    """

    def __init__(self, venue: str, symbols: Sequence[tuple[Symbol, ...]], sink: _Sink) -> None:
        self.venue = venue
        self.symbols = [tuple(s.canonical for s in shard) for shard in symbols]
        self.sink = sink
        self.states: list[VenueStatus | None] = [None] * len(self.symbols)
        self._shown: tuple[VenueState, str] | None = None

    def sink_for(self, index: int) -> _Sink:
        """The sink connection ``index`` (0-based) puts its events into."""
        return self.sink if len(self.symbols) == 1 else _ShardSink(self, index)

    def label(self, index: int) -> str:
        """How logs and health name connection ``index``: ``binance`` or ``binance#2``."""
        return self.venue if len(self.symbols) == 1 else f"{self.venue}#{index + 1}"

    def on_status(self, index: int, status: VenueStatus) -> None:
        """Connection ``index`` changed state: pass it on scoped to its symbols, then the
        venue's own state if that changed (module docstring)."""
        previous = self.states[index]
        self.states[index] = status
        if len(self.symbols) > 1 and (previous is None or previous.state is not status.state):
            self.sink.put(
                VenueStatus(
                    venue=self.venue,
                    state=status.state,
                    reason=self._scoped(index, status.reason),
                    ts_ms=status.ts_ms,
                    retry_at_ms=status.retry_at_ms,
                    symbols=self.symbols[index],
                )
            )
        state, reason = self._venue_state()
        if state is VenueState.LIVE:
            reason = ""  # how many are live is health's business, not the event's
        if self._shown == (state, reason):
            return
        self._shown = (state, reason)
        retry = status.retry_at_ms if status.state is state else None
        self.sink.put(
            VenueStatus(
                venue=self.venue, state=state, reason=reason, ts_ms=status.ts_ms, retry_at_ms=retry
            )
        )

    def _venue_state(self) -> tuple[VenueState, str]:
        """The venue's state and reason, from its connections' (module docstring)."""
        known = [(i, s) for i, s in enumerate(self.states) if s is not None]
        if not known:
            return VenueState.CONNECTING, ""
        live = sum(1 for _, s in known if s.state is VenueState.LIVE)
        total = len(self.states)
        worst_index, worst = min(known, key=lambda item: _SEVERITY.index(item[1].state))
        if live:
            if live == total:
                return VenueState.LIVE, ""
            if worst.state is VenueState.LIVE:  # the others have not reported yet
                return VenueState.LIVE, f"{live}/{total} conns live"
            why = f": {worst.reason}" if worst.reason else ""
            return (
                VenueState.LIVE,
                f"{live}/{total} conns live; {self.label(worst_index)} {worst.state.value}{why}",
            )
        if total == 1:
            return worst.state, worst.reason
        return worst.state, self._scoped(worst_index, worst.reason)

    def _scoped(self, index: int, reason: str) -> str:
        return f"{self.label(index)}: {reason}" if reason else self.label(index)

    def health(self, parts: Sequence[VenueHealth]) -> VenueHealth:
        """The venue's health from its connections' (``parts``, by connection)."""
        if len(parts) == 1:
            return parts[0]
        state, reason = self._venue_state()
        p50 = [h.lag_p50_ms for h in parts if h.lag_p50_ms is not None]
        p99 = [h.lag_p99_ms for h in parts if h.lag_p99_ms is not None]
        errors: dict[str, str] = {}
        for h in parts:
            errors.update(h.symbol_errors)
        last_errors = [
            f"{self.label(i)}: {h.last_error}" for i, h in enumerate(parts) if h.last_error
        ]
        retry = [h.retry_at_ms for h in parts if h.retry_at_ms is not None and h.state is state]
        return VenueHealth(
            venue=self.venue,
            state=state,
            reason=reason,
            retry_at_ms=min(retry) if retry and state is not VenueState.LIVE else None,
            messages=sum(h.messages for h in parts),
            msgs_per_s=sum(h.msgs_per_s for h in parts),
            bad_frames=sum(h.bad_frames for h in parts),
            lag_p50_ms=sorted(p50)[len(p50) // 2] if p50 else None,
            lag_p99_ms=max(p99) if p99 else None,
            reconnects=sum(h.reconnects for h in parts),
            last_error=last_errors[-1] if last_errors else "",
            symbol_errors=tuple(sorted(errors.items())),
            connections=len(parts),
            live_connections=sum(1 for h in parts if h.state is VenueState.LIVE),
        )


class _Sink(Protocol):
    """:class:`cryptows.feed.connection.FeedSink`, restated here (no import cycle)."""

    def put(self, event: FeedEvent) -> None:
        """Take one event; must not block."""
