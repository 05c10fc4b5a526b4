"""A venue split over several connections (``venues.<name>.max_symbols_per_connection``): every
symbol streams, one connection's outage stays its own, health speaks of the venue."""

from __future__ import annotations

from cryptows.commands.session import ConnectionTrouble
from cryptows.feed.manager import FeedManager
from cryptows.feed.shards import ConnectGate, VenueShards, split_symbols
from cryptows.models import VenueHealth, VenueState, VenueStatus
from cryptows.service import LiveMarket
from cryptows.sim.cluster import SimCluster
from cryptows.sim.server import SimVenueServer
from cryptows.symbols import Symbol, parse_symbols
from tests.integration.conftest import Recorder, settings_for, until

SPLIT = "binance"
OTHER = "okx"


def _five(cluster: SimCluster) -> tuple[Symbol, ...]:
    """Five symbols both venues list (taken from the simulator's listings, whatever they are)."""
    both = cluster.engine.listings(SPLIT) & cluster.engine.listings(OTHER)
    assert len(both) >= 5, "the simulated venues must share at least five symbols"
    return parse_symbols(sorted(both)[:5])


def _drop_and_refuse(server: SimVenueServer, symbol: str) -> int:
    """Drop the connections carrying ``symbol`` and refuse new ones (the others stay up)."""
    server.faults.handshake_status = 503
    dropped = 0
    for session in list(server.sessions):
        if any(s == symbol for s, _ in session.subscriptions()):
            session.ws.transport.abort()
            dropped += 1
    return dropped


async def test_a_venue_is_split_by_its_configured_limit_and_every_symbol_streams(
    cluster: SimCluster,
) -> None:
    symbols = _five(cluster)
    settings = settings_for(cluster, **{f"venues.{SPLIT}.max_symbols_per_connection": 2})
    async with FeedManager(settings, symbols, [SPLIT, OTHER], seed=1) as manager:
        rec = Recorder(manager)
        conns = manager.connections_of(SPLIT)
        assert [c.label for c in conns] == [f"{SPLIT}#1", f"{SPLIT}#2", f"{SPLIT}#3"]
        assert [len(c.requested) for c in conns] == [2, 2, 1]
        assert len(manager.connections_of(OTHER)) == 1  # its limit is far above five
        assert manager.connections[SPLIT] is conns[0]  # the first, for single-connection code
        wanted = {(v, s.canonical) for v in (SPLIT, OTHER) for s in symbols}
        await rec.wait(lambda: rec.pairs() >= wanted, 10, "every symbol from both venues")
        await until(lambda: manager.health()[SPLIT].state is VenueState.LIVE, 5, "venue live")
        health = manager.health()[SPLIT]
        assert (health.connections, health.live_connections) == (3, 3)
        assert health.connections_note == "3 conns"
        assert health.messages == sum(c.health.messages for c in conns)
        assert cluster[SPLIT].connections_total == 3
        assert manager.lists.fetches == 2  # one symbol list per venue, shared by its connections
        await rec.close()


async def test_one_dropped_connection_stales_only_its_symbols_and_recovers(
    cluster: SimCluster,
) -> None:
    symbols = _five(cluster)
    settings = settings_for(cluster, **{f"venues.{SPLIT}.max_symbols_per_connection": 2})
    market = LiveMarket(settings, symbols, [SPLIT, OTHER], demo=True)
    events = market.subscribe()
    shard2 = [s.canonical for s in symbols[2:4]]
    healthy = [s.canonical for s in (*symbols[:2], symbols[4])]

    def usable(symbol: str, venue: str = SPLIT) -> bool | None:
        for view in market.snapshot().symbols:
            for q in view.quotes:
                if q.symbol == symbol and q.venue == venue:
                    return q.usable
        return None

    async with market:
        everything = [s.canonical for s in symbols]
        await until(lambda: all(usable(s) for s in everything), 10, "every binance quote usable")
        events.drain()  # what came before the drop
        assert _drop_and_refuse(cluster[SPLIT], shard2[0]) == 1
        await until(
            lambda: not any(usable(s) for s in shard2) and all(usable(s) for s in healthy),
            10,
            "the dropped connection's symbols stale, the others usable",
        )
        assert all(usable(s, OTHER) for s in everything)  # another venue never notices
        health = market.health()[SPLIT]
        assert health.state is VenueState.LIVE
        assert (health.connections, health.live_connections) == (3, 2)
        assert f"{SPLIT}#2" in health.reason
        assert "2/3 conns live" in health.reason
        statuses = [e for e in events.drain() if isinstance(e, VenueStatus) and e.venue == SPLIT]
        scoped = [e for e in statuses if e.symbols]
        assert scoped, statuses
        assert all(set(e.symbols) == set(shard2) for e in scoped)  # only that connection's
        assert all(e.state is not VenueState.LIVE for e in scoped)
        assert not [e for e in statuses if not e.symbols]  # the venue as a whole still streams

        cluster[SPLIT].faults.handshake_status = None
        await until(lambda: all(usable(s) for s in everything), 10, "the connection back")
        health = market.health()[SPLIT]
        assert health.live_connections == 3
        assert health.reconnects >= 1
        assert market.failure is None


