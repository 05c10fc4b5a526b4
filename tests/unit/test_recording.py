"""The recording file: writer and reader round trip, a cut-short file, corrupt lines, bad files."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from cryptows.cli import app
from cryptows.config import load_settings
from cryptows.errors import UsageError
from cryptows.market.types import ArbEvent
from cryptows.models import SymbolStatus, VenueState, VenueStatus
from cryptows.recording.format import (
    FORMAT_VERSION,
    Connected,
    Frame,
    Header,
    Status,
    SymbolChange,
    Tick,
    public_endpoint,
)
from cryptows.recording.reader import RecordingReader
from cryptows.recording.replay import ReplayMarket
from cryptows.recording.writer import RecordingWriter
from cryptows.symbols import parse_symbols

HEADER = Header(
    format=FORMAT_VERSION,
    cryptows="0.0.test",
    venues=("binance", "okx"),
    symbols=("BTCUSDT",),
    endpoints={"binance": "wss://stream.binance.com:9443/stream"},
    start_ms=1_767_270_896_000,
    start_mono_ns=5_000_000_000,
    demo=False,
)
FRAME = (
    '{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}'
)


def write_frames(writer: RecordingWriter, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        writer.frame("binance", "binance", FRAME, 5_000_000_000 + i, HEADER.start_ms + i)


def test_round_trip_keeps_every_record_in_order(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson.gz"
    writer = RecordingWriter(path, HEADER)
    writer.connected("binance", "binance")
    reason = "closed by venue with code 1001: going away"
    status = VenueStatus(venue="okx", state=VenueState.BACKOFF, reason=reason, ts_ms=5)
    writer.event(status)
    writer.event(SymbolStatus(venue="okx", symbol="BTCUSDT", message="unknown", ts_ms=9))
    write_frames(writer, 3)
    writer.tick(HEADER.start_ms + 250)
    writer.frame("okx", "okx", b"\x00binary", 1, 2)
    writer.close()
    reader = RecordingReader(path)
    assert reader.header == HEADER
    records = list(reader.records())
    assert [type(r) for r in records] == [Connected, Status, SymbolChange, Frame, Frame, Frame,
                                          Tick, Frame]  # fmt: skip
    assert records[6] == Tick(HEADER.start_ms + 250)
    assert isinstance(records[1], Status)
    assert records[1].event == status
    last = records[-1]
    assert isinstance(last, Frame)
    assert last.data == b"\x00binary"
    assert last.text is None
    first = records[3]
    assert isinstance(first, Frame)
    assert first.text == FRAME
    assert first.wall_ms == HEADER.start_ms
    assert (reader.corrupt, reader.truncated, writer.frames) == (0, False, 4)


@pytest.mark.parametrize("recorded", [True, False])
async def test_a_replay_ticks_where_the_live_market_did(tmp_path: Path, recorded: bool) -> None:
    """Recorded ticks are played at their own moments (a confirmation then falls between the
    same frames as live); a file without them ticks on each 250 ms boundary of its clock."""
    start = HEADER.start_ms
    header = msgspec.structs.replace(HEADER, ticks=recorded, venues=("binance",))
    path = tmp_path / "r.ndjson.gz"
    writer = RecordingWriter(path, header)
    writer.frame("binance", "binance", FRAME, 5_000_000_000, start + 10)
    if recorded:
        writer.tick(start + 137)  # live ticks fall wherever the loop ran them
        writer.tick(start + 391)
    writer.frame("binance", "binance", FRAME, 5_600_000_000, start + 600)
    writer.close()
    market = ReplayMarket(load_settings(None), parse_symbols(["BTCUSDT"]), ["binance"],
                          reader=RecordingReader(path), speed=0)  # fmt: skip
    ticks: list[int] = []
    tick = market.aggregator.tick

    def spy(now_ms: int) -> list[ArbEvent]:
        ticks.append(now_ms - start)
        return tick(now_ms)

    market.aggregator.tick = spy  # type: ignore[method-assign]
    async with asyncio.timeout(10), market:
        await market.ended.wait()
    assert market.frames == 2
    assert ticks == ([137, 391] if recorded else [250, 500])


def test_a_format_1_file_still_replays(tmp_path: Path) -> None:
    path = tmp_path / "old.ndjson.gz"
    writer = RecordingWriter(path, msgspec.structs.replace(HEADER, format=1))
    write_frames(writer, 2)
    writer.close()
    reader = RecordingReader(path)
    assert reader.header.format == 1
    assert not reader.header.ticks
    assert len(list(reader.records())) == 2


def test_a_file_cut_short_reads_up_to_its_last_flush(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson.gz"
    writer = RecordingWriter(path, HEADER)
    write_frames(writer, 50)
    writer.flush()
    flushed = path.stat().st_size
    write_frames(writer, 50, start=50)
    writer.flush()
    data = path.read_bytes()  # never closed: no gzip trailer, as after a kill
    for cut in (flushed, (flushed + len(data)) // 2, len(data)):
        short = tmp_path / f"cut{cut}.ndjson.gz"
        short.write_bytes(data[:cut])
        reader = RecordingReader(short)
        frames = list(reader.records())
        assert len(frames) >= 50 if cut < len(data) else len(frames) == 100
        assert reader.truncated
        assert reader.corrupt == 0
    writer.close()


def test_a_corrupt_line_in_the_middle_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson.gz"
    frame = msgspec.json.encode(Frame("binance", "binance", 1, 2, text=FRAME))
    lines = [msgspec.json.encode(HEADER), frame, b'{"t":"f","c":', b"\xff garbage", frame]
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    reader = RecordingReader(path)
    assert len(list(reader.records())) == 2
    assert reader.corrupt == 2
    assert not reader.truncated


def test_endpoints_never_keep_credentials() -> None:
    assert public_endpoint("wss://user:pw@host.example:9443/ws?token=abc#x") == (
        "wss://host.example:9443/ws"
    )


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each bad file and the words its error must have."""
    missing = tmp_path / "missing.ndjson.gz"
    empty = tmp_path / "empty.ndjson.gz"
    empty.write_bytes(b"")
    hollow = tmp_path / "hollow.ndjson.gz"
    hollow.write_bytes(gzip.compress(b""))
    plain = tmp_path / "plain.ndjson"
    plain.write_text('{"t":"header"}\n', encoding="utf-8")
    future = tmp_path / "future.ndjson.gz"
    header = msgspec.structs.replace(HEADER, format=99)
    future.write_bytes(gzip.compress(msgspec.json.encode(header) + b"\n"))
    other = tmp_path / "other.json.gz"
    other.write_bytes(gzip.compress(b'{"hello": 1}\n'))
    return {
        "missing": (missing, "not found"),
        "empty": (empty, "is empty"),
        "hollow": (hollow, "is empty"),
        "not gzip": (plain, "not gzip"),
        "unknown version": (future, "format version 99"),
        "not a recording": (other, "not a cryptows recording"),
    }


