"""What ``python -m cryptows.bench`` measures (never how fast): the stream, the floor, the
pipeline; and what ``cryptows --help`` loads."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from cryptows.bench import main, make_pipeline
from cryptows.bench.floor import FLOOR_TYPES, floor_decoders
from cryptows.bench.stream import (
    ACK,
    ERROR,
    HEARTBEAT,
    IGNORED,
    KINDS,
    QUOTE,
    SYMBOLS,
    Stream,
    generate,
    kind_counts,
)
from cryptows.bench.suite import TINY
from cryptows.config import load_settings
from cryptows.market.aggregator import Aggregator
from cryptows.market.types import ArbEvent, ArbEventType
from cryptows.models import Event, Heartbeat, Quote, SubscriptionAck, SubscriptionError
from cryptows.symbols import parse_symbols
from cryptows.venues import ADAPTERS, VENUE_NAMES
from tests.conftest import fixture_bytes

_OUTCOME_EVENT = {
    QUOTE: "Quote",
    IGNORED: "nothing",
    ACK: "SubscriptionAck",
    HEARTBEAT: "Heartbeat",
    ERROR: "SubscriptionError",
}


@pytest.fixture(scope="module")
def stream() -> Stream:
    return generate(3_000, seed=11)


def _parse(stream: Stream) -> list[list[Event]]:
    adapters = {name: ADAPTERS[name]() for name in stream.venues}
    for adapter in adapters.values():
        adapter.subscribe(parse_symbols(stream.symbols))
    return [adapters[f.venue].parse(f.frame, recv_wall_ms=f.recv_ms) for f in stream.frames]


# -- the suite, in tiny mode ------------------------------------------------------------------


def test_the_tiny_suite_reports_what_it_measured(capsys: pytest.CaptureFixture[str]) -> None:
    # The suite collects garbage before each timed loop (some 60 times): with the whole test
    # session's heap frozen (left out of collections) each costs the suite's garbage only.
    gc.freeze()
    try:
        main(["--tiny", "--json"])
    finally:
        gc.unfreeze()
    out = capsys.readouterr().out
    report = json.loads(out)  # one JSON object, nothing else on stdout
    kinds = report["kinds"]
    expected = kind_counts(TINY.frames)
    assert report["stream"]["frames"] == TINY.frames == sum(expected.values())
    assert {label: row["frames"] for label, row in kinds.items()} == expected
    assert list(kinds) == [k.label for venue in VENUE_NAMES for k in KINDS[venue]]
    for label, row in kinds.items():
        # every frame of a kind gives exactly what the kind is documented to give
        assert row["events"] == {_OUTCOME_EVENT[row["outcome"]]: row["frames"]}, label
        assert row["timed_frames"] >= max(row["frames"], TINY.kind_frames)
    mixed = report["mixed"]
    quotes = sum(row["frames"] for row in kinds.values() if row["outcome"] == QUOTE)
    assert mixed["frames"] == TINY.frames
    assert mixed["quotes_to_aggregator"] == quotes
    assert mixed["bad_frames"] == 0
    assert mixed["arb_opened"] >= 1  # the stream's forced dislocation
    assert [row["venues"] for row in report["aggregate"]] == [2, 4, 8, 16]
    assert report["help"]["runs"] == TINY.help_runs
    timings = [mixed[k] for k in ("floor_us", "parse_us", "parse_str_us", "ingest_us")]
    timings += [row[k] for row in kinds.values() for k in ("floor_us", "parse_us", "ingest_us")]
    assert all(isinstance(t, float) for t in timings)  # present; their values are not tested


# -- the stream -------------------------------------------------------------------------------


def test_the_stream_is_seeded_and_holds_the_documented_mix(stream: Stream) -> None:
    assert generate(3_000, seed=11) == stream
    assert generate(3_000, seed=12).frames != stream.frames
    assert stream.counts() == kind_counts(3_000)
    shares = {k.label: k.share for venue in VENUE_NAMES for k in KINDS[venue]}
    assert all(sum(k.share for k in KINDS[venue]) == pytest.approx(100) for venue in VENUE_NAMES)
    assert stream.counts()["binance/bookTicker"] == pytest.approx(
        3_000 * 0.35 * shares["binance/bookTicker"] / 100, abs=2
    )
    for venue in VENUE_NAMES:  # a connection's first frame is its subscription ack
        first = next(f for f in stream.frames if f.venue == venue)
        assert next(k for k in KINDS[venue] if k.name == first.kind).outcome == ACK
    times = [f.recv_ms for f in stream.frames]
    assert times == sorted(times)
    assert {f.venue for f in stream.frames} == set(VENUE_NAMES)
    assert set(stream.symbols) == set(SYMBOLS)


def test_every_frame_parses_to_its_kinds_outcome(stream: Stream) -> None:
    kinds = {k.label: k for venue in VENUE_NAMES for k in KINDS[venue]}
    for f, events in zip(stream.frames, _parse(stream), strict=True):
        outcome = kinds[f.label].outcome
        got = [type(e).__name__ for e in events] or ["nothing"]
        assert got == [_OUTCOME_EVENT[outcome]], (f.label, events)


_FIXTURES = {
    "binance/bookTicker": ("binance", "book_ticker__combined.json"),
    "binance/24hrTicker": ("binance", "ticker_24hr__combined.json"),
    "binance/24hrMiniTicker": ("binance", "mini_ticker__combined.json"),
    "binance/ack": ("binance", "subscribe_ack.json"),
    "bybit/orderbook.1": ("bybit", "orderbook_1__snapshot.json"),
    "bybit/tickers": ("bybit", "tickers__spot.json"),
    "bybit/pong": ("bybit", "pong.json"),
    "bybit/ack": ("bybit", "subscribe_ack.json"),
    "okx/tickers": ("okx", "tickers.json"),
    "okx/bbo-tbt": ("okx", "bbo_tbt.json"),
    "okx/books5": ("okx", "books5.json"),
    "okx/ack": ("okx", "subscribe_ack__with_id.json"),
    "coinbase/ticker": ("coinbase", "ticker.json"),
    "coinbase/heartbeat": ("coinbase", "heartbeat.json"),
    "coinbase/subscriptions": ("coinbase", "subscriptions_ack.json"),
    "coinbase/error": ("coinbase", "subscribe_error__unknown_product.json"),
}


def _shape(value: object) -> object:
    """Keys in order, recursively (a list by its first item), and the JSON type of each leaf."""
    if isinstance(value, dict):
        return [(key, _shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def test_frames_are_compact_json_shaped_like_the_venues_own(stream: Stream) -> None:
    seen: set[str] = set()
    for f in stream.frames:
        if f.label == "okx/pong":
            assert f.frame == fixture_bytes("okx", "pong.txt")
            continue
        body = json.loads(f.frame)
        assert json.dumps(body, separators=(",", ":")).encode() == f.frame  # compact, as sent
        if f.label in _FIXTURES and f.label not in seen:
            seen.add(f.label)
            fixture = json.loads(fixture_bytes(*_FIXTURES[f.label]))
            if f.label == "bybit/pong":  # our pings carry a req_id, which the pong echoes
                assert body.pop("req_id").startswith("ping-")
            assert _shape(body) == _shape(fixture), f.label
    assert seen == set(_FIXTURES)


# -- the floor --------------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _num(text: str) -> float:
    return float(text)


def _ms(text: str) -> int:
    return (datetime.fromisoformat(text) - _EPOCH) // timedelta(milliseconds=1)


def _change(last: str, opened: str) -> float:
    return (float(last) - float(opened)) / float(opened) * 100


def _quote_fields(q: Quote) -> dict[str, Any]:
    return {
        "symbol": q.symbol,
        "bid": q.bid,
        "bid_size": q.bid_size,
        "ask": q.ask,
        "ask_size": q.ask_size,
        "last": q.last,
        "volume_24h": q.volume_24h,
        "change_24h_pct": q.change_24h_pct,
        "exchange_ts_ms": q.exchange_ts_ms,
    }


def _book(symbol: str, bid: list[str], ask: list[str], ts: int | None) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "bid": _num(bid[0]),
        "bid_size": _num(bid[1]),
        "ask": _num(ask[0]),
        "ask_size": _num(ask[1]),
        "last": None,
        "volume_24h": None,
        "change_24h_pct": None,
        "exchange_ts_ms": ts,
    }


def _ticker(
    symbol: str, bid: list[str] | None, ask: list[str] | None, last: str, volume: str
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "bid": _num(bid[0]) if bid else None,
        "bid_size": _num(bid[1]) if bid else None,
        "ask": _num(ask[0]) if ask else None,
        "ask_size": _num(ask[1]) if ask else None,
        "last": _num(last),
        "volume_24h": _num(volume),
    }


def _binance_book(x: Any) -> dict[str, Any]:
    d = x.data
    return _book(d.s, [d.b, d.B], [d.a, d.A], None)  # spot bookTicker has no time


def _binance_ticker(x: Any) -> dict[str, Any]:
    d = x.data
    fields = _ticker(d.s, [d.b, d.B], [d.a, d.A], d.c, d.v)
    return fields | {"change_24h_pct": _num(d.P), "exchange_ts_ms": d.E}


def _binance_mini(x: Any) -> dict[str, Any]:
    d = x.data
    fields = _ticker(d.s, None, None, d.c, d.v)
    return fields | {"change_24h_pct": _change(d.c, d.o), "exchange_ts_ms": d.E}


def _bybit_ticker(x: Any) -> dict[str, Any]:
    d = x.data
    fields = _ticker(d.symbol, None, None, d.lastPrice, d.volume24h)
    return fields | {"change_24h_pct": _num(d.price24hPcnt) * 100, "exchange_ts_ms": x.ts}


def _okx_ticker(x: Any) -> dict[str, Any]:
    [d] = x.data
    symbol = d.instId.replace("-", "")
    fields = _ticker(symbol, [d.bidPx, d.bidSz], [d.askPx, d.askSz], d.last, d.vol24h)
    return fields | {"change_24h_pct": _change(d.last, d.open24h), "exchange_ts_ms": int(d.ts)}


def _okx_book(x: Any) -> dict[str, Any]:
    [d] = x.data
    return _book(x.arg.instId.replace("-", ""), d.bids[0], d.asks[0], int(d.ts))


def _coinbase_ticker(x: Any) -> dict[str, Any]:
    fields = _ticker(
        x.product_id.replace("-", ""),
        [x.best_bid, x.best_bid_size],
        [x.best_ask, x.best_ask_size],
        x.price,
        x.volume_24h,
    )
    return fields | {"change_24h_pct": _change(x.price, x.open_24h), "exchange_ts_ms": _ms(x.time)}


_QUOTE_FIELDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "binance/bookTicker": _binance_book,
    "binance/24hrTicker": _binance_ticker,
    "binance/24hrMiniTicker": _binance_mini,
    "bybit/orderbook.1": lambda x: _book(x.data.s, list(x.data.b[0]), list(x.data.a[0]), x.ts),
    "bybit/tickers": _bybit_ticker,
    "okx/tickers": _okx_ticker,
    "okx/bbo-tbt": _okx_book,
    "okx/books5": _okx_book,
    "coinbase/ticker": _coinbase_ticker,
}
"""Per quote kind: the quote's fields, from the floor's decode of the frame."""


def _other_fields(label: str, x: Any, event: Event | None) -> None:
    """Assert that the floor's decode of a frame that is no quote reads what parse read."""
    venue, kind = label.split("/")
    if event is None:  # ignored: the floor reads what tells it is not ours
        seen = {
            "binance": lambda: x.data.e,
            "bybit": lambda: x.topic.split(".")[0],
            "okx": lambda: x.arg.channel,
            "coinbase": lambda: x.type,
        }[venue]()
        assert seen == kind
    elif isinstance(event, SubscriptionAck):
        if venue == "coinbase":
            ids = {p.replace("-", "") for ch in x.channels for p in ch.product_ids}
            assert set(event.symbols) == ids
        elif venue == "okx":
            assert (event.req_id, event.symbols) == (x.id, (x.arg.instId.replace("-", ""),))
        else:
            assert event.req_id == (str(x.id) if venue == "binance" else x.req_id)
            assert event.symbols  # ours: the request named them
    elif isinstance(event, Heartbeat):
        if venue == "coinbase":
            symbol = x.product_id.replace("-", "")
            assert (event.symbol, event.exchange_ts_ms) == (symbol, _ms(x.time))
        elif venue == "okx":
            assert x is True
        else:
            assert (x.op, x.ret_msg, x.success) == ("ping", "pong", True)
    else:
        assert isinstance(event, SubscriptionError)
        assert event.message == f"{x.message}: {x.reason}"
        product = x.reason.removesuffix(" is not a valid product")
        assert event.symbol == product.replace("-", "")


