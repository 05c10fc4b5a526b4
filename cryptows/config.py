"""Typed settings from built-in defaults, a TOML file, the environment and flags, with provenance.

Precedence, lowest first: defaults < TOML file < environment < flags (overrides passed by the CLI).
Every value is validated where it enters, and a bad one raises :class:`~cryptows.errors.ConfigError`
with one line naming where it came from and the dotted key::

    config file /x/c.toml: venues.binance.taker_fee_pct must be >= 0 (got -1)
    config file /x/c.toml: invalid TOML at line 3, column 7: Invalid value
    env HOLYSHEEP_BASE_URL: analysis.base_url must be a URL starting http:// or https:// ...

The file is found at an explicit path (must exist), else ``$CRYPTOWS_CONFIG`` (must exist), else
``<user config dir>/cryptows/config.toml`` (optional). Venue defaults come from the adapter
classes in :data:`cryptows.venues.ADAPTERS`, the single source of truth for URLs and fees.
"""

from __future__ import annotations

import difflib
import functools
import hmac
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlsplit

import platformdirs

from cryptows.analysis.pricing import ModelPrice
from cryptows.errors import ConfigError, SymbolError, VenueNameError
from cryptows.symbols import Symbol, parse_symbol
from cryptows.venues import ADAPTERS, adapter_class

ENV_CONFIG: Final = "CRYPTOWS_CONFIG"
"""Environment variable naming the config file (which must then exist)."""
ENV_API_KEY: Final = "HOLYSHEEP_API_KEY"
"""Environment variable holding the gateway key; overrides ``analysis.api_key``."""
ENV_BASE_URL: Final = "HOLYSHEEP_BASE_URL"
"""Environment variable overriding ``analysis.base_url``."""
ENV_KEYS: Final[Mapping[str, str]] = {
    ENV_BASE_URL: "analysis.base_url",
    ENV_API_KEY: "analysis.api_key",
}
"""Environment variable -> the dotted key it sets. Empty values are ignored."""
DEFAULT_JSON_MODE_MODELS: Final = ("gpt-4.1", "gpt-4.1-mini", "deepseek-v3.2")
"""Models whose vendors document ``response_format: {"type": "json_object"}`` on their own
OpenAI-style APIs (OpenAI's JSON mode, DeepSeek's JSON Output); a gateway that passes the
request through keeps that ability. Others are asked for JSON in the prompt only."""
DEFAULT_SOURCE: Final = "default"
"""Provenance of a value nobody set."""

_T = TypeVar("_T")


class Secret:
    """A string that never shows itself: ``str``/``repr`` give ``'********'`` or ``'<not set>'``.

    Use :meth:`reveal` at the one place the value is needed (the request header).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself."""
        return self._value

    @property
    def is_set(self) -> bool:
        """Whether a non-empty value is held."""
        return bool(self._value)

    def __bool__(self) -> bool:
        return self.is_set

    def __str__(self) -> str:
        return "********" if self._value else "<not set>"

    def __repr__(self) -> str:
        return f"Secret({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # a hash would be a cheap oracle for the value


