"""The venue registry: one list of names, from which the adapters and simulators are found."""

from __future__ import annotations

import sys
import types

import pytest

import cryptows.venues as venues
from cryptows.registry import VENUE_NAMES, venue_class
from cryptows.sim.cluster import SIMULATORS
from cryptows.sim.server import SimVenueServer
from cryptows.venues.base import VenueAdapter
from cryptows.venues.binance import BinanceAdapter


def test_adapters_and_simulators_follow_the_one_list() -> None:
    assert tuple(venues.ADAPTERS) == tuple(SIMULATORS) == VENUE_NAMES == venues.VENUE_NAMES
    for name in VENUE_NAMES:
        assert venues.ADAPTERS[name].name == name
        assert SIMULATORS[name].name == name


@pytest.mark.parametrize("adapter", [None, BinanceAdapter, "not a class", SimVenueServer])
def test_a_venue_module_must_name_its_own_adapter(
    monkeypatch: pytest.MonkeyPatch, adapter: object
) -> None:
    module = types.ModuleType("cryptows.venues.newvenue")
    if adapter is not None:
        module.ADAPTER = adapter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cryptows.venues.newvenue", module)
    with pytest.raises(TypeError, match=r"cryptows\.venues\.newvenue must set ADAPTER to its"):
        venue_class("cryptows.venues", "newvenue", "ADAPTER", VenueAdapter)
