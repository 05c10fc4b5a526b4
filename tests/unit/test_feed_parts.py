"""Feed building blocks without sockets: backoff, the conflating buffer, health, quote merge,
liveness policy and the reasons a connection attempt fails."""

from __future__ import annotations

import asyncio
import errno
import random
import socket
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey, RequestInfo
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from cryptows.config import MIN_DEAD_AFTER_S, load_settings
from cryptows.errors import ConfigError
from cryptows.feed.buffer import FeedBuffer
from cryptows.feed.connection import Backoff
from cryptows.feed.dial import (
    Endpoint,
    InvalidProxy,
    proxy_for,
    proxy_kind,
    socks_session,
    ws_failure,
)
from cryptows.feed.health import HealthTracker
from cryptows.feed.liveness import Liveness, SendGate
from cryptows.market.merge import merge_quote
from cryptows.models import Channel, FeedEvent, Quote, SymbolStatus, VenueState, VenueStatus
from cryptows.venues import adapter_class


def _q(
    venue: str = "binance", symbol: str = "BTCUSDT", bid: float | None = 1.0, **kw: Any
) -> Quote:
    return Quote(venue=venue, symbol=symbol, channel=kw.pop("channel", Channel.BOOK), bid=bid, **kw)


@given(st.integers(min_value=0, max_value=200), st.integers())
def test_backoff_is_full_jitter_within_the_cap(attempt: int, seed: int) -> None:
    backoff = Backoff(initial_s=1.0, max_s=60.0)
    delay = backoff.delay(attempt, random.Random(seed))
    assert 0.0 <= delay <= min(60.0, 2**attempt)


def test_backoff_grows_then_caps() -> None:
    backoff = Backoff(initial_s=1.0, max_s=60.0)
    rng = random.Random(1)
    means = [sum(backoff.delay(a, rng) for _ in range(2000)) / 2000 for a in range(10)]
    assert means[0] < means[2] < means[4] < means[5]
    assert means[9] == pytest.approx(30.0, rel=0.1)  # uniform(0, 60) once capped


async def test_buffer_conflates_quotes_per_stream_and_keeps_status_events() -> None:
    buf: FeedBuffer[FeedEvent] = FeedBuffer()
    buf.put(_q(bid=1.0))
    buf.put(VenueStatus(venue="okx", state=VenueState.LIVE))
    buf.put(_q(bid=2.0))
    buf.put(_q(symbol="ETHUSDT", bid=3.0))
    buf.put(_q(bid=4.0, channel=Channel.TICKER))
    events = await asyncio.wait_for(buf.get_batch(), 1)
    assert events == [
        VenueStatus(venue="okx", state=VenueState.LIVE),
        _q(bid=2.0),
        _q(symbol="ETHUSDT", bid=3.0),
        _q(bid=4.0, channel=Channel.TICKER),
    ]
    assert buf.conflated == 1
    assert len(buf) == 0


async def test_buffer_never_blocks_and_stays_bounded_without_a_reader() -> None:
    buf: FeedBuffer[FeedEvent] = FeedBuffer()
    for i in range(100_000):
        buf.put(_q(symbol=f"S{i % 50}USDT", bid=float(i + 1)))
    assert len(buf) == 50
    assert buf.conflated == 100_000 - 50


async def test_buffer_wakes_a_waiting_reader() -> None:
    buf: FeedBuffer[FeedEvent] = FeedBuffer()
    reader = asyncio.create_task(buf.get_batch())
    await asyncio.sleep(0)
    buf.put(SymbolStatus(venue="okx", symbol="X", message="m"))
    assert await asyncio.wait_for(reader, 1) == [SymbolStatus(venue="okx", symbol="X", message="m")]


def test_health_rates_lag_and_transitions() -> None:
    tracker = HealthTracker("bybit")
    for i in range(50):
        tracker.on_frame(100.0 + i * 0.1)  # 10 frames/s for 5 s
    for lag in range(1, 101):
        tracker.on_lag(float(lag))
    snap = tracker.snapshot(now_s=105.0)
    assert snap.messages == 50
    assert snap.msgs_per_s == pytest.approx(10.0)
    assert snap.lag_p50_ms == pytest.approx(50.0, abs=1)
    assert snap.lag_p99_ms == pytest.approx(99.0, abs=1)
    event = tracker.transition(VenueState.BACKOFF, "closed by venue", retry_at_ms=5)
    assert event is not None
    assert event.state is VenueState.BACKOFF
    assert tracker.transition(VenueState.BACKOFF, "closed by venue", retry_at_ms=5) is None
    assert tracker.snapshot().last_error == "closed by venue"
    assert not tracker.snapshot().usable
    assert tracker.symbol_error("ETHUSDT", "nope") is not None
    assert tracker.symbol_error("ETHUSDT", "nope") is None