@pytest.mark.parametrize(
    "case", ["missing", "empty", "hollow", "not gzip", "unknown version", "not a recording"]
)
def test_a_bad_file_is_a_usage_error(tmp_path: Path, case: str) -> None:
    path, words = bad_files(tmp_path)[case]
    with pytest.raises(UsageError, match=words):
        RecordingReader(path)


@pytest.mark.parametrize("command", ["arb", "quotes", "analyze", "watch"])
def test_the_cli_says_so_in_one_line_and_exits_2(tmp_path: Path, command: str) -> None:
    runner = CliRunner()
    for path, words in bad_files(tmp_path).values():
        result = runner.invoke(app, [command, "--replay", str(path), "--speed", "0"])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("cryptows: error: ")
        assert words in result.stderr
        assert result.stderr.count("\n") == 1
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["arb", "--demo", "--replay", "x.ndjson.gz"], "exclude each other"),
        (["watch", "--demo", "--replay", "x.ndjson.gz"], "exclude each other"),
        (["quotes", "--all", "--replay", "x.ndjson.gz"], "exclude each other"),
        (["arb", "--speed", "2"], "--speed needs --replay"),
        (["arb", "--replay", "x.ndjson.gz", "--speed", "-1"], "must be 0"),
    ],
)
def test_replay_options_that_cannot_go_together_exit_2(args: list[str], words: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
