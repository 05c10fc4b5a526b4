"""Simulated Bybit v5 spot: the server side of ``cryptows.venues.bybit``.

Speaks the real protocol (bybit-exchange.github.io/docs/v5/ws/connect, .../websocket/public/
orderbook and .../ticker; the undocumented parts from the live captures listed in
tests/fixtures/bybit/SOURCES.md) on ``/v5/public/spot`` only:

- ``{"req_id"?, "op": "subscribe"|"unsubscribe", "args": [topic, ...]}``, at most 10 args per
  request (``args size >10``); acks ``{"success": true, "ret_msg": "subscribe", "conn_id",
  "req_id", "op"}`` with ``req_id`` echoed only when the request had one; ``conn_id`` is a
  UUID per connection. A duplicate subscribe (every topic already subscribed) gets no reply at
  all; a request mixing new and already-subscribed topics is acked (duplicates ignored).
- Unknown or case-mismatched symbol, or one in ``faults.rejected``: ``{"success": false,
  "ret_msg": "Invalid symbol :[<topic> <topic>...]", ...}``. The bracket is how the captured
  spot errors look (a Go slice printed with ``%v``: every bad topic, space-separated), which
  suggests the server validates the whole ``args`` list before subscribing anything, so by
  default **no topic of a refused request is subscribed**, valid ones included: a client must
  resubscribe a refused request's other symbols (and, should the real server subscribe them
  after all, its resubscribe is then a silent duplicate). ``BybitSession.partial_subscribe``
  flips this: the valid topics subscribe (and stream, with no ack of their own) beside the
  error frame, the other behaviour a client must survive.
- Topics served: ``orderbook.{1,50,200,1000}.<SYM>`` and ``tickers.<SYM>``; any other topic is
  refused with ``Invalid topic :[...]`` (the real venue serves ``publicTrade``/``kline``...;
  the simulator does not, and says so rather than acking then staying silent).
- App ping ``{"req_id"?, "op": "ping"}`` -> ``{"success": true, "ret_msg": "pong", "conn_id",
  "req_id"?, "op": "ping"}`` (``op`` is ``ping``), unless ``faults.no_pong``.
- ``orderbook.1`` is snapshot-only (since 2025-03-20), pushed on change and the same snapshot
  (same ``u``, ``seq`` and ``cts``) again every 3 s while unchanged; deeper books are pushed as
  one-level snapshots on change (a snapshot resets the book, so this is a valid subset).
  Spot ``tickers`` are snapshots without bid/ask, pushed at most every 50 ms when they change.
  Prices carry the symbol's tick decimals, sizes 6; ``ts``/``cts``/``u``/``seq``/``cs`` are
  integers, everything else a string.
- With neither pings nor data for 10 minutes the server closes the connection.
- Limits whose wording is not documented (the simulator's own text): invalid JSON, unknown
  ``op``, missing/empty ``args``, and more than 21,000 characters of args per connection
  (counted strictly, each topic with its JSON quotes and comma, over the topics subscribed).

REST on the same port: ``/v5/market/time`` and ``/v5/market/instruments-info?category=spot``
(``Trading`` symbols only, unpaginated, ``symbol=`` filters); another or no category answers
``retCode`` 10001 ``Illegal category`` with HTTP 200, as Bybit does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cryptows.clock import wall_ms
from cryptows.sim.market import TopOfBook, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer
from cryptows.sim.universe import LISTINGS, symbol_of, tick_of

_TOPIC = re.compile(r"(orderbook\.(?:1|50|200|1000)|tickers)\.([^.]+)")
_MAX_ARGS = 10
_CROSS_SEQ_BASE = 40_000_000_000
"""``seq``/``cs`` are Bybit's cross sequence, a large integer; the engine's sequence is added."""


def _size(value: float) -> str:
    return f"{value:.6f}"


class BybitSession(Session):
    """One client connection to simulated Bybit spot."""

    push_interval_s: ClassVar[float] = 0.05
    """Spot tickers push every 50 ms; ``orderbook.1`` (10 ms on the real venue) rides along."""
    book_resend_s: ClassVar[float] = 3.0
    """An unchanged ``orderbook.1`` snapshot is pushed again after this long."""
    idle_cut_s: ClassVar[float] = 600.0
    """With neither a ping from the client nor data from the server for this long, the
    connection is closed."""
    max_args_chars: ClassVar[int] = 21_000
    """Characters of subscribed args one connection may hold."""
    partial_subscribe: ClassVar[bool] = False
    """Whether a request refused for some topics still subscribes its valid ones."""

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        self.conn_id = str(uuid.uuid4())
        self.topics: dict[str, tuple[str, str]] = {}
        """Subscribed topic -> (canonical symbol, channel), in subscription order."""
        self.last_activity = time.monotonic()
        """When the client last pinged or the server last sent something."""
        self._book_sent: dict[str, tuple[int, float, int]] = {}
        """topic -> (``u``, monotonic time pushed, ``cts``) of the last book snapshot."""
        self._ticker_sent: dict[str, dict[str, str]] = {}
        """topic -> the last ``data`` pushed."""

    # -- outgoing ---------------------------------------------------------------------------

    def on_sent(self) -> None:
        self.last_activity = time.monotonic()

    async def _reply(self, success: bool, ret_msg: str, request: dict[str, Any], op: str) -> None:
        body: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": self.conn_id}
        if "req_id" in request:
            body["req_id"] = request["req_id"]
        if op:
            body["op"] = op
        await self.send_json(body)

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        return list(self.topics.values())

    def resend_due(self, channel: str) -> bool:
        # An unchanged level 1 reaches frames() on every tick, which keeps its own per-topic
        # bookkeeping for the 3 s repeat; everything else is pushed when it changes (and at
        # once after a (re)subscribe, which forgets what was sent).
        return channel == "orderbook.1"

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        symbol = book.symbol.canonical
        topic = f"{channel}.{symbol}"
        if topic not in self.topics:
            return []
        if channel == "tickers":
            return self._ticker_frames(book, topic)
        return self._book_frames(book, topic, channel)

    def _book_frames(self, book: TopOfBook, topic: str, channel: str) -> list[str]:
        now = time.monotonic()
        last = self._book_sent.get(topic)
        cts = book.ts_ms
        if last is not None and last[0] == book.seq:
            if channel != "orderbook.1" or now - last[1] < self.book_resend_s:
                return []
            cts = last[2]  # the same snapshot again
        self._book_sent[topic] = (book.seq, now, cts)
        places = decimals(book.tick)
        body = {
            "topic": topic,
            "ts": wall_ms(),
            "type": "snapshot",
            "data": {
                "s": book.symbol.canonical,
                "b": [[f"{book.bid:.{places}f}", _size(book.bid_size)]],
                "a": [[f"{book.ask:.{places}f}", _size(book.ask_size)]],
                "u": book.seq,
                "seq": _CROSS_SEQ_BASE + book.seq,
            },
            "cts": cts,
        }
        return [json.dumps(body, separators=(",", ":"))]

    def _ticker_frames(self, book: TopOfBook, topic: str) -> list[str]:
        places = decimals(book.tick)
        last = book.last
        prev = book.open_24h
        quote = book.symbol.quote
        data = {
            "symbol": book.symbol.canonical,
            "lastPrice": f"{last:.{places}f}",
            "highPrice24h": f"{book.high_24h:.{places}f}",
            "lowPrice24h": f"{book.low_24h:.{places}f}",
            "prevPrice24h": f"{prev:.{places}f}",
            "volume24h": _size(book.volume_24h),
            "turnover24h": f"{book.quote_volume_24h:.8f}",
            "price24hPcnt": f"{last / prev - 1:.4f}",  # a fraction, not percent
            # The base coin's USD index; "" for coins that are not collateral (here: any
            # book not quoted in a USD stablecoin).
            "usdIndexPrice": f"{last:.7f}" if quote in ("USDT", "USDC") else "",
        }
        if self._ticker_sent.get(topic) == data:
            return []
        self._ticker_sent[topic] = data
        body = {
            "topic": topic,
            "ts": wall_ms(),
            "type": "snapshot",
            "cs": _CROSS_SEQ_BASE + book.seq,
            "data": data,
        }
        return [json.dumps(body, separators=(",", ":"))]

    # -- incoming ---------------------------------------------------------------------------

    async def on_message(self, message: str | bytes) -> None:
        try:
            request = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            await self._reply(False, "Invalid request: malformed JSON", {}, "")
            return
        if not isinstance(request, dict):
            await self._reply(False, "Invalid request: expected a JSON object", {}, "")
            return
        op = request.get("op")
        if op == "ping":
            if not self.server.faults.no_pong:
                self.last_activity = time.monotonic()
                await self._reply(True, "pong", request, "ping")
        elif op in ("subscribe", "unsubscribe"):
            await self._subscription(op, request)
        else:
            name = op if isinstance(op, str) else ""
            await self._reply(False, f"Invalid op :[{name}]", request, name)

    async def _subscription(self, op: str, request: dict[str, Any]) -> None:
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            await self._reply(False, "Invalid args: a non-empty list of topics", request, op)
            return
        if len(args) > _MAX_ARGS:
            await self._reply(False, f"args size >{_MAX_ARGS}", request, op)
            return
        topics = list(dict.fromkeys(args))
        if op == "unsubscribe":
            for topic in topics:  # before the ack: nothing of these topics follows it
                gone = self.topics.pop(topic, None)
                if gone is not None:
                    self._sent_seq.pop(gone, None)
                self._book_sent.pop(topic, None)
                self._ticker_sent.pop(topic, None)
            await self._reply(True, "unsubscribe", request, op)
            return
        parsed = {t: _TOPIC.fullmatch(t) for t in topics}
        bad_form = [t for t, m in parsed.items() if m is None]
        bad_symbol = [
            t for t, m in parsed.items() if m is not None and not self._accepts(m.group(2))
        ]
        good = [t for t in topics if t not in bad_form and t not in bad_symbol]
        if bad_form or bad_symbol:
            text = (
                f"Invalid topic :[{' '.join(bad_form)}]"
                if bad_form
                else f"Invalid symbol :[{' '.join(bad_symbol)}]"
            )
            await self._reply(False, text, request, op)
            if self.partial_subscribe:
                self._add(good, parsed)
            return
        new = [t for t in good if t not in self.topics]
        if not new:
            return  # a duplicate subscribe gets no reply at all
        held = sum(_arg_chars(t) for t in self.topics)
        if held + sum(_arg_chars(t) for t in new) > self.max_args_chars:
            await self._reply(
                False,
                f"args length exceeds {self.max_args_chars} characters per connection",
                request,
                op,
            )
            return
        await self._reply(True, "subscribe", request, op)  # the ack comes before any push
        self._add(new, parsed)

    def _accepts(self, symbol: str) -> bool:
        return self.server.listed(symbol) and symbol not in self.server.faults.rejected

    def _add(self, topics: list[str], parsed: dict[str, re.Match[str] | None]) -> None:
        for topic in topics:
            match = parsed[topic]
            if match is not None and topic not in self.topics:
                self.topics[topic] = (match.group(2), match.group(1))
                self._sent_seq.pop(self.topics[topic], None)  # a fresh snapshot comes at once

    async def periodic(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_cut_s / 4))
            if time.monotonic() - self.last_activity > self.idle_cut_s:
                with contextlib.suppress(ConnectionClosed):
                    await self.ws.close(1000, "idle timeout")
                return


def _arg_chars(topic: str) -> int:
    """What one topic costs against the per-connection limit: itself, its quotes, a comma."""
    return len(topic) + 3


class BybitSim(SimVenueServer):
    """Simulated ``stream.bybit.com`` (spot) + ``api.bybit.com`` on one loopback port."""

    name: ClassVar[str] = "bybit"
    profile: ClassVar[VenueProfile] = VenueProfile(
        listings=LISTINGS["bybit"],
        half_spread_bps=0.6,
        base_volume_usd=0.8e9,
    )
    """No USD books (USDT and USDC ones instead)."""
    session_class: ClassVar[type[Session]] = BybitSession
    ws_path: ClassVar[str] = "/v5/public/spot"

    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        if path == "/v5/market/time":
            ns = time.time_ns()
            result = {"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)}
            return 200, _envelope(0, "OK", result)
        if path == "/v5/market/instruments-info":
            if query.get("category", [""])[0] != "spot":
                return 200, _envelope(10001, "Illegal category", {})
            wanted = query.get("symbol", [""])[0]
            items = [
                self._instrument(s, number)
                for number, s in enumerate(sorted(self.engine.listings(self.name)), 1)
                if self.listed(s) and (not wanted or s == wanted)
            ]
            return 200, _envelope(0, "OK", {"category": "spot", "list": items})
        return None

    def _instrument(self, canonical: str, number: int) -> dict[str, Any]:
        sym, tick_size = symbol_of(canonical), tick_of(canonical)
        tick = f"{tick_size:.{decimals(tick_size)}f}"
        return {
            "symbolId": number,
            "symbol": canonical,
            "baseCoin": sym.base,
            "quoteCoin": sym.quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": "0.000001",
                "quotePrecision": "0.00000001",
                "minOrderQty": "0.000001",
                "maxOrderQty": "1000000",
                "minOrderAmt": "5",
                "maxOrderAmt": "8000000",
                "maxLimitOrderQty": "1000000",
                "maxMarketOrderQty": "500000",
                "postOnlyMaxLimitOrderSize": "1000000",
            },
            "priceFilter": {"tickSize": tick},
            "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
            "symbolType": "",
        }


def _envelope(code: int, message: str, result: Any) -> dict[str, Any]:
    return {
        "retCode": code,
        "retMsg": message,
        "result": result,
        "retExtInfo": {},
        "time": wall_ms(),
    }


SIMULATOR = BybitSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
