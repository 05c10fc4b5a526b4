"""What every live command shares: settings (+ the demo market), signals, the summary line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptows import config as cfg
from cryptows import interrupt, logs
from cryptows.config import Settings
from cryptows.crash import internal_error
from cryptows.errors import CryptowsError, UsageError
from cryptows.models import VenueHealth, VenueStatus
from cryptows.symbols import Symbol, parse_symbols

if TYPE_CHECKING:
    from cryptows.feed.listing import SymbolLists
    from cryptows.recording.reader import RecordingReader
    from cryptows.service import LiveMarket

log = logging.getLogger(__name__)

DEMO_BANNER = "DEMO: simulated exchanges on 127.0.0.1, not real market data"

FLAG_NAMES = {
    "arb.threshold_pct": "--threshold",
    "arb.max_quote_age_ms": "--max-age",
}
"""The command-line flag behind a setting, for error messages and `config show` provenance."""


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What a live command was asked to do, before any I/O."""

    symbols: tuple[Symbol, ...]
    venues: tuple[str, ...]
    settings: Settings
    demo: bool
    """The venues are simulated: ``--demo`` (the embedded simulator), or a config saying so
    (``demo = true``, as ``cryptows sim --write-config`` writes). Every output says DEMO."""
    venue_symbols: Mapping[str, tuple[Symbol, ...]] | None = None
    """Venue -> its own symbols, when not all of :attr:`symbols` (``--all``)."""
    lists: SymbolLists | None = None
    """The venues' symbol lists already read (``--all``), handed to the feed."""
    replay: RecordingReader | None = None
    """``--replay FILE``: the recording to play instead of any network feed."""
    speed: float = 1.0
    """``--speed``: the replay's pace (x the recorded one; 0 as fast as possible)."""


def make_market(spec: RunSpec, *, gross: bool = False) -> LiveMarket:
    """The market service for ``spec``: the live feed, or the recording with ``--replay``."""
    from cryptows.service import LiveMarket

    if spec.replay is not None:
        from cryptows.recording.replay import ReplayMarket

        return ReplayMarket(
            spec.settings,
            spec.symbols,
            spec.venues,
            reader=spec.replay,
            speed=spec.speed,
            demo=spec.demo,
            gross=gross,
        )
    return LiveMarket(
        spec.settings,
        spec.symbols,
        spec.venues,
        demo=spec.demo,
        gross=gross,
        venue_symbols=spec.venue_symbols,
        lists=spec.lists,
    )


def replay_banner(spec: RunSpec) -> str:
    """``REPLAY of FILE recorded 2026-01-01 12:34:56 UTC (binance, okx), speed 1``."""
    import time

    assert spec.replay is not None
    header = spec.replay.header
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(header.start_ms / 1000))
    speed = "as fast as possible" if spec.speed == 0 else f"speed {spec.speed:g}"
    return (
        f"REPLAY of {spec.replay.path} recorded {when} ({', '.join(spec.venues)}), {speed}; "
        "not live data"
    )


def replay_summary(reader: RecordingReader) -> str:
    """``replay: 1234 records, 2 corrupt lines skipped, truncated end (recorder killed?)``."""
    text = f"replay: {reader.records_read} records"
    if reader.corrupt:
        text += f", {reader.corrupt} corrupt line{'s' if reader.corrupt != 1 else ''} skipped"
    if reader.truncated:
        text += ", truncated end (the recorder was stopped without closing the file)"
    return text


def check_source(
    *, demo: bool, replay: Path | None, speed: float | None, all_symbols: bool = False
) -> None:
    """``--replay`` excludes ``--demo`` and ``--all``; ``--speed`` needs ``--replay``."""
    if replay is not None and demo:
        raise UsageError(
            "--replay and --demo exclude each other: a replay never touches the "
            "network (a recording of the demo is labelled DEMO by itself)"
        )
    if speed is not None and replay is None:
        raise UsageError("--speed needs --replay FILE (it sets the pace of a replay)")
    if replay is not None and all_symbols:
        raise UsageError(
            "--replay and --all exclude each other: a replay plays the symbols "
            "it recorded (name some of them to narrow it)"
        )


