"""CLI rough edges, as a user meets them: symbol lists, percentages, durations, help text,
and Ctrl-C at any moment."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cryptows.venues import VENUE_NAMES
from tests.cli import Ran, run
from tests.conftest import clean_environ
from tests.integration.conftest import bound


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cryptows", *args]


def _run(*args: str) -> Ran:
    """In-process (see tests/cli.py); a hung run ends at pytest's timeout."""
    return run(*args)


@pytest.mark.slow
def test_symbols_may_be_comma_separated() -> None:
    result = _run("quotes", "--demo", "--json", "--duration", "3", "BTCUSDT,eth-usdt", "SOL/USDT")
    assert result.returncode == 0, result.stderr
    symbols = {json.loads(line).get("symbol") for line in result.stdout.splitlines()}
    assert symbols - {None} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}


@pytest.mark.parametrize("threshold", ["0.5%", "0.5 %", "0.5"])
def test_threshold_accepts_a_percent_sign(threshold: str) -> None:
    result = _run("arb", "--demo", "--json", "--duration", "1", "--threshold", threshold)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["quotes", "--demo", "--duration", "0"], "--duration"),
        (["arb", "--demo", "--duration", "-1"], "--duration"),
        (["arb", "--demo", "--threshold", "abc%"], "not a percentage"),
        (["watch", "--demo", "--threshold", "nan"], "not a finite percentage"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    result = _run(*args)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["quotes", "arb", "watch", "sim", "config"])
def test_help_has_no_type_noise_and_a_correct_usage_line(command: str) -> None:
    result = run(command, "--help", env={"COLUMNS": "100", "TERM": "dumb"})
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    assert "<list" not in result.stdout
    assert "[[" not in result.stdout
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    if command in ("quotes", "arb", "watch"):
        assert usage.strip() == f"Usage: cryptows {command} [OPTIONS] [SYMBOL]..."


def _entry_point(at_start: str, defined: str = "") -> str:
    """A ``python -c`` script: the console script's entry point, running the line ``at_start``
    the moment cryptows code starts, from inside the entry point's own Ctrl-C guard (its first
    statement imports ``cryptows.cli``), after ``defined`` (definitions it uses)."""
    return f"""\
import builtins, sys
from cryptows.__main__ import main

real_import = builtins.__import__
{defined}
def at_start(name, *args, **kwargs):
    if name == "cryptows.cli":
        builtins.__import__ = real_import
        {at_start}
    return real_import(name, *args, **kwargs)

builtins.__import__ = at_start
sys.argv = ["cryptows", *sys.argv[1:]]
main()
"""


