"""Simulated Binance spot: the server side of ``cryptows.venues.binance``.

Speaks the real protocol (developers.binance.com, WebSocket Streams): raw streams on ``/ws`` and
``/ws/<stream>``, combined streams on ``/stream`` and ``/stream?streams=a/b`` (events wrapped as
``{"stream", "data"}``); ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` with
``{"result": null, "id": N}`` acks and ``{"error": {"code", "msg"}, "id"}`` errors; an unknown
but well-formed symbol (or one ``rejected`` by a fault) is acked and then silent, as on the real
venue; more than 5 client
messages in a second (ping and pong frames included, as on the real venue) closes the
connection; protocol pings every 20 s. ``bookTicker`` carries
no event time (spot), ``24hrTicker`` is pushed every second; all prices are decimal strings.
REST: ``/api/v3/time``, ``/api/v3/exchangeInfo``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.frames import Opcode

from cryptows.clock import wall_ms
from cryptows.sim.market import TopOfBook, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer
from cryptows.sim.universe import LISTINGS, symbol_of

_STREAM = re.compile(r"([a-z0-9]+)@(bookTicker|ticker|miniTicker|aggTrade|trade|depth|kline_\w+)")
_SUPPORTED = {"bookTicker", "ticker", "miniTicker"}
_MAX_MESSAGES_PER_S = 5


def _num(value: float, places: int = 8) -> str:
    return f"{value:.{places}f}"


class BinanceSession(Session):
    """One client connection to simulated Binance."""

    push_interval_s: ClassVar[float] = 0.1

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        parts = urlsplit(ws.request.path if ws.request else "/ws")
        self.combined = parts.path.startswith("/stream")
        self.streams: list[str] = []
        self._recent: deque[float] = deque()
        self._closing: asyncio.Task[None] | None = None
        self._ticker_sent: dict[str, float] = {}
        self._parsed: dict[str, tuple[str, str] | None] = {}
        """Stream name -> (canonical symbol, channel) it streams, ``None`` if none we serve."""
        initial: list[str] = []
        if parts.path.startswith("/ws/"):
            initial = parts.path.removeprefix("/ws/").split("/")
        elif self.combined:
            initial = "/".join(parse_qs(parts.query).get("streams", [])).split("/")
        for stream in initial:
            if stream and stream not in self.streams:
                self.streams.append(stream)

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        rejected = self.server.faults.rejected
        for stream in self.streams:
            if stream not in self._parsed:
                match = _STREAM.fullmatch(stream)
                self._parsed[stream] = (
                    (match.group(1).upper(), match.group(2))
                    if match is not None and match.group(2) in _SUPPORTED
                    else None
                )
            pair = self._parsed[stream]
            if pair is not None and pair[0] not in rejected:
                yield pair

    def resend_due(self, channel: str) -> bool:
        return channel == "ticker"

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        stream = f"{book.symbol.canonical.lower()}@{channel}"
        if channel == "ticker":
            last_sent = self._ticker_sent.get(stream, 0.0)
            if time.monotonic() - last_sent < 1.0:  # the real stream updates every 1000 ms
                return []
            self._ticker_sent[stream] = time.monotonic()
        payload = self._payload(book, channel)
        body = {"stream": stream, "data": payload} if self.combined else payload
        return [json.dumps(body, separators=(",", ":"))]

    def _payload(self, book: TopOfBook, channel: str) -> dict[str, Any]:
        places = max(8, decimals(book.tick))
        symbol = book.symbol.canonical
        if channel == "bookTicker":
            return {
                "u": book.seq,
                "s": symbol,
                "b": _num(book.bid, places),
                "B": _num(book.bid_size),
                "a": _num(book.ask, places),
                "A": _num(book.ask_size),
            }
        open_price = book.open_24h
        common = {
            "E": max(book.ts_ms, wall_ms()),  # the push time: pushed every second
            "s": symbol,
            "c": _num(book.last, places),
            "o": _num(open_price, places),
            "h": _num(book.high_24h, places),
            "l": _num(book.low_24h, places),
            "v": _num(book.volume_24h),
            "q": _num(book.quote_volume_24h),
        }
        if channel == "miniTicker":
            return {"e": "24hrMiniTicker", **common}
        return {
            "e": "24hrTicker",
            **common,
            "p": _num(book.last - open_price, places),
            "P": f"{(book.last / open_price - 1) * 100:.3f}",  # already in percent
            "w": _num(book.last, places),
            "x": _num(open_price, places),
            "Q": _num(0.01),
            "b": _num(book.bid, places),
            "B": _num(book.bid_size),
            "a": _num(book.ask, places),
            "A": _num(book.ask_size),
            "O": book.ts_ms - 86_400_000,
            "C": book.ts_ms,
            "F": 1,
            "L": book.seq,
            "n": book.seq,
        }

    async def on_message(self, message: str | bytes) -> None:
        if not self._within_rate_limit():
            await self.ws.close(1008, "Too many requests")
            return
        try:
            request = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            await self._error(3, "Invalid JSON: expected value at line 1 column 1", None)
            return
        if not isinstance(request, dict):
            await self._error(2, "Invalid request: expected an object", None)
            return
        req_id = request.get("id")
        if not _valid_id(req_id) or "id" not in request:
            await self._error(2, "Invalid request: request ID must be an unsigned integer", None)
            return
        method = request.get("method")
        if method is None:
            await self._error(2, "Invalid request: missing field `method`", req_id)
        elif method == "LIST_SUBSCRIPTIONS":
            await self.send_json({"result": list(self.streams), "id": req_id})
        elif method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            await self._subscription(method, request.get("params"), req_id)
        else:
            await self._error(
                2,
                f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                req_id,
            )

    async def _subscription(self, method: str, params: object, req_id: object) -> None:
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            await self._error(2, "Invalid request: invalid stream", req_id)
            return
        if not all(_STREAM.fullmatch(stream) for stream in params):
            await self._error(2, "Invalid request: invalid stream", req_id)
            return
        if method == "SUBSCRIBE":
            self.streams.extend(s for s in params if s not in self.streams)
        else:
            self.streams = [s for s in self.streams if s not in params]
        # A well-formed stream for a symbol that is not listed (or is `rejected` by a fault) is
        # acked and then stays silent: Binance's real reaction to an unknown symbol.
        await self.send_json({"result": None, "id": req_id})

    async def _error(self, code: int, msg: str, req_id: object) -> None:
        body: dict[str, Any] = {"error": {"code": code, "msg": msg}}
        if req_id is not None:
            body["id"] = req_id
        await self.send_json(body)

    def on_control_frame(self, opcode: Opcode) -> None:
        # "A message is considered: a PING frame, a PONG frame, a JSON controlled message".
        if not self._within_rate_limit() and self._closing is None:
            self._closing = asyncio.create_task(self.ws.close(1008, "Too many requests"))

    def _within_rate_limit(self) -> bool:
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > 1.0:
            self._recent.popleft()
        return len(self._recent) <= _MAX_MESSAGES_PER_S


def _valid_id(req_id: object) -> bool:
    if req_id is None:
        return True
    if isinstance(req_id, bool):
        return False
    if isinstance(req_id, int):
        return -(2**63) <= req_id < 2**63
    return isinstance(req_id, str) and len(req_id) <= 36 and req_id.isalnum()


class BinanceSim(SimVenueServer):
    """Simulated ``stream.binance.com`` + ``api.binance.com`` on one loopback port."""

    name: ClassVar[str] = "binance"
    profile: ClassVar[VenueProfile] = VenueProfile(
        listings=LISTINGS["binance"],
        half_spread_bps=0.4,
        base_volume_usd=2.0e9,
    )
    """No USD books (USDT, USDC and BTC ones instead), and the deepest, tightest books and the
    longest list of the four."""
    session_class: ClassVar[type[Session]] = BinanceSession
    ws_path: ClassVar[str] = "/stream"
    ping_interval_s: ClassVar[float | None] = 20.0
    ping_timeout_s: ClassVar[float | None] = 60.0

    def accepts_path(self, path: str) -> bool:
        route = urlsplit(path).path
        return route in ("/ws", "/stream") or route.startswith("/ws/")

    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        if path == "/api/v3/time":
            return 200, {"serverTime": wall_ms()}
        if path == "/api/v3/exchangeInfo":
            symbols = []
            for canonical in self.listed_symbols():
                sym = symbol_of(canonical)
                symbols.append(
                    {
                        "symbol": canonical,
                        "status": "TRADING",
                        "baseAsset": sym.base,
                        "quoteAsset": sym.quote,
                    }
                )
            return 200, {"timezone": "UTC", "serverTime": wall_ms(), "symbols": symbols}
        return None


SIMULATOR = BinanceSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