def test_split_symbols_in_order_and_at_least_one_chunk() -> None:
    symbols = parse_symbols(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"])
    chunks = split_symbols(symbols, 2)
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert tuple(s for c in chunks for s in c) == symbols
    assert split_symbols((), 3) == [()]
    assert split_symbols(symbols, 0) == [(s,) for s in symbols]


async def test_the_connect_gate_counts_attempts_in_its_window() -> None:
    now = [100.0]
    gate = ConnectGate(2, 10.0, clock=lambda: now[0])
    await gate.acquire()
    await gate.acquire()
    assert gate.delay() == 10.0  # a third must wait for the first to leave the window
    now[0] += 4
    assert gate.delay() == 6.0
    now[0] += 6
    assert gate.delay() == 0.0
    await gate.acquire()
    assert gate.waited == 0
    assert ConnectGate(0, 0.0).delay() == 0.0  # no limit


class _Sink:
    def __init__(self) -> None:
        self.events: list[object] = []

    def put(self, event: object) -> None:
        self.events.append(event)


def test_venue_state_is_live_while_any_connection_is_else_the_most_telling() -> None:
    sink = _Sink()
    shards = VenueShards("okx", [parse_symbols(["BTCUSDT"]), parse_symbols(["ETHUSDT"])], sink)
    one, two = shards.sink_for(0), shards.sink_for(1)

    def status(state: VenueState, reason: str = "") -> VenueStatus:
        return VenueStatus(venue="okx", state=state, reason=reason, ts_ms=1)

    def venue_level() -> list[VenueState]:
        return [e.state for e in sink.events if isinstance(e, VenueStatus) and not e.symbols]

    def scoped() -> list[tuple[VenueState, tuple[str, ...], str]]:
        return [
            (e.state, e.symbols, e.reason)
            for e in sink.events
            if isinstance(e, VenueStatus) and e.symbols
        ]

    one.put(status(VenueState.CONNECTING))
    two.put(status(VenueState.CONNECTING))
    one.put(status(VenueState.LIVE))
    two.put(status(VenueState.LIVE))
    assert venue_level() == [VenueState.CONNECTING, VenueState.LIVE]
    assert [(state, symbols) for state, symbols, _ in scoped()] == [
        (VenueState.CONNECTING, ("BTCUSDT",)),
        (VenueState.CONNECTING, ("ETHUSDT",)),
        (VenueState.LIVE, ("BTCUSDT",)),
        (VenueState.LIVE, ("ETHUSDT",)),
    ]
    two.put(status(VenueState.STALE, "no data for 1 s"))
    # That connection's symbols only; the venue as a whole is still live: nothing said of it.
    assert scoped()[-1] == (VenueState.STALE, ("ETHUSDT",), "okx#2: no data for 1 s")
    assert venue_level() == [VenueState.CONNECTING, VenueState.LIVE]
    one.put(status(VenueState.BACKOFF, "closed by venue"))
    assert scoped()[-1][:2] == (VenueState.BACKOFF, ("BTCUSDT",))
    assert venue_level()[-1] is VenueState.STALE  # none live: the most telling of the two
    parts = [
        VenueHealth(venue="okx", state=VenueState.BACKOFF, messages=3, reconnects=1),
        VenueHealth(venue="okx", state=VenueState.STALE, messages=4, last_error="no data"),
    ]
    health = shards.health(parts)
    assert (health.messages, health.reconnects, health.connections) == (7, 1, 2)
    assert health.live_connections == 0
    assert health.last_error == "okx#2: no data"
    assert shards.label(1) == "okx#2"
    single = VenueShards("okx", [parse_symbols(["BTCUSDT"])], sink)
    assert single.sink_for(0) is sink
    assert single.label(0) == "okx"


def test_a_split_venues_connection_gets_a_line_only_for_trouble_and_its_end() -> None:
    trouble = ConnectionTrouble()
    btc, eth = ("BTCUSDT",), ("ETHUSDT",)

    def scoped(state: VenueState, symbols: tuple[str, ...]) -> VenueStatus:
        return VenueStatus(venue="okx", state=state, ts_ms=1, symbols=symbols)

    assert trouble.shown(VenueStatus(venue="okx", state=VenueState.CONNECTING, ts_ms=1))
    assert not trouble.shown(scoped(VenueState.CONNECTING, btc))  # coming up: the venue says it
    assert not trouble.shown(scoped(VenueState.LIVE, btc))
    assert trouble.shown(scoped(VenueState.STALE, eth))
    assert trouble.shown(scoped(VenueState.BACKOFF, eth))
    assert not trouble.shown(scoped(VenueState.CONNECTING, eth))
    assert trouble.shown(scoped(VenueState.LIVE, eth))  # back: said once
    assert not trouble.shown(scoped(VenueState.LIVE, eth))
    assert not trouble.shown(scoped(VenueState.LIVE, btc))
