"""`a` in the dashboard: the analysis modal against a local fake gateway; errors never crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from cryptows.config import AnalysisSettings, load_settings
from cryptows.tui.screens.analysis import AnalysisScreen, ConfirmSpendScreen
from tests.analysis.fake_gateway import FakeGateway, Reply, completion, error_body
from tests.integration.conftest import bound
from tests.tui.frozen import FrozenMarket
from tests.tui.helpers import Build, current_screen, screen_text

KEY = "sk-tui-test-never-drawn"
GOOD = json.dumps({"signal": "HOLD", "rationale": "spreads are tight"})


def _settings(base_url: str, monkeypatch: pytest.MonkeyPatch, **extra: object) -> AnalysisSettings:
    monkeypatch.setenv("HOLYSHEEP_API_KEY", KEY)
    overrides = {"analysis.base_url": base_url, "analysis.task": "signal"} | extra
    return load_settings(None, overrides=overrides).analysis


async def _wait_for(predicate: Callable[[], object], seconds: float = 10) -> None:
    async with asyncio.timeout(bound(seconds)):
        while not predicate():  # noqa: ASYNC110 - polling the app's state
            await asyncio.sleep(0.05)


async def test_a_opens_the_analysis_and_shows_the_answer_tokens_and_cost(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeGateway() as gw:
        gw.script(Reply(body=completion(GOOD, prompt_tokens=700, completion_tokens=40)))
        app = build(analysis=_settings(gw.base_url, monkeypatch))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("a")
            await _wait_for(lambda: isinstance(app.screen, AnalysisScreen) and app.screen.outcomes)
            await pilot.pause()
            text = screen_text(app)
            assert "not financial advice" in text
            assert "local statistics" in text
            assert '"signal": "HOLD"' in text
            assert "tokens: 700 prompt + 40 completion" in text
            assert KEY not in text
            assert len(gw.requests) == 1
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, AnalysisScreen)
            await pilot.press("a")  # cooldown: a notification, no second request
            await pilot.pause()
            assert len(gw.requests) == 1
            assert any("wait" in n.message for n in app._notifications)


async def test_a_gateway_error_is_a_notification_not_a_crash(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeGateway() as gw:
        gw.script(Reply(status=401, body=error_body("bad key")))
        app = build(analysis=_settings(gw.base_url, monkeypatch))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("a")
            await _wait_for(lambda: isinstance(app.screen, AnalysisScreen) and app.screen.outcomes)
            await pilot.pause()
            assert app.is_running
            assert any("rejected the API key" in n.message for n in app._notifications)
            assert KEY not in screen_text(app)


async def test_over_the_spend_guard_it_asks_first(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeGateway() as gw:
        app = build(analysis=_settings(gw.base_url, monkeypatch, **{"analysis.max_cost_usd": 1e-9}))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("a")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmSpendScreen)
            await pilot.press("n")
            await pilot.pause()
            assert not isinstance(current_screen(app), ConfirmSpendScreen)
            assert gw.requests == []


async def test_without_a_key_a_says_so(build: Build, market: FrozenMarket) -> None:
    settings = load_settings(None).analysis
    app = build(analysis=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert any("no API key" in n.message for n in app._notifications)
