"""The venue adapter contract, and the checks every adapter applies to numbers from the wire.

An adapter is sans-I/O: it builds the frames to send and turns received frames into events, and
nothing in it awaits, sleeps, reads a clock or touches a socket. One adapter instance belongs to
one connection, because it remembers the request ids it issued (to tell which symbols an error
is about). The feed layer owns sockets, timers and reconnects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal

import msgspec

from cryptows.models import BadFrame, Channel, Event, Quote, SubscriptionAck
from cryptows.symbols import Symbol
from cryptows.venues.wire import Frame as Frame
from cryptows.venues.wire import FrameError as FrameError
from cryptows.venues.wire import Number as Number
from cryptows.venues.wire import alnum_symbol as alnum_symbol
from cryptows.venues.wire import amount as amount
from cryptows.venues.wire import change_pct as change_pct
from cryptows.venues.wire import decode_rest as decode_rest
from cryptows.venues.wire import price as price
from cryptows.venues.wire import require as require
from cryptows.venues.wire import signed as signed
from cryptows.venues.wire import timestamp_ms as timestamp_ms

Op = Literal["subscribe", "unsubscribe"]
"""What a request asks of the venue."""

_EXCERPT_CHARS = 200


PROBE_DIVISOR = 2.5
"""A connection silent for ``dead_after_s / PROBE_DIVISOR`` is probed, and probed again after each
further such silence: at the default bound of 5 s, a ping after 2 s and 4 s without a frame, so
a quiet but healthy venue's answer has more than half the bound to arrive."""


class Probe(StrEnum):
    """How a quiet connection is asked whether it is still there."""

    APP = "app"
    """Send :meth:`VenueAdapter.ping_frame`; the venue answers with a frame (a ``Heartbeat``)."""
    PROTOCOL = "protocol"
    """Send a WebSocket ping control frame; the venue's pong control frame answers it."""


@dataclass(frozen=True, slots=True)
class HeartbeatPolicy:
    """How a connection to this venue is kept alive and judged dead.

    The feed presumes a connection dead when nothing at all (data, pong, heartbeat) has arrived
    for the liveness bound ``dead_after_s`` (``[feed]``, 5 s by default). A quiet market still
    answers pings, a dead feed answers nothing: so once a connection has been silent for
    :meth:`probe_after` it is probed with :attr:`probe`, and again after each further such
    silence. Probes are only sent into silence (OKX's rule, and no extra messages against a
    venue's rate limit while data flows) and, like every client message, no closer together
    than ``limits.min_send_interval_s``.
    """

    probe: Probe
    """How to probe a silent connection."""
    answer: str
    """What answers a quiet market's silence, named in the reason when it stays away
    (``"pong"``, ``"heartbeat"``)."""
    keepalive_s: float | None = None
    """Also send :meth:`VenueAdapter.ping_frame` this often whatever the traffic, where the venue
    asks for that (Bybit: every 20 s); ``None``: not needed."""
    probe_by_s: float | None = None
    """Probe no later than this far into a silence, whatever the bound, where the venue itself
    drops a connection silent for a little longer (OKX: 30 s); ``None``: no such rule."""

    def probe_after(self, dead_after_s: float) -> float:
        """Seconds of silence after which a connection with liveness bound ``dead_after_s`` is
        probed (and between two probes while the silence lasts)."""
        after = dead_after_s / PROBE_DIVISOR
        return after if self.probe_by_s is None else min(after, self.probe_by_s)