@dataclass(frozen=True, slots=True)
class VenueSettings:
    """One exchange's connection settings (``[venues.<name>]``)."""

    enabled: bool
    """Connect to this venue."""
    ws_url: str
    """The full public market-data WebSocket URL the client opens (``ws://`` or ``wss://``)."""
    rest_url: str
    """REST base for server time and the symbol list (``http://`` or ``https://``)."""
    taker_fee_pct: float
    """Spot taker fee in percent, subtracted per leg for net arbitrage."""
    dead_after_s: float = 0.0
    """This venue's liveness bound in seconds (>= 1); 0 = ``[feed] dead_after_s``."""


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Connection behaviour shared by all venues (``[feed]``)."""

    backoff_initial_s: float
    """First reconnect delay in seconds (> 0); it grows with jitter after each failure."""
    backoff_max_s: float
    """Longest reconnect delay in seconds (>= ``backoff_initial_s``)."""
    open_timeout_s: float
    """Bound on opening a WebSocket (TCP + TLS + handshake), in seconds (> 0)."""
    stable_reset_s: float = 60.0
    """A connection up this long resets the reconnect delay to ``backoff_initial_s`` (> 0)."""
    dead_after_s: float = 5.0
    """Liveness bound in seconds (>= 1): a connection from which nothing at all (data, pong,
    heartbeat) has arrived for this long is presumed dead, marked stale and replaced. A silent
    connection is pinged after 2/5 of it, so a quiet market answers in time."""
    symbol_timeout_s: float = 30.0
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
    confirm_ms: int = 250
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
    task: str = "all"
    """Default analysis task: one of :data:`ANALYSIS_TASKS`."""
    max_cost_usd: float = 0.05
    """Spend guard per run in USD (> 0): refuse before sending when the estimate exceeds it."""
    max_tokens: int = 600
    """Most completion tokens asked for per call (>= 1)."""
    temperature: float = 0.2
    """Sampling temperature sent with each call (0 to 2)."""
    connect_timeout_s: float = 5.0
    """Bound on connecting to the gateway, in seconds (> 0)."""
    timeout_s: float = 60.0
    """Bound on one whole request (connect, send, answer), in seconds (> 0)."""
    json_mode_models: tuple[str, ...] = DEFAULT_JSON_MODE_MODELS
    """Model ids sent ``response_format: {"type": "json_object"}``; others are asked by prompt."""
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
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
    demo: bool = False
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
        for key in _schema():
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


# -- validation ------------------------------------------------------------------------------

Check = Callable[[str, object], object]
"""Validates the value of one dotted key and returns it normalised; raises ``_Invalid``."""


class _Invalid(Exception):
    """A bad value; the message starts with the dotted key."""


def _kind(value: object) -> str:
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        ((list, tuple), "an array"),
        (dict, "a table"),
    )
    return next((name for kind, name in kinds if isinstance(value, kind)), "a date/time")


def _show(value: object) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _wrong_type(key: str, expected: str, value: object) -> _Invalid:
    return _Invalid(f"{key} must be {expected} (got {_show(value)}, {_kind(value)})")


def _number(*, above_zero: bool = False) -> Check:
    def check(key: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(key, "a number", value)
        number = float(value)
        if not math.isfinite(number):
            raise _Invalid(f"{key} must be a finite number (got {_show(value)})")
        if above_zero and number <= 0:
            raise _Invalid(f"{key} must be > 0 (got {_show(value)})")
        if number < 0:
            raise _Invalid(f"{key} must be >= 0 (got {_show(value)})")
        return number

    return check


def _count(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(key, "an integer", value)
    if value < 0:
        raise _Invalid(f"{key} must be >= 0 (got {value})")
    return value


def _boolean(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _wrong_type(key, "true or false", value)
    return value


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise _wrong_type(key, "a string", value)
    if not value.strip():
        raise _Invalid(f"{key} must not be empty")
    return value.strip()


def _url(*schemes: str) -> Check:
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)

    def check(key: str, value: object) -> str:
        text = _text(key, value)
        try:
            parts = urlsplit(text)
            ok = parts.scheme.lower() in schemes and bool(parts.hostname)
            ok = ok and not any(c.isspace() for c in text) and (parts.port or 1) > 0
        except ValueError:  # a port that is not a number
            ok = False
        if not ok:
            raise _Invalid(
                f"{key} must be a URL starting {wanted} with a host (got {_show(value)})"
            )
        return text

    return check


def _secret(key: str, value: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise _Invalid(f"{key} must be a string (got {_kind(value)}; value not shown)")
    return Secret(value.strip())


def _array(key: str, value: object, expected: str) -> list[object]:
    if not isinstance(value, list | tuple):
        raise _wrong_type(key, expected, value)
    return list(value)


def _symbols(key: str, value: object) -> tuple[Symbol, ...]:
    items = _array(key, value, 'an array of symbols like ["BTCUSDT"]')
    if not items:
        raise _Invalid(f"{key} must list at least one symbol (got [])")
    seen: dict[str, Symbol] = {}
    for i, item in enumerate(items):
        if isinstance(item, Symbol):
            symbol = item
        elif isinstance(item, str):
            try:
                symbol = parse_symbol(item)
            except SymbolError as exc:
                raise _Invalid(f"{key}[{i}]: {exc}") from exc
        else:
            raise _wrong_type(f"{key}[{i}]", "a symbol string", item)
        seen.setdefault(symbol.canonical, symbol)
    return tuple(seen.values())


_ASSET = re.compile(r"[A-Z0-9]{1,20}")


def _pairs(key: str, value: object) -> tuple[tuple[str, str], ...]:
    pairs: dict[tuple[str, str], None] = {}
    for i, item in enumerate(_array(key, value, 'an array of pairs like [["USD", "USDT"]]')):
        here = f"{key}[{i}]"
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise _wrong_type(here, 'a pair of asset names like ["USD", "USDT"]', item)
        first, second = (a.strip().upper() if isinstance(a, str) else "" for a in item)
        if not (_ASSET.fullmatch(first) and _ASSET.fullmatch(second)):
            problem = f"must hold two assets of 1-20 letters or digits (got {_show(item)})"
            raise _Invalid(f"{here} {problem}")
        if first == second:
            raise _Invalid(f"{here} must name two different assets (got {_show(item)})")
        pairs[(first, second)] = None
    return tuple(pairs)


ANALYSIS_TASKS: Final = ("sentiment", "anomaly", "signal", "all")
"""The analyses ``analyze`` can ask for; ``all`` runs the other three concurrently."""


def _choice(*choices: str) -> Check:
    def check(key: str, value: object) -> str:
        text = _text(key, value).lower()
        if text not in choices:
            raise _Invalid(f"{key} must be one of {', '.join(choices)} (got {_show(value)})")
        return text

    return check


def _positive_int(key: str, value: object) -> int:
    number = _count(key, value)
    if number < 1:
        raise _Invalid(f"{key} must be >= 1 (got {number})")
    return number


def _temperature(key: str, value: object) -> float:
    number = _number()(key, value)
    assert isinstance(number, float)
    if number > 2:
        raise _Invalid(f"{key} must be between 0 and 2 (got {_show(value)})")
    return number


def _model_ids(key: str, value: object) -> tuple[str, ...]:
    items = _array(key, value, 'an array of model ids like ["gpt-4.1"]')
    return tuple(dict.fromkeys(_text(f"{key}[{i}]", item) for i, item in enumerate(items)))


def _prices(key: str, value: object) -> dict[str, ModelPrice]:
    if isinstance(value, Mapping) and all(isinstance(v, ModelPrice) for v in value.values()):
        return {str(model): price for model, price in value.items()}
    if not isinstance(value, dict):
        raise _wrong_type(key, 'a table of tables like [analysis.prices."gpt-4.1"]', value)
    prices: dict[str, ModelPrice] = {}
    for model, table in value.items():
        here = f'{key}."{model}"'
        if not str(model).strip():
            raise _Invalid(f"{key}: a model id must not be empty")
        if not isinstance(table, dict):
            raise _wrong_type(here, "a table with input = and output = (USD per million)", table)
        unknown = sorted(set(table) - {"input", "output"})
        if unknown:
            raise _Invalid(f"unknown key {here}.{unknown[0]}; known keys: input, output")
        missing = [name for name in ("input", "output") if name not in table]
        if missing:
            raise _Invalid(f"{here} must set {' and '.join(missing)} (USD per million tokens)")
        cost_in = _number()(f"{here}.input", table["input"])
        cost_out = _number()(f"{here}.output", table["output"])
        assert isinstance(cost_in, float)
        assert isinstance(cost_out, float)
        prices[str(model).strip()] = ModelPrice(cost_in, cost_out)
    return prices


MIN_DEAD_AFTER_S: Final = 1.0
"""The shortest liveness bound accepted: below it, network jitter alone would raise false alarms,
and probing every 2/5 of it would crowd Binance's 5 client messages per second."""


