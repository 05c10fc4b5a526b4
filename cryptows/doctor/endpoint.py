"""One WebSocket endpoint of a venue, step by step: DNS, TCP, TLS, handshake, first quote.

DNS, TCP and TLS are done directly (the system resolver, a bare socket, the default TLS context
with the host's name), each timed, so that a failure says where it happened; the handshake is
then the feed's own :func:`~cryptows.feed.connection.open_ws`, on a connection of its own,
so that a proxy is used exactly as the feed uses it. When a proxy carries the endpoint, the
direct steps are skipped (the proxy resolves and connects). On the open WebSocket, the
adapter's subscribe frames go out as the feed sends them, and frames are parsed until the first
quote. Every step is bounded by ``feed.open_timeout_s``; each failure is a failed
:class:`~cryptows.doctor.report.Step` with its hint, never an exception.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus

import aiohttp
from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType

from cryptows.clock import wall_ms
from cryptows.doctor import hints
from cryptows.doctor.report import EndpointReport, Mark, Step
from cryptows.feed.connection import close_bounded, open_ws
from cryptows.feed.dial import Endpoint, describe, os_error_text, shown_proxy, ws_failure
from cryptows.models import Quote, SubscriptionError
from cryptows.numbers import price
from cryptows.recording.format import public_endpoint
from cryptows.symbols import Symbol
from cryptows.venues.base import VenueAdapter

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Host name and port -> the addresses to try, in order (raises ``socket.gaierror``)."""

