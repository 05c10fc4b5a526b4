"""Scripted fault injection for the simulated venues: ``VENUE:ACTION[@SECONDS][=ARG]``.

Examples: ``bybit:drop@10`` (abrupt TCP drop 10 s after start), ``okx:close@5=1011`` (close
with code 1011), ``binance:stall@20=15`` (15 s of total silence, pings unanswered),
``coinbase:garbage@3``, ``bybit:oversize@8``, ``okx:reject=ETHUSDT`` (refuse one symbol at
subscribe), ``binance:delist=SOLUSDT`` (not listed at all), ``binance:refuse=451`` (refuse
handshakes with HTTP 451; ``refuse=0`` accepts again), ``okx:slow=3`` (3 s handshakes),
``bybit:nopong`` (a failed keepalive: no pong, no heartbeat), ``*:quiet`` (a market where
nothing happens: no data pushed, pings and heartbeats still answered; ``quiet=0`` ends it),
``binance:dislocate@2=BTCUSDT:1.0:4`` (2 s after start, Binance's BTCUSDT moves 1 % up for 4 s:
an arbitrage opportunity on demand; ARG is ``SYMBOL:PCT[:SECONDS]``, 5 s by default),
``okx:skew=2000`` (REST server time 2000 ms ahead of the real clock, as a client whose clock
drifted sees it; negative: behind; ``skew=0`` ends it); ``*`` as
venue means every venue. The time may also follow the argument
(``binance:dislocate=BTCUSDT:1.0:4@2``).
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass

from cryptows.errors import UsageError
from cryptows.sim.cluster import venue_profiles
from cryptows.sim.server import SimVenueServer
from cryptows.symbols import parse_symbol

ACTIONS: dict[str, str] = {
    "drop": "abort every connection without a close frame",
    "close": "close every connection with code ARG (default 1001)",
    "stall": "send nothing and answer no ping for ARG seconds (default 30)",
    "garbage": "send one frame that is not JSON",
    "oversize": "send one frame of ARG bytes (default 2 MiB, over the 1 MiB client limit)",
    "reject": "refuse symbol ARG at subscribe with the venue's real error",
    "delist": "stop listing symbol ARG (REST and WebSocket)",
    "refuse": "refuse handshakes with HTTP status ARG (0 = accept again)",
    "slow": "delay handshakes by ARG seconds",
    "nopong": "answer no ping (app-level or protocol), send no heartbeat (ARG 0 = answer again)",
    "quiet": "push no market data, still answer pings and send heartbeats (ARG 0 = push again)",
    "dislocate": "move one symbol's price by PCT percent for SECONDS (default 5): "
    "ARG SYMBOL:PCT[:SECONDS]",
    "skew": "answer server-time requests ARG ms off the real clock (negative: behind; 0 = off)",
}

_FAULT = re.compile(
    r"(?P<venue>[a-z*]+):(?P<action>[a-z]+)(?:@(?P<at>[0-9.]+))?"
    r"(?:=(?P<arg>[^@\s]+))?(?:@(?P<at_after>[0-9.]+))?"
)
_MAX_DISLOCATION_PCT = 50.0
DISLOCATE_DEFAULT_S = 5.0
"""How long a ``dislocate`` without SECONDS lasts."""


@dataclass(frozen=True, slots=True)
class FaultStep:
    """One scripted fault."""

    venue: str
    action: str
    at_s: float = 0.0
    arg: str | None = None


@dataclass(frozen=True, slots=True)
class Dislocation:
    """The argument of a ``dislocate`` fault: ``SYMBOL:PCT[:SECONDS]``."""

    symbol: str
    """Canonical symbol."""
    pct: float
    """Price move in percent (negative: down)."""
    seconds: float = DISLOCATE_DEFAULT_S

    def __str__(self) -> str:
        return f"{self.symbol}:{self.pct!r}:{self.seconds!r}"

    @classmethod
    def parse(cls, text: str) -> Dislocation:
        """Read ``SYMBOL:PCT[:SECONDS]``.

        Raises:
            ValueError: malformed, a PCT of 0 or beyond ±50, or SECONDS not above 0.
            SymbolError: a malformed symbol (a usage error, as for ``reject``).
        """
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"dislocate takes SYMBOL:PCT[:SECONDS], got {text!r}")
        pct = _finite(parts[1], "PCT")
        if pct == 0 or abs(pct) > _MAX_DISLOCATION_PCT:
            raise ValueError(f"dislocate PCT must be from -50 to 50 and not 0, got {parts[1]!r}")
        seconds = _finite(parts[2], "SECONDS") if len(parts) == 3 else DISLOCATE_DEFAULT_S
        if seconds <= 0:
            raise ValueError(f"dislocate SECONDS must be above 0, got {parts[2]!r}")
        return cls(parse_symbol(parts[0]).canonical, pct, seconds)


def _finite(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"dislocate {what} must be a number, got {text!r}")
    return value


def parse_fault(text: str, venues: list[str] | tuple[str, ...]) -> FaultStep:
    """Read ``VENUE:ACTION[@SECONDS][=ARG]``.

    Raises:
        UsageError: the text is malformed or names an unknown venue or action.
    """
    match = _FAULT.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"bad fault {text!r}: write VENUE:ACTION[@SECONDS][=ARG], e.g. bybit:drop@10"
        )
    venue, action = match["venue"], match["action"]
    if venue != "*" and venue not in venues:
        known = ", ".join(venues)
        raise UsageError(f"bad fault {text!r}: unknown venue {venue!r} (have {known})")
    if action not in ACTIONS:
        raise UsageError(
            f"bad fault {text!r}: unknown action {action!r} (have {', '.join(ACTIONS)})"
        )
    if match["at"] is not None and match["at_after"] is not None:
        raise UsageError(f"bad fault {text!r}: give @SECONDS once")
    at = match["at"] or match["at_after"] or "0"
    try:
        at_s = float(at)
    except ValueError:
        raise UsageError(f"bad fault {text!r}: @{at} is not a number of seconds") from None
    arg = match["arg"]
    if action in ("reject", "delist"):
        if arg is None:
            raise UsageError(f"bad fault {text!r}: {action} needs a symbol, e.g. {action}=ETHUSDT")
        arg = parse_symbol(arg).canonical
    elif action == "dislocate":
        arg = str(_dislocation(text, arg, venue, venues))
    elif action == "skew":
        arg = _skew(text, arg)
    elif arg is not None:
        try:
            number = float(arg)
        except ValueError:
            raise UsageError(f"bad fault {text!r}: {action} takes a number, got {arg!r}") from None
        if action == "close" and not _sendable_close_code(number):
            raise UsageError(
                f"bad fault {text!r}: close code must be 1000-1003, 1007-1014 or 3000-4999"
            )
    return FaultStep(venue, action, at_s, arg)


def _dislocation(
    text: str, arg: str | None, venue: str, venues: list[str] | tuple[str, ...]
) -> Dislocation:
    """The ``dislocate`` argument, checked against what the targeted venues list."""
    if arg is None:
        raise UsageError(
            f"bad fault {text!r}: dislocate needs SYMBOL:PCT[:SECONDS], "
            "e.g. dislocate=BTCUSDT:1.0:4"
        )
    try:
        dislocation = Dislocation.parse(arg)
    except ValueError as exc:
        raise UsageError(f"bad fault {text!r}: {exc}") from None
    profiles = venue_profiles()
    targets = venues if venue == "*" else [venue]
    if not any(dislocation.symbol in profiles[v].listings for v in targets if v in profiles):
        where = "any of the venues" if venue == "*" else venue
        raise UsageError(f"bad fault {text!r}: {where} does not list {dislocation.symbol}")
    return dislocation


def _skew(text: str, arg: str | None) -> str:
    """The ``skew`` argument: a whole number of milliseconds, either sign (as text)."""
    try:
        skew = int(arg or "")
    except ValueError:
        raise UsageError(
            f"bad fault {text!r}: skew takes whole milliseconds, e.g. skew=2000 or skew=-1500"
        ) from None
    return str(skew)


def _sendable_close_code(code: float) -> bool:
    """Codes a server may put in a close frame (RFC 6455 §7.4, websockets' own check)."""
    return code.is_integer() and (
        1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
    )


async def apply_fault(server: SimVenueServer, step: FaultStep) -> None:
    """Carry out ``step`` on ``server`` now."""
    arg = step.arg
    faults = server.faults
    match step.action:
        case "drop":
            server.drop_all()
        case "close":
            await server.close_all(int(float(arg or 1001)), "fault injected")
        case "stall":
            server.stall_all(float(arg or 30))
        case "garbage":
            await server.send_garbage()
        case "oversize":
            await server.send_oversize(int(float(arg or 2**21)))
        case "reject":
            faults.rejected.add(str(arg))
        case "delist":
            faults.delisted.add(str(arg))
        case "refuse":
            status = int(float(arg or 503))
            faults.handshake_status = status or None
        case "slow":
            faults.handshake_delay_s = float(arg or 3)
        case "nopong":
            faults.no_pong = arg is None or float(arg) != 0
        case "quiet":
            faults.quiet = arg is None or float(arg) != 0
        case "skew":
            faults.clock_skew_ms = int(arg or 0)
        case "dislocate":
            move = Dislocation.parse(str(arg))
            if server.engine.listed(server.name, move.symbol):  # ``*`` skips the venues without it
                server.dislocate(move.symbol, move.pct, move.seconds)


async def run_script(servers: dict[str, SimVenueServer], steps: list[FaultStep]) -> None:
    """Apply ``steps`` at their times (seconds from now), in time order."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for step in sorted(steps, key=lambda s: s.at_s):
        await asyncio.sleep(max(0.0, start + step.at_s - loop.time()))
        targets = servers.values() if step.venue == "*" else [servers[step.venue]]
        for server in targets:
            await apply_fault(server, step)
