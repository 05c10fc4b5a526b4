"""Simulated Coinbase Exchange market data: the server side of ``cryptows.venues.coinbase``.

Speaks the real Exchange feed protocol (docs.cdp.coinbase.com/exchange/websocket-feed, not
Advanced Trade) on ``/``:

- ``{"type":"subscribe"|"unsubscribe","product_ids":[...],"channels":[...]}``; a channel is a
  name (root ``product_ids`` apply) or ``{"name","product_ids"}`` (its own ids *and* the root
  ones, root first, as in the docs' verbatim ``subscriptions`` example). Every accepted
  subscribe/unsubscribe is answered with ``{"type":"subscriptions","channels":[...]}``: the
  connection's whole, cumulative state. An unsubscribe without product ids leaves the channel.
- Errors are ``{"type":"error","message":"Failed to subscribe","reason":...}``: ``<ID> is not a
  valid product`` (the *whole* message is then ignored, valid ids included; a channel with no
  ids at all gives the empty id, ``" is not a valid product"``), ``No channels provided``, the
  authentication text for ``level2``/``level3``/``full``, ``<name> is not a valid channel`` and
  ``Type has to be either subscribe or unsubscribe``. A frame that is not a JSON object gives
  ``{"type":"error","message":"Malformed JSON","reason":<Go-style decode error>}`` (the real
  text for this case was not found; the shape is the documented one).
- No subscribe within 5 s of connecting: the server closes the connection (the docs name no
  error frame, so none is sent).
- ``ticker`` is pushed when the book changes (batched to the push interval, as the real feed
  batches cascading matches) with the documented key set and order; ``heartbeat`` is sent
  once a second per product. ``sequence`` is per product and per connection and grows by
  exactly 1 with every message of that product (ticker or heartbeat); it starts at the wall
  clock in ms so a new connection's numbers are above an old one's. ``trade_id`` is the
  engine's change counter for the book, so it is shared by every connection and skips numbers
  like the real batched ticker. Other real public channels (``matches``, ``level2_batch``,
  ``ticker_batch``, ``status``...) are accepted and listed but stay silent.

REST on the same port: ``/time`` (``{"iso","epoch"}``), ``/products`` and ``/products/<id>``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection

from cryptows.clock import wall_ms
from cryptows.sim.market import TopOfBook, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer
from cryptows.sim.universe import LISTINGS, symbol_of, tick_of
from cryptows.symbols import Symbol

_PUSHED = ("ticker", "heartbeat")
_SILENT = frozenset(
    {
        "status",
        "matches",
        "last_match",
        "level2_batch",
        "level2_50",
        "ticker_batch",
        "ticker_1000",
        "auctionfeed",
        "rfq_matches",
    }
)
"""Real public channels the simulator accepts but has no data for."""
_NO_PRODUCTS = frozenset({"status"})
"""Channels that take no product ids."""
_AUTH_ONLY = frozenset({"level2", "level3", "full"})
_AUTH_REASON = (
    "level2, level3, and full channels now require authentication. "
    "https://docs.cloud.coinbase.com/exchange/docs/websocket-auth"
)
_FAILED = "Failed to subscribe"
_JSON_STARTS = frozenset('{["-0123456789tfn')


def _num(value: float, places: int = 8) -> str:
    return f"{value:.{places}f}"


def _iso(epoch_us: int) -> str:
    """RFC 3339 with microseconds and ``Z``, as the feed writes ``time``."""
    seconds, micros = divmod(epoch_us, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{micros:06d}Z"


def product_id(symbol: Symbol) -> str:
    """Coinbase's spelling of a symbol: ``BASE-QUOTE``."""
    return f"{symbol.base}-{symbol.quote}"


