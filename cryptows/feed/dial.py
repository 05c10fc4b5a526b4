"""Opening a venue's connections: which proxy to use, and failure reasons that name the host.

Every reason reads ``cannot connect to HOST:PORT: WHAT``, with ``WHAT`` one of ``DNS lookup
failed (...)``, ``connection refused``, ``TLS error: ...``, ``timed out: ...``, ``handshake
refused: HTTP 451 ...`` and a few more, and ``via proxy SCHEME://HOST:PORT`` after the host when
a proxy carries the connection (its credentials are never shown).

Proxies come from the environment the way websockets (>= 15) and aiohttp (``trust_env``) read
them, ``HTTPS_PROXY``/``WSS_PROXY``/``SOCKS_PROXY`` and ``NO_PROXY``, with two differences for
WebSockets: ``ALL_PROXY`` is honoured as the last resort (websockets ignores it), and loopback
(the simulator) is always reached directly. The WebSockets are aiohttp's (:func:`open_ws`): an
HTTP(S) proxy is aiohttp's own ``proxy=``, a SOCKS one goes through aiohttp-socks (the optional
``socks`` extra).
"""

from __future__ import annotations

import errno
import socket
import ssl
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiohttp

_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "::1"})
_HANDSHAKE_HINTS = {
    451: " (restricted location: use another venue, or an endpoint your region may use)",
    403: " (forbidden: check the endpoint and any proxy)",
    404: " (no WebSocket endpoint at that URL: check ws_url)",
    429: " (too many connection attempts: backing off)",
}


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an attempt to connect failed."""

    reason: str
    """One line for health and stderr, naming the host."""
    lasting: bool = False
    """Retrying soon is unlikely to help (a 4xx, a bad URL or proxy setting): the venue shows
    ``failed`` rather than ``backing off`` (it is still retried)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one WebSocket connection goes, and through what."""

    url: str
    host: str
    port: int
    proxy: str | None
    """The proxy URL (``http(s)://`` or ``socks4(a)://``/``socks5(h)://``; ``None``: connect
    directly)."""

    @classmethod
    def of(cls, url: str) -> Endpoint:
        """The endpoint of ``url`` (``ws://`` or ``wss://``), with its proxy chosen now."""
        parts = urlsplit(url)
        secure = parts.scheme.lower() == "wss"
        try:
            port = parts.port or (443 if secure else 80)
        except ValueError:
            port = 443 if secure else 80
        return cls(url, parts.hostname or "", port, proxy_for(url))

    @property
    def where(self) -> str:
        """``host:port`` (IPv6 in brackets), plus ``via proxy ...`` when one is used."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        via = f" via proxy {shown_proxy(self.proxy)}" if self.proxy else ""
        return f"{host}:{self.port}{via}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, ``127.x.x.x``, ``::1``)."""
    host = host.lower().strip("[]")
    return host in _LOOPBACK_NAMES or host.startswith("127.")


def proxy_for(url: str) -> str | None:
    """The proxy a WebSocket to ``url`` should go through, from the environment; ``None`` means
    a direct connection (no proxy set, ``NO_PROXY`` matches, or the host is loopback)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or is_loopback(host):
        return None
    secure = parts.scheme.lower() == "wss"
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError:
        return None  # the connection attempt refuses the URL itself, with a clearer message
    if urllib.request.proxy_bypass(f"{host}:{port}"):
        return None
    proxies = urllib.request.getproxies()
    # websockets' own order (RFC 6455 "Proxy Usage" favours SOCKS, then the HTTPS proxy), then
    # ALL_PROXY, which curl and most tools honour and websockets does not.
    schemes = ("wss", "socks", "https") if secure else ("ws", "socks", "https", "http")
    for scheme in (*schemes, "all"):
        proxy = proxies.get(scheme)
        if proxy:
            if scheme == "socks" and proxy.startswith("http://"):
                proxy = "socks5h://" + proxy.removeprefix("http://")
            return proxy
    return None


def rest_proxy_for(url: str) -> str | None:
    """The HTTP proxy a REST request to ``url`` should go through: ``HTTPS_PROXY`` (or
    ``HTTP_PROXY`` for http) then ``ALL_PROXY``, never for loopback or a ``NO_PROXY`` host.
    aiohttp speaks only HTTP proxies, so a SOCKS one gives ``None`` (a direct request)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or is_loopback(host):
        return None
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return None
    if urllib.request.proxy_bypass(f"{host}:{port}"):
        return None
    proxies = urllib.request.getproxies()
    first = "https" if parts.scheme.lower() == "https" else "http"
    for scheme in (first, "all"):
        proxy = proxies.get(scheme)
        if proxy and not proxy.lower().startswith("socks"):
            return proxy if "://" in proxy else f"http://{proxy}"
    return None


def shown_proxy(proxy: str) -> str:
    """``proxy`` without credentials: ``scheme://host:port``."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


class InvalidProxy(ValueError):
    """A proxy setting that cannot carry a WebSocket (unknown scheme, no host)."""


_SOCKS_KINDS = {"socks5h": ("SOCKS5", True), "socks5": ("SOCKS5", False),
                "socks4a": ("SOCKS4", True), "socks4": ("SOCKS4", False)}  # fmt: skip
"""SOCKS scheme -> (python-socks proxy type, whether the proxy resolves the host name)."""


def proxy_kind(proxy: str) -> str:
    """``"http"`` or ``"socks"``: how ``proxy`` is spoken to (raises :class:`InvalidProxy`)."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise InvalidProxy(f"no host in proxy URL {shown_proxy(proxy)}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise InvalidProxy(f"bad port in proxy URL {shown_proxy(proxy)}") from exc
    if scheme in ("http", "https"):
        return "http"
    if scheme in _SOCKS_KINDS:
        return "socks"
    raise InvalidProxy(f"unsupported proxy scheme {scheme}:// (http, https, socks4, socks5)")


def socks_session(proxy: str) -> aiohttp.ClientSession:
    """A session whose connections go through the SOCKS proxy ``proxy`` (aiohttp-socks, the
    ``socks`` extra: :class:`ImportError` without it). ``socks5h``/``socks4a`` let the proxy
    resolve the host name, as websockets and curl do."""
    from aiohttp_socks import ProxyConnector, ProxyType  # optional: the socks extra

    parts = urlsplit(proxy)
    kind, rdns = _SOCKS_KINDS[parts.scheme.lower()]
    connector = ProxyConnector(
        proxy_type=ProxyType[kind],
        host=parts.hostname or "",
        port=parts.port or 1080,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        rdns=rdns,
    )
    return aiohttp.ClientSession(connector=connector, trust_env=False)


def ws_failure(exc: BaseException, endpoint: Endpoint, open_timeout_s: float) -> Failure:
    """The failure a WebSocket connection attempt (aiohttp) to ``endpoint`` ended with."""
    prefix = f"cannot connect to {endpoint.where}"
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        status = exc.status
        if status == 101:  # upgraded, but the answer is not a valid WebSocket handshake
            return Failure(f"{prefix}: handshake failed: {exc.message}")
        lasting = 400 <= status < 500 and status != 429
        hint = _HANDSHAKE_HINTS.get(status, "")
        return Failure(f"{prefix}: handshake refused: HTTP {status}{hint}", lasting)
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        status = exc.status
        return Failure(f"{prefix}: proxy refused: HTTP {status}", lasting=status in (403, 407))
    if isinstance(exc, InvalidProxy):
        return Failure(f"{prefix}: bad proxy setting: {describe(exc)}", lasting=True)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return Failure(f"bad ws_url: {describe(exc)}", lasting=True)
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "ProxyTimeoutError":
        return Failure(f"{prefix}: timed out: no handshake within {open_timeout_s:g} s")
    if isinstance(exc, ImportError):  # no aiohttp-socks, given a SOCKS proxy
        return Failure(
            f"{prefix}: a SOCKS proxy needs the aiohttp-socks package "
            "(pip install 'cryptows[socks]')",
            lasting=True,
        )
    if type(exc).__module__.startswith("aiohttp_socks"):  # ProxyConnectionError, ProxyError
        cause = exc.__cause__
        if isinstance(cause, OSError):
            return Failure(f"{prefix}: {os_error_text(cause)}")
        return Failure(f"{prefix}: proxy error: {describe(exc)}")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # Its os_error raises AttributeError before aiohttp 3.13: read the cause itself.
        cert = exc.certificate_error
        text = os_error_text(cert) if isinstance(cert, OSError) else f"TLS error: {describe(cert)}"
        return Failure(f"{prefix}: {text}")
    if isinstance(exc, aiohttp.ClientConnectorError):  # DNS, refused, TLS, proxy unreachable
        return Failure(f"{prefix}: {os_error_text(exc.os_error)}")
    if isinstance(exc, OSError):
        return Failure(f"{prefix}: {os_error_text(exc)}")
    if isinstance(exc, aiohttp.ClientError):  # e.g. the server hung up mid-handshake
        return Failure(f"{prefix}: handshake failed: {describe(exc)}")
    return Failure(f"{prefix}: {type(exc).__name__}: {describe(exc)}", lasting=True)


def rest_failure(exc: BaseException, url: str, timeout_s: float) -> str:
    """A one-line reason for a failed REST request to ``url`` (aiohttp), naming the host."""
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"cannot connect to proxy {exc.host}:{exc.port}: {os_error_text(exc.os_error)}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert = exc.certificate_error
        return f"cannot connect to {exc.host}:{exc.port}: TLS error: {describe(cert)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}: {os_error_text(exc.os_error)}"
    parts = urlsplit(url)
    where = parts.netloc or url
    if isinstance(exc, TimeoutError):
        return f"no answer from {where} within {timeout_s:g} s"
    return f"{where}: {describe(exc)}"


def os_error_text(exc: BaseException) -> str:
    """A short classification of a socket-level error."""
    if isinstance(exc, socket.gaierror):
        detail = exc.strerror or describe(exc)
        return f"DNS lookup failed ({detail})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS error: certificate verify failed ({exc.verify_message or describe(exc)})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or describe(exc)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError):
        named = {
            errno.ENETUNREACH: "network unreachable",
            errno.EHOSTUNREACH: "host unreachable",
            errno.ECONNREFUSED: "connection refused",
        }
        if exc.errno in named:
            return named[exc.errno]
        text = describe(exc)
        # asyncio joins the errors of every address tried ("Multiple exceptions: [Errno 111]
        # Connect call failed ('::1', 9, 0, 0), [Errno 111] ..."): refused on all of them.
        if text.startswith("Multiple exceptions") and text.count("[Errno") == text.count(
            f"[Errno {errno.ECONNREFUSED}]"
        ):
            return "connection refused"
        return exc.strerror or text
    return describe(exc)


def describe(exc: BaseException) -> str:
    """``str(exc)`` on one line, or the exception's type name when that is empty."""
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())