def replay_spec(
    path: Path,
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    speed: float | None,
    extra: Mapping[str, object] | None = None,
) -> RunSpec:
    """The spec of a replay: the recording's venues (those of ``--venues`` among them) and
    symbols (unless some are given), the config's fees and arbitrage settings."""
    from cryptows.recording.reader import RecordingReader

    reader = RecordingReader(path)  # a bad file is a UsageError (exit 2) before anything runs
    header = reader.header
    names = parse_venues(venues)
    labels = {key: f"flag {flag}" for key, flag in FLAG_NAMES.items()}
    settings = load_settings(config, overrides=dict(extra or {}), overrides_source=labels)
    chosen_venues = tuple(
        v for v in header.venues if v in settings.venues and (names is None or v in names)
    )
    if not chosen_venues:
        raise UsageError(
            f"{path} holds none of the venues asked for (it has "
            f"{', '.join(header.venues) or 'none'})"
        )
    chosen = parse_symbols(split_symbols(symbols or header.symbols))
    spec = RunSpec(
        symbols=chosen,
        venues=chosen_venues,
        settings=settings,
        demo=header.demo,
        replay=reader,
        speed=1.0 if speed is None else speed,
    )
    log.info("replaying %s at speed %g", path, spec.speed)
    return spec


def parse_venues(text: str | None) -> list[str] | None:
    """``binance,okx`` -> ``["binance", "okx"]`` (validated), ``None`` -> ``None``."""
    if text is None:
        return None
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--venues is empty; name at least one, e.g. --venues binance,okx")
    cfg.venue_overrides(names)  # raises VenueNameError for an unknown name
    return list(dict.fromkeys(names))


def load_settings(
    config: Path | None,
    *,
    overrides: Mapping[str, object] | None = None,
    overrides_source: str | Mapping[str, str] = "flag",
) -> Settings:
    """:func:`cryptows.config.load_settings`, and the API key it found is redacted from the log
    from now on (the one in ``HOLYSHEEP_API_KEY`` always is). ``None`` overrides are skipped."""
    settings = cfg.load_settings(config, overrides=overrides, overrides_source=overrides_source)
    logs.add_secret(settings.analysis.api_key.reveal())
    log.debug("config file: %s", settings.config_file or "none (built-in defaults)")
    return settings


def split_symbols(args: Sequence[str]) -> list[str]:
    """``["BTCUSDT,ETHUSDT", "SOL-USDT"]`` -> ``["BTCUSDT", "ETHUSDT", "SOL-USDT"]``."""
    return [part for arg in args for part in arg.replace(",", " ").split()]


def load_spec(
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    demo: bool,
    extra: Mapping[str, object] | None = None,
    sim_overrides: dict[str, object] | None = None,
) -> RunSpec:
    """Settings from file/env/flags (+ the demo endpoints), symbols and venues, validated.

    ``extra``: dotted setting -> a flag's value, ``None`` when the flag was not given.

    The run is a demo with ``demo`` (``--demo``) or when the config says it points at simulated
    venues (``demo = true``).
    """
    names = parse_venues(venues)
    overrides: dict[str, object] = dict(extra or {})
    if names is not None:
        overrides.update(cfg.venue_overrides(names))
    if sim_overrides:
        overrides.update(sim_overrides)
    labels = {key: f"flag {flag}" for key, flag in FLAG_NAMES.items()}
    labels.update(dict.fromkeys(sim_overrides or {}, "--demo"))
    settings = load_settings(config, overrides=overrides, overrides_source=labels)
    chosen = parse_symbols(split_symbols(symbols)) if symbols else settings.symbols
    enabled = settings.enabled_venues
    if not enabled:
        raise UsageError("no venue enabled; pass --venues or enable one in the config")
    return RunSpec(symbols=chosen, venues=enabled, settings=settings, demo=demo or settings.demo)