class _Refused(Exception):
    """A subscribe/unsubscribe request the venue answers with an error frame."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


class CoinbaseSession(Session):
    """One client connection to the simulated Coinbase Exchange feed."""

    push_interval_s: ClassVar[float] = 0.1
    subscribe_timeout_s: ClassVar[float] = 5.0
    """A connection with no accepted subscribe after this long is closed."""
    heartbeat_interval_s: ClassVar[float] = 1.0
    _tick_s: ClassVar[float] = 0.05

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        self.channels: dict[str, list[str]] = {}
        """Channel name -> product ids, in subscription order (what ``subscriptions`` lists)."""
        self.subscribed_once = False
        self._sequence: dict[str, int] = {}

    # -- what is pushed -----------------------------------------------------------------------

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        for pid in self.channels.get("ticker", []):
            yield _canonical(pid), "ticker"

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        pid = product_id(book.symbol)
        # The subscription may have been dropped while earlier frames of this round were sent.
        if channel != "ticker" or pid not in self.channels.get("ticker", []):
            return []
        places = decimals(book.tick)
        open_price = book.open_24h
        mid = (book.bid + book.ask) / 2
        body = {
            "type": "ticker",
            "sequence": self._next_sequence(pid),
            "product_id": pid,
            "price": _num(book.last, places),
            "open_24h": _num(open_price, places),
            "volume_24h": _num(book.volume_24h),
            "low_24h": _num(book.low_24h, places),
            "high_24h": _num(book.high_24h, places),
            "volume_30d": _num(book.volume_24h * 30),
            "best_bid": _num(book.bid, places),
            "best_bid_size": _num(book.bid_size),
            "best_ask": _num(book.ask, places),
            "best_ask_size": _num(book.ask_size),
            "side": "buy" if book.last >= mid else "sell",  # the taker side
            "time": _iso(book.ts_ms * 1000),
            "trade_id": book.seq,
            "last_size": _num(min(book.bid_size, book.ask_size) / 10),
        }
        return [json.dumps(body, separators=(",", ":"))]

    def _next_sequence(self, pid: str) -> int:
        seq = self._sequence.get(pid, wall_ms()) + 1
        self._sequence[pid] = seq
        return seq

    async def periodic(self) -> None:
        next_heartbeat = time.monotonic() + self.heartbeat_interval_s
        while True:
            await asyncio.sleep(min(self._tick_s, self.heartbeat_interval_s))
            now = time.monotonic()
            if not self.subscribed_once and now - self.connected_at >= self.subscribe_timeout_s:
                await self.ws.close(1000)
                return
            if now < next_heartbeat:
                continue
            next_heartbeat = max(next_heartbeat + self.heartbeat_interval_s, now)
            if not self.stalled:
                await self._heartbeats()

    async def _heartbeats(self) -> None:
        stamp = wall_ms()
        for pid in list(self.channels.get("heartbeat", [])):
            canonical = _canonical(pid)
            if not self.engine.listed(self.server.name, canonical):
                continue
            if pid not in self.channels.get("heartbeat", []):
                continue  # unsubscribed while earlier heartbeats of this round were sent
            book = self.engine.book(self.server.name, canonical, stamp)
            await self.send_json(
                {
                    "type": "heartbeat",
                    "last_trade_id": book.seq,
                    "product_id": pid,
                    "sequence": self._next_sequence(pid),
                    "time": _iso(time.time_ns() // 1000),
                }
            )

    # -- client messages ----------------------------------------------------------------------

    async def on_message(self, message: str | bytes) -> None:
        try:
            request = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            await self._error("Malformed JSON", _go_decode_error(message))
            return
        if not isinstance(request, dict):
            await self._error(
                "Malformed JSON",
                f"json: cannot unmarshal {_go_kind(request)} into Go value of type request",
            )
            return
        kind = request.get("type")
        if kind not in ("subscribe", "unsubscribe"):
            await self._error(_FAILED, "Type has to be either subscribe or unsubscribe")
            return
        try:
            wanted = self._requested(request, subscribing=kind == "subscribe")
        except _Refused as refused:
            await self._error(refused.message, refused.reason)
            return
        if kind == "subscribe":
            self._add(wanted)
            self.subscribed_once = True
        else:
            self._remove(wanted)
        await self.send_json(
            {
                "type": "subscriptions",
                "channels": [
                    {"name": name, "product_ids": list(pids)}
                    for name, pids in self.channels.items()
                ],
            }
        )

    def _requested(self, request: dict[str, Any], *, subscribing: bool) -> dict[str, list[str]]:
        """Channel -> product ids the request names; raises ``_Refused`` for the whole request."""
        root = request.get("product_ids")
        if root is None:
            root = []
        if not isinstance(root, list) or not all(isinstance(p, str) for p in root):
            raise _Refused("Malformed JSON", "json: cannot unmarshal product_ids")
        channels = request.get("channels")
        if not channels:
            raise _Refused(_FAILED, "No channels provided")
        if not isinstance(channels, list):
            raise _Refused("Malformed JSON", "json: cannot unmarshal channels")
        wanted: dict[str, list[str]] = {}
        for entry in channels:
            own: Any
            if isinstance(entry, str):
                name, own = entry, []
            elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
                name, own = entry["name"], entry.get("product_ids") or []
                if not isinstance(own, list) or not all(isinstance(p, str) for p in own):
                    raise _Refused("Malformed JSON", "json: cannot unmarshal product_ids")
            else:
                raise _Refused("Malformed JSON", "json: cannot unmarshal channels")
            if name in _AUTH_ONLY:
                raise _Refused(_FAILED, _AUTH_REASON)
            if name not in _PUSHED and name not in _SILENT:
                raise _Refused(_FAILED, f"{name} is not a valid channel")
            pids = [] if name in _NO_PRODUCTS else list(dict.fromkeys([*root, *own]))
            if subscribing:
                if not pids and name not in _NO_PRODUCTS:
                    raise _Refused(_FAILED, " is not a valid product")
                for pid in pids:
                    if not self._valid_product(pid):
                        raise _Refused(_FAILED, f"{pid} is not a valid product")
            merged = wanted.setdefault(name, [])
            merged.extend(p for p in pids if p not in merged)
        return wanted

    def _valid_product(self, pid: str) -> bool:
        canonical = _canonical(pid)
        if canonical in self.server.faults.rejected or not self.server.listed(canonical):
            return False
        # The id must be the listed book's own spelling (not e.g. ``BTCU-SDT`` or ``btc-usd``).
        return product_id(symbol_of(canonical)) == pid

    def _add(self, wanted: dict[str, list[str]]) -> None:
        for name, pids in wanted.items():
            current = self.channels.setdefault(name, [])
            new = [p for p in pids if p not in current]
            current.extend(new)
            if name == "ticker":
                for pid in new:  # the first ticker comes at once, not on the next change
                    self._sent_seq.pop((_canonical(pid), "ticker"), None)

    def _remove(self, wanted: dict[str, list[str]]) -> None:
        for name, pids in wanted.items():
            if name not in self.channels:
                continue
            if not pids:
                del self.channels[name]
                continue
            remaining = [p for p in self.channels[name] if p not in pids]
            if remaining:
                self.channels[name] = remaining
            else:
                del self.channels[name]

    async def _error(self, message: str, reason: str) -> None:
        await self.send_json({"type": "error", "message": message, "reason": reason})


def _canonical(pid: str) -> str:
    return pid.replace("-", "")


def _go_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "null"


def _go_decode_error(message: str | bytes) -> str:
    """The error text of Go's ``encoding/json`` for the usual kinds of non-JSON input."""
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    stripped = text.lstrip()
    if not stripped:
        return "unexpected end of JSON input"
    first = stripped[0]
    if first not in _JSON_STARTS:
        return f"invalid character {first!r} looking for beginning of value"
    return "invalid JSON input"