@dataclass(frozen=True, slots=True)
class VenueLimits:
    """The venue's documented limits that shape how we subscribe."""

    max_topics_per_request: int
    """Most topics (streams/args/products) in one subscribe message."""
    max_topics_per_connection: int
    """Most topics on one connection; beyond it the feed must open another connection."""
    min_send_interval_s: float
    """Least time between two client messages on one connection (rate limit)."""
    max_connects: int = 0
    """Most connection attempts in any :attr:`connect_window_s` (the venue's per-IP limit on
    opening connections, with a margin); 0 = no limit."""
    connect_window_s: float = 0.0
    """The window :attr:`max_connects` counts over, in seconds."""

    def symbols_per_connection(self, topics_per_symbol: int) -> int:
        """Most symbols one connection carries, at ``topics_per_symbol`` topics each."""
        return max(1, self.max_topics_per_connection // max(1, topics_per_symbol))


@dataclass(frozen=True, slots=True)
class Request:
    """A request this adapter built: its operation and the canonical symbols it named."""

    op: str
    symbols: tuple[str, ...]


class VenueAdapter(ABC):
    """One exchange's public market-data protocol, without I/O.

    Subclasses set the class attributes and implement :meth:`venue_symbol`,
    :meth:`_request_body`, :meth:`_parse` and the REST readers. The base batches requests
    (:meth:`subscribe`, :meth:`unsubscribe`), issues and remembers their ids, and stamps every
    :meth:`quote` with the receipt times of the frame being parsed. :meth:`parse` never raises:
    whatever goes wrong while reading a frame becomes a :class:`~cryptows.models.BadFrame`.
    """

    name: ClassVar[str]
    """Venue name used in config, flags and output (``"binance"``)."""
    display_name: ClassVar[str]
    """Name for humans (``"Binance"``)."""
    short_name: ClassVar[str]
    """At most three letters, for narrow terminals (``"bin"``)."""
    default_ws_url: ClassVar[str]
    """The public market-data WebSocket URL the client opens."""
    alternative_ws_urls: ClassVar[tuple[str, ...]] = ()
    """Other endpoints the venue documents for the same public data, tried in order when
    :attr:`default_ws_url` is refused or unreachable (``[venues.<name>] ws_urls``)."""
    default_rest_url: ClassVar[str]
    """REST base for server time and the symbol list."""
    default_taker_fee_pct: ClassVar[float]
    """The venue's published retail-tier spot taker fee, in percent."""
    fee_source: ClassVar[str] = ""
    """Where :attr:`default_taker_fee_pct` comes from (shown in the example config)."""
    endpoint_note: ClassVar[str] = ""
    """What a user should know about :attr:`default_ws_url` (shown in the example config), such
    as regional hosts for accounts the main one refuses."""
    heartbeat: ClassVar[HeartbeatPolicy]
    limits: ClassVar[VenueLimits]
    topics_per_symbol: ClassVar[int]
    """How many topics one symbol costs (e.g. book + ticker = 2)."""
    rejects_whole_request: ClassVar[bool] = False
    """Whether one bad symbol makes the venue ignore the whole subscribe message (Coinbase), so
    the rest must be subscribed again without it."""
    issues_request_ids: ClassVar[bool] = True
    """Whether requests carry an id that replies echo. Where none does (Coinbase), no id is
    issued: the bookkeeping could never be matched to a reply and would only grow."""
    sample_quote_frame: ClassVar[bytes]
    """A typical frame that gives one quote, byte for byte as the venue sends it (compacted): the
    input of ``python -m cryptows.bench decode``."""

    rest_time_path: ClassVar[str]
    """REST path (under ``rest_url``) of the server-time endpoint."""
    rest_symbols_path: ClassVar[str]
    """REST path (with query) of the spot symbol list."""

    def __init__(self) -> None:
        self._next_id = 1
        self._requests: dict[str, Request] = {}
        """Request id -> what it asked for, to attribute acks and errors."""
        self._recv_mono_ns = 0
        self._recv_wall_ms = 0
        """Receipt times of the frame being parsed, which :meth:`quote` stamps."""

    # -- requests ---------------------------------------------------------------------------

    @abstractmethod
    def venue_symbol(self, symbol: Symbol) -> str:
        """The venue's spelling of ``symbol`` in requests (``btcusdt``, ``BTC-USDT``, ...)."""

    def subscribe(self, symbols: Sequence[Symbol]) -> list[str]:
        """Text frames that subscribe to book and ticker data for ``symbols``, batched within
        the venue's per-request limit. Send them at most one per ``limits.min_send_interval_s``."""
        return self._batched("subscribe", symbols)

    def unsubscribe(self, symbols: Sequence[Symbol]) -> list[str]:
        """Text frames that undo :meth:`subscribe` for ``symbols``."""
        return self._batched("unsubscribe", symbols)

    def _batched(self, op: Op, symbols: Sequence[Symbol]) -> list[str]:
        # A symbol's topics never straddle two requests, so an error names the right symbols.
        per_request = self.limits.max_topics_per_request // self.topics_per_symbol
        frames = []
        for i in range(0, len(symbols), per_request):
            batch = symbols[i : i + per_request]
            req_id = self._issue_id(op, batch) if self.issues_request_ids else None
            frames.append(msgspec.json.encode(self._request_body(op, batch, req_id)).decode())
        return frames

    @abstractmethod
    def _request_body(
        self, op: Op, batch: Sequence[Symbol], req_id: int | None
    ) -> dict[str, object]:
        """The JSON body (key order kept) of one ``op`` request for ``batch``, whose topics fit
        in one request; ``req_id`` is the id issued for it (``None`` if
        :attr:`issues_request_ids` is false)."""

    def ping_frame(self) -> str | None:
        """The app-level ping to send per :attr:`heartbeat`, or ``None`` if the venue has none."""
        return None

    def _issue_id(self, op: str, symbols: Sequence[Symbol]) -> int:
        req_id = self._next_id
        self._next_id += 1
        self._requests[str(req_id)] = Request(op, tuple(s.canonical for s in symbols))
        return req_id

    def request(self, req_id: str | int | None) -> Request | None:
        """What a request this adapter issued asked for, or ``None`` if it is not ours."""
        if req_id is None:
            return None
        return self._requests.get(str(req_id))

    def ack(self, req_id: str | None, op: str | None = None) -> SubscriptionAck:
        """An ack of request ``req_id``, naming the symbols it asked for (none if it is not
        ours). ``op`` is what the reply says was done, else the request's own (``"unknown"``
        if it is not ours)."""
        request = self.request(req_id)
        if op is None:
            op = request.op if request else "unknown"
        symbols = request.symbols if request else ()
        return SubscriptionAck(venue=self.name, op=op, req_id=req_id, symbols=symbols)

    def request_symbol(self, req_id: str | None) -> str | None:
        """The symbol an error about request ``req_id`` is about: the one symbol it asked for;
        ``None`` if it asked for several (or is not ours)."""
        request = self.request(req_id)
        return request.symbols[0] if request and len(request.symbols) == 1 else None

    # -- REST (sans-I/O as well: the feed fetches, the adapter reads) -------------------------

    @abstractmethod
    def parse_server_time(self, body: bytes | str) -> int:
        """Server time in epoch ms from the body of ``rest_time_path``.

        Raises:
            FrameError: the body is not the documented answer.
        """

    @abstractmethod
    def parse_symbol_list(self, body: bytes | str) -> frozenset[str]:
        """Canonical symbols currently trading, from the body of ``rest_symbols_path``.

        Raises:
            FrameError: the body is not the documented answer.
        """

    # -- parsing ----------------------------------------------------------------------------

    def parse(self, frame: Frame, *, recv_mono_ns: int = 0, recv_wall_ms: int = 0) -> list[Event]:
        """Turn one received frame into events; never raises.

        Args:
            frame: the message exactly as received (``str`` or ``bytes``).
            recv_mono_ns: ``time.monotonic_ns()`` at receipt, stamped onto every quote.
            recv_wall_ms: wall-clock ms at receipt, stamped onto every quote.

        Returns:
            Quotes, acks, subscription errors, heartbeats, notices, or one ``BadFrame``. Frames
            that are valid but carry nothing we use (e.g. an unknown message type, which venues
            ask clients to ignore) give an empty list.
        """
        self._recv_mono_ns = recv_mono_ns
        self._recv_wall_ms = recv_wall_ms
        if self.fast_path:
            try:
                events = self._parse_fast(frame)
            except Exception:  # noqa: BLE001 - the fast path declines; the full path decides
                events = None
            if events is not None:
                return events
        try:
            return self._parse(frame)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return [self.bad_frame(frame, f"undecodable: {exc}")]
        except FrameError as exc:
            return [self.bad_frame(frame, str(exc))]
        except Exception as exc:  # noqa: BLE001 - the contract is that parse never raises
            bad = self.bad_frame(frame, f"internal error: {type(exc).__name__}: {exc}")
            return [msgspec.structs.replace(bad, internal=True)]

    fast_path: bool = True
    """Try :meth:`_parse_fast` first (tests turn it off to compare it with the full path)."""

    def _parse_fast(self, frame: Frame) -> list[Event] | None:
        """The common frames, parsed with typed decoding and checks in C; ``None`` declines.

        A fast path must give exactly what :meth:`_parse` gives for every frame it accepts
        (``tests/unit/test_fast_parse.py`` compares them over fixtures, mutations and fuzzing)
        and decline (return ``None`` or raise) for anything else, so every bad frame gets its
        reason from the full path. The default declines everything.
        """
        return None

    @abstractmethod
    def _parse(self, frame: Frame) -> list[Event]:
        """Parse one frame; may raise ``FrameError`` or msgspec errors for bad frames. Quotes
        are built with :meth:`quote`, which stamps the frame's receipt times."""

    def bad_frame(self, frame: Frame, reason: str) -> BadFrame:
        """A ``BadFrame`` for ``frame`` with a short excerpt of it."""
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        return BadFrame(venue=self.name, reason=reason, excerpt=text[:_EXCERPT_CHARS])

    def quote(
        self,
        symbol: str,
        channel: Channel,
        *,
        bid: Number = None,
        bid_size: Number = None,
        ask: Number = None,
        ask_size: Number = None,
        last: Number = None,
        volume_24h: Number = None,
        change_24h_pct: Number = None,
        open_24h: Number = None,
        exchange_ts_ms: Number = None,
    ) -> Quote:
        """Build a validated quote from wire values, stamped with the receipt times of the frame
        being parsed; raises ``FrameError`` if any value is invalid.

        The 24 h change is ``change_24h_pct`` (percent, any sign) when the venue sends it; a venue
        that sends only the price 24 h ago passes it as ``open_24h``, and the change is computed
        from it and ``last``.
        """
        if not symbol:
            raise FrameError("missing symbol")
        last_price = price(last, "last")
        change = signed(change_24h_pct, "24h change")
        if change is None and open_24h is not None:
            change = change_pct(last_price, open_24h)
        q = Quote(
            venue=self.name,
            symbol=symbol,
            channel=channel,
            bid=price(bid, "bid"),
            bid_size=amount(bid_size, "bid size"),
            ask=price(ask, "ask"),
            ask_size=amount(ask_size, "ask size"),
            last=last_price,
            volume_24h=amount(volume_24h, "volume"),
            change_24h_pct=change,
            exchange_ts_ms=timestamp_ms(exchange_ts_ms),
            recv_mono_ns=self._recv_mono_ns,
            recv_wall_ms=self._recv_wall_ms,
        )
        if q.bid is not None and q.ask is not None and q.bid > q.ask:
            raise FrameError(f"crossed book: bid {q.bid} > ask {q.ask}")
        if q.bid is None and q.ask is None and q.last is None:
            raise FrameError("no price in frame")
        return q
