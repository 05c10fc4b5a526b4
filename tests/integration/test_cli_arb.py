"""`cryptows arb` as a user runs it: a subprocess against the demo market, every line checked."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cryptows.commands.sim import client_config
from cryptows.sim.cluster import SimCluster
from cryptows.sim.faults import apply_fault, parse_fault
from tests.cli import run
from tests.integration.conftest import bound

VENUES = {"binance", "bybit", "okx", "coinbase"}
NUM = (int, float)
ARB_FIELDS: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "ts_ms": (int,),
    "symbol": (str,),
    "buy_venue": (str,),
    "buy_symbol": (str,),
    "buy_price": NUM,
    "buy_size": (*NUM, type(None)),
    "buy_age_ms": (int,),
    "sell_venue": (str,),
    "sell_symbol": (str,),
    "sell_price": NUM,
    "sell_size": (*NUM, type(None)),
    "sell_age_ms": (int,),
    "size": (*NUM, type(None)),
    "gross_pct": NUM,
    "fees_pct": NUM,
    "net_pct": NUM,
    "peak_net_pct": NUM,
    "est_profit": (*NUM, type(None)),
    "profit_asset": (str, type(None)),
    "opened_ms": (int,),
    "duration_ms": (int,),
    "rank": (int,),
    "shared_leg": (str, type(None)),
    "converted": (str, type(None)),
    "reason": (str, type(None)),
    "demo": (bool,),
}
CLOSE_REASONS = {"below_threshold", "leg_stale", "leg_gone", "run_end"}
CONFIRM_MS = 250  # the default [arb] confirm_ms
VENUE_FIELDS = {"type": (str,), "ts_ms": (int,), "venue": (str,), "state": (str,),
                "reason": (str,), "demo": (bool,)}  # fmt: skip


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cryptows", *args]


def _check(obj: Mapping[str, object], fields: Mapping[str, tuple[type, ...]]) -> None:
    assert set(obj) == set(fields), obj
    for key, kinds in fields.items():
        assert isinstance(obj[key], kinds), (key, obj)
        assert not isinstance(obj[key], bool) or bool in kinds, (key, obj)


DISLOCATION = "binance:dislocate=BTCUSDT:1.0:1.5"
"""Binance's BTCUSDT 1 % up for 1.5 s: well over the taker fees, and longer than confirm_ms."""


