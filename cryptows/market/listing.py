"""Which venues list each symbol, as the feed reveals it, and what to tell the user. Pure.

A venue *lists* a symbol once it has quoted it, and does not once it reported it unlisted (a
:class:`~cryptows.models.SymbolStatus` with ``unlisted``). Two findings matter to the user:

- a symbol listed on exactly one of several venues (the others said so, that one has quoted
  it): no cross-venue price or arbitrage for it. Said once per symbol, as a notice.
- a symbol the user started with that no venue lists (a typo, most likely): the run cannot do
  anything for it, so it ends with a usage error suggesting what the venues list instead. One
  added later only shows as a problem.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptows.errors import UsageError
from cryptows.models import SymbolStatus


class Listings:
    """What the feed said about where ``venues`` list each symbol (module docstring).

    Args:
        venues: The venues streamed.
        initial: The canonical symbols the run started with.
    """

    def __init__(self, venues: Iterable[str], initial: Iterable[str]) -> None:
        self.venues = tuple(venues)
        self.initial = frozenset(initial)
        self._unlisted: dict[str, set[str]] = {}
        """Symbol -> the venues that said they do not list it."""
        self._quoted: dict[str, set[str]] = {}
        """Symbol -> the venues that have quoted it (proof that they list it)."""
        self._warned_single: set[str] = set()
        self._suggested: dict[str, dict[str, None]] = {}
        """Symbol -> what the venues list instead (in order of first mention)."""

    def on_quote(self, symbol: str, venue: str) -> str | None:
        """``venue`` quoted ``symbol``; returns a notice to give, if this is news worth one."""
        quoted = self._quoted.get(symbol)  # every quote: no set built to be thrown away
        if quoted is None:
            quoted = self._quoted[symbol] = set()
        elif venue in quoted:
            return None
        quoted.add(venue)
        return self._single_listing(symbol)

    def on_status(self, status: SymbolStatus) -> tuple[str | None, UsageError | None]:
        """Take one symbol status; returns a notice to give and an error that ends the run
        (either may be ``None``)."""
        if not status.unlisted:
            return None, None
        where = self._unlisted.setdefault(status.symbol, set())
        if status.venue in where:
            return None, None
        where.add(status.venue)
        notice = self._single_listing(status.symbol)
        if status.symbol not in self.initial:
            return notice, None
        self._suggested.setdefault(status.symbol, {}).update(dict.fromkeys(status.suggestions))
        if not where >= set(self.venues):
            return notice, None
        alternatives = list(self._suggested.get(status.symbol, {}))[:3]
        hint = (
            f"did you mean {' or '.join(alternatives)}?"
            if alternatives
            else "check the symbol (e.g. BTCUSDT, ETH-USDT, BTC-USD)"
        )
        venues = ", ".join(sorted(self.venues))
        return notice, UsageError(f"{status.symbol} is not listed on any of {venues}; {hint}")

    def _single_listing(self, symbol: str) -> str | None:
        """The notice for ``symbol`` when it is known to be listed on exactly one of several
        venues (the others said it is not listed, and that one has quoted it), once."""
        where = self._unlisted.get(symbol, set())
        listing = [v for v in self.venues if v not in where]
        if len(self.venues) < 2 or len(listing) != 1 or symbol in self._warned_single:
            return None
        if listing[0] not in self._quoted.get(symbol, ()):
            return None
        self._warned_single.add(symbol)
        return (
            f"{symbol} is listed on {listing[0]} only (not on "
            f"{', '.join(v for v in self.venues if v in where)}): no cross-venue price or "
            "arbitrage for it"
        )
