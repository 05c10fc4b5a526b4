"""Simulated OKX v5 public: the server side of ``cryptows.venues.okx``.

Speaks the real protocol (okx.com/docs-v5/en, "WebSocket" overview, tickers and order-book
channels, error codes) on ``/ws/v5/public``:

- The text frame ``ping`` is answered with the text frame ``pong`` (neither is JSON).
- ``{"id"?, "op": "subscribe"|"unsubscribe", "args": [{"channel", "instId"}, ...]}`` is answered
  with one ack per arg, ``{"id"?, "event", "arg", "connId"}``; ``id`` (up to 32 alphanumerics)
  is echoed only when the request had one.
- A request that cannot be read (not JSON, no ``op``/``args``, an arg without ``channel`` or
  ``instId``, a bad ``id``) is refused as a whole with 60012 ``Invalid request: <the request>``.
- Each arg is judged on its own (a client log shows the good args of a batch streaming beside
  errors for the bad ones, burakoner/OKX.Api#34): an unknown
  instrument (anything but a listed spot id, so ``BTC-USDT-SWAP`` too) or a channel this endpoint
  does not serve gets 60018 ``Wrong URL or channel:<ch>,instId:<id> doesn't exist...`` — an error
  frame with **no** ``arg`` — while the other args of the same request are acked and stream.
  A channel name the real ``/public`` endpoint does not know is also 60018 there (``candle1m``
  lives on ``/business``), not 60012.
- Channels: ``tickers`` (every value a string, ``ts`` included; pushed on change, at most every
  100 ms) and ``bbo-tbt`` (one-level snapshots ``[px, sz, "0", orderCount]`` with an integer
  ``seqId``; the real one pushes every 10 ms on change, this one every 100 ms).
- The server closes a connection with 4004 "No data received in 30s." when it has had no
  subscription for 30 s (from connect, or since its last unsubscribe), or when it has sent
  nothing for 30 s. The docs' keep-alive recipe (send ``ping``, expect ``pong``) relies on the
  ``pong`` counting as data, so it does here; a ``ping`` does not stand in for a subscription.
- ``OkxSim.announce_upgrade`` sends the ``event: notice`` code 64008 frame and drops the
  connections that got it 60 s later.

REST on the same port: ``/api/v5/public/time`` and ``/api/v5/public/instruments`` (SPOT only is
listed; other valid ``instType`` values answer an empty list; a missing one is 50014, an invalid
one 51000, both with HTTP 400: OKX's error tables map both codes to 400, and client logs show
400 with 51000).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cryptows.clock import wall_ms
from cryptows.sim.market import TopOfBook, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer
from cryptows.sim.universe import LISTINGS, symbol_of, tick_of

_TICKERS = "tickers"
_BBO = "bbo-tbt"
_CHANNELS = frozenset({_TICKERS, _BBO})
_OPS = frozenset({"subscribe", "unsubscribe"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_SPOT_INST_ID = re.compile(r"([A-Z0-9]+)-([A-Z0-9]+)")

_IDLE_CLOSE_CODE = 4004
_IDLE_CLOSE_REASON = "No data received in 30s."
_UPGRADE_CODE = "64008"
_UPGRADE_MSG = "The connection will soon be closed for a service upgrade. Please reconnect."
_INST_TYPES = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"})


def _price(value: float, tick: float) -> str:
    return f"{value:.{decimals(tick)}f}"


def _qty(value: float) -> str:
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return text or "0"


def _unknown_msg(channel: str, instrument: str) -> str:
    return (
        f"Wrong URL or channel:{channel},instId:{instrument} doesn't exist. "
        "Please use the correct URL, channel and parameters referring to API document."
    )


class OkxSession(Session):
    """One client connection to simulated OKX."""

    push_interval_s: ClassVar[float] = 0.1
    idle_close_s: ClassVar[float] = 30.0
    """The server's bound for "no subscription" and "no data sent" (tests shrink it)."""

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        self.conn_id = secrets.token_hex(4)
        self.topics: dict[tuple[str, str], str] = {}
        """``(channel, instId)`` -> canonical symbol, in subscription order."""
        self.last_sent = time.monotonic()
        self.unsubscribed_since: float | None = time.monotonic()
        """Since when the connection has had no subscription (``None`` while it has one)."""

    # -- pushes ---------------------------------------------------------------------------

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        for (channel, _inst), canonical in list(self.topics.items()):
            yield canonical, channel

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        instrument = f"{book.symbol.base}-{book.symbol.quote}"
        item = self._ticker(book, instrument) if channel == _TICKERS else self._bbo(book)
        body = {"arg": {"channel": channel, "instId": instrument}, "data": [item]}
        return [json.dumps(body, separators=(",", ":"))]

    @staticmethod
    def _ticker(book: TopOfBook, instrument: str) -> dict[str, str]:
        tick = book.tick
        open_price = book.open_24h
        return {
            "instType": "SPOT",
            "instId": instrument,
            "last": _price(book.last, tick),
            "lastSz": _qty(min(book.bid_size, book.ask_size) * 0.1),
            "askPx": _price(book.ask, tick),
            "askSz": _qty(book.ask_size),
            "bidPx": _price(book.bid, tick),
            "bidSz": _qty(book.bid_size),
            "open24h": _price(open_price, tick),
            "high24h": _price(book.high_24h, tick),
            "low24h": _price(book.low_24h, tick),
            "volCcy24h": _qty(book.quote_volume_24h),  # quote currency on SPOT
            "vol24h": _qty(book.volume_24h),  # base currency on SPOT
            "sodUtc0": _price(book.last * 0.995, tick),
            "sodUtc8": _price(book.last * 1.002, tick),
            "ts": str(book.ts_ms),
        }

    @staticmethod
    def _bbo(book: TopOfBook) -> dict[str, Any]:
        asks = [_price(book.ask, book.tick), _qty(book.ask_size), "0", str(1 + book.seq % 17)]
        bids = [_price(book.bid, book.tick), _qty(book.bid_size), "0", str(1 + book.seq % 11)]
        return {"asks": [asks], "bids": [bids], "ts": str(book.ts_ms), "seqId": book.seq}

    def on_sent(self) -> None:
        self.last_sent = time.monotonic()

    # -- idle rules -----------------------------------------------------------------------

    async def periodic(self) -> None:
        was_stalled = False
        while True:
            await asyncio.sleep(min(0.5, self.idle_close_s / 10))
            now = time.monotonic()
            if self.stalled:
                was_stalled = True
                continue
            if was_stalled:  # a stall is a frozen link, not a silent server: restart the clocks
                was_stalled = False
                self.last_sent = now
                if self.unsubscribed_since is not None:
                    self.unsubscribed_since = now
                continue
            silent = now - self.last_sent >= self.idle_close_s
            bare = self.unsubscribed_since is not None and (
                now - self.unsubscribed_since >= self.idle_close_s
            )
            if silent or bare:
                await self.ws.close(_IDLE_CLOSE_CODE, _IDLE_CLOSE_REASON)
                return

    # -- requests -------------------------------------------------------------------------

    async def on_message(self, message: str | bytes) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        if text == "ping":
            if not self.server.faults.no_pong:
                await self.send("pong")
            return
        try:
            request = json.loads(text)
        except ValueError:
            await self._invalid(text, None)
            return
        if not isinstance(request, dict):
            await self._invalid(text, None)
            return
        req_id = request.get("id") or None  # an empty id is no id
        if req_id is not None and not (isinstance(req_id, str) and _REQUEST_ID.fullmatch(req_id)):
            await self._invalid(text, None)
            return
        op, args = request.get("op"), _args(request.get("args"))
        if op not in _OPS or args is None:
            await self._invalid(text, req_id)
            return
        for channel, instrument in args:
            await self._one(op, channel, instrument, req_id)

    async def _one(self, op: str, channel: str, instrument: str, req_id: str | None) -> None:
        canonical = self._listed(instrument)
        if channel not in _CHANNELS or canonical is None:
            await self._send_frame(
                req_id,
                {"event": "error", "msg": _unknown_msg(channel, instrument), "code": "60018"},
            )
            return
        key = (channel, instrument)
        if op == "subscribe":
            self.topics.setdefault(key, canonical)
        elif self.topics.pop(key, None) is not None:
            self._sent_seq.pop((canonical, channel), None)  # a resubscribe gets a fresh snapshot
        if self.topics:
            self.unsubscribed_since = None
        elif self.unsubscribed_since is None:
            self.unsubscribed_since = time.monotonic()
        await self._send_frame(
            req_id, {"event": op, "arg": {"channel": channel, "instId": instrument}}
        )

    def _listed(self, instrument: str) -> str | None:
        """The canonical symbol of a listed spot instrument id, else ``None``."""
        match = _SPOT_INST_ID.fullmatch(instrument)
        if match is None:
            return None
        canonical = match.group(1) + match.group(2)
        if not self.server.listed(canonical) or canonical in self.server.faults.rejected:
            return None
        return canonical

    async def _invalid(self, raw: str, req_id: str | None) -> None:
        body = {"event": "error", "code": "60012", "msg": f"Invalid request: {raw}"}
        await self._send_frame(req_id, body)

    async def _send_frame(self, req_id: str | None, body: dict[str, Any]) -> None:
        """Send ``body`` with the echoed ``id`` first and ``connId`` last, as OKX orders them."""
        head: dict[str, Any] = {"id": req_id} if req_id is not None else {}
        await self.send_json({**head, **body, "connId": self.conn_id})

    async def notice(self, code: str, msg: str) -> None:
        """Send an ``event: notice`` frame."""
        await self.send_json({"event": "notice", "code": code, "msg": msg, "connId": self.conn_id})