def _liveness_bound(*, allow_zero: bool) -> Check:
    def check(key: str, value: object) -> float:
        seconds = _number()(key, value)
        assert isinstance(seconds, float)
        if seconds < MIN_DEAD_AFTER_S and not (allow_zero and seconds == 0):
            also = " or 0" if allow_zero else ""
            raise _Invalid(f"{key} must be >= {MIN_DEAD_AFTER_S:g}{also} (got {_show(value)})")
        return seconds

    return check


@functools.cache
def _schema() -> dict[str, Check]:
    schema: dict[str, Check] = {"symbols": _symbols, "demo": _boolean}
    for name in ADAPTERS:
        schema[f"venues.{name}.enabled"] = _boolean
        schema[f"venues.{name}.ws_url"] = _url("ws", "wss")
        schema[f"venues.{name}.rest_url"] = _url("http", "https")
        schema[f"venues.{name}.taker_fee_pct"] = _number()
        schema[f"venues.{name}.dead_after_s"] = _liveness_bound(allow_zero=True)
    schema["feed.backoff_initial_s"] = _number(above_zero=True)
    schema["feed.backoff_max_s"] = _number(above_zero=True)
    schema["feed.open_timeout_s"] = _number(above_zero=True)
    schema["feed.stable_reset_s"] = _number(above_zero=True)
    schema["feed.dead_after_s"] = _liveness_bound(allow_zero=False)
    schema["feed.symbol_timeout_s"] = _number()
    schema["arb.threshold_pct"] = _number()
    schema["arb.hysteresis_pct"] = _number()
    schema["arb.max_quote_age_ms"] = _count
    schema["arb.quote_equivalents"] = _pairs
    schema["arb.confirm_ms"] = _count
    schema["analysis.base_url"] = _url("http", "https")
    schema["analysis.model"] = _text
    schema["analysis.api_key"] = _secret
    schema["analysis.task"] = _choice(*ANALYSIS_TASKS)
    schema["analysis.max_cost_usd"] = _number(above_zero=True)
    schema["analysis.max_tokens"] = _positive_int
    schema["analysis.temperature"] = _temperature
    schema["analysis.connect_timeout_s"] = _number(above_zero=True)
    schema["analysis.timeout_s"] = _number(above_zero=True)
    schema["analysis.json_mode_models"] = _model_ids
    schema["analysis.prices"] = _prices
    return schema


