"""Every setting, declared once: its dotted key, built-in default, check and help text.

Everything else is derived from :func:`declared_keys`: the validation schema, the defaults layer,
the environment variables, the order of ``config show`` and the commented example file
(:mod:`cryptows.config.example`). The ``[venues.<name>]`` keys are declared once as templates
(:data:`VENUE_KEYS`) and repeated for every adapter in :data:`cryptows.venues.ADAPTERS`, whose
classes hold each venue's default URLs and fee; a new venue needs no edit here.

To add a setting: declare it below, add the field to its dataclass in
:mod:`cryptows.config.settings` (``tests/unit/test_config_keys.py`` checks that the two agree)
and regenerate ``config.example.toml`` (``python -m cryptows.config > config.example.toml``).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from cryptows.config import checks
from cryptows.config.checks import Check
from cryptows.venues import ADAPTERS
from cryptows.venues.base import VenueAdapter

ENV_API_KEY: Final = "HOLYSHEEP_API_KEY"
"""Environment variable holding the gateway key; overrides ``analysis.api_key``."""
ENV_BASE_URL: Final = "HOLYSHEEP_BASE_URL"
"""Environment variable overriding ``analysis.base_url``."""
DEFAULT_JSON_MODE_MODELS: Final = ("gpt-4.1", "gpt-4.1-mini", "deepseek-v3.2")
"""Models whose vendors document ``response_format: {"type": "json_object"}`` on their own
OpenAI-style APIs (OpenAI's JSON mode, DeepSeek's JSON Output); a gateway that passes the
request through keeps that ability. Others are asked for JSON in the prompt only."""
ANALYSIS_TASKS: Final = ("sentiment", "anomaly", "signal", "all")
"""The analyses ``analyze`` can ask for; ``all`` runs the other three concurrently."""


@dataclass(frozen=True, slots=True)
class Key:
    """One setting."""

    name: str
    """Dotted key: ``symbols``, ``feed.dead_after_s``, ``venues.okx.ws_url`` ..."""
    default: object
    """Built-in default, raw (as TOML would give it) and valid for :attr:`check`."""
    check: Check
    """Validates and normalises a value of this key."""
    help: str
    """What the key means, for the example file (a ``\\n`` starts a new comment line)."""
    shown_default: str | None = None
    """How the example's ``Default:`` note reads, when the TOML value alone would mislead."""
    env: str | None = None
    """Environment variable that sets this key (between the file and the flags), if any."""

    @property
    def table(self) -> str:
        """The TOML table the key is in (``feed``), or ``""`` for a top-level key."""
        return self.name.rpartition(".")[0]

    @property
    def field(self) -> str:
        """The key's name inside its table (``dead_after_s``)."""
        return self.name.rpartition(".")[2]


@dataclass(frozen=True, slots=True)
class VenueKey:
    """A key of every ``[venues.<name>]`` table, declared once for all venues."""

    field: str
    """Key inside the venue's table (``ws_url``)."""
    check: Check
    help: str
    """A short phrase for the table of venue keys in the example file."""
    default: object = None
    """The default for every venue, unless :attr:`from_adapter` is set."""
    from_adapter: Callable[[type[VenueAdapter]], object] | None = None
    """The default for one venue, from its adapter class: it differs from venue to venue."""

    def default_for(self, adapter: type[VenueAdapter]) -> object:
        """The default of this key for ``adapter``'s venue."""
        return self.default if self.from_adapter is None else self.from_adapter(adapter)

    def key(self, adapter: type[VenueAdapter]) -> Key:
        """This key for ``adapter``'s venue."""
        name = f"venues.{adapter.name}.{self.field}"
        return Key(name, self.default_for(adapter), self.check, self.help)


TOP_KEYS: Final = (
    Key(
        "symbols",
        ["BTCUSDT", "ETHUSDT"],
        checks.symbols,
        "Symbols used when a command is given none. Accepted spellings: BTCUSDT, btcusdt, "
        "BTC-USDT, BTC/USDT; each is stored canonically (BTCUSDT). USD and USDT are different "
        "quote assets.",
    ),
    Key(
        "demo",
        False,
        checks.boolean,
        "This config points at simulated exchanges, not real ones: every command run with it "
        'labels its output DEMO, exactly as --demo does (a banner on stderr, "demo": true in '
        "--json output, the dashboard's DEMO badge). `cryptows sim --write-config` sets it; it "
        "starts no simulator itself.",
    ),
)
"""Keys outside any table, in display order."""

