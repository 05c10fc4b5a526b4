"""Every adapter's fast path gives exactly what its full path gives, frame for frame.

``VenueAdapter.parse`` tries ``_parse_fast`` (typed decoding, checks in C) before ``_parse``; the
fast path may only decline, never differ. Each case parses the same frame with two fresh
adapters that issued the same requests, one with the fast path off, and compares the events
(quotes value for value, bad frames reason for reason). The venue-shaped fuzzing in
``test_parse_fuzz.py`` compares the two paths as well.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptows.models import Event, Quote
from cryptows.symbols import parse_symbol
from cryptows.venues import ADAPTERS, VENUE_NAMES, VenueAdapter, get_adapter
from tests.conftest import FIXTURES
from tests.unit.test_parse_fuzz import _KEYS, _mutations

_SYMBOLS = [parse_symbol(s) for s in ("BTCUSDT", "ETHUSDT", "BNBUSDT", "BTC-USD")]

# Spellings of a number that the full path reads one way or refuses with a reason: the fast path
# must agree or decline.
_NUMBER_SPELLINGS: list[Any] = [
    "1.5", " 1.5", "1.5 ", "1_0", "+1.5", "1e5", "1E-3", "inf", "Infinity", "-inf", "NaN", "nan",
    "-0", "0", "0.0", "-1", ".5", "5.", "00012", "\u0661\u0662", "1e400", "", "0x10", "true",
    "null", "NULL", "Null", "none", 1.5, 5.0, 5, 0, -1, 1e308, 2**64, True, False, None, [], {},
]  # fmt: skip


def _adapter(venue: str, *, fast: bool) -> VenueAdapter:
    adapter = get_adapter(venue)
    adapter.fast_path = fast
    adapter.subscribe(_SYMBOLS)  # the same request ids on both sides, for ack/error attribution
    adapter.unsubscribe(_SYMBOLS[:1])
    return adapter


def _both(venue: str, frame: bytes | str) -> tuple[list[Event], list[Event]]:
    fast = _adapter(venue, fast=True).parse(frame, recv_mono_ns=123, recv_wall_ms=456)
    full = _adapter(venue, fast=False).parse(frame, recv_mono_ns=123, recv_wall_ms=456)
    return fast, full


def _assert_same(venue: str, frame: bytes | str) -> None:
    fast, full = _both(venue, frame)
    assert fast == full, f"{venue}: fast path differs on {frame!r:.300}"


def _fixture_frames(venue: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((FIXTURES / venue).glob("*.json"))]


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_fixtures_give_the_same_events_as_bytes_str_and_compact(venue: str) -> None:
    for raw in _fixture_frames(venue):
        _assert_same(venue, raw)
        _assert_same(venue, raw.decode())
        _assert_same(venue, json.dumps(json.loads(raw), separators=(",", ":")).encode())


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_every_single_mutation_of_every_fixture_gives_the_same_events(venue: str) -> None:
    for raw in _fixture_frames(venue):
        for mutated in _mutations(json.loads(raw)):
            _assert_same(venue, json.dumps(mutated, separators=(",", ":")).encode())


def _dict_paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [path] + [p for k, v in obj.items() for p in _dict_paths(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _dict_paths(v, (*path, i))]
    return []


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_an_added_or_repeated_key_in_any_object_gives_the_same_events(venue: str) -> None:
    """A key the full path reads turning up where a fast struct does not expect it, or twice."""
    for raw in _fixture_frames(venue):
        original = json.loads(raw)
        for path in _dict_paths(original):
            target = _at(original, path)
            for key in _KEYS:
                for value in ("1", None, "x", 1.0):
                    _assert_same(
                        venue, json.dumps(_replaced(original, path, target | {key: value}))
                    )
            for key in target:  # the same key again, with another spelling
                text = json.dumps(target, separators=(",", ":"))
                again = text[:-1] + ("," if len(target) else "") + f'"{key}":"1.0"}}'
                frame = json.dumps(_replaced(original, path, "\x00")).replace('"\\u0000"', again)
                _assert_same(venue, frame)


def _leaf_paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaf_paths(v, (*path, i))]
    return [path]


def _replaced(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        return obj | {head: _replaced(obj[head], rest, value)}
    return [*obj[:head], _replaced(obj[head], rest, value), *obj[head + 1 :]]


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_every_number_spelling_in_every_quote_frame_gives_the_same_events(venue: str) -> None:
    checked = 0
    for raw in _fixture_frames(venue):
        if not any(isinstance(e, Quote) for e in _adapter(venue, fast=False).parse(raw)):
            continue
        original = json.loads(raw)
        for path in _leaf_paths(original):
            for spelling in _NUMBER_SPELLINGS:
                mutated = _replaced(original, path, spelling)
                _assert_same(venue, json.dumps(mutated, separators=(",", ":")))
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("venue", VENUE_NAMES)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=st.binary(max_size=200))
def test_arbitrary_bytes_give_the_same_events(venue: str, frame: bytes) -> None:
    _assert_same(venue, frame)


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_fast_path_takes_every_quote_fixture(venue: str) -> None:
    """A fast path that declines the frames it exists for is slow, not wrong: this catches it."""
    frames = [*_fixture_frames(venue), ADAPTERS[venue].sample_quote_frame]
    taken = 0
    for raw in frames:
        if any(isinstance(e, Quote) for e in _adapter(venue, fast=False).parse(raw)):
            assert _adapter(venue, fast=True)._parse_fast(raw) is not None, raw[:200]
            taken += 1
    assert taken >= 2
