"""GatewayClient against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TypedDict, TypeVar, Unpack

import pytest

from cryptows.analysis.client import MAX_RETRY_WAIT_S, ChatResult, GatewayClient
from cryptows.config import Secret
from cryptows.errors import CryptowsError, GatewayAuthError, GatewayError, UsageError
from tests.analysis.fake_gateway import FakeGateway, Reply, completion, error_body

KEY = "sk-test-S3CRET-0123456789abcdef"
MODEL = "deepseek-v3.2"
MESSAGES = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "hi"}]
_E = TypeVar("_E", bound=CryptowsError)
TIMEOUT_FACTOR = float(os.environ.get("CRYPTOWS_TESTS_TIMEOUT_FACTOR", "1"))


def bound(seconds: float) -> float:
    """A wait bound in seconds, scaled for slow CI machines."""
    return seconds * TIMEOUT_FACTOR


class ClientOptions(TypedDict, total=False):
    """The :class:`GatewayClient` options a test may set (the others are the defaults)."""

    connect_timeout_s: float
    total_timeout_s: float
    max_attempts: int


class Sleeps(list[float]):
    """Records the waits between attempts instead of sleeping."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gw:
        yield gw


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(autouse=True)
def _key_never_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    assert KEY not in caplog.text
    assert all(KEY not in str(record.args) for record in caplog.records)


def assert_no_key(exc: BaseException) -> None:
    """Neither ``exc`` nor anything in its cause/context chain shows the key."""
    seen: BaseException | None = exc
    while seen is not None:
        assert KEY not in str(seen)
        assert KEY not in repr(seen)
        seen = seen.__cause__ or seen.__context__


async def chat(
    gw: FakeGateway, sleeps: Sleeps, *, json_mode: bool = False, **options: Unpack[ClientOptions]
) -> ChatResult:
    async with asyncio.timeout(bound(10)):
        async with GatewayClient(gw.base_url, Secret(KEY), sleep=sleeps, **options) as client:
            return await client.chat(
                MODEL, MESSAGES, max_tokens=100, temperature=0.2, json_mode=json_mode
            )


async def chat_fails(
    kind: type[_E], gw: FakeGateway, sleeps: Sleeps, **options: Unpack[ClientOptions]
) -> _E:
    with pytest.raises(kind) as info:
        await chat(gw, sleeps, **options)
    assert_no_key(info.value)
    assert "\n" not in str(info.value)
    return info.value


# -- answers ---------------------------------------------------------------------------------


async def test_good_answer_sends_the_openai_request(gateway: FakeGateway, sleeps: Sleeps) -> None:
    gateway.script(Reply(body=completion('{"sentiment": "bullish"}', prompt_tokens=40)))
    result = await chat(gateway, sleeps)
    assert result.content == '{"sentiment": "bullish"}'
    assert (result.model, result.prompt_tokens, result.completion_tokens) == (MODEL, 40, 5)
    assert result.gateway_cost_usd is None
    assert result.attempts == 1
    assert result.elapsed_s >= 0
    assert sleeps == []
    [request] = gateway.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.json() == {
        "model": MODEL,
        "messages": MESSAGES,
        "max_tokens": 100,
        "temperature": 0.2,
    }
    assert KEY not in repr(result)


async def test_json_mode_adds_response_format(gateway: FakeGateway, sleeps: Sleeps) -> None:
    gateway.script(Reply(body=completion("{}")))
    await chat(gateway, sleeps, json_mode=True)
    body = gateway.requests[0].json()
    assert isinstance(body, dict)
    assert body["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    "body",
    [
        completion(None),
        completion(""),
        {"choices": [{"index": 0, "message": {"role": "assistant"}}]},
        {"choices": []},
    ],
    ids=["null", "empty", "missing", "no-choices"],
)
async def test_blank_content_is_an_empty_answer(
    gateway: FakeGateway, sleeps: Sleeps, body: object
) -> None:
    gateway.script(Reply(body=body))
    result = await chat(gateway, sleeps)
    assert result.content == ""


