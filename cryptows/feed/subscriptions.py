"""Which of the requested symbols a venue streams, and keeping each one subscribed or explained.

- **Validation.** Before subscribing, the venue's REST symbol list is read: a symbol it does not
  list is dropped and reported ``unlisted`` (with what it lists instead), since Binance would ack
  it and stay silent and Coinbase would void the whole subscribe. If the list cannot be had,
  every symbol is subscribed and the venue's own errors speak; the list is tried again on the
  next connection.
- **Refusals.** A symbol the venue refuses is reported and not asked for again on that
  connection. A venue that drops a whole request for one bad symbol gets the request's other
  symbols again; a refusal that names no symbol, of a request naming several, is narrowed down
  by asking again one symbol per request.
- **Silence.** A subscribed symbol with no data ``symbol_timeout_s`` after subscribing is
  reported (``0``: never). Any reported problem of a symbol clears at its first quote on a
  connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import aiohttp

from cryptows.feed.health import HealthTracker
from cryptows.feed.listing import ListUnavailable, SymbolLists
from cryptows.models import FeedEvent, SubscriptionError
from cryptows.symbols import Symbol, listed_alternatives
from cryptows.venues.base import VenueAdapter

Send = Callable[[str], Awaitable[None]]
"""Sends one client frame on the open connection (through its send gate)."""


class Subscriptions:
    """One venue's symbols: requested, validated, refused and seen (module docstring)."""

    def __init__(
        self,
        adapter_cls: type[VenueAdapter],
        symbols: Sequence[Symbol],
        *,
        rest_url: str,
        open_timeout_s: float,
        symbol_timeout_s: float,
        health: HealthTracker,
        put: Callable[[FeedEvent], None],
        http: aiohttp.ClientSession,
        lists: SymbolLists | None = None,
    ) -> None:
        self.adapter_cls = adapter_cls
        self.name = adapter_cls.name
        self.requested = tuple(symbols)
        self.rest_url = rest_url
        """The venue's REST base URL (its symbol list is read there)."""
        self.open_timeout_s = open_timeout_s
        """How long reading the symbol list may take."""
        self.symbol_timeout_s = symbol_timeout_s
        """A subscribed symbol silent this long is reported (0: never)."""
        self.health = health
        self.put = put
        """Where symbol problems (and their clearing) go."""
        self.http = http
        self.lists = lists if lists is not None else SymbolLists()
        """Where the venue's symbol list is read (shared by the venue's connections)."""
        self.symbols: tuple[Symbol, ...] = ()
        """The symbols actually subscribed (requested minus those the venue does not list)."""
        self.validated = False
        """The venue's symbol list has been read (``symbols`` holds only listed ones)."""
        self._seen: set[str] = set()
        """Symbols quoted on the current connection."""
        self._refused: set[str] = set()
        """Symbols the venue refused on the current connection (not resubscribed on it)."""

    def new_connection(self) -> None:
        """A new connection starts: nothing seen or refused on it yet."""
        self._seen.clear()
        self._refused.clear()

    def on_quote(self, symbol: str) -> None:
        """``symbol`` quoted: the first time on a connection, clear any problem it had."""
        if symbol not in self._seen:
            self._seen.add(symbol)
            cleared = self.health.symbol_ok(symbol)
            if cleared is not None:
                self.put(cleared)

    async def subscribe(self, send: Send, adapter: VenueAdapter, symbols: Sequence[Symbol]) -> None:
        """Send ``adapter``'s subscribe frames for ``symbols``."""
        for frame in adapter.subscribe(symbols):
            await send(frame)

    async def on_error(self, event: SubscriptionError, send: Send, adapter: VenueAdapter) -> None:
        """The venue refused a request: record it, and subscribe again what was dropped with it."""
        request = adapter.request(event.req_id)
        if event.symbol is None:
            self.health.last_error = f"venue error: {event.message}"
            if request is not None and request.op == "subscribe" and len(request.symbols) > 1:
                # The venue refused a request naming several symbols without saying which one
                # was at fault: ask again one symbol per request to find it.
                for symbol in self.symbols:
                    if (
                        symbol.canonical in request.symbols
                        and symbol.canonical not in self._refused
                    ):
                        await self.subscribe(send, adapter, [symbol])
            return
        self._refused.add(event.symbol)
        status = self.health.symbol_error(event.symbol, event.message)
        if status is not None:
            self.put(status)
        if not adapter.rejects_whole_request:
            return
        # The venue dropped the whole request: subscribe its other symbols again.
        named = request.symbols if request is not None else tuple(s.canonical for s in self.symbols)
        again = [
            s for s in self.symbols if s.canonical in named and s.canonical not in self._refused
        ]
        if again:
            await self.subscribe(send, adapter, again)

    async def watch(self) -> None:
        """After ``symbol_timeout_s``, report every subscribed symbol that has sent nothing."""
        timeout = self.symbol_timeout_s
        if not timeout:
            return
        await asyncio.sleep(timeout)
        for symbol in self.symbols:
            if symbol.canonical not in self._seen and symbol.canonical not in self._refused:
                status = self.health.symbol_error(
                    symbol.canonical,
                    f"no data for {timeout:g} s after subscribing (is it listed on {self.name}?)",
                )
                if status is not None:
                    self.put(status)

    async def validate(self) -> None:
        """Drop symbols the venue's REST list does not have (module docstring). If the list
        cannot be had, subscribe to everything and let the venue's own errors speak."""
        try:
            listed = await self.lists.get(self.http, self.name, self.rest_url, self.open_timeout_s)
        except ListUnavailable as exc:
            self.health.last_error = f"symbol list unavailable ({exc}); not validated"
            self.symbols = self.requested
            return
        self.validated = True
        self.symbols = tuple(s for s in self.requested if s.canonical in listed)
        for symbol in self.requested:
            if symbol.canonical not in listed:
                alternatives = tuple(listed_alternatives(symbol.canonical, listed))
                hint = f" (did you mean {' or '.join(alternatives)}?)" if alternatives else ""
                status = self.health.symbol_error(
                    symbol.canonical,
                    f"{symbol.canonical} is not listed on {self.name}{hint}",
                    unlisted=True,
                    suggestions=alternatives,
                )
                if status is not None:
                    self.put(status)