VENUE_KEYS: Final = (
    VenueKey(
        "enabled",
        checks.boolean,
        "connect to this venue; --venues on the command line overrides it",
        default=True,
    ),
    VenueKey(
        "ws_url",
        checks.url("ws", "wss"),
        "the full public market-data WebSocket URL the client opens (ws:// or wss://); "
        "setting it replaces ws_urls with this one URL",
        from_adapter=lambda adapter: adapter.default_ws_url,
    ),
    VenueKey(
        "ws_urls",
        checks.urls("ws", "wss"),
        "the endpoints to try in order: when one is refused or unreachable the next is tried "
        "before backing off; the default lists the alternatives the venue documents",
        from_adapter=lambda adapter: [adapter.default_ws_url, *adapter.alternative_ws_urls],
    ),
    VenueKey(
        "rest_url",
        checks.url("http", "https"),
        "REST base used for server time and the symbol list (http:// or https://)",
        from_adapter=lambda adapter: adapter.default_rest_url,
    ),
    VenueKey(
        "taker_fee_pct",
        checks.number(),
        "your spot taker fee in percent, used for net arbitrage; the default is the venue's "
        "published retail (lowest-volume) tier, cited below. Set yours.",
        from_adapter=lambda adapter: adapter.default_taker_fee_pct,
    ),
    VenueKey(
        "dead_after_s",
        checks.liveness_bound(allow_zero=True),
        "this venue's liveness bound in seconds (>= 1), overriding [feed] dead_after_s; "
        "0 = use [feed] dead_after_s",
        default=0.0,
    ),
    VenueKey(
        "max_symbols_per_connection",
        checks.count,
        "most symbols streamed on one connection; more symbols open more connections (each "
        "with its own liveness and reconnects); 0 = the venue's documented limit, which a "
        "larger value cannot exceed",
        default=0,
    ),
)
"""The keys of each ``[venues.<name>]`` table, in display order."""

_POSITIVE: Final = checks.number(above_zero=True)

