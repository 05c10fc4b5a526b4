"""An OpenAI-compatible chat client (HolySheep or any local endpoint) on aiohttp.

Every failure becomes one :class:`~cryptows.errors.GatewayError` (exit 1) or
:class:`~cryptows.errors.GatewayAuthError` (exit 2) at the single seam :meth:`GatewayClient._call`.
The API key is a :class:`~cryptows.config.Secret`, revealed only into the request header; it is
never logged, and scrubbed from anything the gateway echoes back.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Final, TypeVar

import aiohttp
import msgspec

from cryptows.config import ENV_API_KEY, Secret
from cryptows.errors import GatewayAuthError, GatewayError, UsageError
from cryptows.feed.dial import rest_failure, rest_proxy_for

log = logging.getLogger(__name__)

RETRY_STATUSES: Final = frozenset({408, 409, 429})
"""Statuses worth another attempt, besides every 5xx."""
MAX_RETRY_WAIT_S: Final = 120.0
"""Longest wait before a retry, whatever the gateway's ``Retry-After`` asks."""
BACKOFF_INITIAL_S: Final = 0.5
"""Backoff before the second attempt when the gateway gives no ``Retry-After``; it doubles."""
MESSAGE_LIMIT: Final = 200
"""The gateway's error message is cut to this many characters."""
_QUOTA_WORDS: Final = re.compile(r"quota|balance|credit", re.IGNORECASE)
_REDACTED: Final = "********"
_T = TypeVar("_T")


class ChatResult(msgspec.Struct, frozen=True, kw_only=True):
    """One answered chat call."""

    model: str
    """The model id requested."""
    content: str
    """``choices[0].message.content``; ``""`` when the gateway gave none."""
    prompt_tokens: int | None
    """``usage.prompt_tokens``, when reported."""
    completion_tokens: int | None
    """``usage.completion_tokens``, when reported."""
    gateway_cost_usd: float | None
    """A cost the gateway itself reported in ``usage`` (``cost`` or ``total_cost``): show it
    beside the locally computed cost, never instead of it."""
    attempts: int
    """Requests made, retries included (1 to ``max_attempts``)."""
    elapsed_s: float
    """Wall time of the call, retries and waits included."""


