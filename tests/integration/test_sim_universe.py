"""The whole universe over the simulators' REST lists and streams, read by the real client."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from cryptows.feed.manager import FeedManager
from cryptows.models import Quote
from cryptows.sim.cluster import SIMULATORS, SimCluster
from cryptows.symbols import parse_symbols
from cryptows.venues import get_adapter
from tests.integration.conftest import VENUES, bound, settings_for


@pytest.mark.parametrize("venue", list(SIMULATORS))
async def test_each_rest_list_is_the_whole_listing_in_the_venues_shape(venue: str) -> None:
    adapter = get_adapter(venue)
    async with SimCluster([venue], seed=3) as cluster, aiohttp.ClientSession() as http:
        url = cluster[venue].rest_url + adapter.rest_symbols_path
        async with http.get(url) as resp:
            assert resp.status == 200
            listed = adapter.parse_symbol_list(await resp.read())
        cluster[venue].faults.delisted.add("PEPEUSDT" if venue != "coinbase" else "AMPUSD")
        async with http.get(url) as resp:
            fewer = adapter.parse_symbol_list(await resp.read())
    assert listed == SIMULATORS[venue].profile.listings
    assert len(fewer) == len(listed) - 1
    # Listing books is not trading them: no book of the wide market was evolved.
    assert not cluster.engine._wide._books  # noqa: SLF001


async def test_only_subscribed_wide_books_stream_and_agree_across_venues() -> None:
    wanted = parse_symbols(["WIFUSDT", "TAOUSDT", "PEPEUSDT"])  # Binance, Bybit, OKX each
    async with SimCluster(VENUES, seed=3, dislocations=False) as cluster:
        settings = settings_for(cluster)
        seen: dict[tuple[str, str], Quote] = {}
        async with FeedManager(settings, wanted, ["binance", "bybit", "okx"]) as manager:

            async def read() -> None:
                async for event in manager.events():
                    if isinstance(event, Quote) and event.bid is not None:
                        seen[event.venue, event.symbol] = event
                        if len(seen) == 9:
                            return

            await asyncio.wait_for(read(), bound(10))
        books = cluster.engine._wide._books  # noqa: SLF001
    assert {s for _, s in books} == {s.canonical for s in wanted}
    for symbol in wanted:
        bids = [q.bid for (_, s), q in seen.items() if s == symbol.canonical and q.bid]
        assert max(bids) / min(bids) < 1.003, (symbol, bids)
