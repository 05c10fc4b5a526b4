"""The checks of ``cryptows doctor``, per venue: its endpoints, its clock, its symbol list.

Each of the venue's WebSocket endpoints (``[venues.<name>] ws_urls``, every one, in order, as
the feed tries them) is checked step by step (:mod:`cryptows.doctor.endpoint`). Meanwhile, in
the background: the clock offset against the venue's REST server time (the round trip's
midpoint), and the venue's REST symbol list, with the feed's own suggestions for a symbol it
does not list. Venues run concurrently, each in a task group; every step is bounded by
``feed.open_timeout_s``. Nothing here raises for a network failure: each becomes a failed or
flagged :class:`~cryptows.doctor.report.Step` with its hint.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import aiohttp

from cryptows.config import Settings
from cryptows.doctor import hints
from cryptows.doctor.endpoint import EndpointCheck, Resolver, system_resolve
from cryptows.doctor.report import (
    ClockReport,
    DoctorReport,
    EndpointReport,
    Mark,
    Step,
    SymbolReport,
    VenueReport,
)
from cryptows.feed.dial import rest_failure, rest_proxy_for, shown_proxy
from cryptows.feed.listing import ListUnavailable, fetch_symbol_list
from cryptows.recording.format import public_endpoint
from cryptows.symbols import Symbol, listed_alternatives
from cryptows.venues import adapter_class
from cryptows.venues.base import FrameError, VenueAdapter

Progress = Callable[[str, str], None]
"""Told ``(venue, what is being checked now)``; ``what`` is ``"done"`` at the venue's end."""