class _Message(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    message: _Message | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | str | None = None
    total_cost: float | str | None = None


class _Completion(msgspec.Struct):
    choices: list[_Choice] | None = None
    usage: _Usage | None = None
    error: object = None


class _ModelEntry(msgspec.Struct):
    id: str


class _ModelList(msgspec.Struct):
    data: list[_ModelEntry]


class _Answer(msgspec.Struct, frozen=True):
    """A raw HTTP answer: status, headers we use, body."""

    status: int
    body: bytes
    retry_after_ms: str | None
    retry_after: str | None


class _Retry(Exception):
    """One attempt failed in a way worth another; ``delay_s`` is the gateway's ask, if any."""

    def __init__(self, error: GatewayError, delay_s: float | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay_s = delay_s


class GatewayClient:
    """Chat completions and the model list of an OpenAI-compatible gateway.

    Use as ``async with GatewayClient(url, key) as client: await client.chat(...)``; it owns one
    :class:`aiohttp.ClientSession`. Proxies follow :func:`~cryptows.feed.dial.rest_proxy_for`
    (``HTTPS_PROXY``/``ALL_PROXY``, never for loopback or ``NO_PROXY`` hosts).

    Args:
        base_url: e.g. ``https://api.holysheep.ai/v1``; ``/chat/completions`` is appended.
        api_key: the key, sent as ``Authorization: Bearer``.
        connect_timeout_s: bound on connecting, per attempt.
        total_timeout_s: bound on one whole request (connect, send, answer), per attempt.
        max_attempts: requests per call at most, retries included.
        sleep: waits between attempts (tests inject a recorder).

    Raises:
        UsageError: no API key was given.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        connect_timeout_s: float = 5.0,
        total_timeout_s: float = 60.0,
        max_attempts: int = 3,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not api_key:
            raise UsageError(
                f"no API key: set {ENV_API_KEY} or [analysis] api_key (or use --dry-run)"
            )
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._timeout = aiohttp.ClientTimeout(total=total_timeout_s, connect=connect_timeout_s)
        self._total_timeout_s = total_timeout_s
        self._max_attempts = max(1, max_attempts)
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"GatewayClient(base_url={self.base_url!r}, api_key={self._key})"

    async def __aenter__(self) -> GatewayClient:
        self._session = aiohttp.ClientSession(trust_env=False, timeout=self._timeout)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def chat(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        json_mode: bool = False,
    ) -> ChatResult:
        """Send one chat completion request and return the answer with its token counts.

        ``json_mode`` adds ``response_format: {"type": "json_object"}`` (only for models that
        accept it; the prompt must then contain the word "JSON").

        Raises:
            GatewayAuthError: HTTP 401 or 403.
            GatewayError: any other failure, after at most ``max_attempts`` requests.
        """
        body: dict[str, object] = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        started = time.monotonic()
        payload, attempts = await self._call("POST", "/chat/completions", body)
        completion = self._decode(payload, _Completion, attempts)
        if completion.choices is None and completion.error is not None:
            message = self._message_of(msgspec.json.encode({"error": completion.error}))
            raise GatewayError(
                f"the gateway answered HTTP 200 with an error: {message}",
                status=200,
                attempts=attempts,
            )
        choices = completion.choices or []
        first = choices[0].message if choices else None
        usage = completion.usage or _Usage()
        return ChatResult(
            model=model,
            content=(first.content if first else None) or "",
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            gateway_cost_usd=_gateway_cost(usage),
            attempts=attempts,
            elapsed_s=time.monotonic() - started,
        )

    async def list_models(self) -> list[str]:
        """The model ids ``GET {base_url}/models`` lists (OpenAI shape ``{"data": [{"id"}]}``).

        Raises:
            GatewayAuthError: HTTP 401 or 403.
            GatewayError: the list is unavailable or not in the OpenAI shape.
        """
        payload, attempts = await self._call("GET", "/models", None)
        return [entry.id for entry in self._decode(payload, _ModelList, attempts).data]

    # -- the one seam where library errors become ours ------------------------------------

    async def _call(self, method: str, path: str, body: object) -> tuple[bytes, int]:
        """The body of a 2xx answer, and the attempts it took."""
        url = self.base_url + path
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._attempt(method, url, body, attempt), attempt
            except _Retry as retry:
                if attempt == self._max_attempts:
                    raise retry.error from retry.__cause__
                delay = self._delay(attempt, retry.delay_s)
                log.info(
                    "gateway attempt %d of %d failed (%s); retrying in %.1f s",
                    attempt,
                    self._max_attempts,
                    retry.error.message,
                    delay,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, method: str, url: str, body: object, attempt: int) -> bytes:
        answer = await self._send(method, url, body, attempt)
        if 200 <= answer.status < 300:
            return answer.body
        message = self._message_of(answer.body)
        status = answer.status
        if status in (401, 403):
            raise GatewayAuthError(
                f"the gateway rejected the API key (HTTP {status}): {message}; check {ENV_API_KEY}",
                status=status,
            )
        quota = status == 429 and _quota_exhausted(answer.body, message)
        retryable = (status in RETRY_STATUSES or status >= 500) and not quota
        after = f" after {attempt} attempts" if attempt > 1 else ""
        what = "quota or balance exhausted: " if quota else ""
        error = GatewayError(
            f"the gateway answered HTTP {status}{after}: {what}{message}",
            status=status,
            attempts=attempt,
        )
        if not retryable:
            raise error
        raise _Retry(error, _retry_after(answer))

    async def _send(self, method: str, url: str, body: object, attempt: int) -> _Answer:
        if self._session is None:
            raise RuntimeError("use GatewayClient inside `async with`")
        headers = {"Authorization": f"Bearer {self._key.reveal()}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = msgspec.json.encode(body)
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, proxy=rest_proxy_for(url)
            ) as response:
                return _Answer(
                    status=response.status,
                    body=await response.read(),
                    retry_after_ms=response.headers.get("retry-after-ms"),
                    retry_after=response.headers.get("Retry-After"),
                )
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
            reason = self._scrub(rest_failure(exc, url, self._total_timeout_s))
            after = f" after {attempt} attempts" if attempt > 1 else ""
            error = GatewayError(f"gateway request failed{after}: {reason}", attempts=attempt)
            if isinstance(exc, aiohttp.ClientSSLError):
                raise error from exc
            raise _Retry(error, None) from exc
        except aiohttp.ClientError as exc:  # a bad URL, a malformed answer
            reason = self._scrub(rest_failure(exc, url, self._total_timeout_s))
            raise GatewayError(f"gateway request failed: {reason}", attempts=attempt) from exc

    def _delay(self, attempt: int, asked_s: float | None) -> float:
        """The wait before attempt ``attempt + 1``: the gateway's ask, else jittered backoff."""
        if asked_s is not None and not math.isnan(asked_s):
            return min(max(asked_s, 0.0), MAX_RETRY_WAIT_S)
        backoff = BACKOFF_INITIAL_S * 2.0 ** (attempt - 1)
        return min(backoff * random.uniform(0.5, 1.5), MAX_RETRY_WAIT_S)

    def _decode(self, payload: bytes, kind: type[_T], attempts: int) -> _T:
        try:
            return msgspec.json.decode(payload, type=kind)
        except msgspec.DecodeError as exc:
            shown = self._scrub(_short(payload.decode("utf-8", "replace")) or "an empty body")
            raise GatewayError(
                f"the gateway's answer is not an OpenAI-style response ({exc}): {shown}",
                status=200,
                attempts=attempts,
            ) from exc

    def _message_of(self, body: bytes) -> str:
        """The gateway's error message: OpenAI's ``error.message`` (plus type/code), or text."""
        return self._scrub(_error_message(body))

    def _scrub(self, text: str) -> str:
        key = self._key.reveal()
        return text.replace(key, _REDACTED) if key else text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _error_fields(body: bytes) -> Mapping[str, object]:
    """OpenAI's ``{"error": {"message", "type", "code"}}`` (each optional), leniently."""
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    if not isinstance(doc, dict):
        return {}
    error = doc.get("error", doc)
    if isinstance(error, str):
        return {"message": error}
    return error if isinstance(error, dict) else {}


def _error_message(body: bytes) -> str:
    fields = _error_fields(body)
    message = fields.get("message") or fields.get("msg") or fields.get("detail")
    labels = [str(fields[k]) for k in ("type", "code") if isinstance(fields.get(k), str | int)]
    if isinstance(message, str) and message.strip():
        label = f" ({', '.join(dict.fromkeys(labels))})" if labels else ""
        return _short(message + label)
    if labels:
        return _short(", ".join(dict.fromkeys(labels)))
    text = _short(body.decode("utf-8", "replace"))
    return text or "no message"


def _quota_exhausted(body: bytes, message: str) -> bool:
    fields = _error_fields(body)
    codes = {str(fields.get("code", "")).lower(), str(fields.get("type", "")).lower()}
    return "insufficient_quota" in codes or bool(_QUOTA_WORDS.search(message))


def _retry_after(answer: _Answer) -> float | None:
    """Seconds the gateway asks to wait: ``retry-after-ms``, then ``Retry-After`` (seconds or
    an HTTP date); ``None`` when it asks nothing readable."""
    if answer.retry_after_ms:
        try:
            return float(answer.retry_after_ms) / 1000
        except ValueError:
            pass
    value = (answer.retry_after or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def _gateway_cost(usage: _Usage) -> float | None:
    for value in (usage.cost, usage.total_cost):
        try:
            cost = float(value) if value is not None else math.nan
        except ValueError:
            continue
        if math.isfinite(cost):
            return cost
    return None