def test_health_rate_counts_each_second_and_forgets_old_ones() -> None:
    tracker = HealthTracker("okx")
    for t in (10.0, 10.5, 11.2, 13.9, 13.95):
        tracker.on_frame(t)
    assert tracker.snapshot(now_s=14.5).msgs_per_s == pytest.approx(5 / 4)  # seconds 10..13
    assert tracker.snapshot(now_s=11.5).msgs_per_s == pytest.approx(2 / 4)  # 11 is not over
    tracker.on_frame(20.0)
    assert tracker.snapshot(now_s=20.5).msgs_per_s == 0.0  # 10..13 are out of the window
    assert tracker.snapshot(now_s=21.0).msgs_per_s == pytest.approx(1 / 4)
    assert tracker.messages == 6


def test_merge_prefers_book_bid_ask_and_keeps_missing_fields() -> None:
    book = _q(bid=100.0, ask=101.0, bid_size=1.0, ask_size=2.0)
    ticker = Quote(
        venue="binance", symbol="BTCUSDT", channel=Channel.TICKER, bid=99.0, ask=102.0,
        last=100.5, volume_24h=10.0, exchange_ts_ms=7,
    )  # fmt: skip
    merged = merge_quote(book, ticker)
    assert (merged.bid, merged.ask, merged.last, merged.volume_24h) == (100.0, 101.0, 100.5, 10.0)
    assert merged.channel is Channel.BOOK
    assert merged.exchange_ts_ms == 7
    first = merge_quote(None, ticker)
    assert (first.bid, first.ask) == (99.0, 102.0)
    # A one-sided book frame: the missing side is absent, never kept from an older frame.
    newer_book = merge_quote(merge_quote(ticker, book), _q(bid=100.2, ask=None))
    assert (newer_book.bid, newer_book.ask, newer_book.last) == (100.2, None, 100.5)
    crossed = merge_quote(book, _q(bid=None, ask=99.0))
    assert (crossed.bid, crossed.ask) == (None, 99.0)


def test_merge_keeps_the_receipt_time_of_the_prices() -> None:
    book = Quote(
        venue="bybit", symbol="BTCUSDT", channel=Channel.BOOK, bid=1.0, ask=2.0, recv_wall_ms=10
    )
    ticker = Quote(
        venue="bybit", symbol="BTCUSDT", channel=Channel.TICKER, last=1.5, recv_wall_ms=99
    )
    merged = merge_quote(book, ticker)
    assert merged.recv_wall_ms == 10
    assert merged.last == 1.5


# -- liveness policy ---------------------------------------------------------------------------


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx", "coinbase"])
def test_every_venue_probes_a_silence_well_before_its_bound(venue: str) -> None:
    policy = adapter_class(venue).heartbeat
    assert policy.probe_after(5.0) == 2.0  # pings after 2 s and 4 s of silence, dead at 5 s
    assert policy.probe_after(1.0) == pytest.approx(0.4)
    # Binance counts pings against 5 messages/s; at the shortest bound they cost 2.5/s at most,
    # and the send gate keeps any burst to one message per min_send_interval_s.
    assert 1 / policy.probe_after(MIN_DEAD_AFTER_S) < 5
    assert adapter_class(venue).limits.min_send_interval_s >= (0.2 if venue == "binance" else 0)


async def test_only_a_pong_to_one_of_our_pings_is_a_sign_of_life() -> None:
    now = [100.0]
    liveness = Liveness(adapter_class("binance").heartbeat, 5.0, lambda: now[0])
    liveness.last_rx = 100.0
    sent: list[bytes] = []

    class Ws:
        async def ping(self, payload: bytes) -> None:
            sent.append(payload)

    ws: Any = Ws()
    gate = SendGate(0.0)
    await liveness._send_probe(ws, adapter_class("binance")(), gate)
    await liveness._send_probe(ws, adapter_class("binance")(), gate)
    now[0] = 101.0
    liveness.on_pong(b"not ours")
    assert liveness.last_rx == 100.0
    liveness.on_pong(sent[1])  # answers the first ping too, as websockets' pong waiters did
    assert liveness.last_rx == 101.0
    now[0] = 102.0
    liveness.on_pong(sent[0])  # already answered
    assert liveness.last_rx == 101.0
    assert liveness.probes == 2


def test_okx_is_pinged_before_its_own_30_s_cut_whatever_the_bound() -> None:
    assert adapter_class("okx").heartbeat.probe_after(300.0) < 30


