"""Whether a venue's quote may be used: its venue's last state, its outages, its age. Pure.

Rules (see also :mod:`cryptows.market.aggregator`): a quote is usable unless its venue's last
:class:`~cryptows.models.VenueStatus` is not ``LIVE`` (a venue with no status yet counts as live:
quotes only arrive on live connections), or it was received before the venue last left ``LIVE``
(live again, but no fresh quote yet), or ``max_quote_age_ms > 0`` and it is older than that.

A status naming symbols (``VenueStatus.symbols``: one connection of a venue split over several)
applies the same rules to those (venue, symbol) quotes alone; the venue's other quotes keep
the venue's own state.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptows.market.types import VenueStateEntry
from cryptows.models import VenueState, VenueStatus

Scope = str | tuple[str, str]
"""What a state applies to: a venue, or one (venue, symbol) of a connection of a split venue."""


class Usability:
    """The venues' states as reported by the feed, and the verdict on a quote at a given time."""

    def __init__(self, max_quote_age_ms: int = 0) -> None:
        self.max_quote_age_ms = max_quote_age_ms
        """When positive, a quote older than this is not usable."""
        self._status: dict[str, VenueStatus] = {}
        """Venue -> its last reported status."""
        self._block: dict[Scope, str] = {}
        """Venue (or one connection's (venue, symbol)) -> why its quotes are not usable, while
        its last state is not live."""
        self._down_since: dict[Scope, int] = {}
        """Venue (or (venue, symbol)) -> when it last left LIVE: quotes received before then
        are not reused."""
        self._scoped = False
        """Whether any connection's own state was ever reported (a venue split over several):
        until then :meth:`check` looks at the venue alone."""
        self.troubled: set[str] = set()
        """The venues that ever left LIVE: for any other, with no ``max_quote_age_ms``, a quote
        is usable without a :meth:`check` (the hot path asks this first)."""

    def on_status(self, status: VenueStatus) -> None:
        """Record a venue's new state (or, with ``status.symbols``, one of its connections')."""
        venue = status.venue
        scopes: list[Scope]
        if status.symbols:
            self._scoped = True
            scopes = [(venue, symbol) for symbol in status.symbols]
        else:
            self._status[venue] = status
            scopes = [venue]
        if status.state is VenueState.LIVE:
            for scope in scopes:
                self._block.pop(scope, None)
            return
        self.troubled.add(venue)
        text = f"{venue} {status.state.value}"
        reason = f"{text}: {status.reason}" if status.reason else text
        for scope in scopes:
            self._block[scope] = reason
            self._down_since[scope] = max(status.ts_ms, self._down_since.get(scope, 0))

    def check(self, venue: str, symbol: str, recv_ms: int, now: int) -> tuple[bool, str]:
        """Whether ``venue``'s quote of ``symbol`` received at ``recv_ms`` is usable at ``now``;
        if not, why: the venue's (or the symbol's connection's) state (``"binance backing off:
        closed by venue with code 1001"``), ``"binance: no fresh quote since it reconnected"``
        or ``"quote older than 5000 ms"``."""
        scopes: tuple[Scope, ...] = (venue, (venue, symbol)) if self._scoped else (venue,)
        for scope in scopes:
            blocked = self._block.get(scope)
            if blocked is not None:
                return False, blocked
            down = self._down_since.get(scope)
            if down is not None and recv_ms <= down:
                # Live again, but this quote predates the outage: wait for a fresh one.
                return False, f"{venue}: no fresh quote since it reconnected"
        if self.max_quote_age_ms > 0 and now - recv_ms > self.max_quote_age_ms:
            return False, f"quote older than {self.max_quote_age_ms} ms"
        return True, ""

    def venue_states(self, quoting: Iterable[str]) -> tuple[VenueStateEntry, ...]:
        """Every venue that reported a state or is in ``quoting``, by name (live if it has not
        reported)."""
        entries: list[VenueStateEntry] = []
        for venue in sorted(set(self._status) | set(quoting)):
            status = self._status.get(venue)
            if status is None:
                entries.append(VenueStateEntry(venue, VenueState.LIVE.value, ""))
            else:
                entries.append(VenueStateEntry(venue, status.state.value, status.reason))
        return tuple(entries)
