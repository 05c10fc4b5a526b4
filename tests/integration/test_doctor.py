"""``cryptows doctor`` against the simulated venues: every step, verdict and hint it promises.

The checks are called directly (:func:`cryptows.doctor.diagnose`, fast); the command line runs
in-process a few times for its exit codes and output. Only loopback is touched: the DNS test
resolves through a fake resolver, the proxy test's proxy is a closed loopback port.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from rich.console import Console

from cryptows.clock import wall_ms
from cryptows.commands.doctor import render
from cryptows.config import Settings
from cryptows.doctor import DoctorReport, Mark, VenueReport, Verdict, check_clock, diagnose
from cryptows.doctor.hints import PROXY_VARS
from cryptows.sim.binance import BinanceSim
from cryptows.sim.cluster import SimCluster
from cryptows.symbols import parse_symbols
from cryptows.venues.binance import BinanceAdapter
from tests.cli import run
from tests.integration.conftest import SYMBOLS, VENUES, bound, settings_for

STEPS = ("dns", "tcp", "tls", "websocket", "first quote")


async def check(
    settings: Settings, venues: tuple[str, ...] = VENUES, symbols: tuple[str, ...] = ()
) -> DoctorReport:
    """:func:`diagnose`, bounded."""
    chosen = parse_symbols(list(symbols)) if symbols else SYMBOLS
    async with asyncio.timeout(bound(15)):
        return await diagnose(settings, venues, chosen)


def venue(report: DoctorReport, name: str) -> VenueReport:
    return next(v for v in report.venues if v.venue == name)


def marks(report: DoctorReport, name: str, endpoint: int = 0) -> dict[str, Mark]:
    return {s.name: s.mark for s in venue(report, name).endpoints[endpoint].steps}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_healthy_market_passes_every_step(cluster: SimCluster) -> None:
    report = await check(settings_for(cluster))
    assert report.exit_code == 0
    assert [v.venue for v in report.venues] == list(VENUES)
    for name in VENUES:
        found = venue(report, name)
        assert found.verdict is Verdict.OK, found.problems
        steps = found.endpoints[0].steps
        assert [s.name for s in steps] == list(STEPS)
        assert marks(report, name) == {
            "dns": Mark.OK, "tcp": Mark.OK, "tls": Mark.SKIP,  # ws:// on loopback: no TLS
            "websocket": Mark.OK, "first quote": Mark.OK,
        }  # fmt: skip
        assert all(s.ms is not None for s in steps if s.mark is Mark.OK)
        assert steps[-1].detail.startswith(("BTCUSDT", "ETHUSDT"))
        assert found.clock.step.mark is Mark.OK
        assert found.clock.offset_ms is not None
        assert abs(found.clock.offset_ms) < 500
        assert [(s.symbol, s.listed) for s in found.symbols] == [
            ("BTCUSDT", True),
            ("ETHUSDT", True),
        ]


async def test_a_geo_blocked_sole_endpoint_fails_the_venue_and_names_the_others(
    cluster: SimCluster,
) -> None:
    cluster["binance"].faults.handshake_status = 451
    report = await check(settings_for(cluster), ("binance", "okx"))
    assert report.exit_code == 1
    binance = venue(report, "binance")
    assert binance.verdict is Verdict.FAILING
    handshake = binance.endpoints[0].step("websocket")
    assert handshake is not None
    assert handshake.mark is Mark.FAIL
    assert "HTTP 451" in handshake.detail
    assert handshake.hint is not None
    # Its only endpoint is refused: the hint names the endpoints Binance documents, and the key.
    assert "data-stream.binance.vision" in handshake.hint
    assert "[venues.binance] ws_urls" in handshake.hint
    assert marks(report, "binance")["first quote"] is Mark.SKIP
    assert venue(report, "okx").verdict is Verdict.OK


async def test_a_geo_blocked_endpoint_with_a_working_second_one_is_only_degraded(
    cluster: SimCluster,
) -> None:
    cluster["binance"].faults.handshake_status = 451
    async with BinanceSim(cluster.engine) as working:
        urls = [cluster["binance"].ws_url, working.ws_url]
        report = await check(settings_for(cluster, **{"venues.binance.ws_urls": urls}),
                             ("binance",))  # fmt: skip
        where = f"127.0.0.1:{working.port}"
    assert report.exit_code == 0
    binance = venue(report, "binance")
    assert binance.verdict is Verdict.DEGRADED
    assert [e.works for e in binance.endpoints] == [False, True]
    assert marks(report, "binance", 1)["first quote"] is Mark.OK
    handshake = binance.endpoints[0].step("websocket")
    assert handshake is not None
    assert handshake.hint is not None
    assert f"endpoint 2 ({where}) works" in handshake.hint
    assert any("endpoint 1/2 websocket" in p for p in binance.problems)


async def test_a_handshake_slower_than_the_open_timeout_fails_with_the_timeout_hint(
    cluster: SimCluster,
) -> None:
    cluster["binance"].faults.handshake_delay_s = 3.0
    settings = settings_for(cluster, feed__open_timeout_s=0.5)
    report = await check(settings, ("binance",))
    handshake = venue(report, "binance").endpoints[0].step("websocket")
    assert handshake is not None
    assert handshake.mark is Mark.FAIL
    assert "timed out" in handshake.detail
    assert handshake.ms is not None
    assert handshake.ms < 2500
    assert handshake.hint is not None
    assert "open_timeout_s (0.5 s)" in handshake.hint
    assert report.exit_code == 1


async def test_an_unlisted_symbol_gets_the_venues_suggestion(cluster: SimCluster) -> None:
    report = await check(settings_for(cluster), ("binance",), ("DOGEUSD", "BTCUSDT"))
    binance = venue(report, "binance")
    doge = binance.symbols[0]
    assert (doge.symbol, doge.listed, doge.suggestions) == ("DOGEUSD", False, ("DOGEUSDT",))
    assert doge.step.mark is Mark.WARN
    assert doge.step.hint is not None
    assert "did you mean DOGEUSDT?" in doge.step.hint
    # The listed one still streams: degraded, not failing.
    assert marks(report, "binance")["first quote"] is Mark.OK
    assert binance.verdict is Verdict.DEGRADED
    assert "not listed: DOGEUSD" in binance.problems


async def test_a_venue_listing_none_of_the_symbols_subscribes_nothing(
    cluster: SimCluster,
) -> None:
    report = await check(settings_for(cluster), ("binance",), ("DOGEUSD",))
    binance = venue(report, "binance")
    quote = binance.endpoints[0].step("first quote")
    assert quote is not None
    assert quote.mark is Mark.SKIP
    assert "lists none of DOGEUSD" in quote.detail
    assert binance.verdict is Verdict.DEGRADED


@pytest.mark.parametrize("skew", [2000, -2000])
async def test_a_skewed_clock_is_measured_and_flagged_on_every_venue(
    cluster: SimCluster, skew: int
) -> None:
    for server in cluster.servers.values():
        server.faults.clock_skew_ms = skew
    report = await check(settings_for(cluster))
    for found in report.venues:
        clock = found.clock
        assert clock.offset_ms is not None, found.venue
        assert abs(clock.offset_ms - skew) < 300, (found.venue, clock.offset_ms)
        assert clock.rtt_ms is not None
        assert clock.step.mark is Mark.WARN
        assert clock.step.hint is not None
        assert "NTP" in clock.step.hint
        assert ("behind" if skew > 0 else "ahead of") in clock.step.detail
        assert found.verdict is Verdict.DEGRADED
    assert report.exit_code == 0  # data still flows


async def test_an_unresolvable_host_fails_at_dns_and_suggests_demo(cluster: SimCluster) -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host.endswith(".invalid"):  # RFC 6761: never resolves; never asked of the network
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return ["127.0.0.1"]

    settings = settings_for(cluster, **{"venues.binance.ws_url": "wss://stream.nowhere.invalid/ws"})
    async with asyncio.timeout(bound(15)):
        report = await diagnose(settings, ("binance",), SYMBOLS, resolve=resolve)
    assert asked == ["stream.nowhere.invalid"]
    steps = {s.name: s for s in venue(report, "binance").endpoints[0].steps}
    assert steps["dns"].mark is Mark.FAIL
    assert "DNS lookup failed" in steps["dns"].detail
    assert steps["dns"].hint is not None
    assert "--demo" in steps["dns"].hint
    assert all(steps[name].mark is Mark.SKIP for name in STEPS[1:])
    assert venue(report, "binance").verdict is Verdict.FAILING


async def test_a_refused_tcp_connection_points_at_firewall_or_proxy(cluster: SimCluster) -> None:
    url = f"ws://127.0.0.1:{closed_port()}/stream"
    report = await check(settings_for(cluster, **{"venues.binance.ws_url": url}), ("binance",))
    tcp = venue(report, "binance").endpoints[0].step("tcp")
    assert tcp is not None
    assert tcp.mark is Mark.FAIL
    assert "connection refused" in tcp.detail
    assert tcp.hint is not None
    assert "firewall" in tcp.hint
    assert "HTTPS_PROXY" in tcp.hint
    assert marks(report, "binance")["websocket"] is Mark.SKIP


async def test_tls_to_a_server_that_does_not_speak_it_fails_at_the_tls_step(
    cluster: SimCluster,
) -> None:
    url = f"wss://127.0.0.1:{cluster['binance'].port}/stream"  # the simulator is plain ws://
    report = await check(settings_for(cluster, **{"venues.binance.ws_url": url}), ("binance",))
    found = marks(report, "binance")
    assert (found["tcp"], found["tls"], found["websocket"]) == (Mark.OK, Mark.FAIL, Mark.SKIP)
    tls = venue(report, "binance").endpoints[0].step("tls")
    assert tls is not None
    assert tls.hint is not None
    assert "proxy" in tls.hint


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


async def test_through_a_proxy_the_direct_steps_are_skipped_and_credentials_hidden(
    cluster: SimCluster, no_proxies: pytest.MonkeyPatch
) -> None:
    proxy_port = closed_port()  # the proxy is a closed loopback port: nothing leaves the machine
    no_proxies.setenv("HTTPS_PROXY", f"http://alice:s3cret@127.0.0.1:{proxy_port}")
    no_proxies.setenv("no_proxy", "example.internal")
    settings = settings_for(cluster, **{"venues.binance.ws_url": "wss://stream.example.test/ws"})
    report = await check(settings, ("binance",))
    endpoint = venue(report, "binance").endpoints[0]
    via = f"via proxy http://127.0.0.1:{proxy_port}"
    for name in ("dns", "tcp", "tls"):
        step = endpoint.step(name)
        assert step is not None
        assert step.mark is Mark.SKIP
        assert via in step.detail
    handshake = endpoint.step("websocket")
    assert handshake is not None
    assert handshake.mark is Mark.FAIL
    assert "connection refused" in handshake.detail
    assert endpoint.proxy == f"http://127.0.0.1:{proxy_port}"
    assert report.proxies == {
        "HTTPS_PROXY": f"http://127.0.0.1:{proxy_port}",
        "no_proxy": "example.internal",
    }
    assert "s3cret" not in json.dumps(report.as_dict())


async def test_a_connection_that_sends_no_quote_fails_at_the_first_quote(
    cluster: SimCluster,
) -> None:
    cluster["binance"].faults.quiet = True
    report = await check(settings_for(cluster, feed__open_timeout_s=0.5), ("binance",))
    quote = venue(report, "binance").endpoints[0].step("first quote")
    assert quote is not None
    assert quote.mark is Mark.FAIL
    assert "no quote within 0.5 s" in quote.detail
    assert quote.hint is not None
    assert venue(report, "binance").verdict is Verdict.FAILING


async def test_the_checks_are_cancellable(cluster: SimCluster) -> None:
    # (short: the server's teardown waits for a handshake it is still delaying)
    cluster["binance"].faults.handshake_delay_s = 1.5
    settings = settings_for(cluster, feed__open_timeout_s=8.0)
    task = asyncio.create_task(diagnose(settings, ("binance", "okx"), SYMBOLS))
    await asyncio.sleep(0.3)
    task.cancel()
    async with asyncio.timeout(bound(2)):
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_table_fits_80_columns_with_every_mark_and_hint(cluster: SimCluster) -> None:
    cluster["binance"].faults.handshake_status = 451
    cluster["okx"].faults.clock_skew_ms = 2000
    report = await check(settings_for(cluster), VENUES, ("DOGEUSD", "BTCUSDT"))
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(render(report, console.width))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for fragment in ("binance ✗ failing", "okx ! degraded", "HTTP 451", "did you mean",
                     "NTP", "→ ", "summary: 1 failing (binance)"):  # fmt: skip
        assert fragment in text, fragment
    # Nothing is cut off: every hint is there in full (once), wrapped onto lines of its own.
    flowing = " ".join(text.split())
    hints = {
        step.hint
        for found in report.venues
        for step in [
            *(s for e in found.endpoints for s in e.steps),
            found.clock.step,
            *(s.step for s in found.symbols),
        ]
        if step.hint and step.mark is not Mark.OK
    }
    assert len(hints) >= 5
    for hint in hints:
        assert "→ " + " ".join(hint.split()) in flowing, hint
    assert "verdict failing: the endpoint fails; not listed: DOGEUSD" in flowing
    assert "verdict degraded: clock 2" in flowing  # okx: about 2000 ms off


async def test_the_clock_offset_is_corrected_by_half_the_round_trip() -> None:
    """A venue that takes 0.2 s to stamp its time and 0.2 s more to answer: its stamp is the
    round trip's midpoint, so a clock in sync reads about 0, where the send time alone would
    read +200 ms and the receive time -200 ms."""

    async def server_time(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        stamp = wall_ms()
        await asyncio.sleep(0.2)
        return web.json_response({"serverTime": stamp})

    app = web.Application()
    app.router.add_get("/api/v3/time", server_time)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            clock = await check_clock(BinanceAdapter, f"http://127.0.0.1:{port}", http, bound(5))
    finally:
        await runner.cleanup()
    assert clock.rtt_ms is not None
    assert clock.rtt_ms >= 400
    assert clock.offset_ms is not None
    assert abs(clock.offset_ms) < 100, clock
    assert clock.step.mark is Mark.OK


# -- the command line (in-process) ----------------------------------------------------------


def test_cli_demo_json_document(tmp_path: Path) -> None:
    secret = "sk-doctor-never-shown-0123456789"
    result = run("doctor", "--demo", "--json", "-vv", env={"HOLYSHEEP_API_KEY": secret})
    assert result.returncode == 0, result.stderr
    assert "DEMO" in result.stderr
    document = json.loads(result.stdout)
    assert document["demo"] is True
    assert document["ok"] is True
    assert set(document) == {"demo", "ok", "open_timeout_s", "proxies", "venues"}
    assert list(document["venues"]) == list(VENUES)
    for found in document["venues"].values():
        assert found["verdict"] == "OK"
        assert set(found) == {"verdict", "problems", "endpoints", "clock", "symbol_list",
                              "symbols"}  # fmt: skip
        (endpoint,) = found["endpoints"]
        assert endpoint["works"] is True
        assert [s["step"] for s in endpoint["steps"]] == list(STEPS)
        for step in endpoint["steps"]:
            assert set(step) == {"step", "ok", "verdict", "ms", "detail", "hint"}
        assert endpoint["steps"][2]["ok"] is None  # TLS n/a on ws://
        assert isinstance(found["clock"]["offset_ms"], float)
        assert [s["symbol"] for s in found["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    assert secret not in result.stdout + result.stderr


def test_cli_exit_1_when_a_venue_has_no_working_endpoint(tmp_path: Path) -> None:
    port = closed_port()
    config = tmp_path / "closed.toml"
    config.write_text(
        f'[feed]\nopen_timeout_s = 1.0\n[venues.okx]\nws_url = "ws://127.0.0.1:{port}/ws"\n'
        f'rest_url = "http://127.0.0.1:{port}"\n'
    )
    result = run("doctor", "--venues", "okx", "--config", str(config), "BTCUSDT")
    assert result.returncode == 1, result.stderr
    assert "okx ✗ failing" in result.stdout
    assert "connection refused" in result.stdout
    assert "firewall" in result.stdout  # the hint
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--venues", "kraken"), "unknown venue 'kraken'"),
        (("BTC--USDT",), "BTC--USDT"),
        (("--config", "/nonexistent/cryptows.toml"), "/nonexistent/cryptows.toml"),
    ],
)
def test_cli_bad_input_is_exit_2_in_one_line(args: tuple[str, ...], message: str) -> None:
    result = run("doctor", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cryptows: error: ")
    assert message in lines[0]


def test_cli_help_teaches_with_examples() -> None:
    result = run("doctor", "--help")
    assert result.returncode == 0
    text = re.sub(r"\s+", " ", result.stdout)
    for fragment in ("Examples", "cryptows doctor --demo", "DOGEUSD", "HTTPS_PROXY", "--json",
                     "open_timeout_s"):  # fmt: skip
        assert fragment in text, fragment
