"""Property tests: no adapter's ``parse`` ever raises, whatever arrives on the socket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptows.models import BadFrame, Quote
from cryptows.venues import VENUE_NAMES, get_adapter
from tests.conftest import FIXTURES

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=25,
)

# Keys and values the venues really use, so the fuzzer reaches deep into the parsers.
_KEYS = [
    "stream", "data", "result", "id", "error", "code", "msg", "e", "E", "s", "u", "b", "B", "a",
    "A", "c", "v", "topic", "type", "ts", "op", "success", "ret_msg", "req_id", "lastPrice",
    "volume24h", "symbol", "event", "arg", "channel", "instId", "bidPx", "bidSz", "askPx",
    "askSz", "last", "vol24h", "asks", "bids", "product_id", "price", "best_bid", "best_ask",
    "best_bid_size", "best_ask_size", "volume_24h", "time", "reason", "message", "channels",
    "product_ids", "name", "sequence",
]  # fmt: skip
_VALUES = st.sampled_from(
    [
        "BTCUSDT", "BTC-USDT", "BTC-USD", "orderbook.1.BTCUSDT", "tickers.BTCUSDT", "tickers",
        "bbo-tbt", "ticker", "heartbeat", "error", "subscribe", "subscriptions", "snapshot",
        "24hrTicker", "btcusdt@bookTicker", "1", "0", "-1", "NaN", "inf", "1e400", "",
        "2022-10-19T23:28:22.061769Z", "not-a-time", "ping", "pong", "60018",
    ]
)  # fmt: skip
venue_like = st.recursive(
    json_values | _VALUES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS), children, max_size=8)
    ),
    max_leaves=30,
)


def _check(events: list[Any], venue: str) -> None:
    assert isinstance(events, list), venue
    for event in events:
        assert event.venue == venue
        # A hostile frame is a BadFrame with a reason; an exception inside the parser is a bug.
        assert not (isinstance(event, BadFrame) and event.internal), f"{venue}: {event.reason}"
        if isinstance(event, Quote):
            for value in (event.bid, event.ask, event.last):
                assert value is None or value > 0, venue
            if event.bid is not None and event.ask is not None:
                assert event.bid <= event.ask, venue


@pytest.mark.parametrize("venue", VENUE_NAMES)
@_SETTINGS
@given(frame=st.binary(max_size=300))
def test_parse_never_raises_on_arbitrary_bytes(venue: str, frame: bytes) -> None:
    _check(get_adapter(venue).parse(frame), venue)


# The two JSON properties below give every generated value to every venue, in turn: each venue
# still parses max_examples values of the same distribution as when the test was parametrized
# by venue, but generating them (nearly all of the time: the parsers take microseconds) is
# done once, not once per venue.


@_SETTINGS
@given(value=json_values)
def test_parse_never_raises_on_arbitrary_json(value: Any) -> None:
    frame = json.dumps(value)
    for venue in VENUE_NAMES:
        _check(get_adapter(venue).parse(frame), venue)


@_SETTINGS
@given(value=venue_like)
def test_parse_never_raises_on_venue_shaped_json(value: Any) -> None:
    frame = json.dumps(value).encode()
    for venue in VENUE_NAMES:
        events = get_adapter(venue).parse(frame)
        _check(events, venue)
        full = get_adapter(venue)
        full.fast_path = False
        assert events == full.parse(frame), f"{venue}: the fast path differs from the full path"


def _mutations(obj: Any) -> list[Any]:
    """Every copy of ``obj`` with one leaf replaced by a hostile value or one key dropped."""
    hostile: list[Any] = [None, "", "NaN", "-1", "0", True, [], {}, "x" * 50, 2**64]
    out: list[Any] = []
    if isinstance(obj, dict):
        for key, val in obj.items():
            out.append({k: v for k, v in obj.items() if k != key})
            for sub in _mutations(val) + hostile:
                out.append(obj | {key: sub})
    elif isinstance(obj, list):
        for i, val in enumerate(obj):
            for sub in _mutations(val) + hostile:
                out.append(obj[:i] + [sub] + obj[i + 1 :])
    return out


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_every_single_mutation_of_every_fixture_is_safe(venue: str) -> None:
    folder = FIXTURES / venue
    count = 0
    total_quotes = 0
    for path in sorted(folder.glob("*.json")):
        original = json.loads(path.read_bytes())
        was_quote = any(isinstance(e, Quote) for e in get_adapter(venue).parse(path.read_bytes()))
        quotes = 0
        for mutated in _mutations(original):
            events = get_adapter(venue).parse(json.dumps(mutated))
            _check(events, venue)
            count += 1
            quotes += sum(isinstance(e, Quote) for e in events)
        total_quotes += quotes
        if was_quote:
            # Many single mutations leave a usable quote (an optional field dropped, an id
            # changed): a parser that refuses every variant is broken, not safe.
            assert quotes > 0, path.name
    assert count > 100
    assert total_quotes > 0, "no mutation of any fixture gave a quote: the parser is broken"


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_truncated_fixtures_are_bad_frames(venue: str) -> None:
    for path in sorted((FIXTURES / venue).glob("*.json")):
        raw = path.read_bytes().strip()
        events = get_adapter(venue).parse(raw[: len(raw) // 2])
        assert len(events) == 1, path.name
        assert isinstance(events[0], BadFrame), path.name
