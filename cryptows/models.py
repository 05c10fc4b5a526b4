"""Value types shared by every layer: quotes and the other events a venue adapter emits.

All are immutable ``msgspec.Struct``s: cheap to build on the hot path, hashable, and encodable
straight to JSON for NDJSON output.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Channel(StrEnum):
    """Which venue stream a quote came from; decides which fields are authoritative in a merge."""

    BOOK = "book"
    """Real-time top-of-book stream (Binance bookTicker, Bybit orderbook.1, OKX bbo-tbt)."""
    TICKER = "ticker"
    """Ticker stream: last price and 24 h volume, sometimes a (slower) bid/ask too."""


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's view of one symbol, as carried by one frame.

    A field the frame does not carry is ``None`` (never zero): a consumer merging quotes keeps
    the previous value for it. Prices are positive and finite and ``bid <= ask`` whenever both
    are present; a frame that breaks that is a ``BadFrame`` instead.
    """

    venue: str
    """Venue name, e.g. ``"binance"``."""
    symbol: str
    """Canonical symbol, ``BASE+QUOTE`` upper case (``"BTCUSDT"``)."""
    channel: Channel
    """The stream this came from."""
    bid: float | None = None
    """Best bid price."""
    bid_size: float | None = None
    """Quantity (base asset) at the best bid."""
    ask: float | None = None
    """Best ask price."""
    ask_size: float | None = None
    """Quantity (base asset) at the best ask."""
    last: float | None = None
    """Last traded price."""
    volume_24h: float | None = None
    """Rolling 24 h volume in the base asset."""
    change_24h_pct: float | None = None
    """Rolling 24 h price change in percent (``1.5`` = +1.5 %), from the venue's ticker."""
    exchange_ts_ms: int | None = None
    """The venue's own timestamp for the event (ms since the epoch), if it sends one."""
    recv_mono_ns: int = 0
    """``time.monotonic_ns()`` when the frame was received (0 when parsed offline)."""
    recv_wall_ms: int = 0
    """Wall-clock ms when the frame was received (0 when parsed offline)."""


class SubscriptionAck(msgspec.Struct, frozen=True, kw_only=True):
    """The venue confirmed a subscribe/unsubscribe request."""

    venue: str
    op: str = "subscribe"
    """``"subscribe"``, ``"unsubscribe"``, ``"list"`` (Binance's subscription list), or
    ``"unknown"`` (the reply does not say, and the request is not ours)."""
    req_id: str | None = None
    """The request id echoed by the venue, as a string, if any."""
    symbols: tuple[str, ...] = ()
    """Canonical symbols the ack covers, where the frame or the request says."""
    topics: tuple[str, ...] = ()
    """Venue topics/streams the ack names, where it names them."""


class SubscriptionError(msgspec.Struct, frozen=True, kw_only=True):
    """The venue refused a request; ``symbol`` is set when the refusal is about one symbol."""

    venue: str
    message: str
    """The venue's own error text."""
    symbol: str | None = None
    """Canonical symbol the error is about, when it can be told."""
    code: str | None = None
    """The venue's error code, as a string."""
    req_id: str | None = None
    """The request id echoed by the venue, if any."""


class HeartbeatKind(StrEnum):
    """What kind of liveness signal a :class:`Heartbeat` is."""

    PONG = "pong"
    """The answer to our app-level ping."""
    HEARTBEAT = "heartbeat"
    """A message the venue sends of its own accord (Coinbase's ``heartbeat`` channel)."""


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True):
    """A liveness signal from the venue: a pong to our ping, or a heartbeat message."""

    venue: str
    kind: HeartbeatKind = HeartbeatKind.PONG
    """A pong to our ping, or a venue-initiated heartbeat."""
    symbol: str | None = None
    """For per-product heartbeats (Coinbase), the canonical symbol."""
    exchange_ts_ms: int | None = None


class NoticeKind(StrEnum):
    """What a venue's :class:`Notice` announces."""

    RECONNECT = "reconnect"
    """The venue will close this connection soon; open a new one now."""


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """The venue announced something about the connection itself, e.g. an imminent shutdown."""

    venue: str
    kind: NoticeKind
    """What is announced (so far only :attr:`NoticeKind.RECONNECT`)."""
    message: str
    """The venue's own text, shown as the reason of the reconnect."""
    exchange_ts_ms: int | None = None


