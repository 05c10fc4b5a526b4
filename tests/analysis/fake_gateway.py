"""A scripted OpenAI-compatible gateway on 127.0.0.1 for tests: a queue of replies, every request
recorded (method, path, headers, body)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer; ``delay_s`` holds it back first (a hanging server)."""

    status: int = 200
    body: object = b""
    """Bytes or str as is; anything else is sent as JSON."""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def completion(
    content: str | None = "hello",
    *,
    prompt_tokens: int | None = 12,
    completion_tokens: int | None = 5,
    **extra_usage: object,
) -> dict[str, object]:
    """An OpenAI chat completion body."""
    usage: dict[str, object] = {**extra_usage}
    if prompt_tokens is not None:
        usage["prompt_tokens"] = prompt_tokens
    if completion_tokens is not None:
        usage["completion_tokens"] = completion_tokens
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": usage,
    }


def error_body(message: str, *, type_: str | None = None, code: str | None = None) -> object:
    """An OpenAI error body."""
    error: dict[str, object] = {"message": message}
    if type_ is not None:
        error["type"] = type_
    if code is not None:
        error["code"] = code
    return {"error": error}


_SERVER_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web")


class FakeGateway:
    """``async with FakeGateway() as gw:``; ``gw.script(Reply(...), ...)``; ``gw.base_url``."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/v1/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=0)

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("/v1"))

    async def __aenter__(self) -> FakeGateway:
        # The server's own records (a client that gave up on a held-back reply, the access log)
        # stay out of the root logger: a command run in-process (tests/cli.py) logs there, to
        # the stderr the test reads.
        for name in _SERVER_LOGGERS:
            logging.getLogger(name).propagate = False
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._release.set()  # end any held-back reply before shutting down
        await self._server.close()
        for name in _SERVER_LOGGERS:
            logging.getLogger(name).propagate = True

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            Recorded(request.method, request.path, dict(request.headers), await request.read())
        )
        if not self.replies:
            return web.Response(status=500, text="fake gateway: no reply scripted")
        reply = self.replies.popleft()
        if reply.delay_s:
            try:
                async with asyncio.timeout(reply.delay_s):
                    await self._release.wait()
            except TimeoutError:
                pass
        if isinstance(reply.body, bytes | str):
            body = reply.body.encode() if isinstance(reply.body, str) else reply.body
            content_type = "text/plain"
        else:
            body = json.dumps(reply.body).encode()
            content_type = "application/json"
        return web.Response(
            status=reply.status, body=body, headers=reply.headers, content_type=content_type
        )
