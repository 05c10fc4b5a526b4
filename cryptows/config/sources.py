"""Where values come from: built-in defaults < TOML file < environment < flags, with provenance.

Every value is validated where it enters, and a bad one raises :class:`~cryptows.errors.ConfigError`
with one line naming where it came from and the dotted key::

    config file /x/c.toml: venues.binance.taker_fee_pct must be >= 0 (got -1)
    config file /x/c.toml: invalid TOML at line 3, column 7: Invalid value
    env HOLYSHEEP_BASE_URL: analysis.base_url must be a URL starting http:// or https:// ...

The file is found at an explicit path (must exist), else ``$CRYPTOWS_CONFIG`` (must exist), else
``<user config dir>/cryptows/config.toml`` (optional).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

from cryptows.config.checks import Invalid, wrong_type
from cryptows.config.keys import ENV_KEYS, RETIRED_KEYS, declared_keys, default_values
from cryptows.config.settings import DEFAULT_SOURCE, Settings, build_settings
from cryptows.errors import ConfigError, VenueNameError
from cryptows.venues import ADAPTERS, adapter_class

ENV_CONFIG: Final = "CRYPTOWS_CONFIG"
"""Environment variable naming the config file (which must then exist)."""


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
    keys, where = declared_keys(), f"config file {path}"
    entries: list[_Entry] = []
    for name, value in table.items():
        key = prefix + name
        if key in keys:
            entries.append(_Entry(key, value, f"file {path}", where))
        elif any(known.startswith(key + ".") for known in keys):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {wrong_type(key, 'a table', value)}")
            entries += _file_entries(value, key + ".", path)
        elif key in RETIRED_KEYS:
            raise ConfigError(f"{where}: {key} was removed: {RETIRED_KEYS[key]}; delete that line")
        else:
            raise ConfigError(f"{where}: {_unknown(key, prefix)}")
    return entries


def _unknown(key: str, prefix: str) -> str:
    names = list(
        dict.fromkeys(
            k[len(prefix) :].split(".")[0] for k in declared_keys() if k.startswith(prefix)
        )
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
        if key not in declared_keys():
            raise ConfigError(f"{label}: unknown setting {key}")
        entries.append(_Entry(key, value, label, label))
    return entries


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
    keys = declared_keys()
    values: dict[str, object] = {}
    winners: dict[str, tuple[int, _Entry]] = {}
    for rank, entry in enumerate(entries):
        try:
            values[entry.key] = keys[entry.key].check(entry.key, entry.value)
        except Invalid as exc:
            raise ConfigError(f"{entry.where}: {exc}") from exc
        winners[entry.key] = (rank, entry)
    _check_backoff(values, winners)
    _resolve_endpoints(values, winners)
    sources = {key: entry.source for key, (_, entry) in winners.items()}
    return build_settings(values, sources=sources, config_file=config_file)


def _check_backoff(values: Mapping[str, object], winners: Mapping[str, tuple[int, _Entry]]) -> None:
    """The one check across keys: ``feed.backoff_initial_s <= feed.backoff_max_s``; the error
    names the later-set of the two (the one to fix)."""
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


def _resolve_endpoints(values: dict[str, object], winners: dict[str, tuple[int, _Entry]]) -> None:
    """Make each venue's ``ws_url`` and ``ws_urls`` agree: the one set later wins (a ``ws_url``
    set after the list, e.g. a flag or a simulator's config, is the only URL; a list set after
    it replaces it, its first URL becoming ``ws_url``). Both set in one file (the example config
    does) must agree on the first URL: otherwise which was meant is unclear."""
    for name in ADAPTERS:
        one, many = f"venues.{name}.ws_url", f"venues.{name}.ws_urls"
        (one_rank, one_entry), (many_rank, many_entry) = winners[one], winners[many]
        urls = values[many]
        assert isinstance(urls, tuple)
        same_file = one_entry.source.startswith("file ") and one_entry.source == many_entry.source
        if same_file and values[one] == urls[0]:
            continue  # the example config's form: the list says it all, in either key order
        if same_file:
            raise ConfigError(
                f"{one_entry.where}: {one} is not the first of {many}; set one of the two "
                f"({many} lists every URL to try, in order)"
            )
        if one_rank > many_rank:
            values[many] = (values[one],)
            winners[many] = (one_rank, one_entry)
        else:
            values[one] = urls[0]
            winners[one] = (many_rank, many_entry)


def venue_overrides(names: Iterable[str]) -> dict[str, object]:
    """Overrides that enable exactly ``names`` (as ``--venues a,b`` asks) and disable the rest.

    Raises:
        VenueNameError: a name is not a supported venue, or no name is given.
    """
    chosen = {adapter_class(name).name for name in names if name.strip()}
    if not chosen:
        raise VenueNameError(f"no venue named; supported venues: {', '.join(ADAPTERS)}")
    return {f"venues.{name}.enabled": name in chosen for name in ADAPTERS}