async def test_usage_without_token_counts(gateway: FakeGateway, sleeps: Sleeps) -> None:
    gateway.script(Reply(body={"choices": [{"message": {"content": "ok"}}]}))
    result = await chat(gateway, sleeps)
    assert (result.prompt_tokens, result.completion_tokens, result.gateway_cost_usd) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [({"cost": 0.000123}, 0.000123), ({"total_cost": "0.5"}, 0.5), ({}, None)],
    ids=["cost", "total_cost-as-text", "none"],
)
async def test_gateway_cost_field_is_kept_beside_the_tokens(
    gateway: FakeGateway, sleeps: Sleeps, extra: dict[str, object], expected: float | None
) -> None:
    gateway.script(Reply(body=completion("ok", prompt_tokens=100, completion_tokens=20, **extra)))
    result = await chat(gateway, sleeps)
    assert result.gateway_cost_usd == expected
    assert (result.prompt_tokens, result.completion_tokens) == (100, 20)


async def test_an_answer_that_is_not_json_is_a_gateway_error(
    gateway: FakeGateway, sleeps: Sleeps
) -> None:
    gateway.script(Reply(body="<html>maintenance</html>"))
    error = await chat_fails(GatewayError, gateway, sleeps)
    assert "not an OpenAI-style response" in str(error)
    assert "maintenance" in str(error)


async def test_an_error_inside_a_200_is_a_gateway_error(
    gateway: FakeGateway, sleeps: Sleeps
) -> None:
    gateway.script(Reply(body=error_body("model not found", type_="invalid_request_error")))
    error = await chat_fails(GatewayError, gateway, sleeps)
    assert "model not found" in str(error)


# -- the key ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_is_a_configuration_error(
    gateway: FakeGateway, sleeps: Sleeps, status: int
) -> None:
    # Gateways may echo the key they were given; it must still never be shown.
    gateway.script(Reply(status, error_body(f"Incorrect API key provided: {KEY}", code="bad_key")))
    error = await chat_fails(GatewayAuthError, gateway, sleeps)
    assert error.exit_code == 2
    assert error.status == status
    assert str(error).startswith(f"the gateway rejected the API key (HTTP {status}): Incorrect")
    assert str(error).endswith("; check HOLYSHEEP_API_KEY")
    assert "********" in str(error)
    assert len(gateway.requests) == 1
    assert sleeps == []


def test_missing_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^no API key: set HOLYSHEEP_API_KEY or \[analysis\]"):
        GatewayClient("http://127.0.0.1:1/v1", Secret(""))


def test_repr_hides_the_key() -> None:
    client = GatewayClient("http://127.0.0.1:1/v1", Secret(KEY))
    assert KEY not in repr(client)
    assert KEY not in str(vars(client))


# -- retries ---------------------------------------------------------------------------------


async def test_429_with_retry_after_seconds_then_success(
    gateway: FakeGateway, sleeps: Sleeps
) -> None:
    gateway.script(
        Reply(429, error_body("slow down"), headers={"Retry-After": "7"}),
        Reply(body=completion("ok")),
    )
    result = await chat(gateway, sleeps)
    assert (result.content, result.attempts) == ("ok", 2)
    assert sleeps == [7.0]
    assert len(gateway.requests) == 2


async def test_retry_after_ms_wins_over_retry_after(gateway: FakeGateway, sleeps: Sleeps) -> None:
    headers = {"retry-after-ms": "1500", "Retry-After": "9"}
    gateway.script(Reply(429, error_body("slow down"), headers), Reply(body=completion("ok")))
    result = await chat(gateway, sleeps)
    assert result.attempts == 2
    assert sleeps == [1.5]


async def test_retry_after_as_an_http_date(gateway: FakeGateway, sleeps: Sleeps) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    gateway.script(Reply(503, "busy", {"Retry-After": when}), Reply(body=completion("ok")))
    await chat(gateway, sleeps)
    [waited] = sleeps
    assert 27 <= waited <= 31  # the date has one-second resolution


async def test_retry_after_is_capped(gateway: FakeGateway, sleeps: Sleeps) -> None:
    gateway.script(Reply(429, "later", {"Retry-After": "86400"}), Reply(body=completion("ok")))
    await chat(gateway, sleeps)
    assert sleeps == [MAX_RETRY_WAIT_S]


@pytest.mark.parametrize(
    "body",
    [
        error_body("You exceeded your current quota", type_="insufficient_quota"),
        error_body("rate limited", code="insufficient_quota"),
        error_body("Insufficient account balance"),
        "your credit is exhausted",
    ],
    ids=["type", "code", "balance-message", "plain-text"],
)
async def test_429_quota_exhausted_is_not_retried(
    gateway: FakeGateway, sleeps: Sleeps, body: object
) -> None:
    gateway.script(Reply(429, body, {"Retry-After": "1"}), Reply(body=completion("ok")))
    error = await chat_fails(GatewayError, gateway, sleeps)
    assert error.exit_code == 1
    assert str(error).startswith("the gateway answered HTTP 429: quota or balance exhausted: ")
    assert len(gateway.requests) == 1
    assert sleeps == []


