"""The supported venues: the one list a new venue is added to.

Each name ``v`` here is a module ``cryptows.venues.v`` that sets ``ADAPTER`` to its adapter class
and a module ``cryptows.sim.v`` that sets ``SIMULATOR`` to its simulated server;
:data:`cryptows.venues.ADAPTERS` and :data:`cryptows.sim.cluster.SIMULATORS` are built from this
list, and config keys, the example config, ``--venues`` help, the dashboard's short names and
the tests that run every venue derive from them. It lives outside :mod:`cryptows.venues` and
imports nothing of cryptows, so that ``cryptows --help`` can name the venues without loading the
adapters (and msgspec).
"""

from __future__ import annotations

import importlib
from typing import Any

VENUE_NAMES: tuple[str, ...] = ("binance", "bybit", "okx", "coinbase")
"""Every supported venue, by name, in display order (also the market seed's venue order)."""


def venue_class(package: str, venue: str, attribute: str, base: type) -> type[Any]:
    """The ``base`` subclass that module ``<package>.<venue>`` names as ``attribute``.

    (``base`` is abstract, which mypy does not let a ``type[T]`` parameter take: the callers'
    annotations give the result its type.)

    Raises:
        TypeError: the module does not set ``attribute`` to a ``base`` subclass whose ``name``
            is ``venue``.
    """
    module = importlib.import_module(f"{package}.{venue}")
    cls = getattr(module, attribute, None)
    named = getattr(cls, "name", None) == venue
    if not (isinstance(cls, type) and issubclass(cls, base) and named):
        raise TypeError(
            f"{package}.{venue} must set {attribute} to its venue's {base.__name__} subclass"
        )
    return cls
