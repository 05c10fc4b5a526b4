"""The end-to-end benchmark measures what it says: every frame sent arrives, every quote parsed
is aggregated (counts only: its timings are never tested)."""

from __future__ import annotations

from cryptows.bench.e2e import TINY_E2E, Workload, run_client, run_e2e
from cryptows.bench.replay_server import ReplayServer


def test_the_section_counts_every_frame_and_quote() -> None:
    report = run_e2e(TINY_E2E)
    runs = [report["saturated"], *report["paced"].values()]
    assert list(report["paced"]) == ["5000", "20000"]
    for run in runs:
        assert run["frames_sent"] == run["frames_received"] > 0
        assert run["quotes_expected"] == run["quotes_handed"] == run["quotes_aggregated"] > 0
        assert run["quotes_lost"] == 0
    assert report["quotes_lost"] == report["frames_missing"] == 0
    assert report["saturated"]["sent_to_aggregated_us"] is None  # flat out: no send stamps
    assert all(run["sent_to_aggregated_us"] is not None for run in report["paced"].values())


async def test_the_real_client_gets_all_frames_flat_out_and_paced(
    server: ReplayServer, work: Workload
) -> None:
    for rate in (None, 20_000.0):
        run = await run_client(server, work, 1_000, rate=rate)
        total = work.total(1_000)
        assert run.sent.frames == run.frames_received == total
        expected = sum(work.quotes[i % len(work.frames)] for i in range(total))
        assert run.quotes_expected == run.quotes_handed == run.quotes_aggregated == expected
        assert run.quotes_lost == 0


async def test_the_real_client_does_not_offer_permessage_deflate(
    server: ReplayServer, work: Workload
) -> None:
    # The server would accept (and compress) had the client offered it (issue 19).
    run = await run_client(server, work, 500, deflate=True)
    assert run.sent.deflate is False
    assert run.quotes_lost == 0