TABLE_KEYS: Final = (
    Key(
        "feed.backoff_initial_s",
        1.0,
        _POSITIVE,
        "First reconnect delay in seconds; it doubles (with jitter) after each failure. "
        "Must be > 0.",
    ),
    Key(
        "feed.backoff_max_s",
        60.0,
        _POSITIVE,
        "Longest reconnect delay in seconds. Must be >= backoff_initial_s.",
    ),
    Key(
        "feed.open_timeout_s",
        10.0,
        _POSITIVE,
        "Bound on opening a WebSocket (TCP + TLS + handshake), in seconds. Must be > 0.",
    ),
    Key(
        "feed.stable_reset_s",
        60.0,
        _POSITIVE,
        "Reset the reconnect delay to backoff_initial_s once a connection has stayed up this "
        "long, in seconds. Must be > 0.",
    ),
    Key(
        "feed.dead_after_s",
        5.0,
        checks.liveness_bound(allow_zero=False),
        "Liveness bound: a connection from which nothing at all (data, pong, heartbeat) has "
        "arrived for this many seconds is presumed dead: the venue turns stale (its quotes are "
        "no longer used) and the connection is replaced. A quiet market still answers: a "
        "connection silent for 2/5 of the bound is pinged (Binance: protocol ping; Bybit: "
        '{"op":"ping"}; OKX: text "ping"; Coinbase: its heartbeat channel sends one message per '
        "product per second). Must be >= 1.",
    ),
    Key(
        "feed.symbol_timeout_s",
        30.0,
        checks.number(),
        "Report a subscribed symbol that has sent no data for this many seconds (Binance acks "
        "unknown symbols and then stays silent). 0 = off.",
    ),
    Key(
        "arb.threshold_pct",
        0.1,
        checks.number(),
        "Report an opportunity when the net spread (after both taker fees) reaches this many "
        "percent. Must be >= 0.",
    ),
    Key(
        "arb.hysteresis_pct",
        0.02,
        checks.number(),
        "An open opportunity closes only when it falls below threshold_pct - hysteresis_pct, so "
        "one dislocation is one open/close pair. Must be >= 0.",
    ),
    Key(
        "arb.max_quote_age_ms",
        0,
        checks.count,
        "Ignore quotes older than this many milliseconds even on a live connection; 0 = off.",
    ),
    Key(
        "arb.quote_equivalents",
        [],
        checks.pairs,
        'Quote assets you declare interchangeable, e.g. [["USD", "USDT"]]. Off by default: USD '
        "is not USDT. When set, an opportunity that relies on an equivalence labels the "
        "converted leg.",
    ),
    Key(
        "arb.confirm_ms",
        250,
        checks.count,
        "An opportunity is reported (opened) only once it has stayed at or above threshold_pct "
        "for this many milliseconds, so a spread that touches the threshold for an instant is "
        'not an opportunity; those are counted as "unconfirmed". 0 = report at once.',
    ),
    Key(
        "analysis.base_url",
        "https://api.holysheep.ai/v1",
        checks.url("http", "https"),
        f"OpenAI-compatible HolySheep gateway; the {ENV_BASE_URL} environment variable "
        "overrides it.",
        env=ENV_BASE_URL,
    ),
    Key(
        "analysis.model",
        "deepseek-v3.2",
        checks.text,
        "Model used by `cryptows analyze` (list them with `cryptows models`).",
    ),
    Key(
        "analysis.api_key",
        "",
        checks.secret,
        f"Gateway API key. Prefer the {ENV_API_KEY} environment variable, which overrides this "
        "and keeps the key out of files. It is never printed, logged or recorded.",
        shown_default='"" (not set)',
        env=ENV_API_KEY,
    ),
    Key(
        "analysis.task",
        "all",
        checks.choice(*ANALYSIS_TASKS),
        "Analysis run by `cryptows analyze` and the dashboard's `a`: sentiment, anomaly, "
        "signal, or all three at once.",
    ),
    Key(
        "analysis.max_cost_usd",
        0.05,
        _POSITIVE,
        "Spend guard per run, in USD: a run whose estimated cost exceeds it is refused before "
        "anything is sent (`analyze --max-cost` overrides it).",
    ),
    Key(
        "analysis.max_tokens",
        600,
        checks.positive_int,
        "Most completion tokens asked for per call; the estimate counts all of them.",
    ),
    Key(
        "analysis.temperature",
        0.2,
        checks.temperature,
        "Sampling temperature sent with each call, 0 to 2.",
    ),
    Key(
        "analysis.connect_timeout_s",
        5.0,
        _POSITIVE,
        "Seconds allowed to connect to the gateway.",
    ),
    Key(
        "analysis.timeout_s",
        60.0,
        _POSITIVE,
        "Seconds allowed for one whole request; a call makes at most 3 attempts.",
    ),
    Key(
        "analysis.json_mode_models",
        list(DEFAULT_JSON_MODE_MODELS),
        checks.model_ids,
        'Models sent response_format {"type": "json_object"} (JSON mode). Only list models '
        "that accept it: their vendors document it for these (OpenAI JSON mode, DeepSeek JSON "
        "Output); other models are asked for JSON in the prompt alone.",
    ),
    Key(
        "analysis.prices",
        {},
        checks.prices,
        "Price overrides in USD per million tokens, one table per model id; they replace the "
        "built-in price of that model, or add a model (`cryptows models` shows the table in "
        "effect). Costs are computed locally from these.",
        shown_default='none (built-in prices), for example:\n[analysis.prices."deepseek-v3.2"]'
        "\ninput = 0.28\noutput = 0.42",
    ),
)
"""The keys of the ``[feed]``, ``[arb]`` and ``[analysis]`` tables, in display order."""

RETIRED_KEYS: Final[Mapping[str, str]] = {
    "feed.watchdog_s": "a venue is now presumed dead after feed.dead_after_s (default 5) of "
    "silence",
    "feed.ping_interval_s": "pings now follow feed.dead_after_s (after 2/5 of it in silence)",
}
"""Keys earlier versions wrote, and what replaced them (a clear error, not 'unknown key')."""


@functools.cache
def declared_keys() -> Mapping[str, Key]:
    """Dotted key -> its declaration, for every setting, in display order."""
    venue_keys = (template.key(adapter) for adapter in ADAPTERS.values() for template in VENUE_KEYS)
    return {key.name: key for key in (*TOP_KEYS, *venue_keys, *TABLE_KEYS)}


def setting_keys() -> tuple[str, ...]:
    """Every dotted key the configuration knows, in display order."""
    return tuple(declared_keys())


def default_values() -> dict[str, object]:
    """Dotted key -> built-in default (raw, before validation); venue values from the adapters."""
    return {name: copy.deepcopy(key.default) for name, key in declared_keys().items()}


ENV_KEYS: Final[Mapping[str, str]] = {
    key.env: key.name for key in (*TOP_KEYS, *TABLE_KEYS) if key.env is not None
}
"""Environment variable -> the dotted key it sets. Empty values are ignored."""