def _args(args: object) -> list[tuple[str, str]] | None:
    """The ``(channel, instId)`` pairs of a request's ``args``, or ``None`` if malformed."""
    if not isinstance(args, list) or not args:
        return None
    pairs = []
    for arg in args:
        if not isinstance(arg, dict):
            return None
        channel, instrument = arg.get("channel"), arg.get("instId")
        if not isinstance(channel, str) or not isinstance(instrument, str):
            return None
        pairs.append((channel, instrument))
    return pairs


class OkxSim(SimVenueServer):
    """Simulated ``ws.okx.com:8443`` + ``openapi.okx.com`` on one loopback port."""

    name: ClassVar[str] = "okx"
    profile: ClassVar[VenueProfile] = VenueProfile(
        listings=LISTINGS["okx"],
        half_spread_bps=0.5,
        base_volume_usd=0.9e9,
    )
    """No USD books (USDT and USDC ones instead)."""
    session_class: ClassVar[type[Session]] = OkxSession
    ws_path: ClassVar[str] = "/ws/v5/public"
    upgrade_notice_s: ClassVar[float] = 60.0
    """How long after the 64008 notice the connections are dropped (documented: 60 s)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._upgrades: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        for task in self._upgrades:
            task.cancel()
        await asyncio.gather(*self._upgrades, return_exceptions=True)
        await super().stop()

    async def announce_upgrade(self, disconnect_after_s: float | None = None) -> None:
        """Send the 64008 service-upgrade notice to every connection, then drop them.

        The drop is abrupt (no close frame): a client log shows 1006 closes beside these notices
        (yubing744/trading-gpt#90); OKX documents no close code for it.

        Args:
            disconnect_after_s: seconds until the notified connections are dropped; ``None``
                means :attr:`upgrade_notice_s` (60 s, as documented).
        """
        notified = [s for s in list(self.sessions) if isinstance(s, OkxSession)]
        for session in notified:
            with contextlib.suppress(ConnectionClosed):
                await session.notice(_UPGRADE_CODE, _UPGRADE_MSG)
        delay = self.upgrade_notice_s if disconnect_after_s is None else disconnect_after_s
        task = asyncio.create_task(self._drop_later(notified, delay))
        self._upgrades.add(task)
        task.add_done_callback(self._upgrades.discard)

    async def _drop_later(self, sessions: list[OkxSession], delay: float) -> None:
        await asyncio.sleep(delay)
        for session in sessions:
            session.ws.transport.abort()

    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        if path == "/api/v5/public/time":
            return 200, {"code": "0", "msg": "", "data": [{"ts": str(wall_ms())}]}
        if path == "/api/v5/public/instruments":
            inst_type = (query.get("instType") or [""])[0]
            if not inst_type:
                return 400, {
                    "code": "50014",
                    "msg": "Parameter instType can not be empty.",
                    "data": [],
                }
            if inst_type not in _INST_TYPES:
                return 400, {"code": "51000", "msg": "Parameter instType error", "data": []}
            data = self._instruments() if inst_type == "SPOT" else []
            return 200, {"code": "0", "msg": "", "data": data}
        return None

    def _instruments(self) -> list[dict[str, Any]]:
        return [
            self._instrument(canonical, number)
            for number, canonical in enumerate(self.listed_symbols())
        ]

    def _instrument(self, canonical: str, number: int) -> dict[str, Any]:
        sym, tick = symbol_of(canonical), tick_of(canonical)
        base, quote = sym.base, sym.quote
        # Every key of the docs' SPOT example, in its order; derivative-only fields are "".
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": base,
            "category": "1",
            "ctMult": "",
            "ctType": "",
            "ctVal": "",
            "ctValCcy": "",
            "contTdSwTime": "",
            "expTime": "",
            "futureSettlement": False,
            "groupId": "1",
            "instFamily": "",
            "instId": f"{base}-{quote}",
            "instType": "SPOT",
            "lever": "10",
            "listTime": "1606468572000",
            "lotSz": "0.00000001",
            "maxIcebergSz": "9999999999.0000000000000000",
            "maxLmtAmt": "1000000",
            "maxLmtSz": "9999999999",
            "maxMktAmt": "1000000",
            "maxMktSz": "",
            "maxStopSz": "",
            "maxTriggerSz": "9999999999.0000000000000000",
            "maxTwapSz": "9999999999.0000000000000000",
            "minSz": "0.00001",
            "optType": "",
            "openType": "",
            "preMktSwTime": "",
            "quoteCcy": quote,
            "tradeQuoteCcyList": [quote],
            "settleCcy": "",
            "state": "live",
            "ruleType": "normal",
            "stk": "",
            "tickSz": _price(tick, tick),
            "uly": "",
            "instIdCode": 1_000_000_000 + number,
            "instCategory": "1",
            "upcChg": [],
        }


SIMULATOR = OkxSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