class BadFrame(msgspec.Struct, frozen=True, kw_only=True):
    """A frame that could not be used: counted and skipped, never a quote."""

    venue: str
    reason: str
    """Why it was refused, one line."""
    excerpt: str = ""
    """The start of the frame, for diagnostics."""
    internal: bool = False
    """The parser itself failed (a bug in cryptows, not a bad frame): never expected."""


Event = Quote | SubscriptionAck | SubscriptionError | Heartbeat | Notice | BadFrame
"""Everything ``VenueAdapter.parse`` can return."""


class VenueState(StrEnum):
    """Where a venue's connection stands. Only ``LIVE`` quotes are usable."""

    CONNECTING = "connecting"
    """Opening the connection or waiting for the first subscription ack."""
    LIVE = "live"
    """Connected and subscribed: its quotes are current."""
    STALE = "stale"
    """Heartbeat or data lost on an open connection; it is being replaced."""
    BACKOFF = "backing off"
    """Disconnected; the next attempt is at ``retry_at_ms``."""
    FAILED = "failed"
    """Disconnected for a reason retrying is unlikely to fix soon (e.g. HTTP 451); still retried."""
    IDLE = "idle"
    """Nothing to stream: the venue lists none of the symbols (its list is re-checked rarely)."""
    STOPPED = "stopped"
    """Shut down by the program."""


class VenueStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's connection changed state (an event for consumers)."""

    venue: str
    state: VenueState
    reason: str = ""
    """Why (for every state but live): e.g. ``HTTP 451 on handshake``."""
    ts_ms: int = 0
    """Wall-clock ms of the change."""
    retry_at_ms: int | None = None
    """When backing off: wall-clock ms of the next attempt."""
    symbols: tuple[str, ...] = ()
    """Non-empty: the change is one connection's, of a venue split over several, carrying these
    canonical symbols; it applies to them alone (the venue's own state comes in statuses
    without symbols: see :mod:`cryptows.feed.shards`)."""


class SymbolStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol on one venue cannot be streamed (unknown, refused, or silent), or, with
    ``ok``, streams again after such a problem."""

    venue: str
    symbol: str
    message: str
    ok: bool = False
    """``True`` when an earlier problem with this symbol has cleared (it streams now)."""
    unlisted: bool = False
    """``True`` when the venue's own symbol list does not have it (not a transient problem)."""
    suggestions: tuple[str, ...] = ()
    """With ``unlisted``: what the venue lists instead (canonical), best first."""
    ts_ms: int = 0


class VenueHealth(msgspec.Struct, frozen=True, kw_only=True):
    """A point-in-time picture of one venue's connection, readable at any time."""

    venue: str
    state: VenueState
    reason: str = ""
    retry_at_ms: int | None = None
    messages: int = 0
    """Frames received since start (all connections)."""
    msgs_per_s: float = 0.0
    """Frames per second over the last few seconds."""
    bad_frames: int = 0
    lag_p50_ms: float | None = None
    """Median of receipt wall time minus the venue's timestamp; includes the clock offset."""
    lag_p99_ms: float | None = None
    reconnects: int = 0
    last_error: str = ""
    symbol_errors: tuple[tuple[str, str], ...] = ()
    """(symbol, message) for symbols this venue cannot stream."""
    connections: int = 1
    """How many connections the venue's symbols are split over (its per-connection limit)."""
    live_connections: int | None = None
    """How many of them are live (``None`` with a single connection: see ``state``)."""

    @property
    def usable(self) -> bool:
        """Whether this venue's quotes may be used (connected, subscribed, heartbeat fine)."""
        return self.state is VenueState.LIVE

    @property
    def connections_note(self) -> str:
        """``""`` for a venue on one connection, else ``3 conns`` or ``2/3 conns live``."""
        n = self.connections
        if n <= 1:
            return ""
        live = self.live_connections
        return f"{n} conns" if live is None or live == n else f"{live}/{n} conns live"


FeedEvent = Quote | VenueStatus | SymbolStatus
"""What the feed manager hands to its consumer."""
