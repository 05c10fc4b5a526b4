"""Typed settings from built-in defaults, a TOML file, the environment and flags, with provenance.

Precedence, lowest first: defaults < TOML file < environment < flags (overrides passed by the CLI).
Every value is validated where it enters, and a bad one raises :class:`~cryptows.errors.ConfigError`
with one line naming where it came from and the dotted key::

    config file /x/c.toml: venues.binance.taker_fee_pct must be >= 0 (got -1)

The file is found at an explicit path (must exist), else ``$CRYPTOWS_CONFIG`` (must exist), else
``<user config dir>/cryptows/config.toml`` (optional). Venue defaults come from the adapter
classes in :data:`cryptows.venues.ADAPTERS`, the single source of truth for URLs and fees.

Modules:

* :mod:`.keys`: every setting declared once (dotted key, default, check, help text);
* :mod:`.checks`: the value checks;
* :mod:`.settings`: the typed settings dataclasses; :mod:`.secret`: :class:`Secret`;
* :mod:`.sources`: finding and reading the file, the layers and their provenance;
* :mod:`.example`: the commented example file, generated from the keys.
"""

from __future__ import annotations

from cryptows.config.checks import MIN_DEAD_AFTER_S, Check
from cryptows.config.example import example_config_text, write_example_config
from cryptows.config.keys import (
    ANALYSIS_TASKS,
    DEFAULT_JSON_MODE_MODELS,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_KEYS,
    RETIRED_KEYS,
    default_values,
    setting_keys,
)
from cryptows.config.secret import Secret
from cryptows.config.settings import (
    DEFAULT_SOURCE,
    AnalysisSettings,
    ArbSettings,
    FeedSettings,
    Settings,
    VenueSettings,
)
from cryptows.config.sources import (
    ENV_CONFIG,
    ConfigLocation,
    default_config_path,
    load_settings,
    locate_config,
    read_config_file,
    venue_overrides,
)
from cryptows.errors import ConfigError

__all__ = [
    "ANALYSIS_TASKS",
    "DEFAULT_JSON_MODE_MODELS",
    "DEFAULT_SOURCE",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_CONFIG",
    "ENV_KEYS",
    "MIN_DEAD_AFTER_S",
    "RETIRED_KEYS",
    "AnalysisSettings",
    "ArbSettings",
    "Check",
    "ConfigError",
    "ConfigLocation",
    "FeedSettings",
    "Secret",
    "Settings",
    "VenueSettings",
    "default_config_path",
    "default_values",
    "example_config_text",
    "load_settings",
    "locate_config",
    "read_config_file",
    "setting_keys",
    "venue_overrides",
    "write_example_config",
]
