"""The soak script (``python -m cryptows.bench soak``) in miniature: it runs, injects faults,
and reports what it saw (the long run is not part of CI)."""

from __future__ import annotations

import gc

import pytest

from cryptows.bench.soak import render_soak, soak
from cryptows.venues import VENUE_NAMES


@pytest.mark.slow
async def test_a_short_soak_survives_its_faults_and_reports() -> None:
    # The soak counts every error record of the process, asyncio's "Task exception was never
    # retrieved" included: collect what earlier tests in this worker left behind first.
    gc.collect()
    report = await soak(4.0, every_s=0.4, seed=3, progress=False)
    assert report.crashes == 0, report.errors
    assert sum(report.faults.values()) >= 2  # a lasting fault is lifted seconds later
    assert set(report.quotes) == set(VENUE_NAMES)  # every venue streamed
    assert report.rss_mib
    assert report.rss_mib[-1][1] > 0
    text = "\n".join(render_soak(report))
    assert "crashes 0" in text
    assert all(venue in text for venue in VENUE_NAMES)
    assert report.as_dict()["seconds"] >= 4.0
