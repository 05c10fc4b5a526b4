"""Liveness on the simulated venues: a dead feed leaves LIVE within its bound, a quiet one never.

Delays are measured on the feed's own monotonic clock: the connection's last receipt (a frame or
a pong) and the moment it published ``stale`` (:class:`~cryptows.feed.health.StateChange`), never
as wall-clock time around the test. Every wait is bounded by ``bound()``.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from cryptows.config import Settings, load_settings
from cryptows.feed.connection import VenueConnection
from cryptows.feed.health import StateChange
from cryptows.feed.manager import FeedManager
from cryptows.market.types import ArbEvent, ArbEventType, CloseReason, Opportunity
from cryptows.models import Quote, VenueState, VenueStatus
from cryptows.service import LiveMarket
from cryptows.sim.cluster import SimCluster
from cryptows.sim.faults import apply_fault, parse_fault
from tests.integration.conftest import (
    ALL_PAIRS,
    FAST_FEED,
    SYMBOLS,
    VENUES,
    Recorder,
    bound,
    settings_for,
    until,
)

log = logging.getLogger(__name__)

SCHEDULING_MARGIN_S = 0.5
"""How late past its bound the feed may notice a silence (timer and event-loop latency; scaled
like every wait on slow machines)."""

DEFAULT_DEAD_AFTER_S = 5.0
"""The liveness bound a user gets without configuring one (the product's promise)."""

SHORT_DEAD_AFTER_S = 1.0
"""The shortest bound the config accepts: what each venue's own cell runs with."""

BOUNDS = [
    # One venue end to end with the bound a user gets by default ...
    pytest.param(VENUES[0], None, id=f"{VENUES[0]}-default-bound", marks=pytest.mark.slow),
    # ... and every venue with a configured one: the same path, measured against that bound.
    *(pytest.param(venue, SHORT_DEAD_AFTER_S, id=f"{venue}-1s") for venue in VENUES),
]


def _settings(cluster: SimCluster, dead_after_s: float | None) -> Settings:
    """Quick reconnects; the liveness bound ``dead_after_s``, or the default one (``None``)."""
    overrides = {k: v for k, v in FAST_FEED.items() if k != "feed.dead_after_s"}
    if dead_after_s is not None:
        overrides["feed.dead_after_s"] = dead_after_s
    settings = load_settings(None, overrides=cluster.overrides() | overrides)
    expected = DEFAULT_DEAD_AFTER_S if dead_after_s is None else dead_after_s
    assert settings.feed.dead_after_s == expected
    return settings


def _reason(venue: str, dead_after_s: float) -> str:
    answer = "heartbeat" if venue == "coinbase" else "pong"
    return f"no data or {answer} for {dead_after_s:.1f} s"


def _changes(conn: VenueConnection, since: int, state: VenueState) -> list[StateChange]:
    return [c for c in list(conn.health.changes)[since:] if c.state is state]


# -- a dead feed -----------------------------------------------------------------------------


@pytest.mark.parametrize(("venue", "dead_after_s"), BOUNDS)
async def test_a_silent_venue_leaves_live_within_its_bound_while_the_others_stream(
    cluster: SimCluster, venue: str, dead_after_s: float | None
) -> None:
    """The socket stays open but nothing comes: no data, no heartbeat, no pong to our pings."""
    async with FeedManager(_settings(cluster, dead_after_s), SYMBOLS) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "quotes from every venue")
        conn = manager.connections[venue]
        limit = conn.dead_after_s
        assert limit == (dead_after_s or DEFAULT_DEAD_AFTER_S)
        assert conn.probes == 0, "a venue that streams is never pinged (OKX: only when idle)"
        before = {name: len(c.health.changes) for name, c in manager.connections.items()}
        mark = len(rec.events)
        cluster[venue].stall_all(60)  # open socket, nothing sent, nothing read (pings included)

        await until(
            lambda: bool(_changes(conn, before[venue], VenueState.STALE)),
            limit + 10,
            f"{venue} stale",
        )
        stale = _changes(conn, before[venue], VenueState.STALE)[0]
        probes = conn.probes

        def pairs_since_stale() -> set[tuple[str, str]]:
            # By receipt time: quotes already on their way before the stall do not count.
            return {
                (q.venue, q.symbol) for q in rec.quotes(mark) if q.recv_mono_ns / 1e9 > stale.at_s
            }

        others = {p for p in ALL_PAIRS if p[0] != venue}
        await rec.wait(lambda: pairs_since_stale() >= others, 10, "the other venues streaming")
        await rec.wait(
            lambda: (venue, "BTCUSDT") in pairs_since_stale(), 10, f"{venue} reconnected"
        )
        health_error = manager.health()[venue].last_error
        after = {
            name: list(c.health.changes)[before[name] :] for name, c in manager.connections.items()
        }
        await rec.close()

    assert stale.last_rx_s is not None
    delay = stale.at_s - stale.last_rx_s
    log.info("%s: stale %.3f s after its last receipt (bound %.1f s)", venue, delay, limit)
    assert limit <= delay <= limit + bound(SCHEDULING_MARGIN_S)
    assert stale.reason == _reason(venue, limit)
    assert after[venue][0].state is VenueState.STALE  # it left LIVE for STALE, nothing between
    assert (after[venue][1].state, after[venue][1].reason) == (VenueState.STALE, stale.reason)
    assert health_error == stale.reason  # the reconnect is for that reason, not the socket's
    # The silence was probed (after 2/5 and 4/5 of the bound) and nothing answered: the stall
    # also swallows protocol-level pongs (Binance, Coinbase) and app-level ones (Bybit, OKX).
    assert probes >= 2
    published = [e for e in rec.events[mark:] if isinstance(e, VenueStatus) and e.venue == venue]
    assert published[0].state is VenueState.STALE
    assert published[0].reason == stale.reason
    # Quotes from the silent venue stopped with its last receipt; the others never left LIVE.
    received = [q.recv_mono_ns / 1e9 for q in rec.quotes() if q.venue == venue]
    assert not [t for t in received if stale.last_rx_s + 1e-3 < t <= stale.at_s]
    for name in VENUES:
        if name != venue:
            assert after[name] == [], f"{name} changed state while {venue} was silent"


