"""The typed settings: one frozen dataclass per table, each field a key of :mod:`.keys`.

The fields carry no defaults: the defaults are declared once, with the keys, and
:func:`build_settings` fills every field from validated values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from cryptows.analysis.pricing import ModelPrice
from cryptows.config.keys import declared_keys
from cryptows.config.secret import Secret
from cryptows.symbols import Symbol
from cryptows.venues import ADAPTERS

DEFAULT_SOURCE: Final = "default"
"""Provenance of a value nobody set."""

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Table = TypeVar("_Table", bound="DataclassInstance")


@dataclass(frozen=True, slots=True)
class VenueSettings:
    """One exchange's connection settings (``[venues.<name>]``)."""

    enabled: bool
    """Connect to this venue."""
    ws_url: str
    """The first of :attr:`ws_urls` (``ws://`` or ``wss://``)."""
    ws_urls: tuple[str, ...]
    """The public market-data WebSocket URLs, tried in order: the next when one is refused or
    unreachable. Whichever of ``ws_url`` and ``ws_urls`` was set later (flags over environment
    over file over defaults) decides: a ``ws_url`` alone is the only URL."""
    rest_url: str
    """REST base for server time and the symbol list (``http://`` or ``https://``)."""
    taker_fee_pct: float
    """Spot taker fee in percent, subtracted per leg for net arbitrage."""
    dead_after_s: float
    """This venue's liveness bound in seconds (>= 1); 0 = ``[feed] dead_after_s``."""
    max_symbols_per_connection: int = 0
    """Most symbols on one connection (more open more connections); 0 = the venue's documented
    limit (``VenueLimits.max_topics_per_connection // topics_per_symbol``), never more."""


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Connection behaviour shared by all venues (``[feed]``)."""

    backoff_initial_s: float
    """First reconnect delay in seconds (> 0); it grows with jitter after each failure."""
    backoff_max_s: float
    """Longest reconnect delay in seconds (>= ``backoff_initial_s``)."""
    open_timeout_s: float
    """Bound on opening a WebSocket (TCP + TLS + handshake), in seconds (> 0)."""
    stable_reset_s: float
    """A connection up this long resets the reconnect delay to ``backoff_initial_s`` (> 0)."""
    dead_after_s: float
    """Liveness bound in seconds (>= 1): a connection from which nothing at all (data, pong,
    heartbeat) has arrived for this long is presumed dead, marked stale and replaced. A silent
    connection is pinged after 2/5 of it, so a quiet market answers in time."""
    symbol_timeout_s: float
    """Report a subscribed symbol that has sent nothing for this long; 0 = off."""


@dataclass(frozen=True, slots=True)
class ArbSettings:
    """Cross-venue arbitrage detection (``[arb]``)."""

    threshold_pct: float
    """An opportunity opens when the net spread reaches this many percent (>= 0)."""
    hysteresis_pct: float
    """It closes only below ``threshold_pct - hysteresis_pct`` (>= 0)."""
    max_quote_age_ms: int
    """Ignore quotes older than this even on a live connection; 0 turns the check off."""
    quote_equivalents: tuple[tuple[str, str], ...]
    """Quote assets declared interchangeable (e.g. ``("USD", "USDT")``); opt-in, and labelled."""
    confirm_ms: int
    """An opportunity opens only once it has stayed above the threshold this long (0 = at once)."""


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """The OpenAI-compatible HolySheep gateway (``[analysis]``)."""

    base_url: str
    """Gateway base URL (``http://`` or ``https://``)."""
    model: str
    """Model name sent with each request."""
    api_key: Secret
    """Gateway key, redacted when shown; ``HOLYSHEEP_API_KEY`` is the preferred way to set it."""
    task: str
    """Default analysis task: one of :data:`~cryptows.config.ANALYSIS_TASKS`."""
    max_cost_usd: float
    """Spend guard per run in USD (> 0): refuse before sending when the estimate exceeds it."""
    max_tokens: int
    """Most completion tokens asked for per call (>= 1)."""
    temperature: float
    """Sampling temperature sent with each call (0 to 2)."""
    connect_timeout_s: float
    """Bound on connecting to the gateway, in seconds (> 0)."""
    timeout_s: float
    """Bound on one whole request (connect, send, answer), in seconds (> 0)."""
    json_mode_models: tuple[str, ...]
    """Model ids sent ``response_format: {"type": "json_object"}``; others are asked by prompt."""
    prices: Mapping[str, ModelPrice]
    """Price overrides, model id -> USD per million tokens, applied over the built-in table."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective settings, and where each value came from."""

    symbols: tuple[Symbol, ...]
    """Symbols used when a command is given none, canonical and without duplicates."""
    venues: dict[str, VenueSettings]
    """Venue name -> its settings, in registry order (binance, bybit, okx, coinbase)."""
    feed: FeedSettings
    """Connection behaviour."""
    arb: ArbSettings
    """Arbitrage detection."""
    analysis: AnalysisSettings
    """LLM gateway."""
    demo: bool
    """This config points at simulated exchanges (``cryptows sim --write-config`` writes it):
    every output is labelled DEMO, exactly as with ``--demo``."""
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Dotted key -> provenance: ``default``, ``file <path>``, ``env <VAR>`` or ``flag ...``."""
    config_file: Path | None = None
    """The TOML file that was read, or ``None`` when only defaults applied."""

    def source(self, key: str) -> str:
        """Where the value of dotted ``key`` came from."""
        return self.sources.get(key, DEFAULT_SOURCE)

    @property
    def enabled_venues(self) -> tuple[str, ...]:
        """Names of the enabled venues, in registry order."""
        return tuple(name for name, venue in self.venues.items() if venue.enabled)

    def effective(self) -> dict[str, object]:
        """Dotted key -> JSON-ready value for every setting, secrets redacted."""
        out: dict[str, object] = {}
        for key in declared_keys():
            section, _, rest = key.partition(".")
            node: object = getattr(self, section)
            if section == "venues":
                name, _, rest = rest.partition(".")
                node = self.venues[name]
            if rest:
                node = getattr(node, rest)
            out[key] = _jsonable(node)
        return out


def _jsonable(value: object) -> object:
    if isinstance(value, Symbol | Secret):
        return str(value)
    if isinstance(value, ModelPrice):
        return {"input": value.input_per_mtok, "output": value.output_per_mtok}
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    return value


def build_settings(
    values: Mapping[str, object], *, sources: Mapping[str, str], config_file: Path | None
) -> Settings:
    """Settings from dotted key -> validated value, for every key of :mod:`.keys`."""

    def table(cls: type[_Table], prefix: str) -> _Table:
        kwargs: dict[str, Any] = {f.name: values[prefix + f.name] for f in fields(cls)}
        return cls(**kwargs)

    top: dict[str, Any] = {f.name: values[f.name] for f in fields(Settings) if f.name in values}
    return Settings(
        venues={name: table(VenueSettings, f"venues.{name}.") for name in ADAPTERS},
        feed=table(FeedSettings, "feed."),
        arb=table(ArbSettings, "arb."),
        analysis=table(AnalysisSettings, "analysis."),
        sources=dict(sources),
        config_file=config_file,
        **top,
    )
