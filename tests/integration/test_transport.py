"""The transport prototypes and the replay server: every frame arrives intact on every transport,
compressed or not, and the full path makes of them the quotes a fresh adapter makes."""

from __future__ import annotations

import pytest

from cryptows.bench.e2e import Workload
from cryptows.bench.replay_server import Plan, ReplayServer
from cryptows.bench.transport import TRANSPORTS, available, bare, full, read

N = 700


def _quotes(work: Workload, total: int) -> int:
    return sum(work.quotes[i % len(work.frames)] for i in range(total))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_each_transport_absorbs_every_frame(
    server: ReplayServer, work: Workload, transport: str
) -> None:
    if not available(transport):
        pytest.skip(f"{transport} is not installed")
    server.plan(Plan(N))
    tally = await read(transport, server.ws_url, work.subscribe(), N, bare())
    assert tally.frames == N == server.sent().frames
    handle, pipeline, health = full(work.venue, work.symbols)
    server.plan(Plan(N))
    tally = await read(transport, server.ws_url, work.subscribe(), N, handle)
    assert tally.frames == health.messages == N
    assert pipeline.quotes == _quotes(work, N)
    assert pipeline.bad_frames == 0


@pytest.mark.parametrize("transport", ["websockets", "aiohttp"])
async def test_compressed_frames_decode_to_the_same_quotes(
    server: ReplayServer, work: Workload, transport: str
) -> None:
    handle, pipeline, _ = full(work.venue, work.symbols)
    server.plan(Plan(N, deflate=True))
    tally = await read(transport, server.ws_url, work.subscribe(), N, handle, compression=True)
    sent = server.sent()
    assert sent.deflate is True
    assert tally.frames == sent.frames == N
    assert pipeline.quotes == _quotes(work, N)
    assert pipeline.bad_frames == 0