def test_liveness_bound_config_global_and_per_venue(tmp_path: Path) -> None:
    assert load_settings(None).feed.dead_after_s == 5.0
    path = tmp_path / "c.toml"
    path.write_text("[feed]\ndead_after_s = 8\n[venues.okx]\ndead_after_s = 3\n")
    settings = load_settings(path)
    assert settings.feed.dead_after_s == 8.0
    assert settings.venues["okx"].dead_after_s == 3.0
    assert settings.venues["bybit"].dead_after_s == 0.0  # 0: the [feed] bound applies
    with pytest.raises(ConfigError, match=r"feed.dead_after_s must be >= 1 \(got 0.5\)"):
        load_settings(None, overrides={"feed.dead_after_s": 0.5})
    with pytest.raises(ConfigError, match=r"venues.okx.dead_after_s must be >= 1 or 0"):
        load_settings(None, overrides={"venues.okx.dead_after_s": 0.2})


def test_health_keeps_timed_state_changes() -> None:
    now = [100.0]
    tracker = HealthTracker("okx", clock=lambda: now[0])
    tracker.transition(VenueState.LIVE, last_rx_s=99.5)
    now[0] = 104.5
    tracker.transition(VenueState.STALE, "no data or pong for 5.0 s", last_rx_s=99.5)
    assert [(c.at_s, c.state, c.last_rx_s) for c in tracker.changes] == [
        (100.0, VenueState.LIVE, 99.5),
        (104.5, VenueState.STALE, 99.5),
    ]
    assert tracker.snapshot().last_error == "no data or pong for 5.0 s"


# -- reaching a venue: proxies and reasons that name the host -----------------------------------

BINANCE_WS = "wss://stream.binance.com:9443/stream"


@pytest.mark.parametrize(
    ("env", "url", "proxy"),
    [
        ({}, BINANCE_WS, None),
        ({"HTTPS_PROXY": "http://p:3128"}, BINANCE_WS, "http://p:3128"),
        ({"https_proxy": "http://p:3128"}, "ws://ws.example:80/x", "http://p:3128"),
        ({"HTTP_PROXY": "http://p:3128"}, BINANCE_WS, None),  # plain-HTTP proxy: not for wss
        ({"ALL_PROXY": "socks5h://s:1080"}, BINANCE_WS, "socks5h://s:1080"),
        (
            {"HTTPS_PROXY": "http://p:3128", "ALL_PROXY": "socks5://s:1080"},
            BINANCE_WS,
            "http://p:3128",
        ),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".binance.com"}, BINANCE_WS, None),
        ({"ALL_PROXY": "socks5://s:1080", "no_proxy": "stream.binance.com"}, BINANCE_WS, None),
        ({"HTTPS_PROXY": "http://p:3128"}, "ws://127.0.0.1:9000/ws", None),  # the simulator
        ({"ALL_PROXY": "socks5://s:1080"}, "ws://localhost:9000/ws", None),
    ],
)
def test_proxy_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str, proxy: str | None
) -> None:
    for name in ("NO_PROXY", "WSS_PROXY", "WS_PROXY", "SOCKS_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_for(url) == proxy


def test_proxy_credentials_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "WSS_PROXY", "wss_proxy", "SOCKS_PROXY", "socks_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s3cret@proxy.corp:3128")
    endpoint = Endpoint.of(BINANCE_WS)
    assert endpoint.proxy == "http://alice:s3cret@proxy.corp:3128"
    assert endpoint.where == "stream.binance.com:9443 via proxy http://proxy.corp:3128"
    failure = ws_failure(ConnectionRefusedError(111, "refused"), endpoint, 10)
    assert "s3cret" not in failure.reason
    assert "alice" not in failure.reason


def _cert_error() -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify")
    exc.verify_message = "unable to get local issuer certificate"
    return exc


_REQUEST = RequestInfo(URL(BINANCE_WS), "GET", CIMultiDictProxy(CIMultiDict()), URL(BINANCE_WS))
_KEY = ConnectionKey("stream.binance.com", 9443, True, True, None, None, None)


def _handshake(status: int) -> aiohttp.WSServerHandshakeError:
    return aiohttp.WSServerHandshakeError(_REQUEST, (), status=status, message="x")


def _proxy_status(status: int) -> aiohttp.ClientHttpProxyError:
    return aiohttp.ClientHttpProxyError(_REQUEST, (), status=status, message="x")


def _connector(os_error: OSError) -> aiohttp.ClientConnectorError:
    """What aiohttp raises when the TCP (or TLS) connection cannot be made."""
    return aiohttp.ClientConnectorError(_KEY, os_error)


