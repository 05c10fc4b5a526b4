"""The focused benchmarks: ``python -m cryptows.bench decode``, ``connect`` and ``aggregate``.

``decode`` measures, in microseconds per frame, how fast a Binance bookTicker frame becomes typed
values with msgspec (typed ``Struct`` decoding, what the adapters use) against orjson and the
standard library (decode to a ``dict``, then pick and check the fields by hand), plus the cost of
each venue adapter's full ``parse`` (decode + validation + ``Quote``) of its
``sample_quote_frame``. It prints medians over several repeats; run it on an idle machine and
compare medians, not single runs.

``connect`` measures the seconds from starting a feed on simulated venues until each has
delivered a quote, each venue alone and all of them at once.

``aggregate`` measures, in microseconds per update, ``Aggregator.on_quote`` on one symbol quoted
by 2, 4, 8 and 16 synthetic venues (a seeded random walk with occasional dislocations, so
opportunities open, update and close). The cost should grow at most linearly with the venues.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec

from cryptows.models import Channel, Quote
from cryptows.venues import ADAPTERS
from cryptows.venues.binance import BinanceAdapter

_BOOK = BinanceAdapter.sample_quote_frame
"""The frame the decoders are compared on: the decoders below read exactly its shape."""


class _Book(msgspec.Struct):
    s: str
    b: str
    B: str
    a: str
    A: str
    u: int | None = None


class _Combined(msgspec.Struct):
    stream: str
    data: _Book


_typed = msgspec.json.Decoder(_Combined)


def _fields_from_dict(msg: dict[str, Any]) -> tuple[str, float, float, float, float]:
    d = msg["data"]
    if not isinstance(d, dict):
        raise ValueError("data is not an object")
    return d["s"], float(d["b"]), float(d["B"]), float(d["a"]), float(d["A"])


def _msgspec_typed(frame: bytes) -> tuple[str, float, float, float, float]:
    d = _typed.decode(frame).data
    return d.s, float(d.b), float(d.B), float(d.a), float(d.A)


def _orjson_dict(frame: bytes) -> tuple[str, float, float, float, float]:
    import orjson

    return _fields_from_dict(orjson.loads(frame))


def _stdlib_dict(frame: bytes) -> tuple[str, float, float, float, float]:
    return _fields_from_dict(json.loads(frame))


def _median_us(fn: Callable[[bytes], object], frame: bytes, number: int, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for _ in range(number):
            fn(frame)
        runs.append((time.perf_counter_ns() - start) / number / 1000)
    return statistics.median(runs)


def bench_decode(number: int, repeat: int) -> list[tuple[str, float]]:
    """(label, median µs per frame) for each decoder and each adapter's full parse."""
    results: list[tuple[str, float]] = []
    candidates: list[tuple[str, Callable[[bytes], object]]] = [
        ("decode bookTicker: msgspec typed Struct", _msgspec_typed),
        ("decode bookTicker: json.loads + dict", _stdlib_dict),
    ]
    try:
        import orjson  # noqa: F401

        candidates.insert(1, ("decode bookTicker: orjson.loads + dict", _orjson_dict))
    except ImportError:
        pass
    for label, fn in candidates:
        results.append((label, _median_us(fn, _BOOK, number, repeat)))
    for venue, cls in ADAPTERS.items():
        frame = cls.sample_quote_frame
        results.append(
            (f"full parse -> Quote: {venue}", _median_us(cls().parse, frame, number, repeat))
        )
    return results


_HANDSHAKE_DELAY_S = {name: round(0.2 * (i + 1), 1) for i, name in enumerate(ADAPTERS)}
"""Simulated handshake delay per venue: 0.2 s more for each venue in registry order (binance
0.2 s, bybit 0.4 s, okx 0.6 s, coinbase 0.8 s)."""


