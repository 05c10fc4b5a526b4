"""The real feed client against the simulated venues, every venue at once, with faults."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from cryptows.feed.manager import FeedManager
from cryptows.models import SymbolStatus, VenueState, VenueStatus
from cryptows.sim.cluster import SimCluster
from tests.integration.conftest import ALL_PAIRS, SYMBOLS, VENUES, Recorder, bound, settings_for


async def test_quotes_from_every_venue_for_every_symbol(cluster: SimCluster) -> None:
    async with FeedManager(settings_for(cluster), SYMBOLS) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "a quote from every venue/symbol")
        health = manager.health()
        await rec.close()
    assert all(h.state is VenueState.LIVE for h in health.values())
    assert all(h.bad_frames == 0 for h in health.values())
    assert all(h.messages > 0 for h in health.values())


async def test_drop_is_followed_by_reconnect_exact_resubscribe_and_quotes(
    cluster: SimCluster,
) -> None:
    async with FeedManager(settings_for(cluster), SYMBOLS) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "first quotes")
        before = {name: _server_subscriptions(cluster, name) for name in VENUES}
        for name in VENUES:
            cluster[name].drop_all()
        mark = len(rec.events)
        await rec.wait(lambda: rec.pairs(mark) >= ALL_PAIRS, 10, "quotes after the drop")
        health = manager.health()
        after = {name: _server_subscriptions(cluster, name) for name in VENUES}
        await rec.close()
    assert all(h.reconnects >= 1 for h in health.values())
    assert after == before
    assert all(cluster[name].connections_total >= 2 for name in VENUES)
    states = [(e.venue, e.state) for e in rec.events[mark:] if isinstance(e, VenueStatus)]
    for name in VENUES:
        assert (name, VenueState.BACKOFF) in states
        assert (name, VenueState.LIVE) in states


def _server_subscriptions(cluster: SimCluster, venue: str) -> set[tuple[str, str]]:
    subs: set[tuple[str, str]] = set()
    for session in cluster[venue].sessions:
        subs |= set(session.subscriptions())
    return subs


@pytest.mark.parametrize("code", [1001, 1011])
async def test_close_with_code_reconnects(cluster: SimCluster, code: int) -> None:
    async with FeedManager(settings_for(cluster), SYMBOLS, ["okx", "bybit"]) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: {v for v, _ in rec.pairs()} == {"okx", "bybit"}, 10, "quotes")
        await cluster["okx"].close_all(code, "fault")
        mark = len(rec.events)
        await rec.wait(lambda: ("okx", "BTCUSDT") in rec.pairs(mark), 10, "okx quotes again")
        health = manager.health()["okx"]
        await rec.close()
    assert health.reconnects >= 1
    assert f"code {code}" in health.last_error


@pytest.mark.parametrize("status", [451, 503])
async def test_one_venue_refusing_leaves_the_others_streaming(
    cluster: SimCluster, status: int
) -> None:
    cluster["binance"].faults.handshake_status = status
    async with FeedManager(settings_for(cluster), SYMBOLS) as manager:
        rec = Recorder(manager)
        others = {p for p in ALL_PAIRS if p[0] != "binance"}
        await rec.wait(lambda: rec.pairs() >= others, 10, "quotes from the other venues")
        await rec.wait(
            lambda: f"HTTP {status}" in manager.health()["binance"].last_error, 5, "binance error"
        )
        health = manager.health()
        await rec.close()
    assert not any(q.venue == "binance" for q in rec.quotes())
    expected = VenueState.FAILED if status == 451 else VenueState.BACKOFF
    assert health["binance"].state in (expected, VenueState.CONNECTING)
    assert all(health[v].state is VenueState.LIVE for v in VENUES if v != "binance")


async def test_garbage_frame_is_counted_not_fatal(cluster: SimCluster) -> None:
    async with FeedManager(settings_for(cluster), SYMBOLS) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "first quotes")
        for name in VENUES:
            await cluster[name].send_garbage()
        mark = len(rec.events)
        await rec.wait(lambda: rec.pairs(mark) >= ALL_PAIRS, 10, "quotes after garbage")
        health = manager.health()
        await rec.close()
    for name in VENUES:
        assert health[name].bad_frames == 1
        assert health[name].reconnects == 0
        assert health[name].state is VenueState.LIVE


async def test_oversize_frame_replaces_the_connection(cluster: SimCluster) -> None:
    async with FeedManager(settings_for(cluster), SYMBOLS, ["bybit"]) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: ("bybit", "BTCUSDT") in rec.pairs(), 10, "quotes")
        await cluster["bybit"].send_oversize()
        mark = len(rec.events)
        await rec.wait(lambda: ("bybit", "ETHUSDT") in rec.pairs(mark), 10, "quotes again")
        health = manager.health()["bybit"]
        await rec.close()
    assert health.reconnects >= 1
    assert "1009" in health.last_error


async def test_unknown_symbols_are_reported_per_venue_while_others_stream(
    cluster: SimCluster,
) -> None:
    cluster["binance"].faults.delisted.add("ETHUSDT")  # absent from REST: caught before subscribe
    for name in ("bybit", "okx", "coinbase"):  # listed but refused on the socket
        cluster[name].faults.rejected.add("ETHUSDT")
    settings = settings_for(cluster, feed__dead_after_s=10.0)  # no reconnect may paper over it
    async with FeedManager(settings, SYMBOLS) as manager:
        rec = Recorder(manager)

        def errors() -> set[str]:
            return {e.venue for e in rec.events if isinstance(e, SymbolStatus)}

        await rec.wait(lambda: errors() == set(VENUES), 10, "a symbol error from every venue")
        btc = {(v, "BTCUSDT") for v in VENUES}
        await rec.wait(lambda: rec.pairs() >= btc, 10, "BTCUSDT from every venue")
        health = manager.health()
        await rec.close()
    statuses = [e for e in rec.events if isinstance(e, SymbolStatus)]
    assert {(e.venue, e.symbol) for e in statuses} == {(v, "ETHUSDT") for v in VENUES}
    assert all(dict(health[v].symbol_errors).keys() == {"ETHUSDT"} for v in VENUES)
    assert all(health[v].state is VenueState.LIVE for v in VENUES)
    assert all(health[v].reconnects == 0 for v in VENUES)
    assert not {p for p in rec.pairs() if p[1] == "ETHUSDT"}


async def test_silent_symbol_is_reported_and_cleared_when_it_streams(cluster: SimCluster) -> None:
    """Binance acks an unknown (here: refused) stream and stays silent: the feed notices."""
    cluster["binance"].faults.rejected.add("ETHUSDT")
    settings = settings_for(cluster, feed__symbol_timeout_s=1.0, feed__dead_after_s=10.0)
    async with FeedManager(settings, SYMBOLS, ["binance"]) as manager:
        rec = Recorder(manager)

        def statuses() -> list[SymbolStatus]:
            return [e for e in rec.events if isinstance(e, SymbolStatus)]

        await rec.wait(lambda: len(statuses()) == 1, 10, "a no-data report for ETHUSDT")
        assert statuses()[0].symbol == "ETHUSDT"
        assert "no data" in statuses()[0].message
        assert ("binance", "BTCUSDT") in rec.pairs()
        cluster["binance"].faults.rejected.clear()
        cluster["binance"].drop_all()  # the next connection subscribes it again, and it streams
        await rec.wait(lambda: ("binance", "ETHUSDT") in rec.pairs(), 10, "ETHUSDT quotes")
        await rec.wait(lambda: any(s.ok for s in statuses()), 5, "the problem cleared")
        health = manager.health()["binance"]
        await rec.close()
    assert health.symbol_errors == ()


async def test_stall_is_detected_and_replaced(cluster: SimCluster) -> None:
    async with FeedManager(settings_for(cluster), SYMBOLS) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "first quotes")
        for name in VENUES:
            cluster[name].stall_all(30)
        await rec.wait(
            lambda: all(
                (v, VenueState.STALE) in {(e.venue, e.state) for e in rec.events
                                          if isinstance(e, VenueStatus)}
                for v in VENUES
            ),
            10,
            "every venue marked stale",
        )  # fmt: skip
        mark = len(rec.events)
        await rec.wait(lambda: rec.pairs(mark) >= ALL_PAIRS, 10, "quotes from new connections")
        health = manager.health()
        await rec.close()
    for name in VENUES:
        assert health[name].reconnects >= 1
        assert "no data or" in health[name].last_error


async def test_cancellation_leaves_no_task_and_no_socket(cluster: SimCluster) -> None:
    before = asyncio.all_tasks()
    manager = FeedManager(settings_for(cluster), SYMBOLS)
    async with manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "first quotes")
        await rec.close()
    async with asyncio.timeout(bound(5)):
        while any(cluster[v].sessions for v in VENUES):  # noqa: ASYNC110 - polls server state
            await asyncio.sleep(0.02)
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    current = asyncio.current_task()
    assert current is not None
    leftover.discard(current)
    assert not [t for t in leftover if t.get_name().startswith("feed")]
    assert all(h.state is VenueState.STOPPED for h in manager.health().values())


async def test_venues_connect_in_parallel(cluster: SimCluster) -> None:
    """All venues' handshakes are in flight at once (so time to first quote from all venues is
    about the slowest one's, not the sum): an ordering check, not a timing threshold."""
    for name in VENUES:
        cluster[name].faults.handshake_delay_s = 1.0
    async with FeedManager(settings_for(cluster, feed__open_timeout_s=5.0), SYMBOLS) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: {v for v, _ in rec.pairs()} == set(VENUES), 10, "all venues")
        await rec.close()
    first = {name: cluster[name].handshakes[0] for name in VENUES}
    latest_start = max(start for start, _ in first.values())
    earliest_end = min(end for _, end in first.values())
    # Every venue's handshake began before any of them finished: they overlapped.
    assert latest_start < earliest_end