@contextlib.asynccontextmanager
async def live_spec(
    symbols: Sequence[str] | None,
    venues: str | None,
    config: Path | None,
    *,
    demo: bool,
    extra: Mapping[str, object] | None = None,
    replay: Path | None = None,
    speed: float | None = None,
    all_symbols: bool = False,
) -> AsyncIterator[RunSpec]:
    """The run's spec; with ``demo`` (``--demo``), the simulated venues run (on free loopback
    ports) for as long as the context lasts and the spec points every enabled venue at them.

    A config with ``demo = true`` makes ``spec.demo`` true as well, but starts nothing: it points
    at a simulator running elsewhere (``cryptows sim``). With ``replay`` (``--replay FILE``),
    the spec plays that recording (:func:`replay_spec`) and nothing touches the network.
    """
    check_source(demo=demo, replay=replay, speed=speed, all_symbols=all_symbols)
    if replay is not None:
        spec = replay_spec(replay, symbols, venues, config, speed=speed, extra=extra)
        try:
            yield spec
        finally:
            assert spec.replay is not None
            spec.replay.close()
        return
    spec = load_spec(symbols, venues, config, demo=demo, extra=extra)
    if not demo:
        _log_spec(spec)
        yield spec
        return
    from cryptows.sim.cluster import SimCluster

    async with SimCluster(spec.venues) as cluster:
        spec = load_spec(
            symbols, venues, config, demo=True, extra=extra, sim_overrides=cluster.overrides()
        )
        _log_spec(spec)
        yield spec


def _log_spec(spec: RunSpec) -> None:
    log.info(
        "venues %s; symbols %s%s",
        ",".join(spec.venues),
        ",".join(s.canonical for s in spec.symbols),
        " (DEMO)" if spec.demo else "",
    )
    log.debug("settings: %s", spec.settings.effective())  # secrets redacted by effective()


@contextlib.contextmanager
def bugs_reported(where: str) -> Iterator[None]:
    """Anything but a :class:`CryptowsError` raised inside is a bug in ``where``: one line for
    the user and exit 1, the traceback in the crash log (see :func:`internal_error`)."""
    try:
        yield
    except CryptowsError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug: one line, exit 1
        raise internal_error(exc, where) from exc


@contextlib.asynccontextmanager
async def stop_on_signals() -> AsyncIterator[asyncio.Event]:
    """An event set by Ctrl-C (SIGINT) or SIGTERM, so commands can shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[tuple[signal.Signals, Any]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append((sig, previous))
    if interrupt.take_lost():  # Ctrl-C while starting up, dropped by the interpreter
        stop.set()
    try:
        yield stop
    finally:
        for sig, previous in installed:
            loop.remove_signal_handler(sig)
            # remove_signal_handler puts back Python's default, not asyncio.run's own handler
            signal.signal(sig, previous)


def summary_line(health: VenueHealth) -> str:
    """One line per venue for stderr at exit."""
    lag = f", lag p50 {health.lag_p50_ms:.0f} ms" if health.lag_p50_ms is not None else ""
    error = f", last error: {health.last_error}" if health.last_error else ""
    conns = f" ({health.connections_note})" if health.connections_note else ""
    return (
        f"{health.venue}: {health.state.value}{conns}, {health.messages} msgs, "
        f"{health.bad_frames} bad, {health.reconnects} reconnects{lag}{error}"
    )


def eprint(text: str) -> None:
    """A diagnostic line on stderr (stdout carries data only)."""
    print(text, file=sys.stderr, flush=True)


def venue_record(status: VenueStatus, *, demo: bool) -> dict[str, Any]:
    """The NDJSON object for a venue state change (``quotes`` and ``arb`` alike)."""
    record: dict[str, Any] = {
        "type": "venue",
        "venue": status.venue,
        "state": status.state.value,
        "reason": status.reason,
        "ts_ms": status.ts_ms,
    }
    if status.retry_at_ms is not None:
        record["retry_at_ms"] = status.retry_at_ms
    if status.symbols:  # one connection of a venue split over several: these symbols only
        record["symbols"] = list(status.symbols)
    if demo:
        record["demo"] = True
    return record
