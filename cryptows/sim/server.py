"""The server half shared by every simulated venue: WebSocket + REST on one loopback port, faults.

A :class:`SimVenueServer` listens on ``127.0.0.1`` with the websockets library. WebSocket
upgrades on the venue's real paths get a :class:`Session` (the venue module's protocol); plain
HTTP GETs are answered from :meth:`SimVenueServer.rest` with JSON, so the same ``host:port``
serves the REST endpoints the client uses (server time, symbol list).

Faults are switched on a live server through :attr:`SimVenueServer.faults` (handshake refusal or
delay, symbols refused at subscribe, no pongs, a quiet market) and the action methods (drop,
close with a code, stall, garbage frame, oversize frame, a price dislocation).
:mod:`cryptows.sim.faults` scripts them over time.

A venue module declares its market facts as :attr:`SimVenueServer.profile` (what it lists, its
spread and volume: a :class:`~cryptows.sim.market.VenueProfile`); the engine is built from those
of every registered simulator (:data:`cryptows.sim.cluster.SIMULATORS`).

A session also sees the client's WebSocket control frames (:meth:`Session.on_control_frame`),
which the websockets library otherwise answers unseen: Binance counts them against its message
rate limit.

Every ended client connection leaves a :class:`ClientClose` in
:attr:`SimVenueServer.client_closes`: the close code the client sent, or none when its socket
just dropped, so tests can check how the real client says goodbye.

(Slightly over 400 lines: the lifecycle, the faults and the request plumbing share the session
set and the fault switches; the venues' protocols are in their own modules.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.http11 import Request, Response

from cryptows.clock import wall_ms
from cryptows.sim.connection import ClientClose, SimConnection
from cryptows.sim.market import MarketEngine, TopOfBook, VenueProfile

__all__ = [
    "ClientClose",
    "Faults",
    "Served",
    "Session",
    "SimVenueServer",
    "json_response",
    "raw_response",
]


@dataclass
class Faults:
    """Fault switches of one simulated venue; change them at any time."""

    handshake_status: int | None = None
    """Refuse every WebSocket handshake with this HTTP status (e.g. 451 geo-block, 503)."""
    handshake_delay_s: float = 0.0
    """Delay every WebSocket handshake by this long (slow handshake)."""
    rejected: set[str] = field(default_factory=set)
    """Canonical symbols refused at subscribe with the venue's real reaction to a bad symbol,
    although the REST symbol list still shows them."""
    delisted: set[str] = field(default_factory=set)
    """Canonical symbols the venue does not list at all (absent from REST too)."""
    no_pong: bool = False
    """The venue's keepalive has failed: app-level pings unanswered (Bybit ``op: ping``, OKX
    text ``ping``), protocol pings unanswered, Coinbase's heartbeats not sent."""
    quiet: bool = False
    """A market where nothing happens: push no market data at all (no changes, no periodic
    repeats), while pings are still answered and Coinbase heartbeats still sent."""
    clock_skew_ms: int = 0
    """Answer server-time requests this many ms off the real clock (positive: the venue's clock
    is ahead), as a client with a drifting clock sees it (``cryptows doctor``)."""


def json_response(status: int, body: Any) -> Response:
    """An HTTP response carrying ``body`` as JSON."""
    return raw_response(status, json.dumps(body).encode(), "application/json")


def raw_response(status: int, data: bytes = b"", content_type: str | None = None) -> Response:
    """An HTTP response carrying ``data`` as it is (an HTML error page, an empty body)."""
    headers = Headers([("Content-Type", content_type)] if content_type else [])
    headers["Content-Length"] = str(len(data))
    headers["Connection"] = "close"
    return Response(status, HTTPStatus(status).phrase, headers, data)


