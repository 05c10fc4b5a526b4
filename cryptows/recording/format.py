"""The recording file: gzip-compressed NDJSON, a :class:`Header` line, then one record a line.

Each record is a JSON object tagged by ``t``: a raw frame as received (``f``), a connection
opening (``open``: the next frames of that connection are parsed by a fresh adapter), a venue
state change (``status``: connecting, live, stale, backing off with the close code in its reason,
...), a symbol's problem (``symbol``) or a tick of the market's age check (``tick``), each with
the receipt times the live client used: wall clock ms (``w``, or the event's ``ts_ms``) and
monotonic ns (``m``). Nothing secret is ever written: frames are what public market-data
streams send, endpoints are stripped of credentials.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import msgspec

from cryptows.models import SymbolStatus, VenueStatus

FORMAT_VERSION = 2
"""The version this cryptows writes (2: ``tick`` records)."""
READS = frozenset({1, 2})
"""The versions this cryptows reads; a file with another one is refused."""
SUFFIX = ".ndjson.gz"
"""The conventional file name ending."""


class Header(msgspec.Struct, frozen=True, kw_only=True, tag="header", tag_field="t"):
    """The first line: what was recorded, where from, and when."""

    format: int
    """:data:`FORMAT_VERSION` of the writer."""
    cryptows: str
    """The version of cryptows that wrote the file."""
    venues: tuple[str, ...]
    """The venues streamed, in display order."""
    symbols: tuple[str, ...]
    """The canonical symbols watched, in the order given."""
    endpoints: dict[str, str]
    """Venue -> the WebSocket URL used (credentials and query removed)."""
    start_ms: int
    """Wall-clock ms when recording started (the replay's clock starts here)."""
    start_mono_ns: int
    """Monotonic ns at the same moment (the clock of the ``m`` fields)."""
    demo: bool
    """The venues were the embedded simulator: a replay is labelled DEMO too."""
    ticks: bool = False
    """The market's age-check ticks are recorded (``tick``): a replay plays them where they
    happened. Without them (format 1, synthetic files) it ticks on every 250 ms boundary of the
    recording's clock, which can order a confirmation differently from the live run."""


_SHORT = {"conn": "c", "venue": "v", "wall_ms": "w", "mono_ns": "m", "text": "d", "data": "b"}
"""Field -> its key in the file (frames are most of it: short keys keep it small)."""


class Connected(msgspec.Struct, frozen=True, tag="open", tag_field="t", rename=_SHORT):
    """A connection opened: its frames from here on are parsed by a fresh adapter."""

    conn: str
    venue: str
    wall_ms: int
    mono_ns: int


class Frame(msgspec.Struct, frozen=True, omit_defaults=True, tag="f", tag_field="t", rename=_SHORT):
    """One raw frame, exactly as received (a text frame in ``text``, a binary one in ``data``)."""

    conn: str
    """The connection (``binance``, or ``binance#2`` for a venue split over several)."""
    venue: str
    wall_ms: int
    mono_ns: int
    text: str | None = None
    data: bytes | None = None


class Status(msgspec.Struct, frozen=True, tag="status", tag_field="t", rename=_SHORT):
    """A venue state change, as the market service received it (its ``ts_ms`` is wall ms)."""

    event: VenueStatus
    mono_ns: int


class SymbolChange(msgspec.Struct, frozen=True, tag="symbol", tag_field="t", rename=_SHORT):
    """A symbol's problem on a venue (or its end), as the market service received it."""

    event: SymbolStatus
    mono_ns: int


class Tick(msgspec.Struct, frozen=True, tag="tick", tag_field="t", rename=_SHORT):
    """The live market re-checked quote ages and pending opportunities at ``wall_ms``.

    Its moment decides when a candidate opportunity confirms relative to the frames around it,
    so a replay that plays it there opens the same opportunities, in the same order, as live.
    """

    wall_ms: int


Record = Connected | Frame | Status | SymbolChange | Tick
"""Every line after the header."""


def wall_of(record: Record) -> int:
    """The record's wall-clock ms on the recording's clock."""
    if isinstance(record, Connected | Frame | Tick):
        return record.wall_ms
    return record.event.ts_ms


def public_endpoint(url: str) -> str:
    """``url`` without user info, query or fragment (a URL may carry a token: never record it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "?"
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
