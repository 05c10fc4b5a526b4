"""Regenerate docs/watch.svg: the dashboard on the demo market at 120x40.

Run from the repository root: ``.venv/bin/python docs/make_screenshot.py``. It starts the
simulated venues (seed 7, whose market dislocates okx BTCUSDT about 7 s in), runs the real
dashboard headless for a few seconds and saves what it shows.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from cryptows.commands.common import live_spec
from cryptows.service import LiveMarket
from cryptows.tui.factory import make_app

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BTCUSD"]


async def main(seconds: float = 9.0) -> None:
    out = Path(__file__).with_name("watch.svg")
    async with live_spec(SYMBOLS, None, None, demo=True) as spec:
        market = LiveMarket(spec.settings, spec.symbols, spec.venues, demo=True)
        app = make_app(market, state_path=Path(tempfile.mkdtemp()) / "watch.json")
        async with market, app.run_test(size=(120, 40)) as pilot:
            await asyncio.sleep(seconds)
            await pilot.pause()
            app.save_screenshot(filename=out.name, path=str(out.parent))
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