def test_the_floor_decodes_the_fields_the_adapters_read(stream: Stream) -> None:
    decoders = floor_decoders()
    assert set(decoders) == set(FLOOR_TYPES) == set(stream.counts())
    for f, events in zip(stream.frames, _parse(stream), strict=True):
        floor = decoders[f.label](f.frame)
        event = events[0] if events else None
        if f.label in _QUOTE_FIELDS:
            assert isinstance(event, Quote)
            expected = _QUOTE_FIELDS[f.label](floor)
            got = _quote_fields(event)
            assert got == pytest.approx(expected, rel=1e-12), f.label
        else:
            _other_fields(f.label, floor, event)


def test_the_floor_refuses_what_is_not_its_kind() -> None:
    decoders = floor_decoders()
    with pytest.raises(msgspec.ValidationError):
        decoders["binance/bookTicker"](fixture_bytes("binance", "subscribe_ack.json"))
    assert decoders["okx/pong"](b"ping") is False


# -- make_pipeline ----------------------------------------------------------------------------


def test_the_pipeline_gives_what_the_adapters_and_an_aggregator_give(stream: Stream) -> None:
    pipeline = make_pipeline(stream.symbols, stream.venues)
    for f in stream.frames:
        pipeline.process_at(f.venue, f.frame, f.recv_ms)
    # The same frames through the adapters and an aggregator set up as the service sets it up.
    symbols = parse_symbols(stream.symbols)
    settings = load_settings(None)
    arb = settings.arb
    aggregator = Aggregator(
        symbols,
        fees_pct={v: settings.venues[v].taker_fee_pct for v in stream.venues},
        threshold_pct=arb.threshold_pct,
        hysteresis_pct=min(arb.hysteresis_pct, arb.threshold_pct),
        max_quote_age_ms=arb.max_quote_age_ms,
        equivalents=arb.quote_equivalents,
        confirm_ms=arb.confirm_ms,
    )
    direct: list[ArbEvent] = []
    quotes = 0
    for events in _parse(stream):
        for event in events:
            if isinstance(event, Quote):
                quotes += 1
                direct.extend(aggregator.on_quote(event))
    assert (
        pipeline.quotes
        == quotes
        == sum(n for label, n in stream.counts().items() if label in _QUOTE_FIELDS)
    )
    assert pipeline.bad_frames == 0
    arb_events = pipeline.drain_arb_events()
    assert arb_events == direct
    assert ArbEventType.OPEN in {e.type for e in direct}
    now = stream.frames[-1].recv_ms
    assert pipeline.aggregator.snapshot(now) == aggregator.snapshot(now)