async def test_500_three_times_gives_up_after_three_attempts(
    gateway: FakeGateway, sleeps: Sleeps
) -> None:
    gateway.script(*[Reply(500, error_body("upstream exploded", type_="server_error"))] * 3)
    gateway.script(Reply(body=completion("too late")))
    error = await chat_fails(GatewayError, gateway, sleeps)
    assert str(error) == (
        "the gateway answered HTTP 500 after 3 attempts: upstream exploded (server_error)"
    )
    assert (error.status, error.attempts, error.exit_code) == (500, 3, 1)
    assert len(gateway.requests) == 3
    assert len(sleeps) == 2
    assert all(0 < s <= MAX_RETRY_WAIT_S for s in sleeps)


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_other_client_errors_are_not_retried(
    gateway: FakeGateway, sleeps: Sleeps, status: int
) -> None:
    gateway.script(Reply(status, error_body("bad request")), Reply(body=completion("ok")))
    error = await chat_fails(GatewayError, gateway, sleeps)
    assert str(error) == f"the gateway answered HTTP {status}: bad request"
    assert len(gateway.requests) == 1


async def test_plain_text_error_is_shown_short(gateway: FakeGateway, sleeps: Sleeps) -> None:
    gateway.script(Reply(502, "Bad   gateway\n" + "x" * 1000))
    error = await chat_fails(GatewayError, gateway, sleeps, max_attempts=1)
    assert str(error).startswith("the gateway answered HTTP 502: Bad gateway xxx")
    assert len(str(error)) < 260


async def test_hanging_server_times_out_after_max_attempts(
    gateway: FakeGateway, sleeps: Sleeps
) -> None:
    gateway.script(*[Reply(body=completion("late"), delay_s=bound(5))] * 3)
    started = time.monotonic()
    error = await chat_fails(
        GatewayError, gateway, sleeps, connect_timeout_s=0.2, total_timeout_s=0.2
    )
    assert time.monotonic() - started < bound(3)
    assert "after 3 attempts" in str(error)
    assert "within 0.2 s" in str(error)
    assert (error.status, error.attempts) == (None, 3)
    assert len(gateway.requests) == 3
    assert len(sleeps) == 2


async def refused_chat(port: int, sleeps: Sleeps) -> None:
    async with asyncio.timeout(bound(10)):
        async with GatewayClient(f"http://127.0.0.1:{port}/v1", Secret(KEY), sleep=sleeps) as c:
            await c.chat(MODEL, MESSAGES, max_tokens=10, temperature=0)


async def test_connection_refused_is_retried_then_reported(sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(GatewayError) as info:
        await refused_chat(port, sleeps)
    assert_no_key(info.value)
    assert f"cannot connect to 127.0.0.1:{port}" in str(info.value)
    assert len(sleeps) == 2


# -- models ----------------------------------------------------------------------------------


async def list_models(gw: FakeGateway, sleeps: Sleeps) -> list[str]:
    async with asyncio.timeout(bound(10)):
        async with GatewayClient(gw.base_url, Secret(KEY), sleep=sleeps) as client:
            return await client.list_models()


async def test_list_models(gateway: FakeGateway, sleeps: Sleeps) -> None:
    gateway.script(Reply(body={"object": "list", "data": [{"id": "gpt-4.1"}, {"id": MODEL}]}))
    assert await list_models(gateway, sleeps) == ["gpt-4.1", MODEL]
    [request] = gateway.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("reply", "text"),
    [(Reply(404, "not found"), "HTTP 404: not found"), (Reply(body=[1]), "not an OpenAI-style")],
)
async def test_list_models_unavailable(
    gateway: FakeGateway, sleeps: Sleeps, reply: Reply, text: str
) -> None:
    gateway.script(reply)
    with pytest.raises(GatewayError, match=text):
        await list_models(gateway, sleeps)


async def test_loopback_gateway_never_goes_through_a_proxy(
    gateway: FakeGateway, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens there
    gateway.script(Reply(body=completion("direct")))
    assert (await chat(gateway, sleeps)).content == "direct"
