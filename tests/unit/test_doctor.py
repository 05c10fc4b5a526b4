"""``cryptows doctor``'s pure parts: verdicts, hints, the proxy environment, the symbol report,
an unknown clock, the table's width, the offline hint, and what importing it loads."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from typing import ClassVar

import aiohttp
import pytest
from rich.console import Console

from cryptows.commands.doctor import TABLE_WIDTH, render
from cryptows.commands.session import offline_hint
from cryptows.doctor import (
    ClockReport,
    DoctorReport,
    EndpointReport,
    Mark,
    Step,
    VenueReport,
    Verdict,
    check_clock,
    hints,
    proxy_environment,
    symbol_reports,
)
from cryptows.doctor.endpoint import system_resolve
from cryptows.models import VenueHealth, VenueState
from cryptows.symbols import parse_symbols
from cryptows.venues.bybit import BybitAdapter

OK_STEPS = (
    Step("dns", Mark.OK, "1.2.3.4", 3.0),
    Step("tcp", Mark.OK, "connected", 20.0),
    Step("tls", Mark.OK, "TLSv1.3", 30.0),
    Step("websocket", Mark.OK, "upgraded (HTTP 101)", 60.0),
    Step("first quote", Mark.OK, "BTCUSDT bid 1 ask 2", 40.0),
)
REFUSED_STEPS = (
    *OK_STEPS[:3],
    Step("websocket", Mark.FAIL, "handshake refused: HTTP 451", 50.0, "go elsewhere"),
    Step("first quote", Mark.SKIP, "skipped: no connection"),
)


def endpoint(steps: tuple[Step, ...] = OK_STEPS, works: bool = True) -> EndpointReport:
    return EndpointReport("wss://x.test/ws", "x.test:443", None, steps, works)


IN_SYNC = Step("clock", Mark.OK, "in sync", 50.0)


def venue_report(
    endpoints: tuple[EndpointReport, ...] = (endpoint(),),
    clock: Step = IN_SYNC,
    listed: bool = True,
) -> VenueReport:
    listing = frozenset({"BTCUSDT"}) if listed else frozenset({"BTCUSDC"})
    symbol = symbol_reports("binance", parse_symbols(["BTCUSDT"]), listing)
    list_step = Step("symbol list", Mark.OK, "1 symbol")
    return VenueReport("binance", endpoints, ClockReport(clock, 3.0, 50.0), list_step, symbol)


# -- verdicts -------------------------------------------------------------------------------


def test_every_step_ok_is_ok() -> None:
    report = venue_report()
    assert report.verdict is Verdict.OK
    assert report.problems == ()


def test_no_working_endpoint_is_failing_and_exit_1() -> None:
    report = venue_report((endpoint(REFUSED_STEPS, works=False),))
    assert report.verdict is Verdict.FAILING
    assert report.problems == ("websocket: handshake refused: HTTP 451",)
    doctor = DoctorReport((report, venue_report()), {}, 10.0)
    assert doctor.exit_code == 1
    assert doctor.as_dict()["ok"] is False


def test_one_working_endpoint_of_two_is_degraded_and_exit_0() -> None:
    report = venue_report((endpoint(REFUSED_STEPS, works=False), endpoint()))
    assert report.verdict is Verdict.DEGRADED
    assert report.problems == ("endpoint 1/2 websocket: handshake refused: HTTP 451",)
    assert DoctorReport((report,), {}, 10.0).exit_code == 0


@pytest.mark.parametrize(
    ("clock", "listed", "verdict"),
    [
        (Step("clock", Mark.WARN, "yours is 2000 ms behind"), True, Verdict.DEGRADED),
        (Step("clock", Mark.SKIP, "offset unknown"), True, Verdict.OK),
        (Step("clock", Mark.OK, "in sync"), False, Verdict.DEGRADED),
    ],
)
def test_a_drifting_clock_or_unlisted_symbol_degrades_an_unknown_clock_does_not(
    clock: Step, listed: bool, verdict: Verdict
) -> None:
    assert venue_report(clock=clock, listed=listed).verdict is verdict


def test_the_summary_says_what_is_wrong_in_a_few_words() -> None:
    assert venue_report().summary == ""
    refused = endpoint(REFUSED_STEPS, works=False)
    assert venue_report((refused,)).summary == "the endpoint fails"
    assert venue_report((refused, refused)).summary == "no endpoint works"
    drift = Step("clock", Mark.WARN, "yours is 2000 ms behind")
    text = venue_report((refused, endpoint()), clock=drift, listed=False).summary
    assert text == "1 of 2 endpoints fail; clock 3 ms off; not listed: BTCUSDT"


def test_hints_are_given_in_full_once() -> None:
    report = DoctorReport((venue_report((endpoint(REFUSED_STEPS, works=False),) * 2),), {}, 10.0)
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(render(report, console.width))
    text = console.export_text()
    assert text.count("→ go elsewhere") == 1
    assert text.count("→ the same hint as above") == 1


def test_step_json_ok_is_true_false_or_null() -> None:
    assert Step("a", Mark.OK, "").as_dict()["ok"] is True
    assert Step("a", Mark.WARN, "").as_dict()["ok"] is False
    assert Step("a", Mark.FAIL, "").as_dict()["ok"] is False
    assert Step("a", Mark.SKIP, "").as_dict()["ok"] is None
    assert Step("a", Mark.OK, "", 1.234).as_dict()["ms"] == 1.2


# -- hints ----------------------------------------------------------------------------------


def test_a_geo_block_names_the_endpoint_that_works() -> None:
    text = hints.blocked_hint("binance", 451, 1, [("a:9443", False), ("b:443", True)], [])
    assert "refuses your location (HTTP 451)" in text
    assert "endpoint 2 (b:443) works" in text


def test_a_geo_block_with_no_working_endpoint_names_the_documented_ones_or_the_key() -> None:
    text = hints.blocked_hint("binance", 451, 1, [("a:9443", False), ("b:443", False)],
                              ["wss://c/stream"])  # fmt: skip
    assert "the other endpoints (b:443) fail too" in text
    assert "wss://c/stream: add it to [venues.binance] ws_urls" in text
    text = hints.blocked_hint("okx", 403, 1, [("a:8443", False)], [], "(US: wss://wsus)")
    assert "refuses this connection (HTTP 403)" in text
    assert "set [venues.okx] ws_urls to an endpoint your region may use (US: wss://wsus)" in text
    assert "HTTPS_PROXY" in text


@pytest.mark.parametrize(
    ("status", "fragment"),
    [(404, "ws_urls"), (429, "wait a minute"), (503, "Retry later"), (400, "ws_urls")],
)
def test_other_refusals_each_have_their_hint(status: int, fragment: str) -> None:
    exc = aiohttp.WSServerHandshakeError(None, (), status=status)  # type: ignore[arg-type]
    hint = hints.handshake_hint(exc, "okx", "ws.okx.com:8443", 10.0)
    assert hint is not None
    assert fragment in hint
    blocked = aiohttp.WSServerHandshakeError(None, (), status=451)  # type: ignore[arg-type]
    assert hints.handshake_hint(blocked, "okx", "ws.okx.com:8443", 10.0) is None


def test_a_handshake_timeout_names_the_setting() -> None:
    hint = hints.handshake_hint(TimeoutError(), "okx", "ws.okx.com:8443", 2.5)
    assert hint is not None
    assert "feed.open_timeout_s (2.5 s)" in hint


def test_unlisted_symbol_hints() -> None:
    assert hints.unlisted_hint("okx", ["DOGEUSDT"]).startswith("did you mean DOGEUSDT?")
    assert "USD is not USDT" in hints.unlisted_hint("okx", [])


def test_the_dns_hint_suggests_demo() -> None:
    assert "cryptows doctor --demo" in hints.dns_hint("stream.binance.com")


# -- pure helpers ---------------------------------------------------------------------------


def test_the_proxy_environment_hides_credentials_and_keeps_both_spellings() -> None:
    seen = proxy_environment(
        {
            "HTTPS_PROXY": "http://bob:hunter2@proxy.corp:3128",
            "all_proxy": "socks5h://proxy.corp:1080",
            "NO_PROXY": "localhost,.corp",
            "WSS_PROXY": "  ",
            "PATH": "/usr/bin",
        }
    )
    assert seen == {
        "HTTPS_PROXY": "http://proxy.corp:3128",
        "all_proxy": "socks5h://proxy.corp:1080",
        "NO_PROXY": "localhost,.corp",
    }


def test_symbol_reports_with_and_without_a_list() -> None:
    symbols = parse_symbols(["BTCUSDT", "DOGEUSD"])
    listed = frozenset({"BTCUSDT", "DOGEUSDT"})
    btc, doge = symbol_reports("binance", symbols, listed)
    assert (btc.listed, btc.step.mark) == (True, Mark.OK)
    assert (doge.listed, doge.suggestions, doge.step.mark) == (False, ("DOGEUSDT",), Mark.WARN)
    (unknown,) = symbol_reports("binance", symbols[:1], None)
    assert (unknown.listed, unknown.step.mark) == (None, Mark.SKIP)


class NoServerTime(BybitAdapter):
    """A venue adapter without a server-time endpoint."""

    rest_time_path: ClassVar[str] = ""


async def test_a_venue_without_a_server_time_endpoint_has_an_unknown_offset() -> None:
    async with aiohttp.ClientSession() as http:
        # A closed port: had it asked, the step would say "unavailable", not "unknown".
        clock = await check_clock(NoServerTime, "http://127.0.0.1:9", http, 1.0)
    assert clock.offset_ms is None
    assert clock.rtt_ms is None
    assert clock.step.mark is Mark.SKIP
    assert "unknown" in clock.step.detail
    assert venue_report(clock=clock.step).verdict is Verdict.OK


def test_the_offline_hint_points_to_doctor() -> None:
    health = {"okx": VenueHealth(venue="okx", state=VenueState.BACKOFF, last_error="refused")}
    for demo in (False, True):
        hint = offline_hint(health, demo=demo)
        assert hint is not None
        assert "cryptows doctor" in hint
        # The real venues' hint names the list of endpoints a blocked venue falls back along.
        assert ("ws_urls" in hint) is not demo


# -- rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 200])
def test_the_table_fits_the_terminal_up_to_its_cap(width: int) -> None:
    long = "x" * 150
    steps = (*OK_STEPS[:3], Step("websocket", Mark.FAIL, f"refused {long}", 12345.0, long))
    report = DoctorReport(
        (venue_report((endpoint(steps, works=False), endpoint())), venue_report()),
        {"HTTPS_PROXY": "http://proxy.corp:3128"},
        10.0,
        demo=True,
    )
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(render(report, console.width))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= min(width, max(TABLE_WIDTH, 80))
    text = "\n".join(lines)
    assert "12.3 s" in text
    assert "DEMO" in text
    assert "HTTPS_PROXY=http://proxy.corp:3128" in text
    assert "summary: 1 degraded (binance), 1 OK (binance)" in text


def test_the_domain_module_imports_no_ui_and_the_command_definition_no_checks() -> None:
    code = (
        "import sys\n"
        "import cryptows.commands.cli_doctor\n"
        "light = not any(m.startswith(('cryptows.doctor', 'aiohttp')) for m in sys.modules)\n"
        "import cryptows.doctor\n"
        "ui = sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'textual'))\n"
        "print(light, ui)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    light, ui = result.stdout.strip().split(" ", 1)
    assert light == "True"  # `cryptows --help` does not load the checks
    # Typer loads Rich for the definitions; the checks themselves add none of it.
    code_domain = "import sys, cryptows.doctor; print(any(m.split('.')[0] in ('rich', 'textual') "
    code_domain += "for m in sys.modules))"
    domain = subprocess.run(
        [sys.executable, "-c", code_domain], capture_output=True, text=True, timeout=60, check=True
    )
    assert domain.stdout.strip() == "False"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_an_address_literal_needs_no_resolver(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_resolver(*args: object, **kwargs: object) -> object:
        raise AssertionError("the resolver was asked about an address literal")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_resolver)
    assert await system_resolve(host, 443) == [host]
    with pytest.raises(AssertionError, match="resolver was asked"):
        await system_resolve("localhost", 443)  # a name still goes to the resolver
