"""The key declarations (cryptows/config/keys.py) are the single source of every setting: the
typed settings, the defaults, the environment variables and the example file all follow them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import typing
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from cryptows.config import (
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_KEYS,
    AnalysisSettings,
    ArbSettings,
    FeedSettings,
    Settings,
    VenueSettings,
    default_values,
    example_config_text,
    load_settings,
    setting_keys,
)
from cryptows.config.keys import TABLE_KEYS, TOP_KEYS, VENUE_KEYS, declared_keys
from cryptows.venues import ADAPTERS
from cryptows.venues.binance import BinanceAdapter

TABLES = {"feed": FeedSettings, "arb": ArbSettings, "analysis": AnalysisSettings}


def words(text: str) -> str:
    """``text`` with comment markers dropped and whitespace collapsed."""
    lines = (line.lstrip("#").strip() for line in text.splitlines())
    return " ".join(" ".join(lines).split())


def test_every_key_has_a_valid_default_and_help_text_and_is_in_the_example() -> None:
    example = example_config_text()
    doc = tomllib.loads(example)
    prose = words(example)
    assert list(declared_keys()) == list(setting_keys())
    for name, key in declared_keys().items():
        assert key.help.strip(), f"{name} has no help text"
        key.check(name, key.default)  # the default passes the key's own check
        assert name in default_values(), name
        node: object = doc
        for part in name.split("."):
            assert isinstance(node, dict)
            assert part in node, f"{name} is missing from the example"
            node = node[part]
        assert node == key.default, name
        if not name.startswith("venues."):
            assert words(key.help) in prose, f"the help text of {name} is not in the example"
    for template in VENUE_KEYS:
        assert words(template.help) in prose, template.field


def test_every_venue_in_the_registry_gets_a_section() -> None:
    doc = tomllib.loads(example_config_text())
    assert list(doc["venues"]) == list(ADAPTERS)
    for name, adapter in ADAPTERS.items():
        table = doc["venues"][name]
        assert set(table) == {template.field for template in VENUE_KEYS}
        assert table["ws_url"] == adapter.default_ws_url
        assert table["rest_url"] == adapter.default_rest_url
        assert table["taker_fee_pct"] == adapter.default_taker_fee_pct


class KrakenAdapter(BinanceAdapter):
    """A fifth venue, as a new adapter module would add it."""

    name = "kraken"
    display_name = "Kraken"
    default_ws_url = "wss://ws.kraken.example/v2"
    alternative_ws_urls = ()
    default_rest_url = "https://api.kraken.example"
    fee_source = ""
    endpoint_note = ""
    default_taker_fee_pct = 0.26


@pytest.fixture
def fifth_venue(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(ADAPTERS, "kraken", KrakenAdapter)
    declared_keys.cache_clear()
    yield
    monkeypatch.undo()
    declared_keys.cache_clear()


@pytest.mark.usefixtures("fifth_venue")
def test_a_new_adapter_needs_no_config_edit(tmp_path: Path) -> None:
    text = example_config_text()
    kraken = tomllib.loads(text)["venues"]["kraken"]
    assert kraken == {
        "enabled": True,
        "ws_url": "wss://ws.kraken.example/v2",
        "ws_urls": ["wss://ws.kraken.example/v2"],
        "rest_url": "https://api.kraken.example",
        "taker_fee_pct": 0.26,
        "dead_after_s": 0.0,
        "max_symbols_per_connection": 0,
    }
    assert '# Default: "wss://ws.kraken.example/v2"\n' in text
    assert load_settings().venues["kraken"].ws_url == "wss://ws.kraken.example/v2"
    path = tmp_path / "c.toml"
    path.write_text("[venues.kraken]\ntaker_fee_pct = 0.4\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.venues["kraken"].taker_fee_pct == 0.4
    assert settings.source("venues.kraken.taker_fee_pct") == f"file {path}"


def annotation(cls: type, name: str) -> type:
    hint = typing.get_type_hints(cls)[name]
    kind = typing.get_origin(hint) or hint
    assert isinstance(kind, type), hint
    return kind


def test_the_settings_dataclasses_have_exactly_the_declared_keys() -> None:
    """Each field is filled from its key, and the key's check gives a value of the field's type."""
    expected = {f"{table}.{f.name}" for table, cls in TABLES.items() for f in fields(cls)}
    expected |= {f"venues.{venue}.{f.name}" for venue in ADAPTERS for f in fields(VenueSettings)}
    expected |= {f.name for f in fields(Settings)} - {"venues", *TABLES, "sources", "config_file"}
    assert set(setting_keys()) == expected
    for name, key in declared_keys().items():
        table, _, field = name.rpartition(".")
        cls = TABLES.get(table, VenueSettings if table.startswith("venues.") else Settings)
        value = key.check(name, key.default)
        assert isinstance(value, annotation(cls, field)), (name, value)


def test_top_level_and_table_keys_are_in_display_order() -> None:
    keys = setting_keys()
    assert keys[: len(TOP_KEYS)] == tuple(key.name for key in TOP_KEYS)
    assert keys[-len(TABLE_KEYS) :] == tuple(key.name for key in TABLE_KEYS)
    venue_block = keys[len(TOP_KEYS) : -len(TABLE_KEYS)]
    assert all(name.startswith("venues.") for name in venue_block)


def test_environment_variables_come_from_the_declarations() -> None:
    assert ENV_KEYS == {ENV_BASE_URL: "analysis.base_url", ENV_API_KEY: "analysis.api_key"}


def test_default_values_are_fresh_copies() -> None:
    first = default_values()
    symbols = first["symbols"]
    assert isinstance(symbols, list)
    symbols.append("SOLUSDT")
    assert default_values()["symbols"] == ["BTCUSDT", "ETHUSDT"]


def test_example_comment_lines_stay_within_99_columns() -> None:
    long = [line for line in example_config_text().splitlines() if len(line) > 99]
    assert long == []


def test_python_m_cryptows_config_prints_the_example() -> None:
    """The documented way to regenerate config.example.toml."""
    result = subprocess.run(
        [sys.executable, "-m", "cryptows.config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == example_config_text()
