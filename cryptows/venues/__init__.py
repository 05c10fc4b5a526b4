"""Venue adapters: one sans-I/O module per exchange, and the registry that names them.

Library API::

    from cryptows.venues import get_adapter
    adapter = get_adapter("binance")       # a fresh adapter (one per connection)
    events = adapter.parse(frame)          # str or bytes, exactly as received
"""

from __future__ import annotations

from cryptows.errors import VenueNameError
from cryptows.registry import VENUE_NAMES, venue_class
from cryptows.venues.base import HeartbeatPolicy, VenueAdapter, VenueLimits

ADAPTERS: dict[str, type[VenueAdapter]] = {
    name: venue_class("cryptows.venues", name, "ADAPTER", VenueAdapter) for name in VENUE_NAMES
}
"""Every supported venue, by name, in display order (:data:`cryptows.registry.VENUE_NAMES`)."""


def adapter_class(name: str) -> type[VenueAdapter]:
    """The adapter class for ``name`` (case-insensitive).

    Raises:
        VenueNameError: ``name`` is not a supported venue; the message lists the supported ones.
    """
    try:
        return ADAPTERS[name.strip().lower()]
    except KeyError:
        raise VenueNameError(
            f"unknown venue {name!r}; supported venues: {', '.join(VENUE_NAMES)}"
        ) from None


def get_adapter(name: str) -> VenueAdapter:
    """A new adapter for venue ``name`` (use one per connection: it tracks its request ids)."""
    return adapter_class(name)()


__all__ = [
    "ADAPTERS",
    "VENUE_NAMES",
    "HeartbeatPolicy",
    "VenueAdapter",
    "VenueLimits",
    "adapter_class",
    "get_adapter",
]
