"""What ``cryptows doctor`` found: plain results, their verdicts, and the JSON document.

Every check is a :class:`Step` (a name, a :class:`Mark`, what was seen, how long it took, and
what to do about it when it went wrong). An endpoint is the steps of one WebSocket URL, a venue
its endpoints plus its clock, symbol list and symbols, and the report every venue plus the
proxy settings seen. The verdicts are derived here, once, so that the table and ``--json``
never disagree: a venue is *failing* when none of its endpoints delivers (exit 1), *degraded*
when it works with something wrong on the way (a refused endpoint, a drifting clock, a symbol
it does not list), else *OK*.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Mark(StrEnum):
    """How one step went (the table shows ✓, ✗, ! or nothing)."""

    OK = "ok"
    FAIL = "fail"
    WARN = "warn"
    """It worked, or did not matter, but something is off (slow, drifting, not listed)."""
    SKIP = "skip"
    """Not run: not applicable (TLS on ``ws://``), carried by a proxy, or an earlier step
    failed."""


class Verdict(StrEnum):
    """A venue as a whole."""

    OK = "OK"
    DEGRADED = "degraded"
    FAILING = "failing"


@dataclass(frozen=True, slots=True)
class Step:
    """One timed check."""

    name: str
    """``dns``, ``tcp``, ``tls``, ``websocket``, ``first quote``, ``clock``, ``symbol list``."""
    mark: Mark
    detail: str
    """What was seen, one line (an address, a TLS version, a quote, the failure)."""
    ms: float | None = None
    """How long it took (``None``: not run, or not timed)."""
    hint: str | None = None
    """What to do about it, when it went wrong."""

    def as_dict(self) -> dict[str, Any]:
        """The step in the JSON document (``ok``: true, false, or null when skipped)."""
        ok = None if self.mark is Mark.SKIP else self.mark is Mark.OK
        ms = None if self.ms is None else round(self.ms, 1)
        return {
            "step": self.name,
            "ok": ok,
            "verdict": self.mark.value,
            "ms": ms,
            "detail": self.detail,
            "hint": self.hint,
        }


@dataclass(frozen=True, slots=True)
class EndpointReport:
    """One of a venue's WebSocket endpoints (``[venues.<name>] ws_urls``), checked step by step."""

    url: str
    """The URL without credentials or query."""
    where: str
    """``host:port``, and ``via proxy ...`` when one carries it."""
    proxy: str | None
    """The proxy used (credentials never shown), ``None``: direct."""
    steps: tuple[Step, ...]
    works: bool
    """The WebSocket opened and a first quote arrived (or there was nothing to subscribe)."""

    def step(self, name: str) -> Step | None:
        """The step called ``name``, if it is here."""
        return next((s for s in self.steps if s.name == name), None)

    @property
    def failure(self) -> Step | None:
        """The first step that failed."""
        return next((s for s in self.steps if s.mark is Mark.FAIL), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "where": self.where,
            "proxy": self.proxy,
            "works": self.works,
            "steps": [s.as_dict() for s in self.steps],
        }


@dataclass(frozen=True, slots=True)
class ClockReport:
    """The local clock against the venue's REST server time."""

    step: Step
    offset_ms: float | None = None
    """``server_ms - (t_send + t_recv) / 2``: positive when the venue's clock is ahead of ours;
    ``None`` when unknown."""
    rtt_ms: float | None = None
    """The round trip of the request the offset was measured with (the offset is good to
    within half of it)."""

    def as_dict(self) -> dict[str, Any]:
        offset = None if self.offset_ms is None else round(self.offset_ms, 1)
        rtt = None if self.rtt_ms is None else round(self.rtt_ms, 1)
        return self.step.as_dict() | {"offset_ms": offset, "rtt_ms": rtt}


@dataclass(frozen=True, slots=True)
class SymbolReport:
    """Whether the venue lists one requested symbol."""

    symbol: str
    listed: bool | None
    """``None``: the venue's symbol list could not be read."""
    suggestions: tuple[str, ...]
    """What the venue lists instead (the feed's own suggestions), best first."""
    step: Step

    def as_dict(self) -> dict[str, Any]:
        step = self.step.as_dict()
        del step["step"]
        return {
            "symbol": self.symbol,
            "listed": self.listed,
            "suggestions": list(self.suggestions),
        } | step


@dataclass(frozen=True, slots=True)
class VenueReport:
    """Everything checked for one venue, and what it adds up to."""

    venue: str
    endpoints: tuple[EndpointReport, ...]
    clock: ClockReport
    symbol_list: Step
    symbols: tuple[SymbolReport, ...]

    @property
    def verdict(self) -> Verdict:
        """Failing without a working endpoint; degraded when anything else went wrong."""
        if not any(e.works for e in self.endpoints):
            return Verdict.FAILING
        return Verdict.DEGRADED if self.problems else Verdict.OK

    @property
    def problems(self) -> tuple[str, ...]:
        """Short reasons for a verdict other than OK (empty when OK)."""
        found: list[str] = []
        total = len(self.endpoints)
        for number, endpoint in enumerate(self.endpoints, 1):
            failed = endpoint.failure
            if failed is not None:
                label = f"endpoint {number}/{total} " if total > 1 else ""
                found.append(f"{label}{failed.name}: {failed.detail}")
            else:
                found += [f"{s.name}: {s.detail}" for s in endpoint.steps if s.mark is Mark.WARN]
        if self.clock.step.mark in (Mark.WARN, Mark.FAIL):
            found.append(f"clock: {self.clock.step.detail}")
        if self.symbol_list.mark in (Mark.WARN, Mark.FAIL):
            found.append(f"symbol list: {self.symbol_list.detail}")
        unlisted = [s.symbol for s in self.symbols if s.listed is False]
        if unlisted:
            found.append(f"not listed: {', '.join(unlisted)}")
        return tuple(found)

    @property
    def summary(self) -> str:
        """What is wrong, in a few words (the steps above say it in full): ``no endpoint
        works; symbol list unavailable``. Empty when OK."""
        parts: list[str] = []
        total = len(self.endpoints)
        failed = sum(not e.works for e in self.endpoints)
        if failed == total:
            parts.append("no endpoint works" if total > 1 else "the endpoint fails")
        elif failed:
            parts.append(f"{failed} of {total} endpoints fail")
        if any(s.mark is Mark.WARN for e in self.endpoints if e.works for s in e.steps):
            parts.append("slow handshake")
        if self.clock.step.mark is Mark.WARN:
            offset = self.clock.offset_ms
            parts.append(
                "server time unavailable" if offset is None else f"clock {abs(offset):.0f} ms off"
            )
        if self.symbol_list.mark is Mark.WARN:
            parts.append("symbol list unavailable")
        unlisted = [s.symbol for s in self.symbols if s.listed is False]
        if unlisted:
            parts.append(f"not listed: {', '.join(unlisted)}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "problems": list(self.problems),
            "endpoints": [e.as_dict() for e in self.endpoints],
            "clock": self.clock.as_dict(),
            "symbol_list": self.symbol_list.as_dict(),
            "symbols": [s.as_dict() for s in self.symbols],
        }


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """The whole diagnosis: every venue, the proxy environment, the bound each step had."""

    venues: tuple[VenueReport, ...]
    proxies: dict[str, str]
    """Proxy variables set in the environment (name as set -> value, credentials removed)."""
    open_timeout_s: float
    """``feed.open_timeout_s``: the bound of every step."""
    demo: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every venue works on at least one endpoint, else 1."""
        return 1 if any(v.verdict is Verdict.FAILING for v in self.venues) else 0

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "demo": self.demo,
            "ok": self.exit_code == 0,
            "open_timeout_s": self.open_timeout_s,
            "proxies": dict(self.proxies),
            "venues": {v.venue: v.as_dict() for v in self.venues},
        }
