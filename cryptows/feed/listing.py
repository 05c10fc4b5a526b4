"""The venues' REST symbol lists: read once, shared by every connection of a venue.

A venue split over several connections reads its list once (one request, the others wait for
it), and ``--all`` reads every venue's list in parallel before the feed starts and hands the
same :class:`SymbolLists` to it, so nothing is fetched twice. A list is reused while it is
younger than :data:`LIST_FRESH_S`; a failed read is not kept (the next caller tries again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence

import aiohttp

from cryptows.feed.dial import rest_failure, rest_proxy_for
from cryptows.venues import adapter_class
from cryptows.venues.base import FrameError

LIST_FRESH_S = 60.0
"""How long a symbol list that was read is reused before it is read again."""


class ListUnavailable(Exception):
    """A venue's symbol list could not be read; the message says why, in one line."""


async def fetch_symbol_list(
    http: aiohttp.ClientSession, venue: str, rest_url: str, timeout_s: float
) -> frozenset[str]:
    """Read ``venue``'s REST symbol list (canonical symbols); raises :class:`ListUnavailable`."""
    adapter = adapter_class(venue)()
    url = rest_url.rstrip("/") + adapter.rest_symbols_path
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with http.get(url, timeout=timeout, proxy=rest_proxy_for(url)) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise FrameError(f"HTTP {resp.status}")
        return frozenset(adapter.parse_symbol_list(body))
    except (aiohttp.ClientError, TimeoutError, FrameError, OSError) as exc:
        raise ListUnavailable(rest_failure(exc, url, timeout_s)) from exc


class SymbolLists:
    """The venues' symbol lists, each read at most once at a time and reused while fresh."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lists: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0
        """Requests made (tests check that shards share one)."""

    def seed(self, venue: str, listed: frozenset[str]) -> None:
        """Keep ``listed`` as ``venue``'s list, read just now (elsewhere)."""
        self._lists[venue] = (self.clock(), listed)

    def cached(self, venue: str) -> frozenset[str] | None:
        """``venue``'s list if one was read less than :data:`LIST_FRESH_S` ago."""
        entry = self._lists.get(venue)
        if entry is None or self.clock() - entry[0] >= LIST_FRESH_S:
            return None
        return entry[1]

    async def get(
        self, http: aiohttp.ClientSession, venue: str, rest_url: str, timeout_s: float
    ) -> frozenset[str]:
        """``venue``'s list: the fresh one kept, else read now (one request for all callers).

        Raises :class:`ListUnavailable`.
        """
        lock = self._locks.setdefault(venue, asyncio.Lock())
        async with lock:
            listed = self.cached(venue)
            if listed is None:
                self.fetches += 1
                listed = await fetch_symbol_list(http, venue, rest_url, timeout_s)
                self.seed(venue, listed)
            return listed

    async def read_all(
        self,
        http: aiohttp.ClientSession,
        rest_urls: Mapping[str, str],
        timeout_s: float,
    ) -> dict[str, frozenset[str] | ListUnavailable]:
        """Every venue's list in parallel (venue -> list, or why it could not be had)."""

        async def one(venue: str) -> frozenset[str] | ListUnavailable:
            try:
                return await self.get(http, venue, rest_urls[venue], timeout_s)
            except ListUnavailable as exc:
                return exc

        venues: Sequence[str] = list(rest_urls)
        results = await asyncio.gather(*(one(v) for v in venues))
        return dict(zip(venues, results, strict=True))
