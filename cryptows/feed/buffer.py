"""The hand-off from every socket to the one consumer: never blocks a producer.

Quotes are *conflated*: while the consumer is behind, a newer quote for the same (venue, symbol,
channel) replaces the one waiting, so memory is bounded by the number of streams and a slow
consumer sees the latest prices instead of a growing backlog. Status events (venue state
changes, symbol errors) are never conflated; they are bounded only as a safety net.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from cryptows.models import Quote

_MAX_STATUS_EVENTS = 10_000

E = TypeVar("E")


class FeedBuffer(Generic[E]):
    """A conflating, order-preserving, non-blocking queue of events (``FeedEvent`` by default;
    the market service also queues its arbitrage events here). Only quotes are conflated."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, E] = OrderedDict()
        self._ids = itertools.count()
        self._statuses = 0
        self._ready = asyncio.Event()
        self.conflated = 0
        """Quotes replaced before the consumer read them (how far behind it has been)."""
        self.dropped_status = 0
        """Status events dropped because more than 10,000 were waiting (should stay 0)."""

    def put(self, event: E) -> None:
        """Queue ``event`` without ever waiting."""
        if isinstance(event, Quote):
            key: Hashable = (event.venue, event.symbol, event.channel)
            if key in self._items:
                self.conflated += 1
                del self._items[key]  # re-insert at the end: keeps order with status events
        else:
            if self._statuses >= _MAX_STATUS_EVENTS:
                self.dropped_status += 1
                return
            key = next(self._ids)
            self._statuses += 1
        self._items[key] = event
        self._ready.set()

    def __len__(self) -> int:
        return len(self._items)

    def drain(self) -> list[E]:
        """Take everything waiting, oldest first, without waiting."""
        events = list(self._items.values())
        self._items.clear()
        self._statuses = 0
        self._ready.clear()
        return events

    async def get_batch(self) -> list[E]:
        """Wait until something is queued, then take everything waiting."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self.drain()