_STARTED = _entry_point('sys.stderr.write("started\\n"); sys.stderr.flush()')
"""The console script's entry point, announcing the moment cryptows code starts running, from
inside the entry point's own Ctrl-C guard. Before that (the interpreter's start-up, this
wrapper's own lines) is not ours to make Ctrl-C-safe: announcing from the wrapper, just before
calling ``main()``, let a Ctrl-C land between the two (a traceback from ``<string>``)."""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("command", ["quotes", "arb"])
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.2, 0.4, 1.0])
def test_ctrl_c_at_any_moment_exits_0_without_a_traceback(command: str, delay: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _STARTED, command, "--demo", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline() == b"started\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=bound(30))
    finally:
        if proc.poll() is None:  # failed: do not leave it running into the next tests
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err


_DROPPED = _entry_point(
    "Finalizer()  # collected at once",
    defined="""
class Finalizer:
    def __del__(self):
        raise KeyboardInterrupt  # Ctrl-C landing in a finalizer: the interpreter drops it
""",
)
"""The entry point with a Ctrl-C that Python cannot raise (it lands in a finalizer, as CI once
saw it land in the import system's module-lock callback) just as cryptows starts."""


_WRAPPED = _entry_point(
    'type("Imported", (), {"attr": Descriptor()})  # a class being created, as on import',
    defined="""
class Descriptor:
    def __set_name__(self, owner, name):
        raise KeyboardInterrupt  # Python re-raises it as a RuntimeError caused by it
""",
)
"""A Ctrl-C landing in a descriptor's ``__set_name__`` while modules import (CI saw it in the
standard library's ``ipaddress``): Python wraps it in a RuntimeError."""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("command", ["quotes", "arb"])
@pytest.mark.parametrize("wrapper", [_DROPPED, _WRAPPED], ids=["dropped", "wrapped"])
def test_a_ctrl_c_the_interpreter_drops_still_stops_the_run(command: str, wrapper: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, command, "--demo", "--json"],
        capture_output=True,
        timeout=bound(30),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    assert b"Exception ignored" not in proc.stderr


@pytest.mark.slow
def test_unreachable_venues_are_explained_once_and_the_run_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "closed.toml"
    config.write_text(
        "".join(
            f'[venues.{venue}]\nws_url = "ws://127.0.0.1:9/ws"\nrest_url = "http://127.0.0.1:9"\n'
            for venue in VENUE_NAMES  # every venue: none may reach the real exchange
        )
    )
    # The hint comes OFFLINE_HINT_S (5 s) into the run, on the run's own clock: one more second
    # lets it out before the end.
    result = _run("quotes", "--json", "--duration", "6", "--config", str(config))
    assert result.returncode == 1, result.stderr
    hints = [ln for ln in result.stderr.splitlines() if "no venue has delivered data" in ln]
    assert len(hints) == 1, result.stderr
    assert "127.0.0.1:9" in hints[0]
    assert "refused" in hints[0]
    assert "--demo" in hints[0]
    assert result.stderr.strip().splitlines()[-1].startswith("cryptows: error: no venue delivered")
    for line in result.stdout.splitlines():  # stdout stays NDJSON
        assert json.loads(line)["type"] == "venue"


IDLE_ON_BTCUSD = ("binance", "bybit", "okx")
"""The simulated venues that do not list BTCUSD (Coinbase does)."""


@pytest.fixture(scope="module")
def btcusd_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One demo run watching BTCUSD, listed on Coinbase only; the tests below each read it.

    With the shortest liveness bound (1 s) and quick reconnects: a venue with nothing to stream
    that connected anyway (and died of silence) or kept retrying would say so several times in
    the run's 3 s."""
    home = tmp_path_factory.mktemp("btcusd")
    config = home / "fast.toml"
    config.write_text("[feed]\ndead_after_s = 1.0\nbackoff_initial_s = 0.05\nbackoff_max_s = 0.2\n")
    args = ("quotes", "--demo", "--json", "--duration", "3", "--config", str(config), "BTCUSD")
    return subprocess.run(
        _cli(*args), capture_output=True, text=True, timeout=bound(60), env=clean_environ(home)
    )


@pytest.mark.slow
@pytest.mark.xdist_group("btcusd-run")  # one worker, one run (with --dist loadgroup)
def test_a_symbol_one_venue_lists_idles_the_others_once_and_warns_once(
    btcusd_run: subprocess.CompletedProcess[str],
) -> None:
    result = btcusd_run
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    states: dict[str, list[str]] = {}
    for record in records:
        if record["type"] == "venue":
            states.setdefault(record["venue"], []).append(record["state"])
    for venue in IDLE_ON_BTCUSD:
        assert states[venue].count("idle") == 1, states  # said once, no reconnect loop
        assert "failed" not in states[venue]
        assert "backing off" not in states[venue]
    assert "live" in states["coinbase"]
    assert {r["venue"] for r in records if r["type"] == "quote"} == {"coinbase"}
    warnings = [ln for ln in result.stderr.splitlines() if "warning:" in ln]
    assert len(warnings) == 1, result.stderr
    assert "BTCUSD is listed on coinbase only" in warnings[0]


def test_a_symbol_listed_nowhere_suggests_what_the_venues_list() -> None:
    result = _run("quotes", "--demo", "--json", "--duration", "20", "DOGEUSD")
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cryptows: error: DOGEUSD is not listed on any of")
    assert last.endswith("did you mean DOGEUSDT?")


@pytest.mark.slow
@pytest.mark.xdist_group("btcusd-run")
def test_per_venue_listing_problems_are_said_once_with_a_suggestion(
    btcusd_run: subprocess.CompletedProcess[str],
) -> None:
    result = btcusd_run
    assert result.returncode == 0, result.stderr
    for venue in IDLE_ON_BTCUSD:
        lines = [
            ln for ln in result.stderr.splitlines() if ln.startswith(f"cryptows: {venue}: BTCUSD")
        ]
        assert len(lines) == 1, result.stderr
        assert "did you mean BTCUSDT" in lines[0]
