"""The live commands as a user runs them: subprocesses, real signals, every output line checked."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cryptows.venues import VENUE_NAMES
from tests.cli import run
from tests.integration.conftest import bound

VENUES = set(VENUE_NAMES)
STATES = {"connecting", "live", "stale", "backing off", "failed", "stopped"}
QUOTE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "venue": str,
    "symbol": str,
    "channel": str,
    "bid": (float, type(None)),
    "bid_size": (float, type(None)),
    "ask": (float, type(None)),
    "ask_size": (float, type(None)),
    "last": (float, type(None)),
    "volume_24h": (float, type(None)),
    "exchange_ts_ms": (int, type(None)),
    "recv_ts_ms": int,
    "demo": bool,
}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cryptows", *args]


def _validate_quote(obj: dict[str, object]) -> None:
    assert set(obj) == set(QUOTE_FIELDS), obj
    for key, kind in QUOTE_FIELDS.items():
        value = obj[key]
        if kind is float or (isinstance(kind, tuple) and float in kind):
            assert value is None or isinstance(value, (int, float)), (key, obj)
        else:
            assert isinstance(value, kind), (key, obj)
    assert obj["venue"] in VENUES
    assert obj["channel"] in ("book", "ticker")
    assert obj["demo"] is True
    bid, ask = obj["bid"], obj["ask"]
    for price in (bid, ask, obj["last"]):
        assert price is None or price > 0  # type: ignore[operator]
    if bid is not None and ask is not None:
        assert bid <= ask  # type: ignore[operator]


@pytest.mark.slow
def test_quotes_demo_json_every_line_valid() -> None:
    result = run("quotes", "--demo", "--json", "--duration", "3")  # in-process: tests/cli.py
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines
    seen: set[tuple[str, str]] = set()
    for line in lines:
        obj = json.loads(line)
        if obj["type"] == "quote":
            _validate_quote(obj)
            seen.add((obj["venue"], obj["symbol"]))
        else:
            assert obj["type"] == "venue"
            assert {"venue", "state", "reason", "ts_ms", "demo"} <= set(obj)
            assert obj["state"] in STATES
    assert seen == {(v, s) for v in VENUES for s in ("BTCUSDT", "ETHUSDT")}
    assert "DEMO" in result.stderr
    summaries = [line for line in result.stderr.splitlines() if " msgs, " in line]
    assert len(summaries) == len(VENUES)
    assert "Traceback" not in result.stderr


def test_quotes_ctrl_c_exits_cleanly_with_a_summary() -> None:
    proc = subprocess.Popen(
        _cli("quotes", "--demo", "--json", "BTCUSDT"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + bound(30)
        while time.monotonic() < deadline:  # wait for the first quote line
            line = proc.stdout.readline()
            if '"type":"quote"' in line:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=bound(20))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if " msgs, " in line]) == len(VENUES)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["quotes", "BTC--USDT", "--demo"], "malformed symbol"),
        (["quotes", "--venues", "kraken", "--demo"], "unknown venue 'kraken'"),
        (["quotes", "--venues", ",", "--demo"], "--venues is empty"),
        (["quotes", "--duration", "-1", "--demo"], "Invalid value for '--duration'"),
        (["frobnicate"], "No such command"),
        (["sim", "--fault", "bybit:explode"], "unknown action"),
        (["sim", "--fault", "nope"], "bad fault"),
        (["sim", "--port-base", "80"], "out of range"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    result = run(*args)  # in-process (tests/cli.py)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_every_venue_unreachable_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    lines = ['symbols = ["BTCUSDT"]', "[feed]", "backoff_initial_s = 0.1", "backoff_max_s = 0.2"]
    for venue in VENUES:  # port 9 on loopback: nothing listens there
        lines += [
            f"[venues.{venue}]",
            'ws_url = "ws://127.0.0.1:9/"',
            'rest_url = "http://127.0.0.1:9"',
        ]
    config.write_text("\n".join(lines) + "\n")
    result = run("quotes", "--json", "--duration", "2", "--config", str(config))
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cryptows: error: no venue delivered any data")
    assert "cannot connect" in last


@pytest.mark.slow
def test_sim_serves_until_ctrl_c_and_its_config_drives_the_real_client(tmp_path: Path) -> None:
    """`sim --write-config` in the background; every command run with its config is labelled
    DEMO exactly as --demo does (the banner, "demo": true on every line), and the config says
    so (`demo = true`, shown by `config show`)."""
    config = tmp_path / "sim.toml"
    proc = subprocess.Popen(
        _cli("sim", "--seed", "5", "--write-config", str(config)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        count = len(VENUE_NAMES)
        lines = [proc.stdout.readline() for _ in range(count + 1)]  # + "# client config ..."
        assert [line.split()[0] for line in lines[:count]] == list(VENUE_NAMES)
        assert all(
            " ws://127.0.0.1:" in line and " rest http://127.0.0.1:" in line
            for line in lines[:count]
        )
        assert "demo = true" in config.read_text(encoding="utf-8").splitlines()
        # The clients in-process (tests/cli.py); the simulator is a process of its own.
        result = run("quotes", "--json", "--duration", "1", "--config", str(config), "ETHUSDT")
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert {r["venue"] for r in records} == VENUES
        for record in records:
            assert record["demo"] is True, record
            if record["type"] == "quote":
                _validate_quote(record)
        assert result.stderr.splitlines()[0] == (
            "cryptows: DEMO: simulated exchanges on 127.0.0.1, not real market data"
        )
        arb = run("arb", "--json", "--duration", "1", "--config", str(config), "ETHUSDT")
        assert arb.returncode == 0, arb.stderr
        arb_records = [json.loads(line) for line in arb.stdout.splitlines()]
        assert arb_records, "no line at all from arb"
        assert all(r["demo"] is True for r in arb_records), arb_records
        assert "cryptows: DEMO: simulated exchanges" in arb.stderr
        shown = run("config", "show", "--config", str(config))
        assert shown.returncode == 0, shown.stderr
        (row,) = [line for line in shown.stdout.splitlines() if line.startswith("demo ")]
        assert row.split("#")[0].strip() == "demo = true"
        assert row.split("#")[1].strip() == f"file {config}"
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=bound(20))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_without_demo_nothing_is_labelled_demo(tmp_path: Path) -> None:
    """The other side of the label: a config pointing at the simulator without `demo = true`
    (hand-written) is taken at its word: no banner, no "demo" field."""
    config = tmp_path / "sim.toml"
    proc = subprocess.Popen(
        _cli("sim", "--seed", "5", "--venues", "okx", "--write-config", str(config)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        proc.stdout.readline()  # "# client config written to ..."
        text = config.read_text(encoding="utf-8").replace("demo = true", "demo = false")
        config.write_text(text, encoding="utf-8")
        result = run("quotes", "--json", "--duration", "1", "--config", str(config), "ETHUSDT")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=bound(20))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(r["type"] == "quote" and r["venue"] == "okx" for r in records)
    assert all("demo" not in r for r in records)
    assert "DEMO" not in result.stderr
