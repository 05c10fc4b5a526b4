"""Coinbase's fast path: what it takes, what it declines, and the channels nobody asked for.

``test_fast_parse.py`` compares the fast and full paths over every fixture and its mutations;
these cases pin down the Coinbase-specific traps: a lax ``datetime`` taking numbers, microsecond
rounding and offsets in ``time``, a crossed book, and frames of unsubscribed channels (shapes
from the Coinbase Exchange WebSocket channel docs), which are ignored rather than counted bad.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cryptows.models import BadFrame, Channel, Event, Heartbeat, HeartbeatKind, Quote
from cryptows.venues.coinbase import CoinbaseAdapter
from tests.conftest import fixture_bytes

V = "coinbase"

# Channels this adapter never subscribes to (it asks for ticker + heartbeat only), in the shapes
# the Exchange docs give (docs.cdp.coinbase.com/exchange/websocket-feed/channels).
_UNASKED: dict[str, dict[str, Any]] = {
    "match": {
        "type": "match",
        "trade_id": 10,
        "sequence": 50,
        "maker_order_id": "ac928c66-ca53-498f-9c13-a110027a60e8",
        "taker_order_id": "132fb6ae-456b-4654-b4e0-d681ac05cea1",
        "time": "2014-11-07T08:19:27.028459Z",
        "product_id": "BTC-USD",
        "size": "5.23512",
        "price": "400.23",
        "side": "sell",
    },
    "last_match": {
        "type": "last_match",
        "trade_id": 10,
        "sequence": 50,
        "maker_order_id": "ac928c66-ca53-498f-9c13-a110027a60e8",
        "taker_order_id": "132fb6ae-456b-4654-b4e0-d681ac05cea1",
        "time": "2014-11-07T08:19:27.028459Z",
        "product_id": "BTC-USD",
        "size": "5.23512",
        "price": "400.23",
        "side": "sell",
    },
    "snapshot": {
        "type": "snapshot",
        "product_id": "BTC-USD",
        "bids": [["10101.10", "0.45054140"]],
        "asks": [["10102.55", "0.57753524"]],
    },
    "l2update": {
        "type": "l2update",
        "product_id": "BTC-USD",
        "changes": [["buy", "10101.80000000", "0.162567"]],
        "time": "2019-08-14T20:42:27.265Z",
    },
    "status": {"type": "status", "products": [], "currencies": []},
    "received": {
        "type": "received",
        "time": "2014-11-07T08:19:27.028459Z",
        "product_id": "BTC-USD",
        "sequence": 10,
        "order_id": "d50ec984-77a8-460a-b958-66f114b0de9b",
        "size": "1.34",
        "price": "502.1",
        "side": "buy",
        "order_type": "limit",
    },
}


def _adapter(*, fast: bool) -> CoinbaseAdapter:
    adapter = CoinbaseAdapter()
    adapter.fast_path = fast
    return adapter


def _both(frame: bytes | str) -> tuple[list[Event], list[Event]]:
    fast = _adapter(fast=True).parse(frame, recv_mono_ns=123, recv_wall_ms=456)
    full = _adapter(fast=False).parse(frame, recv_mono_ns=123, recv_wall_ms=456)
    return fast, full


def _declines(frame: bytes | str) -> bool:
    try:
        return _adapter(fast=True)._parse_fast(frame) is None
    except Exception:  # noqa: BLE001 - raising is declining
        return True


def _ticker(**changes: Any) -> bytes:
    body = json.loads(CoinbaseAdapter.sample_quote_frame) | changes
    return json.dumps(body, separators=(",", ":")).encode()


def _heartbeat(time: Any) -> bytes:
    body = json.loads(fixture_bytes(V, "heartbeat.json")) | {"time": time}
    return json.dumps(body, separators=(",", ":")).encode()


@pytest.mark.parametrize("kind", sorted(_UNASKED))
def test_channels_nobody_asked_for_are_ignored_not_bad(kind: str) -> None:
    body = _UNASKED[kind]
    for frame in (
        json.dumps(body, separators=(",", ":")).encode(),
        json.dumps(body, separators=(",", ":")),
        json.dumps(body, indent=2).encode(),
    ):
        fast, full = _both(frame)
        assert full == [], kind
        assert fast == [], kind
        assert not _declines(frame), kind  # one decode of the type: ignored on the fast path


def test_the_sample_frame_is_taken_and_stamped() -> None:
    frame = CoinbaseAdapter.sample_quote_frame
    taken = _adapter(fast=True)._parse_fast(frame)
    assert taken is not None
    fast, full = _both(frame)
    assert fast == full
    assert full == [
        Quote(
            venue=V,
            symbol="ETHUSD",
            channel=Channel.TICKER,
            bid=1285.04,
            bid_size=0.46688654,
            ask=1285.27,
            ask_size=1.5663704,
            last=1285.22,
            volume_24h=245532.79269678,
            change_24h_pct=(1285.22 - 1310.79) / 1310.79 * 100,
            exchange_ts_ms=1666222102061,  # 2022-10-19T23:28:22.061769Z, truncated
            recv_mono_ns=123,
            recv_wall_ms=456,
        )
    ]


def test_a_heartbeat_is_taken() -> None:
    frame = fixture_bytes(V, "heartbeat.json")
    assert not _declines(frame)
    fast, full = _both(frame)
    assert fast == full
    assert full == [
        Heartbeat(
            venue=V, kind=HeartbeatKind.HEARTBEAT, symbol="BTCUSD", exchange_ts_ms=1415348368464
        )
    ]


def test_a_crossed_book_is_declined_and_reported() -> None:
    frame = _ticker(best_bid="1285.28", best_ask="1285.27")
    assert _declines(frame)
    fast, full = _both(frame)
    assert fast == full
    assert isinstance(full[0], BadFrame)
    assert "crossed book" in full[0].reason


def test_a_locked_book_is_a_quote() -> None:
    frame = _ticker(best_bid="1285.27", best_ask="1285.27")
    assert not _declines(frame)
    fast, full = _both(frame)
    assert fast == full
    assert isinstance(fast[0], Quote)


# A lax ``datetime`` would read a number (or a numeric string) as epoch seconds; the full path
# refuses them. Fractions beyond microseconds are rounded by the decoder, then truncated to ms;
# offsets are honoured; before 1970 a quote's timestamp is refused, a heartbeat's is not.
_TIMES: list[Any] = [
    1666222102,
    1666222102.5,
    "1666222102",
    "1666222102.5",
    "2022-10-19T23:28:22.061769Z",
    "2022-10-19T23:28:22.0617699999Z",
    "2022-10-19T23:28:22.9999999Z",
    "2022-10-19T23:59:59.9999996Z",
    "2022-10-19T23:28:22.061769+05:30",
    "2022-10-19T23:28:22.061769-08:00",
    "2022-10-19T23:28:22Z",
    "2022-10-19T23:28:22.1Z",
    "2022-10-19t23:28:22.061769z",
    "2022-10-19 23:28:22.061769Z",
    "2022-10-19T23:28:22.061769",
    "2022-10-19T23:28:60Z",
    "1969-12-31T23:59:59.999Z",
    "1970-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "",
    None,
    True,
]


@pytest.mark.parametrize("time", _TIMES, ids=repr)
def test_ticker_times_give_the_same_events(time: Any) -> None:
    fast, full = _both(_ticker(time=time))
    assert fast == full


@pytest.mark.parametrize("time", _TIMES, ids=repr)
def test_heartbeat_times_give_the_same_events(time: Any) -> None:
    fast, full = _both(_heartbeat(time))
    assert fast == full


def test_numeric_times_are_declined() -> None:
    for time in (1666222102, "1666222102.5"):
        assert _declines(_ticker(time=time))
        assert _declines(_heartbeat(time))


@pytest.mark.parametrize("product_id", ["", "BTCUSD", "BTC-", "btc-usd", "BTC-USD-X", "Ä-USD"])
def test_product_ids_give_the_same_events(product_id: str) -> None:
    for frame in (_ticker(product_id=product_id), _heartbeat("2014-11-07T08:19:28.464459Z")):
        body = json.loads(frame) | {"product_id": product_id}
        fast, full = _both(json.dumps(body))
        assert fast == full


def test_pretty_printed_and_str_frames_are_taken() -> None:
    for name in ("ticker.json", "ticker__legacy_no_sizes.json", "heartbeat.json"):
        raw = fixture_bytes(V, name)
        for frame in (raw, raw.decode()):
            assert not _declines(frame), name
            fast, full = _both(frame)
            assert fast == full, name


@pytest.mark.parametrize(
    ("price", "open_24h"),
    [
        ("1e308", "1e-300"),  # the change overflows: no change, as the full path gives
        ("1e308", "5e-324"),
        ("1285.22", "0"),  # nothing to compare with
        ("1285.22", 0),
        ("1285.22", "1285.22"),
        ("1e-300", "1e308"),
    ],
)
def test_extreme_opens_give_the_same_change(price: str, open_24h: Any) -> None:
    frame = _ticker(price=price, open_24h=open_24h, best_bid="1e-300", best_ask="1e308")
    assert not _declines(frame)
    fast, full = _both(frame)
    assert fast == full
    assert isinstance(full[0], Quote)