@pytest.mark.parametrize(
    ("exc", "reason", "lasting"),
    [
        (
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
            "DNS lookup failed (Temporary failure in name resolution)",
            False,
        ),
        (ConnectionRefusedError(111, "Connect call failed"), "connection refused", False),
        (
            _connector(ConnectionRefusedError(111, "Connect call failed ('1.2.3.4', 9443)")),
            "connection refused",
            False,
        ),
        (
            aiohttp.ClientConnectorDNSError(
                _KEY, socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            ),
            "DNS lookup failed (Name or service not known)",
            False,
        ),
        (
            OSError(
                "Multiple exceptions: [Errno 111] Connect call failed ('::1', 9443, 0, 0), "
                "[Errno 111] Connect call failed ('127.0.0.1', 9443)"
            ),
            "connection refused",
            False,
        ),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable", False),
        (
            _cert_error(),
            "TLS error: certificate verify failed (unable to get local issuer certificate)",
            False,
        ),
        (
            aiohttp.ClientConnectorCertificateError(_KEY, _cert_error()),
            "TLS error: certificate verify failed (unable to get local issuer certificate)",
            False,
        ),
        (TimeoutError(), "timed out: no handshake within 10 s", False),
        (aiohttp.ConnectionTimeoutError(), "timed out: no handshake within 10 s", False),
        (
            _handshake(451),
            "handshake refused: HTTP 451 (restricted location: use another venue, or an endpoint "
            "your region may use)",
            True,
        ),
        (_handshake(503), "handshake refused: HTTP 503", False),
        (_proxy_status(407), "proxy refused: HTTP 407", True),
        (
            _connector(ConnectionRefusedError(111, "Connect call failed")),
            "connection refused",
            False,
        ),
        (
            ImportError("No module named 'aiohttp_socks'"),
            "a SOCKS proxy needs the aiohttp-socks package (pip install 'cryptows[socks]')",
            True,
        ),
        (aiohttp.ServerDisconnectedError(), "handshake failed: Server disconnected", False),
    ],
)
def test_connect_failures_name_the_host_and_say_what_failed(
    exc: BaseException, reason: str, lasting: bool
) -> None:
    failure = ws_failure(exc, Endpoint.of(BINANCE_WS), 10.0)
    assert failure.reason == f"cannot connect to stream.binance.com:9443: {reason}"
    assert failure.lasting is lasting


@pytest.mark.parametrize(
    ("proxy", "reason"),
    [
        ("ftp://p:21", "unsupported proxy scheme ftp:// (http, https, socks4, socks5)"),
        ("http://:3128", "no host in proxy URL http://?:3128"),
    ],
)
def test_an_unusable_proxy_setting_is_a_lasting_failure(
    monkeypatch: pytest.MonkeyPatch, proxy: str, reason: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    endpoint = Endpoint.of(BINANCE_WS)
    with pytest.raises(InvalidProxy) as caught:
        proxy_kind(endpoint.proxy or "")
    failure = ws_failure(caught.value, endpoint, 10.0)
    assert failure.reason.endswith(f": bad proxy setting: {reason}")
    assert failure.lasting


@pytest.mark.parametrize(("scheme", "rdns"), [("socks5h", True), ("socks5", False)])
async def test_a_socks_proxy_gets_a_session_of_its_own(scheme: str, rdns: bool) -> None:
    assert proxy_kind(f"{scheme}://u:p%40ss@s:1080") == "socks"
    async with socks_session(f"{scheme}://u:p%40ss@s:1080") as session:
        connector: Any = session.connector
        assert (connector._proxy_host, connector._proxy_port) == ("s", 1080)
        assert (connector._proxy_username, connector._proxy_password) == ("u", "p@ss")
        assert connector._rdns is rdns


def test_ipv6_hosts_are_bracketed_and_default_ports_filled() -> None:
    assert Endpoint.of("ws://[::1]:8080/x").where == "[::1]:8080"
    assert Endpoint.of("wss://ws-feed.exchange.coinbase.com").where == (
        "ws-feed.exchange.coinbase.com:443"
    )


@pytest.mark.parametrize(
    ("env", "url", "proxy"),
    [
        ({}, "https://api.binance.com/api/v3/exchangeInfo", None),
        ({"HTTPS_PROXY": "http://p:3128"}, "https://api.binance.com/x", "http://p:3128"),
        ({"ALL_PROXY": "http://a:8080"}, "https://api.binance.com/x", "http://a:8080"),
        ({"ALL_PROXY": "socks5://s:1080"}, "https://api.binance.com/x", None),  # aiohttp: HTTP only
        (
            {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".binance.com"},
            "https://api.binance.com/x",
            None,
        ),
        ({"HTTP_PROXY": "http://p:3128"}, "http://127.0.0.1:9000/api", None),  # the simulator
    ],
)
def test_rest_requests_choose_their_proxy_like_the_websockets(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str, proxy: str | None
) -> None:
    from cryptows.feed.dial import rest_proxy_for

    for name in ("NO_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert rest_proxy_for(url) == proxy
