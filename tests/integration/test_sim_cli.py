"""`cryptows sim --fault VENUE:dislocate...` as a user runs it: one venue's price moves on cue."""

from __future__ import annotations

import asyncio
import signal
import sys

from websockets.asyncio.client import connect

from cryptows.models import Quote
from cryptows.symbols import parse_symbols
from cryptows.venues import get_adapter
from tests.cli import run
from tests.integration.conftest import bound


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cryptows", *args]


async def _read_bids(venue: str, url: str, symbol: str, bids: asyncio.Queue[float]) -> None:
    """Put every ``symbol`` bid ``venue`` (at ``url``) sends into ``bids``, until cancelled."""
    adapter = get_adapter(venue)
    async with connect(url) as ws:
        for frame in adapter.subscribe(parse_symbols([symbol])):
            await ws.send(frame)
        async for message in ws:
            for event in adapter.parse(message):
                if isinstance(event, Quote) and event.bid is not None:
                    bids.put_nowait(event.bid)


async def test_dislocate_fault_moves_one_venue_then_ctrl_c_stops() -> None:
    proc = await asyncio.create_subprocess_exec(
        *_cli("sim", "--venues", "binance,okx", "--fault", "binance:dislocate=BTCUSDT:5:60@0.5"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    readers: list[asyncio.Task[None]] = []
    try:
        async with asyncio.timeout(bound(20)):
            urls = {}
            for _ in range(2):
                venue, url, *_ = (await proc.stdout.readline()).decode().split()
                urls[venue] = url
            okx: asyncio.Queue[float] = asyncio.Queue()
            binance: asyncio.Queue[float] = asyncio.Queue()
            readers.append(asyncio.create_task(_read_bids("okx", urls["okx"], "BTCUSDT", okx)))
            okx_bid = await okx.get()
            readers.append(
                asyncio.create_task(_read_bids("binance", urls["binance"], "BTCUSDT", binance))
            )
            while (bid := await binance.get()) < okx_bid * 1.04:
                pass  # before the fault's 0.5 s the venues agree
            assert bid < okx_bid * 1.06  # 5 %, on Binance only
            proc.send_signal(signal.SIGINT)
            _, stderr = await proc.communicate()
        assert proc.returncode == 0, stderr.decode()
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_dislocate_of_a_symbol_the_venue_does_not_list_is_exit_2() -> None:
    result = run("sim", "--fault", "binance:dislocate=BTCUSD:1.0:4@2")  # in-process
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "cryptows: error: bad fault 'binance:dislocate=BTCUSD:1.0:4@2': "
        "binance does not list BTCUSD"
    )