# -- an arbitrage leg going silent -----------------------------------------------------------


def _legs(opportunity: Opportunity) -> tuple[str, str]:
    return opportunity.buy_venue, opportunity.sell_venue


SIDE = {venue: ("sell", "buy")[i % 2] for i, venue in enumerate(VENUES)}
"""The leg each venue is forced to be: its bid above the others' asks (sell), or its ask below
their bids (buy); alternating, so both legs are covered."""


@pytest.mark.parametrize(("venue", "dead_after_s"), BOUNDS)
async def test_an_open_opportunity_closes_leg_stale_within_the_bound_of_its_legs_last_frame(
    cluster: SimCluster, venue: str, dead_after_s: float | None
) -> None:
    """Through the market service, as every front end sees it: ``venue`` is forced 2 % away
    from the others (its bid above their asks: the sell leg; its ask below their bids: the buy
    leg), the opportunity opens, then ``venue`` goes silent (socket open, nothing sent, no
    pongs). The close says ``leg_stale``, stamped at most the liveness bound (+ scheduling
    margin) after the last quote received from ``venue``: both times are the feed's own receipt
    stamps. The bound is the default one (5 s) in one case, a configured 1 s in the others."""
    side = SIDE[venue]
    settings = _settings(cluster, dead_after_s)  # the default confirm_ms (250)
    limit = settings.feed.dead_after_s
    assert settings.arb.confirm_ms == 250
    assert settings.arb.max_quote_age_ms == 0  # only liveness can make the leg stale
    symbol = "BTCUSDT"
    last_quote_ms: dict[str, int] = {}
    """Venue -> ``recv_wall_ms`` of the latest quote received from it, in event order."""
    opened: ArbEvent | None = None
    closed: ArbEvent | None = None
    stale: VenueStatus | None = None
    async with asyncio.timeout(bound(60)):
        async with LiveMarket(settings, SYMBOLS, demo=True) as market:
            events = market.subscribe(quotes=True)  # before the first await: sees everything
            cluster.engine.dislocate(venue, symbol, 2.0 if side == "sell" else -2.0, 600_000)
            async for event in events:
                if isinstance(event, Quote):
                    last_quote_ms[event.venue] = event.recv_wall_ms
                    continue
                if isinstance(event, VenueStatus) and event.venue == venue and opened:
                    stale = stale or (event if event.state is VenueState.STALE else None)
                if not isinstance(event, ArbEvent) or venue not in _legs(event.opportunity):
                    continue
                opportunity = event.opportunity
                leg = opportunity.sell_venue if side == "sell" else opportunity.buy_venue
                if event.type is ArbEventType.OPEN and opened is None:
                    assert leg == venue, f"{venue} should be the {side} leg: {event}"
                    opened = event
                    cluster[venue].stall_all(60)  # open socket, nothing sent, no pongs
                elif event.type is ArbEventType.CLOSE and opened is not None:
                    closed = event
                    silent_since_ms = last_quote_ms[venue]
                    break

    assert opened is not None
    assert closed is not None
    assert closed.opportunity.close_reason is CloseReason.LEG_STALE, closed
    assert closed.opportunity.symbol == symbol
    # It closed because the venue went stale: that status came first, at the same moment.
    assert stale is not None, "no stale status before the close"
    assert stale.reason == _reason(venue, limit)
    assert closed.ts_ms == stale.ts_ms
    delay_ms = closed.ts_ms - silent_since_ms
    log.info("%s (%s leg): leg_stale %d ms after its last quote (bound %.1f s)", venue, side,
             delay_ms, limit)  # fmt: skip
    # Never before the bound (1 ms: the two wall-clock stamps are floored to ms), never later
    # than the bound plus the scheduling margin.
    limit_ms = round(limit * 1000)
    assert limit_ms - 1 <= delay_ms <= limit_ms + bound(SCHEDULING_MARGIN_S) * 1000


