"""The venue adapter contract, and the checks every adapter applies to numbers from the wire.

An adapter is sans-I/O: it builds the frames to send and turns received frames into events, and
nothing in it awaits, sleeps, reads a clock or touches a socket. One adapter instance belongs to
one connection, because it remembers the request ids it issued (to tell which symbols an error
is about). The feed layer owns sockets, timers and reconnects.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal, TypeVar

import msgspec

from cryptows.models import BadFrame, Channel, Event, Quote, SubscriptionAck
from cryptows.symbols import Symbol

Frame = bytes | str
"""One WebSocket message as received: text frames as ``str``, binary frames as ``bytes``."""

Number = str | float | int | None
"""A number as venues send it: usually a decimal string, sometimes a JSON number, or absent."""

Op = Literal["subscribe", "unsubscribe"]
"""What a request asks of the venue."""

_EXCERPT_CHARS = 200
_T = TypeVar("_T")


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


@dataclass(frozen=True, slots=True)
class Request:
    """A request this adapter built: its operation and the canonical symbols it named."""

    op: str
    symbols: tuple[str, ...]


class FrameError(Exception):
    """A frame is unusable; the message is the reason recorded in the ``BadFrame``."""


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
        try:
            return self._parse(frame)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return [self.bad_frame(frame, f"undecodable: {exc}")]
        except FrameError as exc:
            return [self.bad_frame(frame, str(exc))]
        except Exception as exc:  # noqa: BLE001 - the contract is that parse never raises
            bad = self.bad_frame(frame, f"internal error: {type(exc).__name__}: {exc}")
            return [msgspec.structs.replace(bad, internal=True)]

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


def _number(value: Number, what: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FrameError(f"{what} is a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FrameError(f"{what} is not a number: {value!r:.40}") from None
    if not math.isfinite(number):
        raise FrameError(f"{what} is not finite: {value!r:.40}")
    return number


def price(value: Number, what: str = "price") -> float | None:
    """A price from the wire: ``None`` if absent or ``""``; positive and finite otherwise."""
    number = _number(value, what)
    if number is not None and number <= 0:
        raise FrameError(f"{what} is not positive: {value!r:.40}")
    return number


def amount(value: Number, what: str = "size") -> float | None:
    """A size or volume: ``None`` if absent or ``""``; zero or more and finite otherwise."""
    number = _number(value, what)
    if number is not None and number < 0:
        raise FrameError(f"{what} is negative: {value!r:.40}")
    return number


def signed(value: Number, what: str = "change") -> float | None:
    """A change (negative, zero or positive): ``None`` if absent or ``""``; finite otherwise."""
    return _number(value, what)


def change_pct(last: float | None, open_24h: Number) -> float | None:
    """Percent change from ``open_24h`` to ``last``: ``None`` if either is absent or the open is
    zero (nothing to compare with); a malformed or negative open raises ``FrameError``."""
    opened = amount(open_24h, "24h open")
    if last is None or not opened:
        return None
    change = (last - opened) / opened * 100
    return change if math.isfinite(change) else None


def timestamp_ms(value: Number) -> int | None:
    """An epoch-ms timestamp sent as an integer or a decimal string; ``None`` if absent."""
    number = _number(value, "timestamp")
    if number is None:
        return None
    if number < 0:
        raise FrameError(f"timestamp is negative: {value!r:.40}")
    return int(number)


def alnum_symbol(s: str | None) -> str:
    """The canonical symbol (upper case) of a symbol the venue spells as one run of letters and
    digits (``BTCUSDT``, ``btcusdt``); anything else raises ``FrameError``."""
    if not s or not s.isalnum():
        raise FrameError(f"bad symbol {s!r:.40}")
    return s.upper()


def require(obj: object, what: str, *fields: str) -> None:
    """Raise ``FrameError`` naming every one of ``fields`` that ``obj`` (a decoded ``what``
    frame) lacks or has as ``""``."""
    missing = [f for f in fields if getattr(obj, f) in (None, "")]
    if missing:
        raise FrameError(f"{what} frame missing {', '.join(missing)}")


def decode_rest(body: bytes | str, kind: type[_T], what: str) -> _T:
    """Decode a REST body into ``kind``; any decoding problem becomes a ``FrameError``."""
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FrameError(f"unexpected {what} answer: {exc}") from exc