class CoinbaseSim(SimVenueServer):
    """Simulated ``ws-feed.exchange.coinbase.com`` + ``api.exchange.coinbase.com``."""

    name: ClassVar[str] = "coinbase"
    profile: ClassVar[VenueProfile] = VenueProfile(
        listings=LISTINGS["coinbase"],
        half_spread_bps=1.2,
        base_volume_usd=0.6e9,
    )
    """USD books beside the USDT ones, like the real venue; the widest spreads of the four."""
    session_class: ClassVar[type[Session]] = CoinbaseSession
    ws_path: ClassVar[str] = "/"

    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        if path == "/time":
            stamp = wall_ms()
            return 200, {"iso": _iso(stamp * 1000)[:-4] + "Z", "epoch": stamp / 1000}
        if path == "/products":
            return 200, [self._product(canonical) for canonical in self.listed_symbols()]
        if path.startswith("/products/"):
            wanted = path.removeprefix("/products/")
            for canonical in self.listed_symbols():
                if product_id(symbol_of(canonical)) == wanted:
                    return 200, self._product(canonical)
            return 404, {"message": "NotFound"}
        return None

    def _product(self, canonical: str) -> dict[str, Any]:
        sym, tick = symbol_of(canonical), tick_of(canonical)
        return {
            "id": product_id(sym),
            "base_currency": sym.base,
            "quote_currency": sym.quote,
            "quote_increment": _num(tick, decimals(tick)),
            "base_increment": "0.00000001",
            "display_name": f"{sym.base}/{sym.quote}",
            "min_market_funds": "10" if sym.quote == "USD" else "1",
            "margin_enabled": False,
            "post_only": False,
            "limit_only": False,
            "cancel_only": False,
            "status": "online",
            "status_message": "",
            "auction_mode": False,
            "trading_disabled": False,
            "fx_stablecoin": False,
        }


SIMULATOR = CoinbaseSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
