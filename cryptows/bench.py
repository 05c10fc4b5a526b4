"""Shipped benchmarks: ``python -m cryptows.bench decode`` and ``python -m cryptows.bench connect``.

``decode`` measures, in microseconds per frame, how fast a Binance bookTicker frame becomes typed
values with msgspec (typed ``Struct`` decoding, what the adapters use) against orjson and the
standard library (decode to a ``dict``, then pick and check the fields by hand), plus the cost of
each venue adapter's full ``parse`` (decode + validation + ``Quote``). It prints medians over
several repeats; run it on an idle machine and compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec

from cryptows.venues import get_adapter

_BOOK = (
    b'{"stream":"btcusdt@bookTicker","data":{"u":7488717758,"s":"BTCUSDT",'
    b'"b":"28621.74000000","B":"1.43278800","a":"28621.75000000","A":"2.52500800"}}'
)
_FRAMES: dict[str, bytes] = {
    "binance": _BOOK,
    "bybit": (
        b'{"topic":"orderbook.1.BTCUSDT","ts":1748980103101,"type":"snapshot","data":'
        b'{"s":"BTCUSDT","b":[["106285.8","0.794865"]],"a":[["106285.9","1.269905"]],'
        b'"u":943951,"seq":75829523783},"cts":1748980103098}'
    ),
    "okx": (
        b'{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT",'
        b'"instId":"BTC-USDT","last":"9999.99","lastSz":"0.1","askPx":"9999.99","askSz":"11",'
        b'"bidPx":"8888.88","bidSz":"5","open24h":"9000","high24h":"10000","low24h":"8888.88",'
        b'"volCcy24h":"2222","vol24h":"2222","sodUtc0":"2222","sodUtc8":"2222",'
        b'"ts":"1597026383085"}]}'
    ),
    "coinbase": (
        b'{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22",'
        b'"open_24h":"1310.79","volume_24h":"245532.79269678","low_24h":"1280.52",'
        b'"high_24h":"1313.8","volume_30d":"9788783.60117027","best_bid":"1285.04",'
        b'"best_bid_size":"0.46688654","best_ask":"1285.27","best_ask_size":"1.56637040",'
        b'"side":"buy","time":"2022-10-19T23:28:22.061769Z","trade_id":370843401,'
        b'"last_size":"11.4396987"}'
    ),
}


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
    for venue, frame in _FRAMES.items():
        adapter = get_adapter(venue)
        results.append(
            (f"full parse -> Quote: {venue}", _median_us(adapter.parse, frame, number, repeat))
        )
    return results


_HANDSHAKE_DELAY_S = {"binance": 0.2, "bybit": 0.4, "okx": 0.6, "coinbase": 0.8}


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
    results.append(("all four at once", statistics.median(runs)))
    return results


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m cryptows.bench``."""
    parser = argparse.ArgumentParser(prog="python -m cryptows.bench", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    dec = sub.add_parser("decode", help="µs per frame: msgspec vs orjson vs json, and full parse")
    dec.add_argument("--number", type=int, default=20000, help="frames per repeat")
    dec.add_argument("--repeat", type=int, default=7, help="repeats (the median is reported)")
    con = sub.add_parser("connect", help="seconds to first quote: each venue alone vs all four")
    con.add_argument("--repeat", type=int, default=5, help="repeats (the median is reported)")
    args = parser.parse_args(argv)
    if args.what == "decode":
        for label, us in bench_decode(args.number, args.repeat):
            print(f"{label:<48} {us:8.3f} µs/frame (median of {args.repeat})")
    elif args.what == "connect":
        for label, seconds in bench_connect(args.repeat):
            print(f"{label:<48} {seconds * 1000:8.1f} ms to first quote (median of {args.repeat})")


if __name__ == "__main__":
    main()