def test_the_pipeline_stamps_frames_with_its_clocks() -> None:
    pipeline = make_pipeline(["BTCUSDT"], wall_clock=lambda: 1_700_000_000_123)
    for venue in VENUE_NAMES:
        pipeline.process(venue, ADAPTERS[venue].sample_quote_frame)
    assert pipeline.quotes == len(VENUE_NAMES)
    snapshot = pipeline.aggregator.snapshot(1_700_000_000_123)
    assert {v.venue for v in snapshot.venue_states} == set(VENUE_NAMES)
    pipeline.process("okx", b"pong")
    pipeline.process("okx", b"{not json")
    assert (pipeline.quotes, pipeline.bad_frames) == (len(VENUE_NAMES), 1)


# -- cryptows --help ----------------------------------------------------------------------------

_HELP_PROBE = """
import sys
from cryptows.__main__ import main
sys.argv = ["cryptows", "--help"]
try:
    main()
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
heavy = ("msgspec", "aiohttp", "websockets", "asyncio", "textual", "cryptows.config",
         "cryptows.venues", "cryptows.logs", "cryptows.market", "cryptows.feed",
         "cryptows.service", "cryptows.tui")
loaded = sorted(m for m in sys.modules if m.startswith(heavy))
print(" ".join(loaded), file=sys.stderr)
"""


