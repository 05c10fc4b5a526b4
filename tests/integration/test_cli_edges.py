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

from tests.integration.conftest import bound


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cryptows", *args]


def _run(*args: str, seconds: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cli(*args), capture_output=True, text=True, timeout=bound(seconds))


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
    result = _run(*args, seconds=30)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["quotes", "arb", "watch", "sim", "config"])
def test_help_has_no_type_noise_and_a_correct_usage_line(command: str) -> None:
    result = subprocess.run(
        _cli(command, "--help"),
        capture_output=True,
        text=True,
        timeout=bound(30),
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin", "TERM": "dumb"},
    )
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    assert "<list" not in result.stdout
    assert "[[" not in result.stdout
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    if command in ("quotes", "arb", "watch"):
        assert usage.strip() == f"Usage: cryptows {command} [OPTIONS] [SYMBOL]..."


_STARTED = """\
import builtins, sys
from cryptows.__main__ import main

real_import = builtins.__import__

def announce(name, *args, **kwargs):
    if name == "cryptows.cli":  # main()'s first statement: inside its Ctrl-C guard
        builtins.__import__ = real_import
        sys.stderr.write("started\\n")
        sys.stderr.flush()
    return real_import(name, *args, **kwargs)

builtins.__import__ = announce
sys.argv = ["cryptows", *sys.argv[1:]]
main()
"""
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
    assert proc.stderr is not None
    assert proc.stderr.readline() == b"started\n"
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=bound(30))
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err


def test_unreachable_venues_are_explained_once_and_the_run_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "closed.toml"
    config.write_text(
        "".join(
            f'[venues.{venue}]\nws_url = "ws://127.0.0.1:9/ws"\nrest_url = "http://127.0.0.1:9"\n'
            for venue in ("binance", "bybit", "okx", "coinbase")
        )
    )
    result = _run("quotes", "--json", "--duration", "7", "--config", str(config), seconds=60)
    assert result.returncode == 1, result.stderr
    hints = [ln for ln in result.stderr.splitlines() if "no venue has delivered data" in ln]
    assert len(hints) == 1, result.stderr
    assert "127.0.0.1:9" in hints[0]
    assert "refused" in hints[0]
    assert "--demo" in hints[0]
    assert result.stderr.strip().splitlines()[-1].startswith("cryptows: error: no venue delivered")
    for line in result.stdout.splitlines():  # stdout stays NDJSON
        assert json.loads(line)["type"] == "venue"


def test_a_symbol_one_venue_lists_idles_the_others_once_and_warns_once() -> None:
    result = _run("quotes", "--demo", "--json", "--duration", "4", "BTCUSD")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    states: dict[str, list[str]] = {}
    for record in records:
        if record["type"] == "venue":
            states.setdefault(record["venue"], []).append(record["state"])
    for venue in ("binance", "bybit", "okx"):
        assert states[venue].count("idle") == 1, states  # said once, no reconnect loop
        assert "failed" not in states[venue]
        assert "backing off" not in states[venue]
    assert "live" in states["coinbase"]
    assert {r["venue"] for r in records if r["type"] == "quote"} == {"coinbase"}
    warnings = [ln for ln in result.stderr.splitlines() if "warning:" in ln]
    assert len(warnings) == 1, result.stderr
    assert "BTCUSD is listed on coinbase only" in warnings[0]


def test_a_symbol_listed_nowhere_suggests_what_the_venues_list() -> None:
    result = _run("quotes", "--demo", "--json", "--duration", "20", "DOGEUSD", seconds=60)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cryptows: error: DOGEUSD is not listed on any of")
    assert last.endswith("did you mean DOGEUSDT?")


def test_per_venue_listing_problems_are_said_once_with_a_suggestion() -> None:
    result = _run("quotes", "--demo", "--json", "--duration", "4", "BTCUSD")
    assert result.returncode == 0, result.stderr
    for venue in ("binance", "bybit", "okx"):
        lines = [
            ln for ln in result.stderr.splitlines() if ln.startswith(f"cryptows: {venue}: BTCUSD")
        ]
        assert len(lines) == 1, result.stderr
        assert "did you mean BTCUSDT" in lines[0]
