"""Simulated Coinbase Exchange market data: the server side of ``cryptows.venues.coinbase``.

Speaks the real Exchange feed protocol (docs.cdp.coinbase.com/exchange/websocket-feed/overview
and .../channels, not Advanced Trade) on ``/``, and the public Exchange REST API
(docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/...) on the same port. The
whole public surface of the venue lives in this one module (feed channels, their shared sequence
numbers and REST calls all read the same engine state), hence its length.

Feed:

- ``{"type":"subscribe"|"unsubscribe","product_ids":[...],"channels":[...]}``; a channel is a
  name (root ``product_ids`` apply) or ``{"name","product_ids"}`` (its own ids *and* the root
  ones, root first, as in the docs' verbatim ``subscriptions`` example). Every accepted
  subscribe/unsubscribe is answered with ``{"type":"subscriptions","channels":[...]}``: the
  connection's whole, cumulative state. An unsubscribe without product ids leaves the channel.
- Errors are ``{"type":"error","message":"Failed to subscribe","reason":...}``: ``<ID> is not a
  valid product`` (the *whole* message is then ignored, valid ids included; a channel with no
  ids at all gives the empty id, ``" is not a valid product"``), ``No channels provided``, the
  authentication text for ``level2``/``level3``/``full`` unsigned, ``<name> is not a valid
  channel`` and ``Type has to be either subscribe or unsubscribe``. A frame that is not a JSON
  object gives ``{"type":"error","message":"Malformed JSON","reason":<Go-style decode error>}``
  (the real text for this case was not found; the shape is the documented one).
- No subscribe within 5 s of connecting: the server closes the connection (the docs name no
  error frame, so none is sent).
- ``sequence`` is per product and the same on every connection, as on the venue: a per-server
  sequencer (:class:`_Sequencer`) numbers each product's events the first time anybody (a feed
  connection or REST) looks: every new trade of the engine's tape, then a change of the book
  (the engine's ``seq``), one number each. A client on a subset of channels sees gaps, as on the
  venue (the docs' "exactly one greater" holds over every message of the product).
- ``ticker``: pushed when the book changes (batched to the push interval, as the real feed
  batches cascading matches) with the documented key set and order; ``trade_id``, ``last_size``
  and ``side`` (the taker's, as in the recorded frames) are the last trade's. ``ticker_batch``
  (alias ``ticker_1000``): the same schema at once, then every 5 s if the price changed.
- ``heartbeat``: once a second per product, with the product's current ``sequence`` and
  ``last_trade_id``.
- ``matches``: a ``last_match`` (the latest trade) on subscribe, then one ``match`` per trade of
  the tape, in the docs' key order; ``side`` is the *maker's* side (a buyer-taker trade is
  ``sell``), maker/taker order ids are UUIDs fixed per trade.
- ``level2_batch`` (alias ``level2_50``): a ``snapshot`` (:data:`BOOK_LEVELS` levels a side,
  ``[price, size]``) then ``l2update`` batches every 50 ms, each the change from the previous
  one's levels to the current book (``[side, price, size]``, size ``0`` removes), no gap and no
  overlap. ``level2`` is the same data but requires authentication: an unsigned subscribe gets
  the real error; a signed one (``signature``, ``key``, ``passphrase``, ``timestamp`` at the
  root, as the docs' example) is accepted when well formed: the simulator cannot know secrets,
  so any base64 ``signature`` of 32 bytes with a non-empty key and passphrase and a
  ``timestamp`` (epoch seconds) within 30 s of now passes. A malformed or stale signature gets
  ``{"type":"error","message":"Authentication Failed","reason":"{\\"message\\":...}"}`` (the
  shape ccxt documents; the reason texts are the simulator's guess). ``level3``, ``full`` and
  ``user`` have no order-level data here and stay refused (with the authentication text for
  the first two, as unsigned, and ``is not a valid channel`` for ``user``).
- ``status``: the products and currencies on subscribe, then every 5 s. ``auctionfeed`` and
  ``rfq_matches`` are accepted and stay silent, which is the real behaviour with no product in
  auction and no RFQ trade.
- Prices carry the product's tick decimals, sizes 8 decimals.

REST (``{"message": ...}`` bodies for errors, 404 ``{"message":"NotFound"}`` for an unknown
path, product or currency): ``/time``, ``/currencies``, ``/currencies/<id>``, ``/products``,
``/products/<id>`` (``quote_increment`` the tick, ``base_increment`` the lot),
``/products/<id>/book?level=1|2|3`` (with the feed's current ``sequence``; level 2 entries
``[price, size, num_orders]``, level 3 one entry per order ``[price, size, order_id]``),
``/ticker``, ``/trades`` (newest first, ``limit``/``before``/``after`` by trade id, ``side``
the maker's), ``/candles`` (``[time, low, high, open, close, volume]`` newest first,
granularity one of 60/300/900/3600/21600/86400, at most 300 candles, none for an interval
without trades) and ``/stats``.

Why this module is over 400 lines: it is the venue's whole public market-data surface, WebSocket
(its channels share the feed's ``sequence``) and REST, which share the formatting
and the engine reads and must agree with each other.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection

from cryptows.clock import wall_ms
from cryptows.sim.depth import Level, changes
from cryptows.sim.depth import depth as ladder
from cryptows.sim.market import MarketEngine, Tape, TopOfBook, Trade, VenueProfile, decimals
from cryptows.sim.server import Session, SimVenueServer
from cryptows.sim.universe import LISTINGS, lot_of, symbol_of, tick_of
from cryptows.symbols import Symbol

BOOK_LEVELS = 100
"""Levels a side in ``level2`` snapshots and REST level 2/3 books (the venue sends its whole
book; the simulator's ladder is cut here, and deltas keep a client's copy of that ladder)."""

_ALIASES = {"level2_50": "level2_batch", "ticker_1000": "ticker_batch"}
_PUSHED = frozenset({"ticker", "ticker_batch", "matches", "level2", "level2_batch"})
"""Channels pushed per product by the push loop (``heartbeat`` and ``status`` are timed)."""
_VALID = _PUSHED | frozenset(_ALIASES) | {"heartbeat", "status", "auctionfeed", "rfq_matches"}
_NO_PRODUCTS = frozenset({"status"})
"""Channels that take no product ids."""
_AUTH_ONLY = frozenset({"level2", "level3", "full"})
_SERVED_SIGNED = frozenset({"level2"})
_AUTH_FIELDS = ("signature", "key", "passphrase", "timestamp")
_AUTH_WINDOW_S = 30.0
_AUTH_REASON = (
    "level2, level3, and full channels now require authentication. "
    "https://docs.cloud.coinbase.com/exchange/docs/websocket-auth"
)
_FAILED = "Failed to subscribe"
_JSON_STARTS = frozenset('{["-0123456789tfn')
_TICKER_BATCH_S = 5.0
_STATUS_S = 5.0
_SEQUENCE_BASE = 10_000_000_000
_KEEP_SEQUENCES = 4_000
_GRANULARITIES = frozenset({60, 300, 900, 3600, 21600, 86400})
_MAX_CANDLES = 300
_MAX_TRADES = 1000
_NOT_FOUND = {"message": "NotFound"}
_NAMES = {
    "USD": "United States Dollar",
    "USDC": "USD Coin",
    "USDT": "Tether",
    "BTC": "Bitcoin",
    "ETH": "Ethereum",
    "SOL": "Solana",
}
_ORDER_IDS = uuid.UUID("6b1d6f5e-0c39-4c0e-9a53-3d1d5f0c2b7a")
"""Namespace of the simulator's order ids (UUID 5 of product, trade or level, and role)."""


