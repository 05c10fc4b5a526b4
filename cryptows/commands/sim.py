"""``cryptows sim``: run the simulated exchanges standalone and print their endpoints."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from cryptows.commands.common import parse_venues, stop_on_signals
from cryptows.errors import UsageError
from cryptows.sim.cluster import SIMULATORS, SimCluster
from cryptows.sim.faults import FaultStep, parse_fault, run_script


def _report_script_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        print(f"cryptows: fault script stopped: {task.exception()}", file=sys.stderr, flush=True)


def client_config(cluster: SimCluster) -> str:
    """A config file that points the real client at ``cluster``'s venues, and says so
    (``demo = true``: every output made with it is labelled DEMO)."""
    lines = [
        "# cryptows config for the SIMULATED venues started by `cryptows sim`: not real market",
        "# data. Use it with: cryptows quotes --config THIS_FILE",
        "",
        "# This config points at simulated exchanges: every command run with it labels its",
        "# output DEMO, as --demo does.",
        "demo = true",
    ]
    for name in SIMULATORS:
        lines.append(f"\n[venues.{name}]")
        server = cluster.servers.get(name)
        if server is None:
            lines.append("enabled = false")
            continue
        lines.append(f'ws_url = "{server.ws_url}"')
        lines.append(f'rest_url = "{server.rest_url}"')
    return "\n".join(lines) + "\n"


async def run_sim(
    *,
    port_base: int,
    seed: int,
    venues: str | None,
    faults: list[str],
    write_config: Path | None,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve until Ctrl-C; prints ``<venue> <ws url> <rest url>`` per venue on stdout."""
    names = parse_venues(venues) or list(SIMULATORS)
    steps: list[FaultStep] = [parse_fault(text, names) for text in faults]
    if port_base and not 1024 <= port_base <= 65535 - len(names):
        raise UsageError(f"--port-base {port_base} is out of range (1024-{65535 - len(names)})")
    cluster = SimCluster(names, seed=seed, port_base=port_base)
    try:
        await cluster.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on loopback: {exc.strerror or exc}") from exc
    async with stop_on_signals() as stop:
        try:
            for name, server in cluster.servers.items():
                print(f"{name:<9} {server.ws_url}  rest {server.rest_url}", flush=True)
            if write_config is not None:
                text = client_config(cluster)
                await asyncio.to_thread(write_config.write_text, text, encoding="utf-8")
                print(f"# client config written to {write_config}", flush=True)
            if ready is not None:
                ready.set()
            script = asyncio.create_task(run_script(cluster.servers, steps))
            script.add_done_callback(_report_script_failure)
            await stop.wait()
            script.cancel()
            await asyncio.gather(script, return_exceptions=True)
        finally:
            await cluster.stop()