class Session(ABC):
    """One client connection to a simulated venue: the venue's protocol, server side."""

    push_interval_s: ClassVar[float] = 0.1
    """How often subscribed books are checked and pushed when they changed."""

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        self.server = server
        self.ws = ws
        self.engine = server.engine
        self.stalled_until = 0.0
        """Monotonic time until which this session sends nothing and reads nothing."""
        self.connected_at = time.monotonic()
        self._sent_seq: dict[tuple[str, str], int] = {}

    @property
    def stalled(self) -> bool:
        """Whether the session is in an injected stall."""
        return time.monotonic() < self.stalled_until

    async def send(self, frame: str | bytes) -> None:
        """Send unless stalled (a stalled venue sends nothing at all)."""
        if not self.stalled:
            await self.ws.send(frame)
            self.on_sent()

    async def send_frames(self, frames: list[str]) -> None:
        """Send text frames in order, in one socket write (unless stalled)."""
        if self.stalled or not frames:
            return
        if isinstance(self.ws, SimConnection):
            await self.ws.send_texts(frames)
        else:
            for frame in frames:
                await self.ws.send(frame)
        self.on_sent()

    def on_sent(self) -> None:  # noqa: B027 - optional hook, default: nothing
        """Called after every send (venues with idle rules note the time)."""

    async def send_json(self, body: Any) -> None:
        """Send ``body`` as a compact JSON text frame."""
        await self.send(json.dumps(body, separators=(",", ":")))

    async def run(self) -> None:
        """Serve the connection until the client or a fault closes it."""
        helpers = [
            asyncio.create_task(self._push_loop()),
            asyncio.create_task(self.periodic()),
        ]
        try:
            async for message in self.ws:
                await self.on_message(message)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _push_loop(self) -> None:
        server, engine, sent = self.server, self.engine, self._sent_seq
        while True:
            await asyncio.sleep(self.push_interval_s)
            if self.stalled or server.faults.quiet:
                continue
            stamp = wall_ms()
            out: list[str] = []
            listings, delisted = engine.listings(server.name), server.faults.delisted
            books: dict[str, TopOfBook] = {}  # one per symbol and round, whatever its channels
            for symbol, channel in list(self.subscriptions()):
                if symbol not in listings or symbol in delisted:  # silence, like a real venue
                    continue
                book = books.get(symbol)
                if book is None:
                    book = books[symbol] = engine.book(server.name, symbol, stamp)
                key = (symbol, channel)
                if sent.get(key) == book.seq and not self.resend_due(channel):
                    continue
                sent[key] = book.seq
                out += self.frames(book, channel)
            # One write per round: hundreds of books cost one system call, not hundreds.
            await self.send_frames(out)

    async def periodic(self) -> None:  # noqa: B027 - optional hook, default: nothing
        """Override for periodic server-side behaviour; runs for the session's lifetime."""

    def on_control_frame(self, opcode: Opcode) -> None:  # noqa: B027 - optional hook
        """Called for each ping or pong frame from the client (websockets answers pings)."""

    def resend_due(self, channel: str) -> bool:
        """Whether ``channel`` is pushed even without a change (e.g. a 1 s ticker)."""
        return False

    @abstractmethod
    async def on_message(self, message: str | bytes) -> None:
        """Handle one client frame (subscribe, unsubscribe, ping, garbage...)."""

    @abstractmethod
    def subscriptions(self) -> Iterable[tuple[str, str]]:
        """The (canonical symbol, channel) pairs this client is subscribed to."""

    @abstractmethod
    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        """The venue's push frames for ``book`` on ``channel``."""