async def test_scripted_faults_reach_the_client(cluster: SimCluster) -> None:
    from cryptows.sim.faults import parse_fault, run_script

    steps = [parse_fault(text, VENUES) for text in ("okx:garbage@0.5", "bybit:drop@0.5")]
    async with FeedManager(settings_for(cluster), SYMBOLS, ["okx", "bybit"]) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: {v for v, _ in rec.pairs()} == {"okx", "bybit"}, 10, "quotes")
        await asyncio.wait_for(run_script(cluster.servers, steps), bound(5))
        await rec.wait(
            lambda: (
                manager.health()["okx"].bad_frames == 1
                and manager.health()["bybit"].reconnects >= 1
            ),
            10,
            "the scripted faults",
        )
        await rec.close()


async def test_a_venue_with_an_unusable_url_never_stops_the_others(cluster: SimCluster) -> None:
    # A URL that fails inside the connect call (the host cannot be encoded). The config now
    # refuses it, so it is put in past the checks: the feed must survive what it did not expect.
    settings = settings_for(cluster)
    bad = "ws://a..b/x"
    okx = dataclasses.replace(settings.venues["okx"], ws_url=bad, ws_urls=(bad,))
    settings = dataclasses.replace(settings, venues={**settings.venues, "okx": okx})
    async with FeedManager(settings, SYMBOLS) as manager:
        rec = Recorder(manager)
        others = {p for p in ALL_PAIRS if p[0] != "okx"}
        await rec.wait(lambda: rec.pairs() >= others, 10, "quotes from the other venues")
        await rec.wait(lambda: manager.health()["okx"].reconnects >= 2, 10, "okx retrying")
        health = manager.health()
        mark = len(rec.events)
        await rec.wait(lambda: rec.pairs(mark) >= others, 10, "the others still streaming")
        await rec.close()
    assert "cannot connect" in health["okx"].last_error
    assert all(health[v].state is VenueState.LIVE for v in VENUES if v != "okx")