# -- a quiet market --------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_quiet_market_raises_no_false_alarm(cluster: SimCluster) -> None:
    """No price changes and no repeats for three times the shortest bound (seven probe
    periods): pongs and Coinbase's heartbeats keep every venue live, and Binance's pings stay
    inside its 5 messages/s."""
    settings = settings_for(cluster)
    async with FeedManager(settings, SYMBOLS) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "quotes from every venue")
        conns = manager.connections
        assert all(
            c.dead_after_s == SHORT_DEAD_AFTER_S and c.probe_after_s == 0.4 for c in conns.values()
        )
        clock = conns["binance"].clock

        # While data flows, nobody is pinged (OKX's rule; Binance counts every ping).
        probes = {name: c.probes for name, c in conns.items()}
        streaming_from = clock()
        await until(lambda: clock() - streaming_from >= 1.2, 10, "three probe periods")
        streaming_probes = {name: c.probes - probes[name] for name, c in conns.items()}

        for name in VENUES:
            await apply_fault(cluster[name], parse_fault(f"{name}:quiet", VENUES))
        quiet_from = clock()
        before = {name: len(c.health.changes) for name, c in conns.items()}
        messages = {name: c.health.messages for name, c in conns.items()}
        probes = {name: c.probes for name, c in conns.items()}
        await until(lambda: clock() - quiet_from >= 3.0, 15, "three bounds of quiet market")
        after = {name: list(c.health.changes)[before[name] :] for name, c in conns.items()}
        health = manager.health()
        heartbeats = conns["coinbase"].health.messages - messages["coinbase"]
        quiet_probes = {name: c.probes - probes[name] for name, c in conns.items()}
        await rec.close()

    # One probe at most, should the event loop itself have paused for 2/5 of the bound.
    assert all(n <= 1 for n in streaming_probes.values()), streaming_probes
    late_quotes = [q for q in rec.quotes() if q.recv_mono_ns / 1e9 > quiet_from + 0.5]
    assert not late_quotes, "the market was not quiet"
    for name in VENUES:
        assert after[name] == [], f"{name}: {after[name]}"
        assert health[name].state is VenueState.LIVE
        assert health[name].reconnects == 0
    # What kept them live: pings into every silence of 2/5 bound, each answered at once, and on
    # Coinbase the heartbeat channel (one message per product per second).
    for name in ("binance", "bybit", "okx"):
        assert quiet_probes[name] >= 5, f"{name} sent {quiet_probes[name]} probes"
    assert heartbeats >= len(SYMBOLS) * 2  # three seconds: one per product may fall outside


# -- reaching the venue ----------------------------------------------------------------------


async def test_a_refused_connection_names_the_host(cluster: SimCluster) -> None:
    with socket.socket() as sock:
        # Bound, never listening: connections to it are refused, and while it stays bound no
        # other test (in this process or a parallel one) can take the port.
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"ws://127.0.0.1:{port}/ws/v5/public"
        async with FeedManager(
            settings_for(cluster, **{"venues.okx.ws_url": url}), SYMBOLS, ["okx", "bybit"]
        ) as manager:
            rec = Recorder(manager)
            await rec.wait(lambda: manager.health()["okx"].reconnects >= 1, 10, "okx retrying")
            health = manager.health()
            await rec.close()
    assert health["okx"].last_error == f"cannot connect to 127.0.0.1:{port}: connection refused"
    refused = [e for e in rec.events if isinstance(e, VenueStatus) and e.venue == "okx"]
    assert any(e.state is VenueState.BACKOFF and "connection refused" in e.reason for e in refused)


async def test_simulated_binance_counts_pings_against_its_message_limit(
    cluster: SimCluster,
) -> None:
    """What keeps the quiet-market test honest: a ping flood closes the connection (1008)."""
    from websockets.asyncio.client import connect

    async with connect(cluster["binance"].ws_url, proxy=None) as ws:
        for _ in range(6):
            await ws.ping()
        async with asyncio.timeout(bound(5)):
            await ws.wait_closed()
    assert ws.close_code == 1008