def proxy_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The proxy variables set (upper and lower case), credentials removed from their URLs."""
    env = os.environ if environ is None else environ
    seen: dict[str, str] = {}
    for name in hints.PROXY_VARS:
        for key in dict.fromkeys((name, name.lower())):
            value = env.get(key, "").strip()
            if value:
                seen[key] = value if name == "NO_PROXY" else shown_proxy(value)
    return seen


async def diagnose(
    settings: Settings,
    venues: Sequence[str],
    symbols: Sequence[Symbol],
    *,
    demo: bool = False,
    progress: Progress | None = None,
    resolve: Resolver = system_resolve,
) -> DoctorReport:
    """Check ``venues`` (concurrently) for ``symbols`` as ``settings`` configure them."""
    timeout_s = settings.feed.open_timeout_s
    proxies = proxy_environment()
    # Proxies are chosen per request, as the feed does (ALL_PROXY too, never for loopback).
    http_timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=http_timeout, trust_env=False) as http:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(
                    _VenueCheck(name, settings, symbols, http, resolve, progress).run(),
                    name=f"doctor-{name}",
                )
                for name in venues
            ]
    return DoctorReport(tuple(t.result() for t in tasks), proxies, timeout_s, demo)


async def check_clock(
    adapter_cls: type[VenueAdapter], rest_url: str, http: aiohttp.ClientSession, timeout_s: float
) -> ClockReport:
    """The local clock against the venue's: ``offset = server_ms - (t_send + t_recv) / 2``.

    Two requests, the one with the shorter round trip kept (the first may include opening the
    connection, which makes its midpoint wrong). A venue whose adapter has no
    ``rest_time_path`` gets an unknown offset.
    """
    path = getattr(adapter_cls, "rest_time_path", None)
    if not path:
        detail = f"offset unknown: {adapter_cls.name} has no server-time endpoint"
        return ClockReport(Step("clock", Mark.SKIP, detail))
    url = rest_url.rstrip("/") + path
    adapter = adapter_cls()
    best: tuple[float, float] | None = None  # (rtt, offset)
    try:
        async with asyncio.timeout(timeout_s):
            for _ in range(2):
                sent_ms = time.time_ns() / 1e6
                started = time.perf_counter()
                async with http.get(url, proxy=rest_proxy_for(url)) as resp:
                    body = await resp.read()
                rtt = (time.perf_counter() - started) * 1000
                if resp.status != 200:
                    raise FrameError(f"HTTP {resp.status} from {path}")
                offset = adapter.parse_server_time(body) - (sent_ms + rtt / 2)
                if best is None or rtt < best[0]:
                    best = (rtt, offset)
    except (aiohttp.ClientError, TimeoutError, FrameError, OSError) as exc:
        reason = rest_failure(exc, url, timeout_s)
        step = Step(
            "clock",
            Mark.WARN,
            f"server time unavailable: {reason}",
            None,
            hints.rest_hint(adapter_cls.name, reason),
        )
        return ClockReport(step)
    assert best is not None
    rtt, offset = best
    side = "behind" if offset > 0 else "ahead of"
    within = f"(±{rtt / 2:.0f} ms)"
    if abs(offset) > hints.CLOCK_DRIFT_MS:
        detail = f"yours is {abs(offset):.0f} ms {side} {adapter_cls.name}'s {within}"
        step = Step("clock", Mark.WARN, detail, rtt, hints.CLOCK_HINT)
    else:
        step = Step("clock", Mark.OK, f"in sync: {abs(offset):.0f} ms off {within}", rtt)
    return ClockReport(step, offset, rtt)


def symbol_reports(
    venue: str, symbols: Sequence[Symbol], listed: frozenset[str] | None
) -> tuple[SymbolReport, ...]:
    """Whether ``venue`` lists each of ``symbols``, with its suggestions where it does not
    (``listed``: its symbol list, ``None`` when it could not be read)."""
    reports = []
    for symbol in symbols:
        name = symbol.canonical
        if listed is None:
            step = Step(name, Mark.SKIP, "unknown: the symbol list could not be read")
            reports.append(SymbolReport(name, None, (), step))
        elif name in listed:
            reports.append(SymbolReport(name, True, (), Step(name, Mark.OK, "listed")))
        else:
            found = tuple(listed_alternatives(name, listed))
            step = Step(
                name, Mark.WARN, f"not listed on {venue}", hint=hints.unlisted_hint(venue, found)
            )
            reports.append(SymbolReport(name, False, found, step))
    return tuple(reports)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class _VenueCheck:
    """One venue's checks (module docstring)."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        symbols: Sequence[Symbol],
        http: aiohttp.ClientSession,
        resolve: Resolver,
        progress: Progress | None,
    ) -> None:
        self.name = name
        self.cls = adapter_class(name)
        self.venue = settings.venues[name]
        self.timeout_s = settings.feed.open_timeout_s
        self.symbols = tuple(symbols)
        self.http = http
        self.progress = progress
        self._blocked: dict[int, int] = {}
        """Endpoint number -> the 451/403 it refused the handshake with."""
        self._listing: asyncio.Task[tuple[Step, frozenset[str] | None]] | None = None
        self.endpoints = EndpointCheck(
            self.cls,
            self.symbols,
            self._listed,
            http=http,
            timeout_s=self.timeout_s,
            resolve=resolve,
            say=self._say,
        )

    def _say(self, what: str) -> None:
        if self.progress is not None:
            self.progress(self.name, what)

    async def _listed(self) -> frozenset[str] | None:
        assert self._listing is not None
        _, listed = await self._listing
        return listed

    async def run(self) -> VenueReport:
        """The symbol list and the clock (REST, in the background), and meanwhile every
        endpoint in turn, as the feed tries them."""
        urls = self.venue.ws_urls
        async with asyncio.TaskGroup() as group:
            self._listing = listing = group.create_task(self._symbol_list())
            clock = group.create_task(
                check_clock(self.cls, self.venue.rest_url, self.http, self.timeout_s)
            )
            endpoints = []
            for number, url in enumerate(urls, 1):
                endpoints.append(await self.endpoints.run(number, len(urls), url))
                if self.endpoints.blocked is not None:
                    self._blocked[number] = self.endpoints.blocked
        list_step, listed = listing.result()
        self._say("done")
        return VenueReport(
            self.name,
            self._with_blocked_hints(endpoints),
            clock.result(),
            list_step,
            symbol_reports(self.name, self.symbols, listed),
        )

    # -- REST -------------------------------------------------------------------------------

    async def _symbol_list(self) -> tuple[Step, frozenset[str] | None]:
        started = time.perf_counter()
        try:
            listed = await fetch_symbol_list(
                self.http, self.name, self.venue.rest_url, self.timeout_s
            )
        except ListUnavailable as exc:
            reason = str(exc)
            step = Step(
                "symbol list",
                Mark.WARN,
                f"unavailable: {reason}",
                _ms(started),
                hints.rest_hint(self.name, reason),
            )
            return step, None
        return Step("symbol list", Mark.OK, f"{len(listed)} symbols", _ms(started)), listed

    # -- hints that need every endpoint -----------------------------------------------------

    def _with_blocked_hints(self, endpoints: list[EndpointReport]) -> tuple[EndpointReport, ...]:
        """Give each endpoint refused with a 451/403 a hint naming where to go instead."""
        if not self._blocked:
            return tuple(endpoints)
        pairs = [(e.where, e.works) for e in endpoints]
        configured = {public_endpoint(u) for u in self.venue.ws_urls}
        documented = [
            url
            for url in (self.cls.default_ws_url, *self.cls.alternative_ws_urls)
            if public_endpoint(url) not in configured
        ]
        out = []
        for number, endpoint in enumerate(endpoints, 1):
            status = self._blocked.get(number)
            if status is not None:
                note = self.cls.endpoint_note if "wss://" in self.cls.endpoint_note else ""
                hint = hints.blocked_hint(self.name, status, number, pairs, documented, note)
                steps = tuple(
                    replace(s, hint=hint) if s.name == "websocket" else s for s in endpoint.steps
                )
                endpoint = replace(endpoint, steps=steps)
            out.append(endpoint)
        return tuple(out)
