"""Record the simulator, replay it: the same opportunities as live, the same output every time."""

from __future__ import annotations

import asyncio
import gzip
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cryptows.cli import app
from cryptows.commands.common import RunSpec
from cryptows.commands.record import header_for
from cryptows.config import load_settings
from cryptows.market.types import ArbEvent, ArbEventType
from cryptows.models import VenueStatus
from cryptows.recording.reader import RecordingReader
from cryptows.recording.replay import ReplayMarket
from cryptows.recording.writer import RecordingWriter
from cryptows.service import LiveMarket, MarketEvent
from cryptows.sim.cluster import SimCluster
from tests.integration.conftest import SYMBOLS, VENUES, bound, settings_for, until

KEY = "sk-holysheep-test-never-recorded-0123456789"
# The module's tests share one recording (seconds of streaming): one worker makes it, once
# (with --dist loadgroup), rather than each worker that draws one of them making its own.
# Marked slow so that worker starts on them first.
pytestmark = [pytest.mark.xdist_group("recording"), pytest.mark.slow]

RECORD_S = 3.0
"""Long enough for a dislocation to open, hold and close."""

Pair = tuple[str, str, str, str, str | None]
"""An opportunity event as compared: type, symbol, buy venue, sell venue, close reason."""


def pairs(events: list[MarketEvent]) -> list[Pair]:
    """Venue state changes, opens and closes (updates depend on when a quote landed)."""
    seen: list[Pair] = []
    for e in events:
        if isinstance(e, VenueStatus):
            seen.append(("venue", e.venue, e.state.value, ",".join(e.symbols), e.reason))
        elif isinstance(e, ArbEvent) and e.type is not ArbEventType.UPDATE:
            o = e.opportunity
            reason = o.close_reason.value if o.close_reason else None
            seen.append((e.type.value, o.symbol, o.buy_venue, o.sell_venue, reason))
    return seen


@dataclass
class Recorded:
    path: Path
    live: list[Pair]


async def _record(path: Path) -> list[Pair]:
    """What ``cryptows record`` does (:func:`record_market`), watching the live events too."""
    async with SimCluster(VENUES, seed=3, dislocations=False) as cluster:
        spec = RunSpec(symbols=SYMBOLS, venues=VENUES, settings=settings_for(cluster), demo=True)
        writer = RecordingWriter(path, header_for(spec))
        market = LiveMarket(spec.settings, SYMBOLS, VENUES, demo=True, recorder=writer)
        events = market.subscribe()
        async with asyncio.timeout(bound(30)), market:
            await asyncio.sleep(0.6)
            cluster["okx"].dislocate("ETHUSDT", 1.0, 1.2)  # okx's ETH 1 % up: sell it there
            await asyncio.sleep(RECORD_S - 0.6)
            writer.accepting = False  # as record_market stops
            market.close_all()
            seen = pairs(events.drain())  # not the venues stopping as the market closes
        writer.close()
        return seen


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """One recording of the simulator with a dislocation, and the opportunities seen live."""
    path = tmp_path_factory.mktemp("rec") / "sim.ndjson.gz"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOLYSHEEP_API_KEY", KEY)  # the settings hold it: it must not be recorded
        live = asyncio.run(_record(path))
    return Recorded(path, live)


async def replay(path: Path, speed: float) -> list[Pair]:
    reader = RecordingReader(path)
    settings = load_settings(None)
    market = ReplayMarket(settings, SYMBOLS, VENUES, reader=reader, speed=speed, demo=True)
    events = market.subscribe()
    async with asyncio.timeout(bound(30)), market:
        await market.ended.wait()
        market.close_all()
    return pairs(events.drain())


def test_the_recording_has_the_dislocation_and_no_secret(recorded: Recorded) -> None:
    assert ("open", "ETHUSDT") in {(p[0], p[1]) for p in recorded.live}
    assert ("venue", "okx", "live") in {p[:3] for p in recorded.live}
    text = gzip.decompress(recorded.path.read_bytes())
    assert KEY.encode() not in text
    assert b'"t":"f"' in text
    assert b'"state":"live"' in text
    assert b'"t":"tick"' in text  # where the live market ran its age check: a replay runs it there


@pytest.mark.parametrize("speed", [0.0, 1.0])
async def test_a_replay_sees_the_opportunities_seen_live(recorded: Recorded, speed: float) -> None:
    assert await replay(recorded.path, speed) == recorded.live


def test_arb_json_replays_byte_for_byte(recorded: Recorded) -> None:
    runner = CliRunner()
    args = ["arb", "--replay", str(recorded.path), "--speed", "0", "--json"]
    first = runner.invoke(app, args)
    second = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    assert '"type":"open"' in first.stdout
    assert first.stdout == second.stdout
    assert "REPLAY of" in first.stderr


def test_record_writes_a_file_that_replays(tmp_path: Path) -> None:
    path = tmp_path / "demo.ndjson.gz"
    result = CliRunner().invoke(app, ["record", str(path), "BTCUSDT", "--demo", "--duration", "1"])
    assert result.exit_code == 0, result.stderr
    assert f"-> {path}" in result.stderr.splitlines()[-1]
    reader = RecordingReader(path)
    assert reader.header.demo
    assert reader.header.symbols == ("BTCUSDT",)
    assert any(True for _ in reader.records())
    assert not reader.truncated  # closed properly


async def test_a_paused_replay_stops_the_recordings_clock(recorded: Recorded) -> None:
    reader = RecordingReader(recorded.path)
    market = ReplayMarket(load_settings(None), SYMBOLS, VENUES, reader=reader, speed=1.0)
    async with market:
        market.set_paused(True)  # before its first record
        await asyncio.sleep(0.3)
        assert market.frames == 0
        assert market.now_ms() == reader.header.start_ms
        market.set_paused(False)
        await until(lambda: market.frames > 0, 5, "frames once resumed")