async def _first_quotes(venues: list[str]) -> float:
    """Seconds from starting a feed on ``venues`` until each has delivered a quote."""
    from cryptows.config import load_settings
    from cryptows.feed.manager import FeedManager
    from cryptows.models import Quote
    from cryptows.sim.cluster import SimCluster
    from cryptows.symbols import parse_symbols

    async with SimCluster(venues, dislocations=False) as cluster:
        for name in venues:
            cluster[name].faults.handshake_delay_s = _HANDSHAKE_DELAY_S[name]
        settings = load_settings(None, overrides=cluster.overrides())
        start = time.perf_counter()
        waiting = set(venues)
        async with FeedManager(settings, parse_symbols(["BTCUSDT"]), venues) as manager:
            async with asyncio.timeout(30):
                async for event in manager.events():
                    if isinstance(event, Quote):
                        waiting.discard(event.venue)
                        if not waiting:
                            return time.perf_counter() - start
    raise RuntimeError("unreachable")


def bench_connect(repeat: int) -> list[tuple[str, float]]:
    """(label, median seconds to first quote) for each venue alone and all together."""
    results = []
    names = list(_HANDSHAKE_DELAY_S)
    for name in names:
        runs = [asyncio.run(_first_quotes([name])) for _ in range(repeat)]
        label = f"{name} alone (handshake +{_HANDSHAKE_DELAY_S[name]:.1f} s)"
        results.append((label, statistics.median(runs)))
    runs = [asyncio.run(_first_quotes(names)) for _ in range(repeat)]
    results.append((f"all {len(names)} at once", statistics.median(runs)))
    return results


_AGG_VENUE_COUNTS = (2, 4, 8, 16)


def _quote_stream(venues: int, updates: int, seed: int = 7) -> list[Quote]:
    """A seeded random walk of book quotes over ``venues`` venues, with dislocations."""
    rng = random.Random(seed)
    names = [f"v{i}" for i in range(venues)]
    mid = 60_000.0
    # Per-venue dislocation (relative), and how many more of that venue's updates it lasts.
    offset = dict.fromkeys(names, 0.0)
    remaining = dict.fromkeys(names, 0)
    quotes: list[Quote] = []
    for i in range(updates):
        mid *= 1 + rng.gauss(0, 0.00005)
        venue = names[rng.randrange(venues)]
        if remaining[venue] > 0:
            remaining[venue] -= 1
            if remaining[venue] == 0:
                offset[venue] = 0.0
        elif rng.random() < 0.01:
            offset[venue] = rng.choice((-1, 1)) * rng.uniform(0.003, 0.008)
            remaining[venue] = rng.randint(5, 40)
        venue_mid = mid * (1 + offset[venue] + rng.gauss(0, 0.00002))
        half_spread = venue_mid * 0.00001
        quotes.append(
            Quote(
                venue=venue,
                symbol="BTCUSDT",
                channel=Channel.BOOK,
                bid=round(venue_mid - half_spread, 2),
                bid_size=round(rng.uniform(0.01, 3.0), 4),
                ask=round(venue_mid + half_spread, 2),
                ask_size=round(rng.uniform(0.01, 3.0), 4),
                recv_wall_ms=1_700_000_000_000 + i,
            )
        )
    return quotes


def bench_aggregate(updates: int, repeat: int) -> list[tuple[int, float, int, float]]:
    """Per venue count: (venues, median µs per ``on_quote``, opened, arb events per update).

    The stream is generated before timing. The engine evaluates 2 x (venues - 1) pairs per
    update; events are output (more venues, more pairs to a dislocated venue), so the event
    count per update is printed next to the time.
    """
    from cryptows.market.aggregator import Aggregator
    from cryptows.market.types import ArbEvent, ArbEventType
    from cryptows.symbols import parse_symbol

    symbol = parse_symbol("BTCUSDT")
    results = []
    for venues in _AGG_VENUE_COUNTS:
        stream = _quote_stream(venues, updates)
        fees = {f"v{i}": 0.1 for i in range(venues)}
        runs = []
        events: list[ArbEvent] = []
        for _ in range(repeat):
            agg = Aggregator([symbol], fees_pct=fees, threshold_pct=0.05, hysteresis_pct=0.02)
            on_quote = agg.on_quote
            events = []
            start = time.perf_counter_ns()
            for quote in stream:
                events.extend(on_quote(quote))
            runs.append((time.perf_counter_ns() - start) / updates / 1000)
        opened = sum(1 for e in events if e.type is ArbEventType.OPEN)
        results.append((venues, statistics.median(runs), opened, len(events) / updates))
    return results