QUOTE = "first quote"
"""The name of the last step."""


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver, as a connection would try them.

    An address literal is its own answer, with no resolver thread (asyncio's connections skip
    the resolver for one too): a busy machine cannot make ``127.0.0.1`` time out.
    """
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class EndpointCheck:
    """Checks a venue's endpoints one at a time (:meth:`run`)."""

    def __init__(
        self,
        adapter_cls: type[VenueAdapter],
        symbols: Sequence[Symbol],
        listed: Callable[[], Awaitable[frozenset[str] | None]],
        *,
        http: aiohttp.ClientSession,
        timeout_s: float,
        resolve: Resolver,
        say: Callable[[str], None],
    ) -> None:
        self.cls = adapter_cls
        self.name = adapter_cls.name
        self.symbols = tuple(symbols)
        self.listed = listed
        """The venue's symbol list (``None``: unavailable), awaited before subscribing: only
        the symbols it lists are subscribed, as the feed does."""
        self.http = http
        self.timeout_s = timeout_s
        self.resolve = resolve
        self._say = say
        self.blocked: int | None = None
        """The 451/403 the last endpoint run refused the handshake with, if it did."""

    async def run(self, number: int, total: int, url: str) -> EndpointReport:
        """Endpoint ``number`` of ``total``, at ``url``: every step, in order, until one fails."""
        self.blocked = None
        endpoint = Endpoint.of(url)
        label = f"endpoint {number}/{total}"
        steps: list[Step] = []

        def report(works: bool) -> EndpointReport:
            proxy = shown_proxy(endpoint.proxy) if endpoint.proxy else None
            return EndpointReport(public_endpoint(url), endpoint.where, proxy, tuple(steps), works)

        if endpoint.proxy:
            steps += _skipped(("dns", "tcp", "tls"), f"via proxy {shown_proxy(endpoint.proxy)}")
        else:
            self._say(f"{label} dns")
            step, addresses = await self._dns(endpoint)
            steps.append(step)
            if not addresses:
                steps += _skipped(("tcp", "tls", "websocket", QUOTE), "skipped: DNS failed")
                return report(False)
            self._say(f"{label} tcp")
            if not await self._tcp_tls(endpoint, addresses, steps, label):
                return report(False)
        self._say(f"{label} websocket")
        started = time.perf_counter()
        try:
            ws, session = await open_ws(endpoint, self.http, self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - every failure to connect is a finding
            steps.append(self._handshake_failure(endpoint, exc, _ms(started)))
            steps += _skipped((QUOTE,), "skipped: no connection")
            return report(False)
        try:
            steps.append(self._handshake_step(endpoint, _ms(started)))
            self._say(f"{label} {QUOTE}")
            listed = await self.listed()
            wanted = [s for s in self.symbols if listed is None or s.canonical in listed]
            if not wanted:
                names = ", ".join(s.canonical for s in self.symbols)
                steps.append(Step(QUOTE, Mark.SKIP, f"nothing to subscribe: lists none of {names}"))
                return report(True)
            step = await self._first_quote(ws, wanted)
            steps.append(step)
            return report(step.mark is Mark.OK)
        finally:
            await close_bounded(ws, WSCloseCode.OK)
            if session is not None:
                await session.close()

    async def _dns(self, endpoint: Endpoint) -> tuple[Step, list[str]]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                addresses = await self.resolve(endpoint.host, endpoint.port)
        except TimeoutError:
            detail = f"no answer within {self.timeout_s:g} s"
            return Step("dns", Mark.FAIL, detail, _ms(started), hints.dns_hint(endpoint.host)), []
        except (OSError, ValueError) as exc:  # ValueError: a host IDNA cannot encode
            return (
                Step(
                    "dns",
                    Mark.FAIL,
                    os_error_text(exc) if isinstance(exc, OSError) else f"bad host name: {exc}",
                    _ms(started),
                    hints.dns_hint(endpoint.host),
                ),
                [],
            )
        if not addresses:
            return Step(
                "dns", Mark.FAIL, "no address", _ms(started), hints.dns_hint(endpoint.host)
            ), []
        more = f" (+{len(addresses) - 1} more)" if len(addresses) > 1 else ""
        return Step("dns", Mark.OK, f"{addresses[0]}{more}", _ms(started)), addresses

    async def _tcp_tls(
        self, endpoint: Endpoint, addresses: Sequence[str], steps: list[Step], label: str
    ) -> bool:
        """The TCP connection (the first address that accepts) and, for ``wss://``, the TLS
        handshake on it; appends their steps, ``False`` when one failed."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        where = _address(endpoint.host, endpoint.port)
        error: BaseException | None = None
        transport: asyncio.Transport | None = None
        protocol = asyncio.Protocol()
        try:
            async with asyncio.timeout(self.timeout_s):
                for address in addresses:
                    try:
                        transport, _ = await loop.create_connection(
                            lambda: protocol, address, endpoint.port
                        )
                    except OSError as exc:
                        error = exc
                        continue
                    where = _address(address, endpoint.port)
                    break
        except TimeoutError as exc:
            error = exc
        if transport is None:
            assert error is not None
            detail = (
                f"timed out: no answer within {self.timeout_s:g} s"
                if isinstance(error, TimeoutError)
                else os_error_text(error)
            )
            steps.append(
                Step(
                    "tcp",
                    Mark.FAIL,
                    f"{where}: {detail}",
                    _ms(started),
                    hints.connect_hint(error, where, self.timeout_s),
                )
            )
            steps += _skipped(("tls", "websocket", QUOTE), "skipped: no TCP connection")
            return False
        steps.append(Step("tcp", Mark.OK, f"connected to {where}", _ms(started)))
        if not endpoint.url.lower().startswith("wss:"):
            transport.close()
            steps.append(Step("tls", Mark.SKIP, "n/a (ws://, not encrypted)"))
            return True
        self._say(f"{label} tls")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                secure = await loop.start_tls(
                    transport,
                    protocol,
                    ssl.create_default_context(),
                    server_hostname=endpoint.host,
                )
        except (OSError, TimeoutError) as exc:
            transport.abort()
            detail = (
                f"timed out: no handshake within {self.timeout_s:g} s"
                if isinstance(exc, TimeoutError)
                else os_error_text(exc)
            )
            if not detail.startswith("TLS"):
                detail = f"TLS handshake failed: {detail}"
            steps.append(Step("tls", Mark.FAIL, detail, _ms(started), hints.tls_hint(exc)))
            steps += _skipped(("websocket", QUOTE), "skipped: TLS failed")
            return False
        except BaseException:
            transport.abort()  # cancelled: leave no socket behind
            raise
        ssl_object = secure.get_extra_info("ssl_object") if secure is not None else None
        version = ssl_object.version() if ssl_object is not None else None
        steps.append(Step("tls", Mark.OK, version or "encrypted", _ms(started)))
        (secure or transport).abort()  # the handshake's own connection follows
        return True

    def _handshake_step(self, endpoint: Endpoint, ms: float) -> Step:
        via = f" via proxy {shown_proxy(endpoint.proxy)}" if endpoint.proxy else ""
        detail = f"upgraded (HTTP 101){via}"
        if ms > self.timeout_s * 1000 / 2:
            hint = (
                f"over half of feed.open_timeout_s ({self.timeout_s:g} s): on a slow network "
                "or proxy, raise [feed] open_timeout_s"
            )
            return Step("websocket", Mark.WARN, f"{detail}, slow", ms, hint)
        return Step("websocket", Mark.OK, detail, ms)

    def _handshake_failure(self, endpoint: Endpoint, exc: Exception, ms: float) -> Step:
        failure = ws_failure(exc, endpoint, self.timeout_s)
        detail = failure.reason.removeprefix(f"cannot connect to {endpoint.where}: ")
        if isinstance(exc, aiohttp.WSServerHandshakeError) and exc.status != 101:
            # the feed's short advice in parentheses gives way to this step's hint
            detail = f"handshake refused: HTTP {exc.status} {_phrase(exc.status)}".rstrip()
        if isinstance(exc, aiohttp.WSServerHandshakeError) and exc.status in (451, 403):
            self.blocked = exc.status  # its hint names the endpoints that work (the venue's)
        hint = hints.handshake_hint(exc, self.name, endpoint.where, self.timeout_s)
        return Step("websocket", Mark.FAIL, detail, ms, hint)

    async def _first_quote(self, ws: ClientWebSocketResponse, symbols: Sequence[Symbol]) -> Step:
        """Subscribe to ``symbols`` as the feed does and read until the first quote."""
        adapter = self.cls()
        refused: list[str] = []
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                for n, frame in enumerate(adapter.subscribe(symbols)):
                    if n:
                        await asyncio.sleep(adapter.limits.min_send_interval_s)
                    await ws.send_str(frame)
                while True:
                    msg = await ws.receive()
                    if msg.type is WSMsgType.PING:
                        await ws.pong(msg.data)
                        continue
                    if msg.type is WSMsgType.PONG:
                        continue
                    if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                        return self._lost(msg, _ms(started))
                    events = adapter.parse(
                        msg.data, recv_mono_ns=time.monotonic_ns(), recv_wall_ms=wall_ms()
                    )
                    for event in events:
                        if isinstance(event, Quote):
                            return Step(QUOTE, Mark.OK, _quote_text(event), _ms(started))
                        if isinstance(event, SubscriptionError):
                            refused.append(
                                f"{event.symbol}: {event.message}"
                                if event.symbol
                                else event.message
                            )
                    if len(refused) >= len(symbols):
                        return Step(
                            QUOTE,
                            Mark.FAIL,
                            f"refused: {'; '.join(refused)}",
                            _ms(started),
                            hints.quote_hint(self.timeout_s, refused),
                        )
        except TimeoutError:
            detail = f"no quote within {self.timeout_s:g} s"
            if refused:
                detail += f" (refused: {'; '.join(refused)})"
            return Step(
                QUOTE, Mark.FAIL, detail, _ms(started), hints.quote_hint(self.timeout_s, refused)
            )
        except (aiohttp.ClientError, ConnectionError) as exc:
            return Step(
                QUOTE,
                Mark.FAIL,
                f"connection lost: {describe(exc)}",
                _ms(started),
                hints.quote_hint(self.timeout_s, refused),
            )

    def _lost(self, msg: aiohttp.WSMessage, ms: float) -> Step:
        if msg.type is WSMsgType.CLOSE:
            extra = f": {msg.extra}" if msg.extra else ""
            detail = f"closed by the venue with code {msg.data}{extra}"
        else:
            detail = "connection lost before any quote"
        return Step(QUOTE, Mark.FAIL, detail, ms, hints.quote_hint(self.timeout_s, []))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _skipped(names: Sequence[str], why: str) -> list[Step]:
    return [Step(name, Mark.SKIP, why) for name in names]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _quote_text(quote: Quote) -> str:
    if quote.bid is not None and quote.ask is not None:
        return f"{quote.symbol} bid {price(quote.bid)} ask {price(quote.ask)}"
    return f"{quote.symbol} last {price(quote.last)}"
