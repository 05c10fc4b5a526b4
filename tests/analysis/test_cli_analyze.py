"""`cryptows analyze` as a user runs it: the command on the demo market, talking to a local
fake OpenAI-compatible gateway. Every case checks the exit code, what is shown, and that the key
appears nowhere in stdout or stderr."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

import pytest

from tests.analysis.fake_gateway import FakeGateway, Reply, completion, error_body
from tests.cli import run
from tests.integration.conftest import bound

KEY = "sk-test-Zq81-never-show-me"
GOOD = json.dumps(
    {
        "sentiment": "neutral",
        "confidence": 0.4,
        "key_factors": ["tight spreads"],
        "summary": "quiet, simulated market",
    }  # fmt: skip
)


async def _analyze(
    gateway: FakeGateway | None, *args: str, key: str | None = KEY, tmp: Path
) -> tuple[int, str, str]:
    env: dict[str, str | None] = {
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_STATE_HOME": str(tmp / "state"),
        "CRYPTOWS_LOG_DIR": str(tmp / "log"),
        "HOLYSHEEP_API_KEY": key,  # None: unset
    }
    base = ["--base-url", gateway.base_url] if gateway is not None else []
    # In-process (tests/cli.py), in a thread: the fake gateway is served by this test's loop
    # (its server loggers kept out of the command's log: see FakeGateway).
    command = ("analyze", "--demo", "--window", "1", *base, *args)
    gc.collect()  # finalizers of earlier tests' garbage (and what they log) run now, not in it
    async with asyncio.timeout(bound(60)):
        result = await asyncio.to_thread(run, *command, env=env)
    assert KEY not in result.stdout
    assert KEY not in result.stderr
    for log in (tmp / "log").glob("*"):
        assert KEY not in log.read_text()
    return result.returncode, result.stdout, result.stderr


async def test_a_good_answer_shows_local_numbers_first_then_the_answer_and_cost(
    tmp_path: Path,
) -> None:
    async with FakeGateway() as gw:
        gw.script(Reply(body=completion(GOOD, prompt_tokens=900, completion_tokens=80)))
        code, out, err = await _analyze(gw, "--task", "sentiment", tmp=tmp_path)
        assert code == 0, err
        request = gw.requests[0]
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        body = request.json()
        assert isinstance(body, dict)
        assert body["model"] == "deepseek-v3.2"
        assert "JSON" in body["messages"][1]["content"]
    assert "not financial advice" in out
    assert out.index("local statistics") < out.index('"sentiment": "neutral"')
    assert "tokens: 900 prompt + 80 completion" in out
    # deepseek-v3.2 at 0.28 in / 0.42 out per million tokens
    assert f"${(900 * 0.28 + 80 * 0.42) / 1e6:.5f}" in out


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (f"```json\n{GOOD}\n```", '"sentiment": "neutral"'),
        (f"Here is my view:\n{GOOD}\nHope it helps.", '"sentiment": "neutral"'),
        ("The market looks calm to me.", "The market looks calm to me."),
        ("", "(blank)"),
    ],
)
async def test_odd_answers_are_shown_never_a_crash(
    tmp_path: Path, content: str, shown: str
) -> None:
    async with FakeGateway() as gw:
        gw.script(Reply(body=completion(content)))
        code, out, err = await _analyze(gw, "--task", "sentiment", tmp=tmp_path)
    assert code == 0, err
    assert shown in out
    if not content.count("{"):
        assert "warning:" in out


async def test_the_gateways_own_cost_is_shown_beside_the_local_one(tmp_path: Path) -> None:
    async with FakeGateway() as gw:
        gw.script(Reply(body=completion(GOOD, cost=0.0123)))
        code, out, _ = await _analyze(gw, "--task", "sentiment", tmp=tmp_path)
    assert code == 0
    assert "(gateway says $0.01230)" in out


async def test_a_rejected_key_exits_2_with_one_line(tmp_path: Path) -> None:
    async with FakeGateway() as gw:
        gw.script(Reply(status=401, body=error_body("Incorrect API key provided")))
        code, out, err = await _analyze(gw, "--task", "signal", tmp=tmp_path)
    assert code == 2
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(errors) == 1
    assert "rejected the API key (HTTP 401)" in errors[0]
    assert "Traceback" not in err


@pytest.mark.slow
async def test_a_failing_gateway_exits_1_after_three_attempts(tmp_path: Path) -> None:
    async with FakeGateway() as gw:
        gw.script(*[Reply(status=500, body=error_body("upstream exploded"))] * 3)
        code, _, err = await _analyze(gw, "--task", "anomaly", tmp=tmp_path)
        assert len(gw.requests) == 3
    assert code == 1
    assert "HTTP 500 after 3 attempts: upstream exploded" in err


async def test_json_holds_the_stats_once_and_one_entry_per_model_and_task(tmp_path: Path) -> None:
    async with FakeGateway() as gw:
        gw.script(*[Reply(body=completion(GOOD))] * 2)
        code, out, err = await _analyze(
            gw, "--task", "sentiment", "--model", "deepseek-v3.2", "--model", "gpt-4.1-mini",
            "--json", tmp=tmp_path,
        )  # fmt: skip
    assert code == 0, err
    record = json.loads(out)
    assert record["stats"]["demo"] is True
    assert [(r["model"], r["task"]) for r in record["results"]] == [
        ("deepseek-v3.2", "sentiment"),
        ("gpt-4.1-mini", "sentiment"),
    ]
    assert all(r["ok"] for r in record["results"])
    assert "not financial advice" in record["disclaimer"]


async def test_the_spend_guard_refuses_before_sending(tmp_path: Path) -> None:
    async with FakeGateway() as gw:
        code, _, err = await _analyze(gw, "--max-cost", "0.000001", tmp=tmp_path)
        assert gw.requests == []
    assert code == 2
    assert "exceeds the spend guard" in err


async def test_dry_run_works_without_a_key_and_sends_nothing(tmp_path: Path) -> None:
    code, out, err = await _analyze(None, "--dry-run", key=None, tmp=tmp_path)
    assert code == 0, err
    assert "Bearer ******** (redacted)" in out
    assert "estimated total" in out
    assert '"model": "deepseek-v3.2"' in out


async def test_no_key_is_a_one_line_usage_error(tmp_path: Path) -> None:
    code, _, err = await _analyze(None, key=None, tmp=tmp_path)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("cryptows: error: no API key")


async def test_a_429_with_retry_after_is_retried_then_answers(tmp_path: Path) -> None:
    async with FakeGateway() as gw:
        gw.script(
            Reply(status=429, body=error_body("slow down"), headers={"Retry-After": "0"}),
            Reply(body=completion(GOOD)),
        )
        code, out, err = await _analyze(gw, "--task", "sentiment", tmp=tmp_path)
        assert len(gw.requests) == 2
    assert code == 0, err
    assert '"sentiment": "neutral"' in out
    assert "2 attempt(s)" in out


async def test_an_exhausted_quota_is_not_retried(tmp_path: Path) -> None:
    async with FakeGateway() as gw:
        gw.script(Reply(status=429, body=error_body("You exceeded your quota",
                                                    code="insufficient_quota")))  # fmt: skip
        code, _, err = await _analyze(gw, "--task", "sentiment", tmp=tmp_path)
        assert len(gw.requests) == 1
    assert code == 1
    assert "quota or balance exhausted" in err


@pytest.mark.slow
async def test_a_hanging_gateway_times_out(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[analysis]\ntimeout_s = 0.3\nconnect_timeout_s = 0.3\n")
    async with FakeGateway() as gw:
        gw.script(*[Reply(body=completion(GOOD), delay_s=5)] * 3)
        code, _, err = await _analyze(
            gw, "--task", "sentiment", "--config", str(config), tmp=tmp_path
        )
    assert code == 1
    assert "after 3 attempts" in err
