"""What to do about each failure ``cryptows doctor`` can see: one concrete sentence per cause.

The detail of a failure says what happened (the feed's own wording, from
:mod:`cryptows.feed.dial`); the hint says what the user can do about it: the config key to set,
the environment variable, the other endpoint that works, the command to run. Pure functions.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence

import aiohttp

from cryptows.feed.dial import InvalidProxy

PROXY_VARS = ("HTTPS_PROXY", "WSS_PROXY", "SOCKS_PROXY", "ALL_PROXY", "HTTP_PROXY", "NO_PROXY")
"""The proxy settings the feed reads (each in upper or lower case), in the order shown."""

CLOCK_DRIFT_MS = 500.0
"""A clock further than this from a venue's is flagged."""

CLOCK_HINT = "sync your clock (e.g. enable NTP: `timedatectl set-ntp true` on Linux)"

OFFLINE_HINT = (
    "offline, or no DNS? Check the network; `cryptows doctor --demo` (or --demo on any "
    "command) works offline"
)

_BEHIND_PROXY = "behind a proxy, set HTTPS_PROXY (or ALL_PROXY)"
_BEHIND_PROXY_SENTENCE = "B" + _BEHIND_PROXY[1:]


def dns_hint(host: str) -> str:
    """A host name that does not resolve."""
    return f"cannot resolve {host}: {OFFLINE_HINT}"


def connect_hint(exc: BaseException, where: str, timeout_s: float) -> str:
    """A TCP connection that failed (refused, timed out, unreachable)."""
    if isinstance(exc, TimeoutError):
        return (
            f"no answer from {where} within {timeout_s:g} s: a firewall dropping the "
            f"connection? {_BEHIND_PROXY_SENTENCE}"
        )
    if isinstance(exc, ConnectionRefusedError) or "refused" in str(exc):
        return (
            f"nothing accepts connections at {where}: a firewall in the way, or a network that "
            f"only lets a proxy out? {_BEHIND_PROXY_SENTENCE}; check the port in ws_urls"
        )
    return f"the network does not reach {where}: offline, or a firewall? {_BEHIND_PROXY_SENTENCE}"


def tls_hint(exc: BaseException) -> str:
    """A TLS handshake that failed."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            "the certificate is not trusted: a TLS-inspecting proxy or antivirus (install its "
            "CA certificate), or a wrong system clock (sync it, e.g. enable NTP)"
        )
    if isinstance(exc, TimeoutError):
        return (
            "the TLS handshake stalled: a firewall or proxy interfering? " + _BEHIND_PROXY_SENTENCE
        )
    return (
        "TLS failed: a firewall or proxy interfering with encrypted traffic? "
        + _BEHIND_PROXY_SENTENCE
    )


def handshake_hint(exc: BaseException, venue: str, where: str, timeout_s: float) -> str | None:
    """A WebSocket handshake (the feed's ``open_ws``) that failed. A 451/403 gets ``None``
    here: its hint names the venue's other endpoints (:func:`blocked_hint`)."""
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        status = exc.status
        if status in (451, 403):
            return None
        if status == 404:
            return f"no WebSocket endpoint at that URL: check [venues.{venue}] ws_urls"
        if status == 429:
            return "too many connection attempts from your address: wait a minute, then retry"
        if status >= 500:
            return f"the venue's server is failing (HTTP {status}): maintenance? Retry later"
        return f"the venue refused the handshake (HTTP {status}): check [venues.{venue}] ws_urls"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        if exc.status == 407:
            return "the proxy wants credentials: put them in the proxy URL (user:pass@host)"
        return "the proxy refused the connection: check HTTPS_PROXY / ALL_PROXY and NO_PROXY"
    if isinstance(exc, InvalidProxy):
        return "fix the proxy setting (HTTPS_PROXY, WSS_PROXY, ALL_PROXY: http://host:port)"
    if isinstance(exc, ImportError):
        return "pip install 'cryptows[socks]' (a SOCKS proxy needs aiohttp-socks)"
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "ProxyTimeoutError":
        return (
            f"the handshake took longer than feed.open_timeout_s ({timeout_s:g} s): a slow "
            "network or proxy? Raise [feed] open_timeout_s in the config"
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return tls_hint(ssl.SSLCertVerificationError())
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, socket.gaierror):
            return dns_hint(exc.host)
        if isinstance(os_error, ssl.SSLError):
            return tls_hint(os_error)
        return connect_hint(os_error, where, timeout_s)
    return None


def blocked_hint(
    venue: str,
    status: int,
    number: int,
    endpoints: Sequence[tuple[str, bool]],
    documented: Sequence[str],
    note: str = "",
) -> str:
    """Endpoint ``number`` (1-based) refused with a 451 or 403: where else to go.

    ``endpoints``: every configured endpoint's ``(where, works)``; ``documented``: the venue's
    documented endpoints that are not configured.
    """
    why = "refuses your location" if status == 451 else "refuses this connection"
    working = [(n, where) for n, (where, works) in enumerate(endpoints, 1) if works and n != number]
    if working:
        n, where = working[0]
        return (
            f"the endpoint {why} (HTTP {status}); endpoint {n} ({where}) works, and the feed "
            f"falls back to it by itself (put it first in [venues.{venue}] ws_urls to skip this "
            "one)"
        )
    others = [where for n, (where, _) in enumerate(endpoints, 1) if n != number]
    tried = f"the other endpoints ({', '.join(others)}) fail too; " if others else ""
    if documented:
        them = "it" if len(documented) == 1 else "them"
        return (
            f"the endpoint {why} (HTTP {status}); {tried}{venue} also documents "
            f"{', '.join(documented)}: add {them} to [venues.{venue}] ws_urls, or go through a "
            "proxy (HTTPS_PROXY)"
        )
    regional = f" {note}" if note else ""
    return (
        f"the endpoint {why} (HTTP {status}); {tried}set [venues.{venue}] ws_urls to an "
        f"endpoint your region may use{regional}, or go through a proxy (HTTPS_PROXY)"
    )


def rest_hint(venue: str, reason: str) -> str:
    """The venue's REST API (server time, symbol list) could not be read."""
    if "DNS" in reason:
        return f"cannot resolve {venue}'s REST host: {OFFLINE_HINT}"
    return (
        f"check [venues.{venue}] rest_url; {_BEHIND_PROXY} (REST takes HTTP proxies only); "
        "without the list, the feed subscribes every symbol unvalidated"
    )


def unlisted_hint(venue: str, suggestions: Sequence[str]) -> str:
    """A requested symbol the venue does not list."""
    if suggestions:
        return f"did you mean {' or '.join(suggestions)}? (as {venue} lists it)"
    return f"{venue} does not list it: check the spelling (USD is not USDT), or drop it here"


def quote_hint(timeout_s: float, refused: Sequence[str]) -> str:
    """Connected and subscribed, but no quote arrived."""
    if refused:
        return f"the venue refused the subscription ({'; '.join(refused)}): check the symbols"
    return (
        f"the venue accepted the connection but sent no quote within {timeout_s:g} s: a proxy "
        "buffering WebSocket traffic, or a market with no activity? Try other symbols, or "
        "`cryptows quotes -v`"
    )
