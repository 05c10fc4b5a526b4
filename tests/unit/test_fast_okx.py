"""OKX fast path (``OkxAdapter._parse_fast``) and the channels nobody asked for.

``test_fast_parse.py`` compares the fast and the full path over every fixture, mutation and
spelling; these cases name what OKX-specific shapes must give: unread channels (candles, trades)
are ignored rather than counted as bad, several ``data`` entries, swaps beside spot, and frames
the fast path must leave to the full path for its reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cryptows.models import BadFrame, Channel, Event, Quote, SubscriptionAck
from cryptows.symbols import Symbol
from cryptows.venues import okx
from cryptows.venues.okx import OkxAdapter

VENUE = "okx"

# Push shapes of channels we never subscribe to (okx.com/docs-v5/en, "Candlesticks channel" and
# "Trades channel"): candle rows are arrays [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm].
CANDLE_1M = (
    b'{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1597026383085","8533.02",'
    b'"8553.74","8527.17","8548.26","45247","529.5858061","5.21","0"]]}'
)
TRADES = (
    b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT",'
    b'"tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy",'
    b'"ts":"1630048897897","count":"3","seqId":1234}]}'
)
UNREAD: dict[str, bytes | str] = {
    "candle1m": CANDLE_1M,
    "candle1m-str": CANDLE_1M.decode(),
    "candle1m-pretty": json.dumps(json.loads(CANDLE_1M), indent=2),
    "candle1H-two-rows": json.dumps(
        {
            "arg": {"channel": "candle1H", "instId": "ETH-USDT"},
            "data": [
                ["1", "2", "3", "1", "2", "10", "20", "20", "0"],
                ["2", "", "", "", "", "", "", "", "1"],
            ],
        }
    ),
    "trades": TRADES,
    "trades-str": TRADES.decode(),
    "trades-swap": TRADES.replace(b"BTC-USDT", b"BTC-USDT-SWAP"),
}


def _adapter(*, fast: bool) -> OkxAdapter:
    adapter = OkxAdapter()
    adapter.fast_path = fast
    return adapter


def _fast_only(frame: bytes | str, adapter: OkxAdapter | None = None) -> list[Event] | None:
    """What the fast path alone gives for a frame received at (7, 8); ``None`` if it declines
    (returns ``None`` or raises)."""
    adapter = adapter or _adapter(fast=True)
    adapter._recv_mono_ns, adapter._recv_wall_ms = 7, 8  # what parse() stores before the call
    try:
        return adapter._parse_fast(frame)
    except Exception:  # noqa: BLE001 - raising is how a fast path may decline
        return None


def _both(frame: bytes | str) -> tuple[list[Event], list[Event]]:
    fast = _adapter(fast=True).parse(frame, recv_mono_ns=7, recv_wall_ms=8)
    full = _adapter(fast=False).parse(frame, recv_mono_ns=7, recv_wall_ms=8)
    return fast, full


@pytest.mark.parametrize("name", sorted(UNREAD))
def test_channels_we_do_not_read_are_ignored_not_bad(name: str) -> None:
    frame = UNREAD[name]
    fast, full = _both(frame)
    assert full == []
    assert fast == []
    assert _fast_only(frame) in (None, [])  # the fast path agrees, or leaves it to the full path


def test_unread_channel_data_of_any_shape_is_ignored() -> None:
    for data in ([[1, [2]]], [None], "x", {"a": 1}, []):
        frame = json.dumps({"arg": {"channel": "candle1m", "instId": "BTC-USDT"}, "data": data})
        assert _both(frame) == ([], [])


def test_channels_we_read_still_refuse_array_items() -> None:
    frame = CANDLE_1M.replace(b"candle1m", b"tickers")
    fast, full = _both(frame)
    assert fast == full
    [bad] = full
    assert isinstance(bad, BadFrame)
    assert bad.reason == "undecodable: Expected `object`, got `array` - at `$.data[0]`"


def _ticker(**fields: Any) -> dict[str, Any]:
    item = {
        "instType": "SPOT",
        "instId": "BTC-USDT",
        "last": "100.5",
        "lastSz": "0.1",
        "askPx": "101",
        "askSz": "2",
        "bidPx": "100",
        "bidSz": "3",
        "open24h": "98",
        "vol24h": "42",
        "volCcy24h": "4200",
        "ts": "1700000000000",
    }
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def _push(*items: dict[str, Any], channel: str = "tickers", inst_id: str = "BTC-USDT") -> str:
    return json.dumps({"arg": {"channel": channel, "instId": inst_id}, "data": list(items)})


def _taken(frame: bytes | str) -> list[Event]:
    """The fast path's events, which must exist and equal the full path's."""
    fast = _fast_only(frame)
    assert fast is not None, f"the fast path declined {frame!r:.200}"
    _, full = _both(frame)
    assert fast == full
    return fast


def test_fast_path_reads_every_entry_and_skips_swaps() -> None:
    frame = _push(
        _ticker(),
        _ticker(instType="SWAP", instId="BTC-USDT-SWAP"),
        _ticker(instId=None, last="100.25"),  # instId only in arg
        _ticker(instId="ETH-USDT", instType=None),
    )
    events = _taken(frame)
    assert [(e.symbol, e.last) for e in events if isinstance(e, Quote)] == [
        ("BTCUSDT", 100.5),
        ("BTCUSDT", 100.25),
        ("ETHUSDT", 100.5),
    ]


def test_fast_quote_is_the_full_quote_field_for_field() -> None:
    adapter = _adapter(fast=True)
    [quote] = adapter.parse(OkxAdapter.sample_quote_frame, recv_mono_ns=11, recv_wall_ms=12)
    assert _fast_only(OkxAdapter.sample_quote_frame) is not None
    assert quote == Quote(
        venue=VENUE,
        symbol="BTCUSDT",
        channel=Channel.TICKER,
        bid=8888.88,
        bid_size=5.0,
        ask=9999.99,
        ask_size=11.0,
        last=9999.99,
        volume_24h=2222.0,
        change_24h_pct=(9999.99 - 9000) / 9000 * 100,
        exchange_ts_ms=1597026383085,
        recv_mono_ns=11,
        recv_wall_ms=12,
    )


@pytest.mark.parametrize(
    ("fields", "change"),
    [
        ({"open24h": "0"}, None),
        ({"open24h": None}, None),
        ({"last": None}, None),
        ({"last": "1e308", "open24h": "1e-300"}, None),  # overflows: no change
        ({"last": "99", "open24h": "100"}, -1.0),
    ],
)
def test_fast_change_matches_the_full_path(fields: dict[str, Any], change: float | None) -> None:
    [quote] = _taken(_push(_ticker(**fields)))
    assert isinstance(quote, Quote)
    assert quote.change_24h_pct == (change if change is None else pytest.approx(change))


def test_lower_case_inst_id_gives_the_canonical_symbol_twice() -> None:
    frame = _push(_ticker(instId="btc-usdt"), inst_id="btc-usdt")
    for _ in range(2):  # the second time from the cache
        [quote] = _taken(frame)
        assert isinstance(quote, Quote)
        assert quote.symbol == "BTCUSDT"


def test_symbol_cache_is_bounded() -> None:
    adapter = _adapter(fast=True)
    for i in range(okx._SYMBOLS_MAX + 10):
        adapter.parse(_push(_ticker(instId=f"C{i}-USDT"), inst_id=f"C{i}-USDT"))
    assert 0 < len(okx._SYMBOLS) <= okx._SYMBOLS_MAX


def _book(bids: Any, asks: Any, channel: str = "bbo-tbt") -> str:
    item = {"asks": asks, "bids": bids, "ts": "1700000000000", "seqId": 5}
    return _push(item, channel=channel)


def test_fast_path_reads_book_pushes() -> None:
    [quote] = _taken(_book([["100", "1.5", "0", "2"]], [["101", "2", "0", "3"]]))
    assert quote == Quote(
        venue=VENUE,
        symbol="BTCUSDT",
        channel=Channel.BOOK,
        bid=100.0,
        bid_size=1.5,
        ask=101.0,
        ask_size=2.0,
        exchange_ts_ms=1700000000000,
        recv_mono_ns=7,
        recv_wall_ms=8,
    )
    levels = [[str(100 - i), "1", "0", "1"] for i in range(5)]
    [one_side] = _taken(_book(levels, [], channel="books5"))
    assert isinstance(one_side, Quote)
    assert (one_side.bid, one_side.ask) == (100.0, None)


@pytest.mark.parametrize(
    "frame",
    [
        _push(_ticker(bidPx="102", askPx="101")),
        _push(_ticker(), _ticker(bidPx="102", askPx="101")),  # one bad entry spoils the push
        _push(_ticker(bidPx="", bidSz="")),
        _push(_ticker(bidPx=None, askPx=None, last=None)),
        _push(_ticker(ts=None)),
        _push(_ticker(instId="BTC USDT"), inst_id="BTC USDT"),
        _push(),
        _book([["102", "1", "0", "1"]], [["101", "1", "0", "1"]]),
        _book([["100", "1"]], [["101", "1", "0", "1"]]),  # a level of another length
        _book([], []),
    ],
    ids=[
        "crossed-ticker",
        "crossed-second-entry",
        "empty-fields",
        "no-prices",
        "no-ts",
        "bad-inst-id",
        "no-data",
        "crossed-book",
        "short-level",
        "empty-book",
    ],
)
def test_fast_path_leaves_these_to_the_full_path(frame: str) -> None:
    assert _fast_only(frame) is None
    fast, full = _both(frame)
    assert fast == full


def test_crossed_book_reason_comes_from_the_full_path() -> None:
    [bad] = _adapter(fast=True).parse(_push(_ticker(bidPx="102", askPx="101")))
    assert isinstance(bad, BadFrame)
    assert bad.reason == "crossed book: bid 102.0 > ask 101.0"


def test_acks_through_the_fast_path_name_our_request() -> None:
    fast, full = _adapter(fast=True), _adapter(fast=False)
    for adapter in (fast, full):
        adapter.subscribe([Symbol("BTC", "USDT")])
    frame = json.dumps(
        {"id": "1", "event": "subscribe", "arg": {"channel": "tickers", "instId": "BTC-USDT"}}
    )
    expected = [
        SubscriptionAck(
            venue=VENUE,
            op="subscribe",
            req_id="1",
            symbols=("BTCUSDT",),
            topics=("tickers:BTC-USDT",),
        )
    ]
    assert _fast_only(frame, fast) == expected
    assert fast.parse(frame) == full.parse(frame) == expected


# A lax decoder (strict=False) reads the string "null" (any case) as None for an optional type
# without str in it, and a JSON 5.0 as 5 for one with int in it; the full path refuses both.
_LAX_TRAPS: dict[str, str] = {
    **{
        f"{field}={spelling}": _push(_ticker(**{field: spelling}))
        for field in ("bidPx", "bidSz", "askPx", "askSz", "last", "open24h", "vol24h", "ts")
        for spelling in ("null", "NULL", "Null")
    },
    "ticker-bids=null": _push(_ticker(bids="null")),
    "book-asks=null": _book([["100", "1", "0", "1"]], "null"),
    "book-px=null": _book([["null", "1", "0", "1"]], []),
    "ack-arg=null": json.dumps({"event": "subscribe", "arg": "null", "id": "1"}),
    "push-arg=null": json.dumps({"arg": "null", "data": [_ticker()]}),
    "push-data=null": json.dumps({"arg": {"channel": "tickers"}, "data": "null"}),
    "ack-id=float": json.dumps(
        {"event": "subscribe", "arg": {"channel": "tickers", "instId": "BTC-USDT"}, "id": 1.0}
    ),
    "error-code=float": json.dumps({"event": "error", "code": 60018.0, "msg": "x"}),
    "push-id=float": json.dumps({"arg": {"channel": "tickers"}, "data": [_ticker()], "id": 2.0}),
}


@pytest.mark.parametrize("name", sorted(_LAX_TRAPS))
def test_lax_decoding_reads_nothing_the_full_path_refuses(name: str) -> None:
    frame = _LAX_TRAPS[name]
    fast, full = _both(frame)
    assert fast == full
    assert len(full) == 1
    assert isinstance(full[0], BadFrame)
