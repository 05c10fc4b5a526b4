"""Market scale: the CPU share of ``cryptows arb --all`` over the simulator's whole universe.

The simulator runs as ``cryptows sim`` in its own process (as a user would run it for a bot),
``cryptows arb --all --json`` in another, pointed at it by the config ``sim --write-config``
writes; both are real commands, started fresh. Reported: the symbols ``--all`` took, the
frames the venues delivered (from the exit summaries), the opportunities opened, and each
process' CPU time over the run's wall time (the ``arb`` figure includes its start-up: imports
and reading the symbol lists, well under a second). Target (issue 19): ``arb`` at most 50 % of
one core.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ALL_LINE = re.compile(r"--all: (\d+) symbols")
_SUMMARY = re.compile(r"^cryptows: (\w+): \w[\w ]*(?: \([^)]*\))?, (\d+) msgs, (\d+) bad")
_OPENED = re.compile(r"arb: (\d+) opportunit")


@dataclass(frozen=True)
class ScaleOptions:
    """How long ``arb --all`` runs against the simulator."""

    seconds: float = 20.0
    quote: str | None = None
    """``--quote`` (``None``: every quote asset)."""


def _cpu_of(pid: int) -> float:
    """Seconds of CPU (user + system) process ``pid`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cryptows", *args]


def run_scale(options: ScaleOptions) -> dict[str, Any]:
    """Run the simulator and ``arb --all`` side by side; what each cost (module docstring)."""
    with tempfile.TemporaryDirectory(prefix="cryptows-bench-") as tmp:
        config = Path(tmp) / "sim.toml"
        sim = subprocess.Popen(
            _cli("sim", "--write-config", str(config)),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert sim.stdout is not None
            for line in sim.stdout:  # one line per venue, then the config's
                if line.startswith("# client config"):
                    break
            else:
                raise RuntimeError("the simulator ended before writing its config")
            sim_before = _cpu_of(sim.pid)
            started = time.monotonic()
            arb = subprocess.Popen(
                _cli("arb", "--all", "--json", "--duration", f"{options.seconds:g}",
                     "--config", str(config), *(("--quote", options.quote) if options.quote
                                                else ())),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            with arb:
                assert arb.stderr is not None
                err = arb.stderr.read()  # until arb closes it, at its exit
                _, status, usage = os.wait4(arb.pid, 0)  # its own CPU time
                wall = time.monotonic() - started
                arb.returncode = os.waitstatus_to_exitcode(status)
            sim_cpu = _cpu_of(sim.pid) - sim_before
        finally:
            sim.send_signal(signal.SIGINT)
            try:
                sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.kill()
                sim.wait()
            if sim.stdout is not None:
                sim.stdout.close()
    if arb.returncode != 0:
        raise RuntimeError(f"arb --all exited {arb.returncode}: {err.strip()[-500:]}")
    arb_cpu = usage.ru_utime + usage.ru_stime
    symbols = _ALL_LINE.search(err)
    opened = _OPENED.search(err)
    messages = {m[1]: int(m[2]) for ln in err.splitlines() if (m := _SUMMARY.match(ln))}
    return {
        "seconds": round(wall, 3),
        "symbols": int(symbols[1]) if symbols else 0,
        "messages": messages,
        "messages_per_s": round(sum(messages.values()) / wall, 1),
        "opened": int(opened[1]) if opened else 0,
        "arb_cpu_s": round(arb_cpu, 3),
        "arb_cpu_share": round(arb_cpu / wall, 4),
        "sim_cpu_share": round(sim_cpu / wall, 4),
    }


def render_scale(report: dict[str, Any]) -> list[str]:
    """The section's lines in the text report."""
    venues = ", ".join(f"{v} {n}" for v, n in report["messages"].items())
    return [
        f"arb --all over the simulator's universe ({report['symbols']} symbols, simulator in "
        f"its own process, {report['seconds']:.0f} s): arb {report['arb_cpu_share'] * 100:.1f} % "
        f"of one core (target <= 50 %), simulator {report['sim_cpu_share'] * 100:.1f} %",
        f"  {report['messages_per_s']:.0f} msgs/s ({venues}); {report['opened']} opportunities",
    ]