def setting_keys() -> tuple[str, ...]:
    """Every dotted key the configuration knows, in display order."""
    return tuple(_schema())


def default_values() -> dict[str, object]:
    """Dotted key -> built-in default (raw, before validation); venue values from the adapters."""
    values: dict[str, object] = {"symbols": ["BTCUSDT", "ETHUSDT"], "demo": False}
    for name, adapter in ADAPTERS.items():
        values[f"venues.{name}.enabled"] = True
        values[f"venues.{name}.ws_url"] = adapter.default_ws_url
        values[f"venues.{name}.rest_url"] = adapter.default_rest_url
        values[f"venues.{name}.taker_fee_pct"] = adapter.default_taker_fee_pct
        values[f"venues.{name}.dead_after_s"] = 0.0
    values.update(
        {
            "feed.backoff_initial_s": 1.0,
            "feed.backoff_max_s": 60.0,
            "feed.open_timeout_s": 10.0,
            "feed.stable_reset_s": 60.0,
            "feed.dead_after_s": 5.0,
            "feed.symbol_timeout_s": 30.0,
            "arb.threshold_pct": 0.1,
            "arb.hysteresis_pct": 0.02,
            "arb.max_quote_age_ms": 0,
            "arb.quote_equivalents": [],
            "arb.confirm_ms": 250,
            "analysis.base_url": "https://api.holysheep.ai/v1",
            "analysis.model": "deepseek-v3.2",
            "analysis.api_key": "",
            "analysis.task": "all",
            "analysis.max_cost_usd": 0.05,
            "analysis.max_tokens": 600,
            "analysis.temperature": 0.2,
            "analysis.connect_timeout_s": 5.0,
            "analysis.timeout_s": 60.0,
            "analysis.json_mode_models": list(DEFAULT_JSON_MODE_MODELS),
            "analysis.prices": {},
        }
    )
    return values