async def _arb_through_a_dislocation(tmp_path: Path) -> tuple[str, str, int]:
    """Run ``cryptows arb --json`` against simulated venues (as ``cryptows sim --write-config``
    serves them, without random dislocations), inject :data:`DISLOCATION` once every venue is
    live, and end the run with Ctrl-C once a pair has closed: (stdout, stderr, exit code)."""
    async with SimCluster(seed=7, dislocations=False) as cluster:
        config = tmp_path / "sim.toml"
        config.write_text(client_config(cluster), encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            *_cli("arb", "--config", str(config), "--json", "--threshold", "0.1"),
            *("--duration", str(bound(60))),  # a backstop: Ctrl-C ends the run
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        errors = asyncio.create_task(proc.stderr.read())
        loop = asyncio.get_running_loop()
        out: list[str] = []
        live: set[str] = set()
        give_up: asyncio.TimerHandle | None = None
        stopping = False

        def ctrl_c() -> None:  # once: a second one could land after arb's handler is gone
            nonlocal stopping
            if not stopping and proc.returncode is None:
                stopping = True
                proc.send_signal(signal.SIGINT)

        try:
            async with asyncio.timeout(bound(60)):
                while line := (await proc.stdout.readline()).decode():
                    out.append(line)
                    obj = json.loads(line)
                    if obj["type"] == "venue" and obj["state"] == "live":
                        live.add(obj["venue"])
                    if give_up is None and live == VENUES:
                        step = parse_fault(DISLOCATION, list(cluster.servers))
                        await apply_fault(cluster[step.venue], step)
                        give_up = loop.call_later(bound(10), ctrl_c)  # no close: fail, not hang
                    if obj["type"] == "close" and give_up is not None:
                        give_up.cancel()
                        ctrl_c()  # what is still open closes with run_end
                return "".join(out), (await errors).decode(), await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_arb_demo_json_open_close_pairs_and_valid_lines(tmp_path: Path) -> None:
    stdout, stderr, returncode = await _arb_through_a_dislocation(tmp_path)
    assert returncode == 0, stderr
    opened: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    reasons: set[str] = set()
    pairs = 0
    for line in stdout.splitlines():
        obj = json.loads(line)
        if obj["type"] == "venue":
            obj.pop("retry_at_ms", None)  # present while backing off
            _check(obj, VENUE_FIELDS)
            assert obj["venue"] in VENUES
            continue
        _check(obj, ARB_FIELDS)
        assert obj["type"] in ("open", "update", "close")
        assert obj["buy_venue"] != obj["sell_venue"]
        assert {obj["buy_venue"], obj["sell_venue"]} <= VENUES
        assert obj["buy_symbol"] == obj["sell_symbol"] == obj["symbol"]  # no USD-vs-USDT
        assert obj["converted"] is None
        assert obj["net_pct"] == pytest.approx(obj["gross_pct"] - obj["fees_pct"])
        assert obj["gross_pct"] == pytest.approx(
            (obj["sell_price"] - obj["buy_price"]) / obj["buy_price"] * 100
        )
        assert obj["peak_net_pct"] >= obj["net_pct"] - 1e-9 or obj["type"] == "close"
        # ts_ms is the event, opened_ms the first crossing, duration_ms the time between them.
        assert obj["ts_ms"] - obj["opened_ms"] == obj["duration_ms"] >= 0
        assert obj["rank"] >= 1
        assert obj["shared_leg"] in (None, "buy", "sell", "both")
        assert obj["profit_asset"] == "USDT"
        size, buy, sell = obj["size"], obj["buy_price"], obj["sell_price"]
        if size is None:
            assert obj["est_profit"] is None
        else:
            # Each fee is charged on its own leg's notional, between buy and sell price.
            gain, fees = size * (sell - buy), obj["fees_pct"] / 100
            assert gain - size * sell * fees - 1e-9 <= obj["est_profit"] <= gain - size * buy * fees
        key = (obj["buy_venue"], obj["buy_symbol"], obj["sell_venue"], obj["sell_symbol"])
        if obj["type"] == "open":
            assert key not in opened, f"duplicate open for {key}"
            assert obj["net_pct"] >= 0.1
            assert obj["duration_ms"] >= CONFIRM_MS, "opened before it held for confirm_ms"
            assert obj["reason"] is None
            opened[key] = obj
        elif obj["type"] == "update":
            assert key in opened
            assert obj["reason"] is None
            assert obj["opened_ms"] == opened[key]["opened_ms"]
        else:
            assert key in opened, f"close without open for {key}"
            assert obj["reason"] in CLOSE_REASONS
            assert obj["opened_ms"] == opened[key]["opened_ms"]
            reasons.add(obj["reason"])
            del opened[key]
            pairs += 1
    assert not opened, "every open must be closed by the end of the run"
    assert pairs >= 1, "the injected dislocation should produce an open/close pair"
    assert reasons, "every close says why"
    assert "arb: " in stderr
    assert "best net" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--threshold", "-1"], "flag --threshold: arb.threshold_pct must be >= 0"),
        (["--threshold", "500"], "absurd"),
        (["--venues", "binance"], "at least two venues"),
        (["--venues", "binance,kraken"], "unknown venue 'kraken'"),
        (["BTC/USDT/X"], "malformed symbol"),
        (["--max-age", "-5"], "--max-age"),
    ],
)
def test_arb_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    result = run("arb", "--demo", "--json", *args)  # in-process: tests/cli.py
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["arb", "quotes"])
def test_symbol_listed_nowhere_is_exit_2(command: str) -> None:
    result = run(command, "--demo", "--json", "--duration", "20", "FOOUSDT", "BTCUSDT")
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cryptows: error: FOOUSDT is not listed on any of binance, bybit")
    assert "Traceback" not in result.stderr