def test_help_loads_typer_and_rich_but_not_the_domain() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _HELP_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin", "TERM": "dumb"},
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: cryptows" in result.stdout
    assert result.stderr.strip() == ""  # nothing heavy was loaded


def test_help_names_the_venues_of_the_registry() -> None:
    from cryptows.commands.options import VENUE_LIST

    assert VENUE_LIST == ", ".join(VENUE_NAMES) == ", ".join(ADAPTERS)


# -- end to end: the replay server's framing and the workload's bookkeeping -------------------


def test_replay_frames_are_rfc6455_and_deflate_round_trips() -> None:
    import zlib

    from cryptows.bench.replay_server import deflated, ws_frame

    assert ws_frame(b"abc") == b"\x81\x03abc"
    assert ws_frame(b"x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert ws_frame(b"x" * 70_000)[:2] == b"\x81\x7f"
    assert ws_frame(b"z", rsv1=True)[0] == 0xC1
    payload = b'{"stream":"btcusdt@bookTicker","data":{"b":"1.0","a":"2.0"}}'
    assert zlib.decompressobj(wbits=-15).decompress(deflated(payload) + b"\x00\x00\xff\xff") == (
        payload
    )


def test_the_e2e_workload_ends_each_run_on_a_quote_and_maps_quotes_to_frames() -> None:
    from cryptows.bench.e2e import workload

    work = workload(300)
    assert work.frames[0] == b'{"result":null,"id":1}'  # the venue's ack comes first
    assert work.quotes[0] == 0
    assert sum(work.quotes) > 200
    for wanted in (2, 301, 1_000):
        total = work.total(wanted)
        assert total <= wanted
        assert work.quotes[(total - 1) % len(work.frames)] == 1
        frames = work.quote_frames(total)
        assert frames == sorted(frames)
        assert frames[-1] == total - 1
        assert len(frames) == sum(work.quotes[i % 300] for i in range(total))


@pytest.mark.slow
def test_the_scale_section_runs_arb_all_against_a_simulator_of_its_own() -> None:
    from cryptows.bench.scale import ScaleOptions, run_scale
    from cryptows.sim.cluster import venue_profiles

    report = run_scale(ScaleOptions(seconds=2, quote="USDT"))
    listings = [
        {s for s in profile.listings if s.endswith("USDT")} for profile in venue_profiles().values()
    ]
    on_two = {s for s in set().union(*listings) if sum(s in li for li in listings) >= 2}
    assert report["symbols"] == len(on_two)  # what --all took: the whole universe on two venues
    assert set(report["messages"]) == set(VENUE_NAMES)  # each venue's exit summary was read
    assert all(count > 0 for count in report["messages"].values())
    assert 0 < report["arb_cpu_share"] < 2  # CPU time of that process, over its wall time
    assert 0 < report["sim_cpu_share"] < 2