# -- where values come from ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One value from one layer."""

    key: str
    value: object
    source: str
    """Provenance recorded in ``Settings.sources``."""
    where: str
    """Prefix of an error about this value."""


@dataclass(frozen=True, slots=True)
class ConfigLocation:
    """Where the config file is looked for, and how that place was chosen."""

    path: Path
    """The file (it may not exist)."""
    origin: str
    """How it was chosen: ``--config``, ``$CRYPTOWS_CONFIG`` or ``the default location``."""
    required: bool
    """Whether a missing file is an error (explicit path, env var) or just means defaults."""

    @property
    def exists(self) -> bool:
        """Whether something exists at :attr:`path`."""
        return self.path.exists()


def default_config_path() -> Path:
    """``<user config dir>/cryptows/config.toml`` (``$XDG_CONFIG_HOME`` is honoured on Linux)."""
    return Path(platformdirs.user_config_dir("cryptows", appauthor=False)) / "config.toml"


def locate_config(
    config_path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> ConfigLocation:
    """The config file to use: ``config_path``, else ``$CRYPTOWS_CONFIG``, else the default path.

    Nothing is read or checked here; :func:`load_settings` refuses a missing required file.
    """
    env = os.environ if environ is None else environ
    if config_path is not None and str(config_path):
        return ConfigLocation(Path(config_path).expanduser(), "--config", required=True)
    if env.get(ENV_CONFIG, "").strip():
        path = Path(env[ENV_CONFIG].strip()).expanduser()
        return ConfigLocation(path, f"${ENV_CONFIG}", required=True)
    return ConfigLocation(default_config_path(), "the default location", required=False)


def read_config_file(location: ConfigLocation) -> dict[str, object]:
    """The parsed TOML document at ``location``.

    Raises:
        ConfigError: the file is missing, unreadable, not UTF-8 or not valid TOML.
    """
    path, where = location.path, f"config file {location.path}"
    if not path.exists():
        hint = "`cryptows config init" + (
            f" --config {path}`" if location.origin == "--config" else "`"
        )
        raise ConfigError(f"{where}: not found (named by {location.origin}); create it with {hint}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: {_toml_problem(exc)}") from exc


_TOML_AT = re.compile(r"^(?P<what>.*?)\s*\((?P<at>at line \d+, column \d+|at end of document)\)$")


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    text = " ".join(str(exc).split())
    match = _TOML_AT.match(text)
    if match is None:
        return f"invalid TOML: {text}"
    return f"invalid TOML {match['at']}: {match['what']}"


def _file_entries(table: Mapping[str, object], prefix: str, path: Path) -> list[_Entry]:
    schema, where = _schema(), f"config file {path}"
    entries: list[_Entry] = []
    for name, value in table.items():
        key = prefix + name
        if key in schema:
            entries.append(_Entry(key, value, f"file {path}", where))
        elif any(known.startswith(key + ".") for known in schema):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {_wrong_type(key, 'a table', value)}")
            entries += _file_entries(value, key + ".", path)
        elif key in RETIRED_KEYS:
            raise ConfigError(f"{where}: {key} was removed: {RETIRED_KEYS[key]}; delete that line")
        else:
            raise ConfigError(f"{where}: {_unknown(key, prefix)}")
    return entries


RETIRED_KEYS = {
    "feed.watchdog_s": "a venue is now presumed dead after feed.dead_after_s (default 5) of "
    "silence",
    "feed.ping_interval_s": "pings now follow feed.dead_after_s (after 2/5 of it in silence)",
}
"""Keys earlier versions wrote, and what replaced them (a clear error, not 'unknown key')."""


def _unknown(key: str, prefix: str) -> str:
    names = list(
        dict.fromkeys(k[len(prefix) :].split(".")[0] for k in _schema() if k.startswith(prefix))
    )
    name = key[len(prefix) :]
    if prefix == "venues.":
        return f"{key}: unknown venue {name!r}; known venues: {', '.join(names)}"
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"unknown key {key} (did you mean {prefix}{close[0]}?)"
    return (
        f"unknown key {key}; known keys{' in ' + prefix[:-1] if prefix else ''}: {', '.join(names)}"
    )


def _env_entries(env: Mapping[str, str]) -> list[_Entry]:
    return [
        _Entry(key, env[var], f"env {var}", f"env {var}")
        for var, key in ENV_KEYS.items()
        if env.get(var, "").strip()
    ]


def _override_entries(
    overrides: Mapping[str, object], overrides_source: str | Mapping[str, str]
) -> list[_Entry]:
    entries: list[_Entry] = []
    for key, value in overrides.items():
        if value is None:
            continue
        label = (
            overrides_source
            if isinstance(overrides_source, str)
            else overrides_source.get(key, "flag")
        )
        if key not in _schema():
            raise ConfigError(f"{label}: unknown setting {key}")
        entries.append(_Entry(key, value, label, label))
    return entries


# -- public entry points ---------------------------------------------------------------------


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    *,
    overrides: Mapping[str, object] | None = None,
    overrides_source: str | Mapping[str, str] = "flag",
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Effective settings: defaults < TOML file < environment < ``overrides``.

    Args:
        config_path: the ``--config`` value; ``None`` means discover (see :func:`locate_config`).
        overrides: dotted key -> value from the command line, e.g.
            ``{"symbols": ["btc-usdt"], "arb.threshold_pct": 0.2}``; ``None`` values are skipped,
            so a CLI can pass every flag as is. Values are validated like file values.
        overrides_source: provenance of the overrides: one label for all (``"flag"``), or a
            mapping dotted key -> label (``{"arb.threshold_pct": "flag --threshold"}``, missing
            keys get ``"flag"``). The label also prefixes errors about that value.
        environ: environment to read (``HOLYSHEEP_API_KEY``, ``HOLYSHEEP_BASE_URL``,
            ``CRYPTOWS_CONFIG``); defaults to ``os.environ``.

    Raises:
        ConfigError: one line naming the file (or env var, or flag) and the dotted key.
    """
    env = os.environ if environ is None else environ
    location = locate_config(config_path, environ=env)
    entries = [
        _Entry(k, v, DEFAULT_SOURCE, "built-in default") for k, v in default_values().items()
    ]
    config_file: Path | None = None
    if location.required or location.exists:
        entries += _file_entries(read_config_file(location), "", location.path)
        config_file = location.path
    entries += _env_entries(env)
    entries += _override_entries(overrides or {}, overrides_source)
    return _build(entries, config_file)


def _build(entries: list[_Entry], config_file: Path | None) -> Settings:
    schema = _schema()
    values: dict[str, object] = {}
    winners: dict[str, tuple[int, _Entry]] = {}
    for rank, entry in enumerate(entries):
        try:
            values[entry.key] = schema[entry.key](entry.key, entry.value)
        except _Invalid as exc:
            raise ConfigError(f"{entry.where}: {exc}") from exc
        winners[entry.key] = (rank, entry)
    _check_backoff(values, winners)

    def pick(key: str, kind: type[_T]) -> _T:
        value = values[key]
        assert isinstance(value, kind), key
        return value

    venues = {
        name: VenueSettings(
            enabled=pick(f"venues.{name}.enabled", bool),
            ws_url=pick(f"venues.{name}.ws_url", str),
            rest_url=pick(f"venues.{name}.rest_url", str),
            taker_fee_pct=pick(f"venues.{name}.taker_fee_pct", float),
            dead_after_s=pick(f"venues.{name}.dead_after_s", float),
        )
        for name in ADAPTERS
    }
    return Settings(
        symbols=pick("symbols", tuple),
        venues=venues,
        feed=FeedSettings(
            backoff_initial_s=pick("feed.backoff_initial_s", float),
            backoff_max_s=pick("feed.backoff_max_s", float),
            open_timeout_s=pick("feed.open_timeout_s", float),
            stable_reset_s=pick("feed.stable_reset_s", float),
            dead_after_s=pick("feed.dead_after_s", float),
            symbol_timeout_s=pick("feed.symbol_timeout_s", float),
        ),
        arb=ArbSettings(
            threshold_pct=pick("arb.threshold_pct", float),
            hysteresis_pct=pick("arb.hysteresis_pct", float),
            max_quote_age_ms=pick("arb.max_quote_age_ms", int),
            quote_equivalents=pick("arb.quote_equivalents", tuple),
            confirm_ms=pick("arb.confirm_ms", int),
        ),
        analysis=AnalysisSettings(
            base_url=pick("analysis.base_url", str),
            model=pick("analysis.model", str),
            api_key=pick("analysis.api_key", Secret),
            task=pick("analysis.task", str),
            max_cost_usd=pick("analysis.max_cost_usd", float),
            max_tokens=pick("analysis.max_tokens", int),
            temperature=pick("analysis.temperature", float),
            connect_timeout_s=pick("analysis.connect_timeout_s", float),
            timeout_s=pick("analysis.timeout_s", float),
            json_mode_models=pick("analysis.json_mode_models", tuple),
            prices=pick("analysis.prices", dict),
        ),
        demo=pick("demo", bool),
        sources={key: entry.source for key, (_, entry) in winners.items()},
        config_file=config_file,
    )


def _check_backoff(values: Mapping[str, object], winners: Mapping[str, tuple[int, _Entry]]) -> None:
    low, high = values["feed.backoff_initial_s"], values["feed.backoff_max_s"]
    assert isinstance(low, float)
    assert isinstance(high, float)
    if high >= low:
        return
    low_rank, low_entry = winners["feed.backoff_initial_s"]
    high_rank, high_entry = winners["feed.backoff_max_s"]
    if high_rank >= low_rank:
        problem = f"feed.backoff_max_s must be >= feed.backoff_initial_s (got {high:g} < {low:g})"
        raise ConfigError(f"{high_entry.where}: {problem}")
    problem = f"feed.backoff_initial_s must be <= feed.backoff_max_s (got {low:g} > {high:g})"
    raise ConfigError(f"{low_entry.where}: {problem}")


def venue_overrides(names: Iterable[str]) -> dict[str, object]:
    """Overrides that enable exactly ``names`` (as ``--venues a,b`` asks) and disable the rest.

    Raises:
        VenueNameError: a name is not a supported venue, or no name is given.
    """
    chosen = {adapter_class(name).name for name in names if name.strip()}
    if not chosen:
        raise VenueNameError(f"no venue named; supported venues: {', '.join(ADAPTERS)}")
    return {f"venues.{name}.enabled": name in chosen for name in ADAPTERS}


def example_config_text() -> str:
    """The commented example configuration shipped in the package (``config.example.toml``)."""
    return resources.files("cryptows").joinpath("config.example.toml").read_text(encoding="utf-8")


def write_example_config(path: Path, *, force: bool = False) -> Path:
    """Write :func:`example_config_text` to ``path``, creating parent directories.

    The file is made readable by its owner only, since it may come to hold the API key.

    Raises:
        ConfigError: ``path`` exists and ``force`` is false, or it cannot be written.
    """
    if path.exists() and not force:
        raise ConfigError(f"config file {path} already exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example_config_text(), encoding="utf-8")
        path.chmod(0o600)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot write it: {exc.strerror or exc}") from exc
    return path
