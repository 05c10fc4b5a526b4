"""How the client says goodbye: a normal exit closes every connection with 1000 or 1001.

The simulated venues record the close frame of every client connection
(:attr:`~cryptows.sim.server.SimVenueServer.client_closes`). A normal stop (``--duration``,
Ctrl-C, ``q`` in the dashboard, a reconnect the venue asked for) must never show up there as
1011 "internal error", or as a dropped socket; a venue that does not answer the closing
handshake must not hold up the exit. Every wait is bounded by ``bound()``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from cryptows.commands.quotes import run_quotes
from cryptows.commands.sim import client_config
from cryptows.commands.watch import run_watch
from cryptows.feed.connection import CLOSE_TIMEOUT_S
from cryptows.feed.manager import FeedManager
from cryptows.sim.cluster import SimCluster
from cryptows.sim.okx import OkxSim
from cryptows.sim.server import ClientClose
from tests.integration.conftest import (
    ALL_PAIRS,
    SYMBOLS,
    VENUES,
    Recorder,
    bound,
    settings_for,
    until,
)
from tests.tui.helpers import screen_text

CLEAN = {1000, 1001}
"""Normal closure, going away."""


def _streaming(cluster: SimCluster) -> bool:
    """Every venue has a client subscribed to every symbol."""
    return all(
        any(len(list(s.subscriptions())) >= len(SYMBOLS) for s in server.sessions)
        for server in cluster.servers.values()
    )


async def _all_closed(cluster: SimCluster, seconds: float = 5) -> dict[str, list[ClientClose]]:
    """Wait until every client connection each venue accepted has ended; how each ended."""
    servers = cluster.servers
    await until(
        lambda: all(
            not s.sessions and len(s.client_closes) == s.connections_total for s in servers.values()
        ),
        seconds,
        "every client connection to end",
    )
    return {name: list(server.client_closes) for name, server in servers.items()}


def _assert_clean(closes: dict[str, list[ClientClose]]) -> None:
    for venue in VENUES:
        assert closes[venue], f"{venue}: no client connection recorded"
        for close in closes[venue]:
            assert close.code in CLEAN, f"{venue}: client closed with {close}"
            assert close.initiated_by_client, f"{venue}: the venue had to close first: {close}"


async def test_a_stopped_feed_closes_every_connection_with_1000(cluster: SimCluster) -> None:
    manager = FeedManager(settings_for(cluster), SYMBOLS)
    async with manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "quotes from every venue")
        await rec.close()
        async with asyncio.timeout(bound(5)):
            await manager.aclose()
    _assert_clean(await _all_closed(cluster))
    assert all(len(s.client_closes) == 1 for s in cluster.servers.values())


@pytest.mark.parametrize("stop", ["duration", "ctrl-c"])
async def test_quotes_closes_every_connection_with_1000_at_the_end_of_a_run(
    cluster: SimCluster,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    stop: str,
) -> None:
    """The real command (in-process, so the simulator's records are at hand), with the config
    `cryptows sim --write-config` writes: its output is labelled DEMO as well."""
    config = tmp_path / "sim.toml"
    config.write_text(client_config(cluster), encoding="utf-8")
    duration = 2.0 if stop == "duration" else None
    run = asyncio.create_task(
        run_quotes(None, None, config, demo=False, as_json=True, duration=duration)
    )
    out, err = b"", b""

    def quoted() -> set[str]:
        nonlocal out, err
        more = capsysbinary.readouterr()
        out, err = out + more.out, err + more.err
        return {json.loads(line)["venue"] for line in out.splitlines() if b'"quote"' in line}

    try:
        await until(lambda: quoted() == set(VENUES), 10, "quotes from every venue")
        if stop == "ctrl-c":
            # The command's own SIGINT handler is installed by now (it runs the feed).
            os.kill(os.getpid(), signal.SIGINT)
        async with asyncio.timeout(bound(15)):
            await run
    finally:
        run.cancel()
    _assert_clean(await _all_closed(cluster))
    quoted()
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["venue"] for r in records if r["type"] == "quote"} == set(VENUES)
    assert all(r["demo"] is True for r in records)
    assert b"cryptows: DEMO: simulated exchanges" in err


async def test_quitting_the_dashboard_closes_every_connection_with_1000(
    cluster: SimCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``q`` in the real dashboard (headless), run with a `cryptows sim` config: the DEMO badge
    shows, as with --demo, and every connection closes cleanly."""
    from cryptows.tui import factory

    config = tmp_path / "sim.toml"
    config.write_text(client_config(cluster), encoding="utf-8")
    real_make_app = factory.make_app
    seen: dict[str, Any] = {}

    def make_app(market: Any, **kwargs: Any) -> Any:
        app = real_make_app(market, **kwargs)
        run_async = app.run_async

        async def pilot(driver: Any) -> None:
            await until(lambda: _streaming(cluster), 20, "every venue streaming")
            await until(lambda: app.last_snapshot is not None, 20, "a first paint")
            seen["demo"] = market.demo
            snapshot = app.last_snapshot
            assert snapshot is not None
            seen["snapshot_demo"] = snapshot.demo
            seen["screen"] = screen_text(app)
            await driver.press("q")

        async def headless() -> None:
            await run_async(headless=True, size=(120, 40), auto_pilot=pilot)

        monkeypatch.setattr(app, "run_async", headless)
        return app

    monkeypatch.setattr(factory, "make_app", make_app)
    async with asyncio.timeout(bound(60)):
        code = await run_watch(
            ["BTCUSDT", "ETHUSDT"],
            None,
            config,
            threshold=None,
            demo=False,
            state_path=tmp_path / "watch.json",
        )
    assert code == 0
    assert seen["demo"] is True
    assert seen["snapshot_demo"] is True
    assert "DEMO" in seen["screen"].splitlines()[0], seen["screen"]
    _assert_clean(await _all_closed(cluster))


async def test_a_reconnect_the_venue_asked_for_closes_the_old_connection_with_1000(
    cluster: SimCluster,
) -> None:
    """OKX's 64008 "service upgrade" notice: the client reconnects at once, saying goodbye
    properly on the old connection (before the fix: 1011 "internal error")."""
    okx = cluster["okx"]
    assert isinstance(okx, OkxSim)
    async with FeedManager(settings_for(cluster), SYMBOLS, ["okx"]) as manager:
        rec = Recorder(manager)
        await rec.wait(lambda: ("okx", "BTCUSDT") in rec.pairs(), 10, "okx quotes")
        await okx.announce_upgrade(disconnect_after_s=60)
        await until(
            lambda: okx.connections_total >= 2 and bool(okx.client_closes), 10, "a reconnect"
        )
        first = okx.client_closes[0]
        await rec.close()
    assert first.code == 1000, first
    assert first.initiated_by_client, first


async def test_a_venue_that_never_answers_the_close_does_not_hold_up_the_exit(
    cluster: SimCluster,
) -> None:
    """OKX stalls (reads nothing, so it never answers our close frame): the exit waits for it
    at most the close timeout, and every other venue still gets a clean close."""
    manager = FeedManager(settings_for(cluster, feed__dead_after_s=30.0), SYMBOLS)
    async with manager:
        rec = Recorder(manager)
        await rec.wait(lambda: rec.pairs() >= ALL_PAIRS, 10, "quotes from every venue")
        await rec.close()
        cluster["okx"].stall_all(60)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(bound(CLOSE_TIMEOUT_S + 2.0)):
                await manager.aclose()
        except TimeoutError:
            pytest.fail("a venue that never answered the close held up the exit")
        took = loop.time() - started
    assert took >= CLOSE_TIMEOUT_S * 0.9, "okx was expected to keep us waiting for a while"
    others = [s for name, s in cluster.servers.items() if name != "okx"]
    await until(lambda: all(s.client_closes for s in others), 5, "the other venues' closes")
    for server in others:
        assert [c.code for c in server.client_closes] == [1000], server.name
