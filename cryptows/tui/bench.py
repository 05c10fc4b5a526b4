"""``python -m cryptows.bench watch``: the dashboard's CPU share and quote-to-paint latency.

Three processes, as a user runs them: ``cryptows sim`` (the simulated venues, in a process of
its own so its CPU is not counted), and the real dashboard (the same ``LiveMarket`` and
``make_app`` as ``cryptows watch --config``) on a pseudo-terminal of the chosen size, so Textual
renders and writes every frame exactly as it would to a real terminal; this process drains the
terminal and prints the results.

- **CPU share**: the dashboard process' CPU time (user + system, ``time.process_time``) over the
  measured window divided by the window's wall time, after a warm-up.
- **Quote-to-paint latency**: for every venue quote that a refresh puts on screen, the time from
  its receipt by the socket reader (``recv_wall_ms``) to the end of the screen refresh that shows
  it (``App.call_after_refresh``).

Medians and p99 are printed; run on an idle machine, compare medians.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

DEFAULT_SYMBOLS = (
    "BTCUSDT ETHUSDT SOLUSDT XRPUSDT DOGEUSDT ADAUSDT LINKUSDT LTCUSDT AVAXUSDT ETHBTC"
).split()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# -- the dashboard process ------------------------------------------------------------------


async def _child(
    config: Path, out: Path, seconds: float, warmup: float, symbols: list[str]
) -> None:
    from cryptows.clock import wall_ms
    from cryptows.commands.common import load_spec
    from cryptows.market.types import Snapshot
    from cryptows.service import LiveMarket
    from cryptows.tui.factory import make_app

    spec = load_spec(symbols, None, config, demo=False)
    market = LiveMarket(spec.settings, spec.symbols, spec.venues)
    shown: dict[tuple[str, str], int] = {}
    latencies: list[int] = []
    window: dict[str, float] = {}
    live: list[str] = []
    refreshes = 0

    def on_refreshed(snapshot: Snapshot) -> None:
        nonlocal refreshes
        refreshes += 1
        fresh: list[int] = []
        for view in snapshot.symbols:
            for q in view.quotes:
                key = (view.symbol, q.venue)
                if shown.get(key) != q.recv_ms:
                    shown[key] = q.recv_ms
                    fresh.append(q.recv_ms)
        if fresh and "start" in window:
            app.call_after_refresh(lambda: latencies.extend(wall_ms() - r for r in fresh))

    state = Path(tempfile.mkdtemp()) / "watch.json"
    app = make_app(market, state_path=state, on_refreshed=on_refreshed)

    def start_window() -> None:
        window["start"] = time.perf_counter()
        window["cpu"] = time.process_time()

    def stop() -> None:
        window["wall"] = time.perf_counter() - window["start"]
        window["cpu"] = time.process_time() - window["cpu"]
        live.extend(v for v, h in market.health().items() if h.usable)
        app.exit()

    def arm() -> None:
        app.set_timer(warmup, start_window)
        app.set_timer(warmup + seconds, stop)

    app.call_later(arm)
    async with market:
        await app.run_async()
    health = market.health()
    out.write_text(  # noqa: ASYNC240 - once, after the app has ended
        json.dumps(
            {
                "cpu_s": window.get("cpu"),
                "wall_s": window.get("wall"),
                "latencies_ms": latencies,
                "refreshes": refreshes,
                "frames": sum(h.messages for h in health.values()),
                "live": live,
            }
        )
    )


# -- the driver -----------------------------------------------------------------------------


def _start_sim(folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    config = folder / "sim.toml"
    sim = subprocess.Popen(
        [sys.executable, "-m", "cryptows", "sim", "--write-config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not config.exists() or not config.read_text().strip():
        if time.monotonic() > deadline or sim.poll() is not None:
            sim.kill()
            raise SystemExit("bench: the simulator did not start")
        time.sleep(0.05)
    time.sleep(0.2)  # the file is written in one call; let it land
    return sim, config


def _run_dashboard(
    config: Path,
    out: Path,
    seconds: float,
    warmup: float,
    size: tuple[int, int],
    symbols: list[str],
) -> None:
    import fcntl
    import termios

    master, slave = pty.openpty()
    cols, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cryptows.tui.bench",
            "--child",
            str(config),
            str(out),
            str(seconds),
            str(warmup),
            *symbols,
        ],  # fmt: skip
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    written = [0]

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            written[0] += len(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        child.wait(timeout=warmup + seconds + 60)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    print(f"  terminal output: {written[0] / 1e6:.2f} MB")


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m cryptows.bench watch``."""
    parser = argparse.ArgumentParser(prog="python -m cryptows.bench watch", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--size", default="120x40", help="terminal COLSxROWS (e.g. 80x24)")
    parser.add_argument("symbols", nargs="*", default=DEFAULT_SYMBOLS)
    args = parser.parse_args(argv)
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sim, config = _start_sim(folder)
        out = folder / "result.json"
        try:
            print(
                f"watch: {len(args.symbols)} symbols x 4 venues, {cols}x{rows} terminal, "
                f"{args.warmup:g} s warm-up, {args.seconds:g} s measured"
            )
            _run_dashboard(config, out, args.seconds, args.warmup, (cols, rows), args.symbols)
        finally:
            sim.terminate()
            sim.wait(timeout=10)
        if not out.exists():
            raise SystemExit("bench: the dashboard process did not report (see above)")
        result: dict[str, Any] = json.loads(out.read_text())
    lat = result["latencies_ms"]
    print(f"  live venues: {', '.join(result['live'])}; frames received: {result['frames']}")
    print(
        f"  CPU share of the dashboard process: {result['cpu_s'] / result['wall_s'] * 100:.1f} % "
        f"of one core ({result['cpu_s']:.2f} s CPU in {result['wall_s']:.1f} s)"
    )
    if lat:
        print(
            f"  quote receipt -> paint: median {statistics.median(lat):.0f} ms, "
            f"p99 {_percentile(lat, 99):.0f} ms, max {max(lat)} ms over {len(lat)} quotes; "
            f"{result['refreshes']} screen updates"
        )
    else:
        print("  no quote reached the screen during the window")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        import asyncio

        cfg, result_path, secs, warm, *syms = sys.argv[2:]
        asyncio.run(_child(Path(cfg), Path(result_path), float(secs), float(warm), syms))
    else:
        main()
