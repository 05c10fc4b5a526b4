"""What the ``VenueAdapter`` base does for every venue: request batching and ids, ack and error
attribution, receipt stamping; and the per-venue facts every registered adapter must declare."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import ClassVar

import pytest

from cryptows.bench import bench_decode
from cryptows.models import Channel, Event, Quote, SubscriptionAck
from cryptows.symbols import Symbol, parse_symbol
from cryptows.venues import ADAPTERS, VENUE_NAMES
from cryptows.venues.base import (
    Frame,
    HeartbeatPolicy,
    Op,
    Probe,
    VenueAdapter,
    VenueLimits,
)


class _Toy(VenueAdapter):
    """A minimal venue: 5 topics per request, 2 per symbol, so 2 symbols per request."""

    name: ClassVar[str] = "toy"
    display_name: ClassVar[str] = "Toy"
    short_name: ClassVar[str] = "toy"
    default_ws_url: ClassVar[str] = "wss://toy.invalid/ws"
    default_rest_url: ClassVar[str] = "https://toy.invalid"
    default_taker_fee_pct: ClassVar[float] = 0.1
    rest_time_path: ClassVar[str] = "/time"
    rest_symbols_path: ClassVar[str] = "/symbols"
    heartbeat: ClassVar[HeartbeatPolicy] = HeartbeatPolicy(probe=Probe.PROTOCOL, answer="pong")
    limits: ClassVar[VenueLimits] = VenueLimits(
        max_topics_per_request=5, max_topics_per_connection=100, min_send_interval_s=0.1
    )
    topics_per_symbol: ClassVar[int] = 2
    sample_quote_frame: ClassVar[bytes] = b'{"s":"BTCUSDT","b":"1","a":"2"}'

    def venue_symbol(self, symbol: Symbol) -> str:
        return symbol.canonical.lower()

    def _request_body(
        self, op: Op, batch: Sequence[Symbol], req_id: int | None
    ) -> dict[str, object]:
        return {"op": op, "id": req_id, "args": [self.venue_symbol(s) for s in batch]}

    def _parse(self, frame: Frame) -> list[Event]:
        body = json.loads(frame)
        return [self.quote(body["s"], Channel.BOOK, bid=body["b"], ask=body["a"])]

    def parse_server_time(self, body: bytes | str) -> int:
        return 0

    def parse_symbol_list(self, body: bytes | str) -> frozenset[str]:
        return frozenset()


class _ToyWithoutIds(_Toy):
    issues_request_ids: ClassVar[bool] = False


def _symbols(count: int) -> list[Symbol]:
    return [parse_symbol(f"C{i}USDT") for i in range(count)]


@pytest.mark.parametrize("op", ["subscribe", "unsubscribe"])
def test_requests_are_batched_by_whole_symbols_with_fresh_recorded_ids(op: str) -> None:
    adapter = _Toy()
    symbols = _symbols(5)
    frames = adapter.subscribe(symbols) if op == "subscribe" else adapter.unsubscribe(symbols)
    bodies = [json.loads(f) for f in frames]
    # 5 topics per request at 2 per symbol: 2 symbols (4 topics) a request, never 2.5.
    assert [b["args"] for b in bodies] == [
        ["c0usdt", "c1usdt"],
        ["c2usdt", "c3usdt"],
        ["c4usdt"],
    ]
    assert [b["op"] for b in bodies] == [op] * 3
    assert [b["id"] for b in bodies] == [1, 2, 3]
    for body in bodies:
        request = adapter.request(body["id"])
        assert request is not None
        assert request.op == op
        assert request.symbols == tuple(a.upper() for a in body["args"])
    # Ids keep counting across calls; nothing is sent for no symbols.
    assert [json.loads(f)["id"] for f in adapter.subscribe(_symbols(1))] == [4]
    assert adapter.subscribe([]) == []


def test_frames_are_compact_json_in_the_bodys_key_order() -> None:
    [frame] = _Toy().subscribe(_symbols(1))
    assert frame == '{"op":"subscribe","id":1,"args":["c0usdt"]}'


def test_a_venue_without_request_ids_is_issued_none_and_records_nothing() -> None:
    adapter = _ToyWithoutIds()
    bodies = [json.loads(f) for f in adapter.subscribe(_symbols(3))]
    assert [b["id"] for b in bodies] == [None, None]
    assert adapter.request(1) is None
    assert adapter.request("1") is None


def test_acks_and_errors_are_attributed_to_our_requests() -> None:
    adapter = _Toy()
    adapter.subscribe(_symbols(1))  # id 1: one symbol
    adapter.unsubscribe(_symbols(2))  # id 2: two symbols
    assert adapter.ack("1") == SubscriptionAck(
        venue="toy", op="subscribe", req_id="1", symbols=("C0USDT",)
    )
    assert adapter.ack("2", "subscribe").op == "subscribe"  # the reply's word wins
    assert adapter.ack("2").symbols == ("C0USDT", "C1USDT")
    assert adapter.ack("99") == SubscriptionAck(venue="toy", op="unknown", req_id="99")
    assert adapter.ack(None, "subscribe").symbols == ()
    assert adapter.request_symbol("1") == "C0USDT"
    assert adapter.request_symbol("2") is None  # several symbols: no one of them to blame
    assert adapter.request_symbol("99") is None
    assert adapter.request_symbol(None) is None


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_every_venue_batches_within_its_limit(venue: str) -> None:
    cls = ADAPTERS[venue]
    per_request = cls.limits.max_topics_per_request // cls.topics_per_symbol
    count = 2 * per_request + 1
    adapter = cls()
    frames = adapter.subscribe(_symbols(count))
    assert len(frames) == math.ceil(count / per_request) == 3
    issued = [adapter.request(i) for i in range(1, 4)]
    if cls.issues_request_ids:
        assert [len(r.symbols) if r else 0 for r in issued] == [per_request, per_request, 1]
    else:
        assert issued == [None, None, None]


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_every_venue_stamps_quotes_with_the_receipt_of_their_own_frame(venue: str) -> None:
    adapter = ADAPTERS[venue]()
    frame = adapter.sample_quote_frame
    stamps = [
        (q.recv_mono_ns, q.recv_wall_ms)
        for mono, wall in ((5, 7), (11, 13), (0, 0))
        for q in adapter.parse(frame, recv_mono_ns=mono, recv_wall_ms=wall)
        if isinstance(q, Quote)
    ]
    assert stamps == [(5, 7), (11, 13), (0, 0)]
    [unstamped] = adapter.parse(frame)  # no receipt given: none left over from the last frame
    assert isinstance(unstamped, Quote)
    assert (unstamped.recv_mono_ns, unstamped.recv_wall_ms) == (0, 0)


def test_the_base_stamps_quotes_of_any_adapter() -> None:
    [q] = _Toy().parse(_Toy.sample_quote_frame, recv_mono_ns=3, recv_wall_ms=4)
    assert isinstance(q, Quote)
    assert (q.recv_mono_ns, q.recv_wall_ms) == (3, 4)


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_every_venue_declares_its_facts(venue: str) -> None:
    cls = ADAPTERS[venue]
    assert cls.name == venue
    assert 1 <= len(cls.short_name) <= 3
    assert cls.short_name == cls.short_name.lower()
    [quote] = cls().parse(cls.sample_quote_frame)
    assert isinstance(quote, Quote)
    assert quote.venue == venue
    assert json.loads(cls.sample_quote_frame)  # compact JSON as sent: no whitespace padding
    assert b"\n" not in cls.sample_quote_frame


def test_short_names_tell_the_venues_apart() -> None:
    assert len({cls.short_name for cls in ADAPTERS.values()}) == len(ADAPTERS)


def test_the_decode_benchmark_parses_every_registered_venue() -> None:
    labels = [label for label, _ in bench_decode(number=1, repeat=1)]
    assert [label for label in labels if label.startswith("full parse")] == [
        f"full parse -> Quote: {venue}" for venue in VENUE_NAMES
    ]
