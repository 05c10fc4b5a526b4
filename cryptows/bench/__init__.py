"""Shipped benchmarks: ``python -m cryptows.bench`` runs the standard suite (``--json``: one JSON
object; ``--tiny``: a few seconds, what the CI test runs); ``connect``, ``watch``, ``decode`` and
``aggregate`` are focused ones.

The standard suite (:mod:`cryptows.bench.suite`), on a generated 50,000-frame mixed stream (10
symbols x 4 venues, six message kinds per venue in each venue's exact wire format, seeded; the
kinds and their shares are in :mod:`cryptows.bench.stream`):

- per kind and for the whole mix, µs per frame of
  **floor**: a typed msgspec decode of the same frames, decoding alone (no conversion, the kind
  known in advance; :mod:`cryptows.bench.floor`);
  **parse**: ``adapter.parse``, which decodes, checks and builds the events; and
  **ingest**: parse plus what the market service does with the quotes (the aggregator with
  arbitrage, as in production: :func:`make_pipeline`); each with its ratio to the floor. Per
  kind, floor and parse loop over that kind's frames alone; ingest is timed frame by frame
  within the mixed stream (the market's state is what the whole stream makes it);
- the aggregator's cost per update (``Aggregator.on_quote``, arbitrage included) for one symbol
  quoted by 2, 4, 8 and 16 venues (``aggregate``);
- the wall time of ``python -m cryptows --help`` (median of several fresh interpreters);
- end to end (:mod:`cryptows.bench.e2e`, ``--no-e2e`` skips it): frames/s the real client
  absorbs from a loopback replay server in its own process, p50/p99 receipt -> aggregated at
  5,000 and 20,000 frames/s offered, and quotes lost before aggregation (must be 0);
- market scale (:mod:`cryptows.bench.scale`, ``--no-scale`` skips it): the CPU share of
  ``cryptows arb --all`` over the simulator's whole universe, the simulator in its own process.

The default run takes well under two minutes on two cores. Timings are medians, the loops run
in turn; parse and ingest are timed in this process' CPU time unless ``--clock wall`` (a busy
machine's other work then does not count, though it still slows caches down). Run on an idle
machine and compare medians, not single runs.

Focused benchmarks: ``e2e`` (the end-to-end section alone; ``--profile``: where a saturated
client's time goes), ``transport`` (:mod:`cryptows.bench.transport`: websockets vs aiohttp vs
picows, a bare reader and our full path on each), ``connect`` (seconds to first quote from
simulated venues, each alone and all at once), ``watch`` (:mod:`cryptows.tui.bench`: the
dashboard's CPU share and quote-to-paint latency, with the simulator in its own process),
``decode`` (one Binance bookTicker frame: msgspec vs orjson vs json, and each adapter's parse of
its sample frame), ``aggregate`` and ``soak`` (:mod:`cryptows.bench.soak`: the feed against the
simulator with a random fault every few seconds, for ``--minutes``; crashes, reconnects, quote
gaps, RSS; not part of CI).

:func:`make_pipeline` gives outside harnesses the production decode -> parse -> aggregate ->
arbitrage path: ``make_pipeline().process(venue, frame)``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from cryptows.bench.legacy import bench_aggregate, bench_connect, bench_decode
from cryptows.bench.pipeline import Pipeline, make_pipeline

__all__ = ["Pipeline", "bench_aggregate", "bench_connect", "bench_decode", "main", "make_pipeline"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m cryptows.bench``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["watch"]:
        from cryptows.tui.bench import main as bench_watch

        bench_watch(argv[1:])
        return
    parser = argparse.ArgumentParser(
        prog="python -m cryptows.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument(
        "--tiny", action="store_true", help="a few seconds: small stream, one run (for CI)"
    )
    parser.add_argument("--frames", type=int, help="frames in the mixed stream (default 50000)")
    parser.add_argument("--repeat", type=int, help="runs of each measurement (default 5)")
    parser.add_argument("--seed", type=int, help="stream seed (default 7)")
    parser.add_argument(
        "--no-e2e", action="store_true", help="skip the end-to-end section (real client, loopback)"
    )
    parser.add_argument(
        "--no-scale", action="store_true", help="skip arb --all over the simulator (20 s)"
    )
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        help="time parse and ingest by this process' CPU time (default: a busy machine's other "
        "work is not counted) or by wall time",
    )
    sub = parser.add_subparsers(dest="what")
    sub.add_parser(
        "watch", help="the dashboard's CPU share and quote-to-paint latency", add_help=False
    )
    con = sub.add_parser("connect", help="seconds to first quote: each venue alone vs all at once")
    con.add_argument("--repeat", type=int, default=5, help="repeats (the median is reported)")
    dec = sub.add_parser("decode", help="µs per frame: msgspec vs orjson vs json, and full parse")
    dec.add_argument("--number", type=int, default=20000, help="frames per repeat")
    dec.add_argument("--repeat", type=int, default=7, help="repeats (the median is reported)")
    e2e = sub.add_parser("e2e", help="end to end only: the real client vs a loopback replay")
    e2e.add_argument("--venue", default="binance", help="the venue replayed (default binance)")
    e2e.add_argument("--deflate", action="store_true", help="the server compresses if offered")
    e2e.add_argument("--profile", action="store_true", help="cProfile one flat-out run instead")
    tra = sub.add_parser("transport", help="frames/s: websockets vs aiohttp vs picows, bare/full")
    tra.add_argument("--frames", dest="transport_frames", type=int, default=200_000)
    tra.add_argument("--deflate", action="store_true", help="offer and accept permessage-deflate")
    sca = sub.add_parser("scale", help="CPU share of arb --all over the simulator's universe")
    sca.add_argument("--seconds", type=float, default=20.0, help="how long arb runs (20)")
    sca.add_argument("--quote", help="arb --all --quote QUOTE (default: every quote asset)")
    sok = sub.add_parser("soak", help="the feed vs the simulator with random faults, for long")
    sok.add_argument("--minutes", type=float, default=30.0, help="how long (30)")
    sok.add_argument("--every", type=float, default=5.0, help="seconds between faults (5)")
    sok.add_argument("--soak-seed", type=int, default=1, help="faults and market seed (1)")
    agg = sub.add_parser("aggregate", help="µs per Aggregator.on_quote for 2, 4, 8, 16 venues")
    agg.add_argument("--updates", type=int, default=50000, help="quotes per repeat")
    agg.add_argument("--repeat", type=int, default=5, help="repeats (the median is reported)")
    args = parser.parse_args(argv)
    if args.what is None:
        _suite(args)
    elif args.what == "e2e":
        _e2e(args)
    elif args.what == "transport":
        from cryptows.bench.transport import main as bench_transport

        bench_transport(args.transport_frames, args.repeat or 3, deflate=args.deflate)
    elif args.what == "soak":
        from cryptows.bench.soak import render_soak, soak

        result = asyncio.run(soak(args.minutes * 60, every_s=args.every, seed=args.soak_seed))
        print(json.dumps(result.as_dict()) if args.json else "\n".join(render_soak(result)))
    elif args.what == "scale":
        from cryptows.bench.scale import ScaleOptions, render_scale, run_scale

        report = run_scale(ScaleOptions(seconds=args.seconds, quote=args.quote))
        print(json.dumps(report) if args.json else "\n".join(render_scale(report)))
    elif args.what == "connect":
        for label, seconds in bench_connect(args.repeat):
            print(f"{label:<48} {seconds * 1000:8.1f} ms to first quote (median of {args.repeat})")
    elif args.what == "decode":
        for label, us in bench_decode(args.number, args.repeat):
            print(f"{label:<48} {us:8.3f} µs/frame (median of {args.repeat})")
    elif args.what == "aggregate":
        results = bench_aggregate(args.updates, args.repeat)
        base = results[0][1]
        for venues, us, opened, per_update in results:
            print(
                f"{venues:>2} venues: {us:7.3f} µs/update (median of {args.repeat}), "
                f"x{us / base:5.2f} vs 2 venues, {us / (venues - 1):5.2f} µs per other venue; "
                f"{opened} opened, "
                f"{per_update:.2f} arb events/update"
            )


def _e2e(args: argparse.Namespace) -> None:
    from cryptows.bench.e2e import E2EOptions, profile_client, render_e2e, run_e2e

    options = E2EOptions(venue=args.venue, deflate=args.deflate, repeat=args.repeat or 3)
    if args.profile:
        print(profile_client(options))
        return
    report = run_e2e(options, progress=lambda step: print(f"bench: {step} ...", file=sys.stderr))
    print(json.dumps(report) if args.json else "\n".join(render_e2e(report)))


def _suite(args: argparse.Namespace) -> None:
    import dataclasses

    from cryptows.bench.suite import TINY, Options, render_text, run_suite

    options = TINY if args.tiny else Options()
    changes: dict[str, Any] = {
        name: value
        for name in ("frames", "repeat", "seed", "clock")
        if (value := getattr(args, name)) is not None
    }
    if args.no_e2e:
        changes["e2e"] = None
    if args.no_scale:
        changes["scale"] = None
    options = dataclasses.replace(options, **changes)

    def progress(step: str) -> None:
        print(f"bench: {step} ...", file=sys.stderr, flush=True)

    report = run_suite(options, progress=None if args.json else progress)
    if args.json:
        print(json.dumps(report))
    else:
        print(render_text(report))