def _num(value: float, places: int = 8) -> str:
    return f"{value:.{places}f}"


def _iso(epoch_us: int) -> str:
    """RFC 3339 with microseconds and ``Z``, as the feed writes ``time``."""
    seconds, micros = divmod(epoch_us, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{micros:06d}Z"


def _iso_ms(epoch_ms: int) -> str:
    """RFC 3339 with milliseconds and ``Z``, as REST ``/time`` and the trades examples."""
    return _iso(epoch_ms * 1000)[:-4] + "Z"


def product_id(symbol: Symbol) -> str:
    """Coinbase's spelling of a symbol: ``BASE-QUOTE``."""
    return f"{symbol.base}-{symbol.quote}"


def _canonical(pid: str) -> str:
    return pid.replace("-", "")


def _order_id(*parts: object) -> str:
    return str(uuid.uuid5(_ORDER_IDS, "/".join(str(p) for p in parts)))


@dataclass(slots=True)
class _Numbers:
    """One product's sequence numbering."""

    last: int
    book_seq: int
    trade_id: int
    trades: OrderedDict[int, int] = field(default_factory=OrderedDict)
    """Trade id -> its sequence, for the recent trades."""


@dataclass(frozen=True, slots=True)
class _Seen:
    """A product as the sequencer last numbered it."""

    book: TopOfBook
    tape: Tape
    sequence: int
    """The product's latest sequence number (what a heartbeat or ticker carries)."""


class _Sequencer:
    """Per-product sequence numbers shared by every connection and REST call of one server.

    The engine's state is global and monotonic (a book's ``seq``, the tape's trade ids), but a
    trade does not record the book ``seq`` it happened at; so the first observer of a change
    numbers it, once, for everybody: new trades first (oldest first), then the book change.
    """

    def __init__(self, engine: MarketEngine, venue: str) -> None:
        self._engine = engine
        self._venue = venue
        self._products: dict[str, _Numbers] = {}

    def observe(self, canonical: str, book: TopOfBook | None = None) -> _Seen:
        """Number what changed in ``canonical`` (at ``book``, or now) and return its state."""
        if book is None:
            book = self._engine.book(self._venue, canonical, wall_ms())
        tape = self._engine.tape(self._venue, canonical, book.ts_ms)
        numbers = self._products.get(canonical)
        if numbers is None:
            kept = list(tape.trades)
            start = _SEQUENCE_BASE + zlib.crc32(canonical.encode()) % 10**9 + book.seq
            numbers = _Numbers(start + len(kept), book.seq, tape.last_id)
            for i, trade in enumerate(kept):
                numbers.trades[trade.id] = start + i
            self._products[canonical] = numbers
        for trade in tape.since(numbers.trade_id):
            numbers.last += 1
            numbers.trades[trade.id] = numbers.last
            numbers.trade_id = trade.id
        if book.seq > numbers.book_seq:
            numbers.last += 1
            numbers.book_seq = book.seq
        while len(numbers.trades) > _KEEP_SEQUENCES:
            numbers.trades.popitem(last=False)
        return _Seen(book, tape, numbers.last)

    def of_trade(self, canonical: str, trade_id: int) -> int:
        """The sequence of a trade already observed (0 if it is too old to be kept)."""
        numbers = self._products.get(canonical)
        return numbers.trades.get(trade_id, 0) if numbers is not None else 0


class _Refused(Exception):
    """A subscribe/unsubscribe request the venue answers with an error frame."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


@dataclass(slots=True)
class Ladder:
    """The book levels last sent on one (channel, product) of a connection."""

    bids: list[Level]
    asks: list[Level]
    seq: int
    """The engine ``seq`` of the book they are."""


class CoinbaseSession(Session):
    """One client connection to the simulated Coinbase Exchange feed."""

    push_interval_s: ClassVar[float] = 0.05
    """``level2_batch`` batches every 50 ms; tickers follow the book at the same cadence."""
    subscribe_timeout_s: ClassVar[float] = 5.0
    """A connection with no accepted subscribe after this long is closed."""
    heartbeat_interval_s: ClassVar[float] = 1.0
    _tick_s: ClassVar[float] = 0.05

    def __init__(self, server: SimVenueServer, ws: ServerConnection) -> None:
        super().__init__(server, ws)
        if not isinstance(server, CoinbaseSim):
            raise TypeError("CoinbaseSession serves a CoinbaseSim")
        self.sequencer = server.sequencer
        self.channels: dict[str, list[str]] = {}
        """Channel name -> product ids, in subscription order (what ``subscriptions`` lists)."""
        self.subscribed_once = False
        self.ladders: dict[tuple[str, str], Ladder] = {}
        """(channel, product id) -> the levels last sent on that level2 stream."""
        self._matched: dict[str, int] = {}
        """Product id -> the last trade id sent on ``matches``."""
        self._batched: dict[str, tuple[float, str]] = {}
        """Product id -> (monotonic time, price) of the last ``ticker_batch``."""

    # -- what is pushed -----------------------------------------------------------------------

    def subscriptions(self) -> Iterable[tuple[str, str]]:
        for name, pids in self.channels.items():
            if _ALIASES.get(name, name) in _PUSHED:
                for pid in pids:
                    yield _canonical(pid), name

    def resend_due(self, channel: str) -> bool:
        # Only the ticker follows the book's seq alone; trades and batches decide themselves.
        return channel != "ticker"

    def frames(self, book: TopOfBook, channel: str) -> list[str]:
        pid = product_id(book.symbol)
        # The subscription may have been dropped while earlier frames of this round were sent.
        if pid not in self.channels.get(channel, []):
            return []
        kind = _ALIASES.get(channel, channel)
        if kind in ("level2", "level2_batch"):
            return self._level2(book, channel, pid)
        seen = self.sequencer.observe(_canonical(pid), book)
        if kind == "matches":
            return self._matches(seen, pid)
        if kind == "ticker_batch":
            now = time.monotonic()
            last = self._batched.get(pid)
            price = _num(seen.book.last, decimals(seen.book.tick))
            if last is not None and (now - last[0] < _TICKER_BATCH_S or last[1] == price):
                return []
            self._batched[pid] = (now, price)
        return [_dump(_ticker(seen, pid))]

    def _matches(self, seen: _Seen, pid: str) -> list[str]:
        trades = seen.tape.trades
        last = self._matched.get(pid)
        if last is None:
            if not trades:
                return []
            newest = trades[-1]
            self._matched[pid] = newest.id
            return [_dump(self._match(newest, pid, seen.book.tick, "last_match"))]
        new = seen.tape.since(last)
        if new:
            self._matched[pid] = new[-1].id
        return [_dump(self._match(t, pid, seen.book.tick, "match")) for t in new]

    def _match(self, trade: Trade, pid: str, tick: float, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "trade_id": trade.id,
            "sequence": self.sequencer.of_trade(_canonical(pid), trade.id),
            "maker_order_id": _order_id(pid, trade.id, "maker"),
            "taker_order_id": _order_id(pid, trade.id, "taker"),
            "time": _iso(trade.ts_ms * 1000),
            "product_id": pid,
            "size": _num(trade.size),
            "price": _num(trade.price, decimals(tick)),
            "side": _maker_side(trade),
        }

    def _level2(self, book: TopOfBook, channel: str, pid: str) -> list[str]:
        key = (channel, pid)
        previous = self.ladders.get(key)
        if previous is not None and previous.seq >= book.seq:
            return []
        canonical = _canonical(pid)
        now = ladder(book, f"{self.server.name}/{canonical}", BOOK_LEVELS, lot=lot_of(canonical))
        self.ladders[key] = Ladder(now.bids, now.asks, now.seq)
        places = decimals(book.tick)
        if previous is None:
            body: dict[str, Any] = {
                "type": "snapshot",
                "product_id": pid,
                "bids": [[_num(p, places), _num(s)] for p, s in now.bids],
                "asks": [[_num(p, places), _num(s)] for p, s in now.asks],
            }
            return [_dump(body)]
        moved = [["buy", _num(p, places), _num(s)] for p, s in changes(previous.bids, now.bids)]
        moved += [["sell", _num(p, places), _num(s)] for p, s in changes(previous.asks, now.asks)]
        if not moved:
            return []
        body = {
            "type": "l2update",
            "product_id": pid,
            "changes": moved,
            "time": _iso(book.ts_ms * 1000),
        }
        return [_dump(body)]

    async def periodic(self) -> None:
        next_heartbeat = time.monotonic() + self.heartbeat_interval_s
        next_status = 0.0
        while True:
            await asyncio.sleep(min(self._tick_s, self.heartbeat_interval_s))
            now = time.monotonic()
            if not self.subscribed_once and now - self.connected_at >= self.subscribe_timeout_s:
                await self.ws.close(1000)
                return
            if "status" not in self.channels:
                next_status = 0.0
            elif now >= next_status and not self.stalled and not self.server.faults.quiet:
                next_status = now + _STATUS_S
                if isinstance(self.server, CoinbaseSim):
                    await self.send_json(self.server.status())
            if now < next_heartbeat:
                continue
            next_heartbeat = max(next_heartbeat + self.heartbeat_interval_s, now)
            if not self.stalled:
                await self._heartbeats()

    async def _heartbeats(self) -> None:
        if self.server.faults.no_pong:  # the venue's keepalive has failed
            return
        stamp = wall_ms()
        for pid in list(self.channels.get("heartbeat", [])):
            canonical = _canonical(pid)
            if not self.engine.listed(self.server.name, canonical):
                continue
            if pid not in self.channels.get("heartbeat", []):
                continue  # unsubscribed while earlier heartbeats of this round were sent
            seen = self.sequencer.observe(
                canonical, self.engine.book(self.server.name, canonical, stamp)
            )
            await self.send_json(
                {
                    "type": "heartbeat",
                    "last_trade_id": seen.tape.last_id,
                    "product_id": pid,
                    "sequence": seen.sequence,
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
        signed = _signed(request)
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
            if name in _AUTH_ONLY and not (signed and name in _SERVED_SIGNED and subscribing):
                if subscribing or name not in self.channels:
                    raise _Refused(_FAILED, _AUTH_REASON)
            elif name not in _VALID:
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
            for pid in new:  # the first frame comes at once, not on the next change
                self._forget(name, pid)

    def _remove(self, wanted: dict[str, list[str]]) -> None:
        for name, pids in wanted.items():
            if name not in self.channels:
                continue
            gone = pids or list(self.channels[name])
            remaining = [p for p in self.channels[name] if p not in gone]
            for pid in gone:
                self._forget(name, pid)
            if remaining:
                self.channels[name] = remaining
            else:
                del self.channels[name]

    def _forget(self, name: str, pid: str) -> None:
        """Drop what was last sent on ``name`` for ``pid`` (a new subscription starts afresh)."""
        self._sent_seq.pop((_canonical(pid), name), None)
        self.ladders.pop((name, pid), None)
        kind = _ALIASES.get(name, name)
        if kind == "matches":
            self._matched.pop(pid, None)
        elif kind == "ticker_batch":
            self._batched.pop(pid, None)

    async def _error(self, message: str, reason: str) -> None:
        await self.send_json({"type": "error", "message": message, "reason": reason})


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def _maker_side(trade: Trade) -> str:
    """The resting order's side: a buyer who took liquidity traded with a resting sell."""
    return "sell" if trade.buyer_taker else "buy"


def _ticker(seen: _Seen, pid: str) -> dict[str, Any]:
    """The ``ticker`` message of ``seen`` (the docs' key order)."""
    book, tape = seen.book, seen.tape
    places = decimals(book.tick)
    last = tape.trades[-1] if tape.trades else None
    return {
        "type": "ticker",
        "sequence": seen.sequence,
        "product_id": pid,
        "price": _num(book.last, places),
        "open_24h": _num(book.open_24h, places),
        "volume_24h": _num(book.volume_24h),
        "low_24h": _num(book.low_24h, places),
        "high_24h": _num(book.high_24h, places),
        "volume_30d": _num(book.volume_24h * 30),
        "best_bid": _num(book.bid, places),
        "best_bid_size": _num(book.bid_size),
        "best_ask": _num(book.ask, places),
        "best_ask_size": _num(book.ask_size),
        # The taker side, as in the recorded frames (the docs do not describe it).
        "side": ("buy" if last.buyer_taker else "sell") if last else "buy",
        "time": _iso(book.ts_ms * 1000),
        "trade_id": tape.last_id,
        "last_size": _num(last.size if last else min(book.bid_size, book.ask_size) / 10),
    }


def _signed(request: dict[str, Any]) -> bool:
    """Whether ``request`` carries a well-formed, fresh signature (``False`` with none).

    Raises:
        _Refused: the request is signed, but badly or too long ago.
    """
    if not any(name in request for name in _AUTH_FIELDS):
        return False
    signature, key, passphrase = (request.get(n) for n in _AUTH_FIELDS[:3])
    try:
        raw = base64.b64decode(signature, validate=True) if isinstance(signature, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or not isinstance(key, str) or not key:
        raise _Refused("Authentication Failed", '{"message":"invalid signature"}')
    if not isinstance(passphrase, str) or not passphrase:
        raise _Refused("Authentication Failed", '{"message":"Invalid Passphrase"}')
    try:
        stamp = float(request.get("timestamp"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        stamp = float("nan")
    if not abs(time.time() - stamp) <= _AUTH_WINDOW_S:
        raise _Refused("Authentication Failed", '{"message":"invalid timestamp"}')
    return True


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

    def __init__(self, engine: MarketEngine, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(engine, host=host, port=port)
        self.sequencer = _Sequencer(engine, self.name)
        """Every product's sequence numbers, shared by all connections and REST."""

    def not_found(self, path: str) -> tuple[int, Any]:
        return 404, _NOT_FOUND

    def rest(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        parts = path.strip("/").split("/")
        if path == "/time":
            stamp = self.server_time_ms()
            return 200, {"iso": _iso_ms(stamp), "epoch": stamp / 1000}
        if path == "/products":
            return 200, [self._product(canonical) for canonical in self.listed_symbols()]
        if path == "/currencies":
            return 200, [self._currency(code) for code in self._currency_codes()]
        if len(parts) == 2 and parts[0] == "currencies":
            if parts[1] not in self._currency_codes():
                return 404, _NOT_FOUND
            return 200, self._currency(parts[1])
        if parts[0] != "products" or len(parts) not in (2, 3):
            return None
        canonical = _canonical(parts[1])
        if not self.listed(canonical) or product_id(symbol_of(canonical)) != parts[1]:
            return 404, _NOT_FOUND
        if len(parts) == 2:
            return 200, self._product(canonical)
        handler = {
            "book": self._book,
            "ticker": self._ticker,
            "trades": self._trades,
            "candles": self._candles,
            "stats": self._stats,
        }.get(parts[2])
        return handler(canonical, query) if handler is not None else None

    # -- reference data -------------------------------------------------------------------------

    def _product(self, canonical: str) -> dict[str, Any]:
        sym, tick, lot = symbol_of(canonical), tick_of(canonical), lot_of(canonical)
        return {
            "id": product_id(sym),
            "base_currency": sym.base,
            "quote_currency": sym.quote,
            "quote_increment": _num(tick, decimals(tick)),
            "base_increment": _num(lot, decimals(lot)),
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

    def _currency_codes(self) -> list[str]:
        codes: set[str] = set()
        for canonical in self.listed_symbols():
            sym = symbol_of(canonical)
            codes.update((sym.base, sym.quote))
        return sorted(codes)

    def _currency(self, code: str) -> dict[str, Any]:
        """A ``/currencies`` entry (the key order of the REST answer ccxt quotes)."""
        fiat = code == "USD"
        precision = "0.01" if fiat else "0.00000001"
        return {
            "id": code,
            "name": _NAMES.get(code, code),
            "min_size": precision,
            "status": "online",
            "message": "",
            "max_precision": precision,
            "convertible_to": ["USDC"] if fiat else [],
            "details": {
                "type": "fiat" if fiat else "crypto",
                "symbol": "$" if fiat else None,
                "sort_order": 0,
                "push_payment_methods": [],
                "group_types": ["fiat", "usd"] if fiat else [],
                "display_name": None,
            },
            "default_network": "",
            "supported_networks": [],
            "display_name": code,
        }

    def status(self) -> dict[str, Any]:
        """The ``status`` channel's message: every product and currency."""
        products = []
        for canonical in self.listed_symbols():
            full = self._product(canonical)
            keep = ("id", "base_currency", "quote_currency", "base_increment", "quote_increment")
            entry = {k: full[k] for k in keep}
            entry |= {"display_name": full["id"], "status": "online", "status_message": None}
            entry |= {k: full[k] for k in ("min_market_funds", "post_only", "limit_only")}
            entry |= {"cancel_only": False, "fx_stablecoin": False}
            products.append(entry)
        currencies = []
        for code in self._currency_codes():
            full = self._currency(code)
            entry = {k: full[k] for k in ("id", "name", "display_name", "min_size", "status")}
            entry |= {"status_message": None, "max_precision": full["max_precision"]}
            entry |= {k: full[k] for k in ("convertible_to", "default_network")}
            entry |= {"details": {}, "supported_networks": []}
            currencies.append(entry)
        return {"type": "status", "products": products, "currencies": currencies}

    # -- market data ----------------------------------------------------------------------------

    def _book(self, canonical: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        level = query.get("level", ["1"])[0]
        if level not in ("1", "2", "3"):
            return 400, {"message": "Invalid level"}
        seen = self.sequencer.observe(canonical)
        book, pid = seen.book, product_id(symbol_of(canonical))
        levels = 1 if level == "1" else BOOK_LEVELS
        now = ladder(book, f"{self.name}/{canonical}", levels, lot=lot_of(canonical))
        places, lot = decimals(book.tick), lot_of(canonical)

        def side(levels: list[Level], name: str) -> list[list[Any]]:
            out: list[list[Any]] = []
            for price, size in levels:
                orders = _orders(size, lot, f"{pid}/{name}/{price}/{book.seq // 16}")
                if level == "3":
                    out += [[_num(price, places), _num(s), oid] for s, oid in orders]
                else:
                    out.append([_num(price, places), _num(size), len(orders)])
            return out

        return 200, {
            "bids": side(now.bids, "buy"),
            "asks": side(now.asks, "sell"),
            "sequence": seen.sequence,
            "auction_mode": False,
            "auction": None,
            "time": _iso(book.ts_ms * 1000),
        }

    def _ticker(self, canonical: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        seen = self.sequencer.observe(canonical)
        book, tape = seen.book, seen.tape
        places = decimals(book.tick)
        last = tape.trades[-1] if tape.trades else None
        return 200, {
            "trade_id": tape.last_id,
            "price": _num(book.last, places),
            "size": _num(last.size if last else 0.0),
            "time": _iso((last.ts_ms if last else book.ts_ms) * 1000),
            "bid": _num(book.bid, places),
            "ask": _num(book.ask, places),
            "volume": _num(book.volume_24h),
            "rfq_volume": _num(0.0),
            "conversions_volume": _num(0.0),
        }

    def _trades(self, canonical: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        try:
            limit = int(query.get("limit", [str(_MAX_TRADES)])[0])
            before = int(query["before"][0]) if "before" in query else None
            after = int(query["after"][0]) if "after" in query else None
        except ValueError:
            return 400, {"message": "Invalid limit, before or after"}
        limit = max(1, min(limit, _MAX_TRADES))
        trades = list(self.sequencer.observe(canonical).tape.trades)  # oldest first
        if after is not None:  # older than ``after``
            trades = [t for t in trades if t.id < after]
        if before is not None:  # newer than ``before``: the page just above it
            trades = [t for t in trades if t.id > before][:limit]
        chosen = trades[-limit:]
        return 200, [
            {
                "time": _iso_ms(t.ts_ms),
                "trade_id": t.id,
                "price": _num(t.price),
                "size": _num(t.size),
                "side": _maker_side(t),
            }
            for t in reversed(chosen)
        ]

    def _candles(self, canonical: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        try:
            granularity = int(query.get("granularity", ["60"])[0])
        except ValueError:
            granularity = 0
        if granularity not in _GRANULARITIES:
            return 400, {"message": "Unsupported granularity"}
        interval_ms = granularity * 1000
        tape = self.sequencer.observe(canonical).tape
        now = wall_ms()
        start_ms = end_ms = None
        if "start" in query and "end" in query:  # else both are ignored, as documented
            start_ms, end_ms = _when(query["start"][0]), _when(query["end"][0])
            if start_ms is None or end_ms is None:
                return 400, {"message": "Invalid start or end"}
            if end_ms < start_ms:
                return 400, {"message": "start must be before end"}
            if (end_ms - start_ms) // interval_ms + 1 > _MAX_CANDLES:
                return 400, {
                    "message": "granularity too small for the requested time range. "
                    "Count of aggregations requested exceeds 300"
                }
            start_ms -= start_ms % interval_ms
        candles = tape.candles(
            interval_ms, now, limit=_MAX_CANDLES, start_ms=start_ms, end_ms=end_ms
        )
        return 200, [
            [c.open_ms // 1000, c.low, c.high, c.open, c.close, round(c.volume, 8)]
            for c in reversed(candles)
            if c.trades  # "No data is published for intervals where there are no ticks."
        ]

    def _stats(self, canonical: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        book = self.sequencer.observe(canonical).book
        return 200, {
            "open": _num(book.open_24h),
            "high": _num(book.high_24h),
            "low": _num(book.low_24h),
            "volume": _num(book.volume_24h),
            "last": _num(book.last),
            "volume_30day": _num(book.volume_24h * 30),
            "rfq_volume_24hour": _num(0.0),
            "conversions_volume_24hour": _num(0.0),
            "rfq_volume_30day": _num(0.0),
            "conversions_volume_30day": _num(0.0),
        }


def _orders(size: float, lot: float, key: str) -> list[tuple[float, str]]:
    """The resting orders making up a level of ``size``: 1 to 3 of them, sizes in lots."""
    lots = max(1, round(size / lot))
    count = min(lots, 1 + zlib.crc32(key.encode()) % 3)
    share = lots // count
    parts = [share] * (count - 1) + [lots - share * (count - 1)]
    return [(round(n * lot, 10), _order_id(key, i)) for i, n in enumerate(parts)]


def _when(value: str) -> int | None:
    """Epoch ms of a ``start``/``end`` value: ISO 8601 or epoch seconds."""
    try:
        return round(float(value) * 1000)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


SIMULATOR = CoinbaseSim
"""This venue's simulated server (found by :data:`cryptows.sim.cluster.SIMULATORS`)."""