class Served(ABC):
    """Something started and stopped as a whole, also usable as ``async with``."""

    @abstractmethod
    async def start(self) -> None:
        """Start serving."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop serving and close every connection."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class SimVenueServer(Served):
    """A simulated exchange on loopback: WebSocket on the venue's paths, REST on the same port."""

    name: ClassVar[str]
    profile: ClassVar[VenueProfile]
    """The venue's market facts (listings, spread, volume), given to the engine."""
    session_class: ClassVar[type[Session]]
    """The venue's protocol: one instance serves each WebSocket connection."""
    ws_path: ClassVar[str]
    """The path of the default ``ws_url`` (what the real client config points at)."""
    ping_interval_s: ClassVar[float | None] = None
    """Protocol pings the server sends itself (Binance: every 20 s)."""
    ping_timeout_s: ClassVar[float | None] = None

    def __init__(self, engine: MarketEngine, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self.host = host
        self.requested_port = port
        self.faults = Faults()
        self.sessions: set[Session] = set()
        self.connections_total = 0
        """WebSocket connections accepted since start (tests read reconnects from it)."""
        self.handshakes: deque[tuple[float, float]] = deque(maxlen=100)
        """(start, end) monotonic times of recent WebSocket handshakes, oldest first."""
        self.client_closes: deque[ClientClose] = deque(maxlen=1000)
        """How each ended client connection closed, oldest first."""
        self._server: Server | None = None
        self._stopping = asyncio.Event()
        """Set by :meth:`stop`: a handshake held back by ``handshake_delay_s`` ends at once."""

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving."""
        self._stopping.clear()
        self._server = await serve(
            self._handle,
            self.host,
            self.requested_port,
            process_request=self._process_request,
            create_connection=SimConnection,
            ping_interval=self.ping_interval_s,
            ping_timeout=self.ping_timeout_s,
            max_size=2**20,
        )

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        self._stopping.set()
        for session in list(self.sessions):
            if session.stalled:  # it reads nothing, so it could not complete a closing handshake
                session.ws.transport.abort()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self._server.wait_closed()
            self._server = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("server not started")
        sock = next(iter(self._server.sockets))
        return int(sock.getsockname()[1])

    @property
    def ws_url(self) -> str:
        """The URL a client opens (the venue's default path on this server)."""
        return f"ws://{self.host}:{self.port}{self.ws_path}"

    @property
    def rest_url(self) -> str:
        """The REST base URL."""
        return f"http://{self.host}:{self.port}"

    # -- faults on live connections ---------------------------------------------------------

    def drop_all(self) -> None:
        """Abrupt drop: abort every TCP connection without a closing handshake."""
        for session in list(self.sessions):
            session.ws.transport.abort()

    async def close_all(self, code: int = 1001, reason: str = "going away") -> None:
        """Close every connection with ``code`` (e.g. 1001, 1011)."""
        for session in list(self.sessions):
            with contextlib.suppress(ConnectionClosed):
                await session.ws.close(code, reason)

    def stall_all(self, seconds: float) -> None:
        """Keep every connection open but send nothing, and answer no ping, for ``seconds``."""
        until = time.monotonic() + seconds
        for session in list(self.sessions):
            session.stalled_until = until
            session.ws.transport.pause_reading()
            asyncio.get_running_loop().call_later(seconds, _resume, session)

    async def send_garbage(self) -> None:
        """Send one frame that is not JSON to every connection."""
        for session in list(self.sessions):
            with contextlib.suppress(ConnectionClosed):
                await session.ws.send("\x00\x7f<<garbage frame>>{not json")

    async def send_oversize(self, size: int = 2**21) -> None:
        """Send one frame larger than clients accept (default 2 MiB)."""
        blob = '{"pad":"' + "x" * size + '"}'
        for session in list(self.sessions):
            with contextlib.suppress(ConnectionClosed):
                await session.ws.send(blob)

    def dislocate(self, symbol: str, pct: float, seconds: float) -> None:
        """Move this venue's ``symbol`` by ``pct`` percent for ``seconds``, starting now.

        Raises:
            ValueError: the venue does not list ``symbol``.
        """
        if not self.engine.listed(self.name, symbol):
            raise ValueError(f"{self.name} does not list {symbol}")
        self.engine.dislocate(self.name, symbol, pct, round(seconds * 1000), now_ms=wall_ms())

    # -- protocol hooks ---------------------------------------------------------------------

    def accepts_path(self, path: str) -> bool:
        """Whether a WebSocket upgrade on ``path`` (with query) is a valid endpoint (by default
        :attr:`ws_path`, with any query)."""
        return urlsplit(path).path == self.ws_path

    def new_session(self, ws: ServerConnection) -> Session:
        """The protocol session for a new connection."""
        return self.session_class(self, ws)

    @abstractmethod
    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        """``(status, json_body)`` for a REST GET, or ``None`` for 404."""

    def not_found(self, path: str) -> tuple[int, Any] | Response:
        """``(status, json_body)``, or a whole :class:`Response` (see :func:`raw_response`),
        for a REST path the venue does not serve: override with the venue's real answer
        (clients parse error bodies)."""
        return 404, {"error": f"no such endpoint {path}"}

    def server_time_ms(self) -> int:
        """The venue's clock as its REST server-time answers show it: the wall clock plus the
        :attr:`Faults.clock_skew_ms` fault."""
        return wall_ms() + self.faults.clock_skew_ms

    def listed(self, symbol: str) -> bool:
        """Whether this venue lists ``symbol`` now (the engine's list less delisted ones)."""
        return self.engine.listed(self.name, symbol) and symbol not in self.faults.delisted

    def listed_symbols(self) -> list[str]:
        """Every canonical symbol this venue lists now, sorted."""
        return sorted(s for s in self.engine.listings(self.name) if self.listed(s))

    # -- plumbing ---------------------------------------------------------------------------

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if not upgrade:
            parts = urlsplit(request.path)
            answer = self.rest(parts.path, parse_qs(parts.query))
            if answer is not None:
                return json_response(*answer)
            missing = self.not_found(parts.path)
            return missing if isinstance(missing, Response) else json_response(*missing)
        started = time.monotonic()
        if self.faults.handshake_delay_s:
            # Held back, but not past stop(): the server's close waits for every handshake.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.faults.handshake_delay_s):
                    await self._stopping.wait()
            if self._stopping.is_set():
                return json_response(503, {"code": 0, "msg": "server shutting down"})
        self.handshakes.append((started, time.monotonic()))
        if self.faults.handshake_status is not None:
            status = self.faults.handshake_status
            return json_response(status, {"code": 0, "msg": HTTPStatus(status).phrase})
        if not self.accepts_path(request.path):
            return json_response(404, {"error": f"no WebSocket endpoint at {request.path}"})
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        session = self.new_session(ws)
        if isinstance(ws, SimConnection):
            ws.session = session
        self.sessions.add(session)
        self.connections_total += 1
        try:
            await session.run()
        except ConnectionClosed:
            pass
        finally:
            self.sessions.discard(session)


def _resume(session: Session) -> None:
    with contextlib.suppress(Exception):
        session.ws.transport.resume_reading()
