"""Typed settings: defaults, layering, provenance, discovery, validation messages, secrets."""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import pytest

from cryptows.config import (
    Secret,
    Settings,
    default_config_path,
    example_config_text,
    load_settings,
    locate_config,
    setting_keys,
    venue_overrides,
    write_example_config,
)
from cryptows.errors import ConfigError, VenueNameError
from cryptows.symbols import Symbol
from cryptows.venues import ADAPTERS

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-SECRET123"


class WriteToml(Protocol):
    def __call__(self, text: str, name: str = ...) -> Path: ...


@pytest.fixture
def write(tmp_path: Path) -> WriteToml:
    """Write TOML text to a file in tmp_path and return its path."""

    def _write(text: str, name: str = "c.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def config_error(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"config file {path}: ")
    assert info.value.exit_code == 2
    return message


# -- defaults ----------------------------------------------------------------------------------


def test_defaults_without_any_file() -> None:
    s = load_settings()
    assert [sym.canonical for sym in s.symbols] == ["BTCUSDT", "ETHUSDT"]
    assert list(s.venues) == ["binance", "bybit", "okx", "coinbase"]
    assert s.venues["binance"].ws_url == "wss://stream.binance.com:9443/stream"
    assert s.venues["bybit"].ws_url == "wss://stream.bybit.com/v5/public/spot"
    assert s.venues["okx"].rest_url == "https://openapi.okx.com"
    assert s.venues["coinbase"].taker_fee_pct == pytest.approx(0.60)
    assert s.feed.backoff_initial_s == 1.0
    assert s.feed.backoff_max_s == 60.0
    assert s.feed.open_timeout_s == 10.0
    assert s.arb.threshold_pct == 0.1
    assert s.arb.hysteresis_pct == 0.02
    assert s.arb.max_quote_age_ms == 0
    assert s.arb.quote_equivalents == ()
    assert s.analysis.base_url == "https://api.holysheep.ai/v1"
    assert s.analysis.model == "deepseek-v3.2"
    assert not s.analysis.api_key
    assert s.config_file is None
    assert {s.source(key) for key in setting_keys()} == {"default"}
    assert s.enabled_venues == ("binance", "bybit", "okx", "coinbase")


def test_venue_defaults_come_from_the_adapter_classes() -> None:
    s = load_settings()
    for name, adapter in ADAPTERS.items():
        assert s.venues[name].ws_url == adapter.default_ws_url
        assert s.venues[name].rest_url == adapter.default_rest_url
        assert s.venues[name].taker_fee_pct == adapter.default_taker_fee_pct


# -- the example file --------------------------------------------------------------------------


def test_repo_root_example_is_the_generated_text() -> None:
    repo_copy = (REPO_ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert repo_copy == example_config_text(), (
        "config.example.toml is out of date; regenerate it from the key declarations with "
        "`python -m cryptows.config > config.example.toml`"
    )


def test_example_states_exactly_the_defaults(write: WriteToml) -> None:
    from_example = load_settings(write(example_config_text()))
    defaults = load_settings()
    assert from_example.effective() == defaults.effective()
    assert replace(from_example, config_file=None) == defaults


def test_example_sets_and_comments_every_key() -> None:
    doc = tomllib.loads(example_config_text())
    flat = set()
    for section, body in doc.items():
        if section == "venues":
            flat |= {f"venues.{v}.{k}" for v, table in body.items() for k in table}
        elif isinstance(body, dict):
            flat |= {f"{section}.{k}" for k in body}
        else:
            flat.add(section)
    assert flat == set(setting_keys())
    for fee_source in ("binance.com", "bybit.com", "okx.com", "help.coinbase.com"):
        assert fee_source in example_config_text()


def test_write_example_config_creates_parents_and_refuses_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "config.toml"
    assert write_example_config(target) == target
    assert target.read_text(encoding="utf-8") == example_config_text()
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600
    target.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists; pass --force"):
        write_example_config(target)
    assert target.read_text(encoding="utf-8") == "# mine\n"
    write_example_config(target, force=True)
    assert target.read_text(encoding="utf-8") == example_config_text()


# -- layering and provenance -------------------------------------------------------------------


def test_file_overrides_defaults_with_provenance(write: WriteToml) -> None:
    path = write(
        'symbols = ["btc-usdt", "SOL/USDC", "BTCUSDT"]\n'
        "[venues.okx]\nenabled = false\ntaker_fee_pct = 0.08\n"
        "[arb]\nthreshold_pct = 0.25\nquote_equivalents = [['usd', 'usdt']]\n"
    )
    s = load_settings(path)
    assert s.symbols == (Symbol("BTC", "USDT"), Symbol("SOL", "USDC"))
    assert s.venues["okx"].enabled is False
    assert s.venues["okx"].taker_fee_pct == 0.08
    assert s.arb.threshold_pct == 0.25
    assert s.arb.quote_equivalents == (("USD", "USDT"),)
    assert s.enabled_venues == ("binance", "bybit", "coinbase")
    assert s.config_file == path
    assert s.source("arb.threshold_pct") == f"file {path}"
    assert s.source("symbols") == f"file {path}"
    assert s.source("arb.hysteresis_pct") == "default"
    assert s.source("venues.okx.ws_url") == "default"


def test_env_overrides_file(write: WriteToml, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write('[analysis]\napi_key = "from-file"\nbase_url = "https://file.example/v1"\n')
    monkeypatch.setenv("HOLYSHEEP_API_KEY", KEY)
    monkeypatch.setenv("HOLYSHEEP_BASE_URL", "http://127.0.0.1:8080/v1")
    s = load_settings(path)
    assert s.analysis.api_key.reveal() == KEY
    assert s.analysis.base_url == "http://127.0.0.1:8080/v1"
    assert s.source("analysis.api_key") == "env HOLYSHEEP_API_KEY"
    assert s.source("analysis.base_url") == "env HOLYSHEEP_BASE_URL"


def test_empty_env_var_does_not_override(write: WriteToml, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write('[analysis]\napi_key = "from-file"\n')
    monkeypatch.setenv("HOLYSHEEP_API_KEY", "  ")
    s = load_settings(path)
    assert s.analysis.api_key.reveal() == "from-file"
    assert s.source("analysis.api_key") == f"file {path}"


def test_flags_override_env_and_file(write: WriteToml, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write('symbols = ["ETHUSDT"]\n[arb]\nthreshold_pct = 0.3\n')
    monkeypatch.setenv("HOLYSHEEP_BASE_URL", "https://env.example/v1")
    s = load_settings(
        path,
        overrides={
            "symbols": ["solusdt"],
            "arb.threshold_pct": 0.2,
            "analysis.base_url": "https://flag.example/v1",
            "arb.hysteresis_pct": None,  # an unset flag changes nothing
        },
        overrides_source={"arb.threshold_pct": "flag --threshold"},
    )
    assert s.symbols == (Symbol("SOL", "USDT"),)
    assert s.arb.threshold_pct == 0.2
    assert s.analysis.base_url == "https://flag.example/v1"
    assert s.source("arb.threshold_pct") == "flag --threshold"
    assert s.source("symbols") == "flag"
    assert s.source("arb.hysteresis_pct") == "default"


def test_flag_errors_name_the_flag() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(overrides={"arb.threshold_pct": -1}, overrides_source="flag --threshold")
    assert str(info.value) == "flag --threshold: arb.threshold_pct must be >= 0 (got -1)"
    with pytest.raises(ConfigError, match="flag: unknown setting arb.nope"):
        load_settings(overrides={"arb.nope": 1})


def test_env_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLYSHEEP_BASE_URL", "api.holysheep.ai")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(
        "env HOLYSHEEP_BASE_URL: analysis.base_url must be a URL starting http://"
    )


def test_venue_overrides() -> None:
    overrides = venue_overrides(["OKX", " binance", ""])
    s = load_settings(overrides=overrides, overrides_source="flag --venues")
    assert s.enabled_venues == ("binance", "okx")
    assert s.source("venues.bybit.enabled") == "flag --venues"
    with pytest.raises(VenueNameError, match="kraken"):
        venue_overrides(["kraken"])
    with pytest.raises(VenueNameError, match="no venue"):
        venue_overrides([""])


# -- discovery ---------------------------------------------------------------------------------


def test_default_path_honours_xdg(tmp_path: Path) -> None:
    if os.name != "posix" or os.uname().sysname == "Darwin":
        pytest.skip("XDG_CONFIG_HOME is a Linux convention")
    assert default_config_path() == tmp_path / "xdg-config" / "cryptows" / "config.toml"


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: WriteToml) -> None:
    default = default_config_path()
    assert locate_config() == locate_config(None)
    assert locate_config().path == default
    assert not locate_config().required
    # an absent default file is fine: defaults
    assert load_settings().config_file is None
    # the default file is read when present
    default.parent.mkdir(parents=True)
    default.write_text("[arb]\nthreshold_pct = 1.0\n", encoding="utf-8")
    assert load_settings().arb.threshold_pct == 1.0
    # $CRYPTOWS_CONFIG beats the default location
    env_file = write("[arb]\nthreshold_pct = 2.0\n", "env.toml")
    monkeypatch.setenv("CRYPTOWS_CONFIG", str(env_file))
    assert locate_config().origin == "$CRYPTOWS_CONFIG"
    assert load_settings().arb.threshold_pct == 2.0
    # an explicit path beats both
    flag_file = write("[arb]\nthreshold_pct = 3.0\n", "flag.toml")
    assert load_settings(flag_file).arb.threshold_pct == 3.0
    assert locate_config(flag_file).origin == "--config"


def test_explicit_path_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(missing)
    assert str(info.value).startswith(f"config file {missing}: not found (named by --config)")


def test_env_path_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("CRYPTOWS_CONFIG", str(missing))
    with pytest.raises(ConfigError, match=r"not found \(named by \$CRYPTOWS_CONFIG\)"):
        load_settings()


# -- errors ------------------------------------------------------------------------------------


def test_invalid_toml_names_file_line_and_column(tmp_path: Path) -> None:
    message = config_error(
        tmp_path / "c.toml", 'symbols = ["BTCUSDT"]\n[arb]\nthreshold_pct = = 1\n'
    )
    assert message == (
        f"config file {tmp_path / 'c.toml'}: invalid TOML at line 3, column 17: Invalid value"
    )


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"symbols = ['\xff']\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[venues.binance]\nwsurl = "wss://x"\n',
            "unknown key venues.binance.wsurl (did you mean venues.binance.ws_url?)",
        ),
        ("[fed]\nbackoff_max_s = 2\n", "unknown key fed (did you mean feed?)"),
        (
            "colour = 1\n",
            "unknown key colour; known keys: symbols, demo, venues, feed, arb, analysis",
        ),
        (
            "[venues.kraken]\nenabled = true\n",
            "venues.kraken: unknown venue 'kraken'; known venues: binance, bybit, okx, coinbase",
        ),
        ("feed = 3\n", "feed must be a table (got 3, an integer)"),
        (
            '[venues.okx]\ntaker_fee_pct = "0.1"\n',
            'venues.okx.taker_fee_pct must be a number (got "0.1", a string)',
        ),
        (
            "[venues.okx]\ntaker_fee_pct = true\n",
            "venues.okx.taker_fee_pct must be a number (got true, a boolean)",
        ),
        (
            "[venues.binance]\ntaker_fee_pct = -1\n",
            "venues.binance.taker_fee_pct must be >= 0 (got -1)",
        ),
        ("[venues.binance]\ntaker_fee_pct = nan\n", "must be a finite number"),
        ("[venues.bybit]\nenabled = 1\n", "venues.bybit.enabled must be true or false (got 1"),
        (
            '[venues.bybit]\nws_url = "https://stream.bybit.com"\n',
            "venues.bybit.ws_url must be a URL starting ws:// or wss:// with a host",
        ),
        (
            '[venues.bybit]\nws_url = "wss:///path"\n',
            "venues.bybit.ws_url must be a URL starting ws:// or wss:// with a host",
        ),
        (
            '[venues.okx]\nrest_url = "ftp://openapi.okx.com"\n',
            "venues.okx.rest_url must be a URL starting http:// or https:// with a host",
        ),
        (
            '[venues.okx]\nrest_url = "https://host:notaport"\n',
            "venues.okx.rest_url must be a URL starting http:// or https:// with a host",
        ),
        (
            '[analysis]\nbase_url = "api.holysheep.ai/v1"\n',
            "analysis.base_url must be a URL starting http:// or https:// with a host",
        ),
        ('[analysis]\nmodel = " "\n', "analysis.model must not be empty"),
        ("[analysis]\napi_key = 123\n", "analysis.api_key must be a string (got an integer"),
        ("[feed]\nbackoff_initial_s = 0\n", "feed.backoff_initial_s must be > 0 (got 0)"),
        ("[feed]\nbackoff_max_s = -5.0\n", "feed.backoff_max_s must be > 0 (got -5.0)"),
        ("[feed]\nopen_timeout_s = 0.0\n", "feed.open_timeout_s must be > 0 (got 0.0)"),
        (
            "[feed]\nbackoff_initial_s = 5\nbackoff_max_s = 2\n",
            "feed.backoff_max_s must be >= feed.backoff_initial_s (got 2 < 5)",
        ),
        (
            "[feed]\nbackoff_initial_s = 120\n",
            "feed.backoff_initial_s must be <= feed.backoff_max_s (got 120 > 60)",
        ),
        ("[arb]\nthreshold_pct = -0.1\n", "arb.threshold_pct must be >= 0 (got -0.1)"),
        ("[arb]\nhysteresis_pct = -1\n", "arb.hysteresis_pct must be >= 0 (got -1)"),
        ("[arb]\nmax_quote_age_ms = -1\n", "arb.max_quote_age_ms must be >= 0 (got -1)"),
        ("[arb]\nmax_quote_age_ms = 2.5\n", "arb.max_quote_age_ms must be an integer (got 2.5"),
        ('symbols = "BTCUSDT"\n', 'symbols must be an array of symbols like ["BTCUSDT"]'),
        ("symbols = []\n", "symbols must list at least one symbol"),
        ("symbols = [1]\n", "symbols[0] must be a symbol string (got 1, an integer)"),
        (
            'symbols = ["BTCUSDT", "BTC--USDT"]\n',
            "symbols[1]: malformed symbol 'BTC--USDT': more than one separator",
        ),
        ('symbols = ["BTCXYZ"]\n', "symbols[0]: malformed symbol 'BTCXYZ': no known quote asset"),
        (
            '[arb]\nquote_equivalents = ["USD", "USDT"]\n',
            'arb.quote_equivalents[0] must be a pair of asset names like ["USD", "USDT"]',
        ),
        (
            '[arb]\nquote_equivalents = [["USD", "USDT", "USDC"]]\n',
            "arb.quote_equivalents[0] must be a pair of asset names",
        ),
        (
            '[arb]\nquote_equivalents = [["USD", 1]]\n',
            "arb.quote_equivalents[0] must hold two assets of 1-20 letters or digits",
        ),
        (
            '[arb]\nquote_equivalents = [["USD", "usd"]]\n',
            "arb.quote_equivalents[0] must name two different assets",
        ),
        (
            '[arb]\nquote_equivalents = "USD=USDT"\n',
            'arb.quote_equivalents must be an array of pairs like [["USD", "USDT"]] (got "USD=',
        ),
    ],
)
def test_every_invalid_value_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    message = config_error(tmp_path / "c.toml", text)
    assert expected in message


def test_int_accepted_for_float_fields(write: WriteToml) -> None:
    s = load_settings(write("[venues.okx]\ntaker_fee_pct = 0\n[feed]\nbackoff_max_s = 30\n"))
    assert s.venues["okx"].taker_fee_pct == 0.0
    assert isinstance(s.feed.backoff_max_s, float)
    assert s.feed.backoff_max_s == 30.0


def test_wrong_api_key_type_never_echoes_the_value(tmp_path: Path) -> None:
    message = config_error(tmp_path / "c.toml", "[analysis]\napi_key = 918273645\n")
    assert "918273645" not in message


# -- secrets -----------------------------------------------------------------------------------


def test_secret_never_shows_itself() -> None:
    secret = Secret(KEY)
    assert secret.reveal() == KEY
    assert secret.is_set
    assert bool(secret)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", str([secret])):
        assert "SECRET123" not in shown
    assert str(secret) == "********"
    assert str(Secret("")) == "<not set>"
    assert not Secret("")


def test_secret_comparison_does_not_leak() -> None:
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret("other")
    assert Secret(KEY) != KEY  # never equal to the plain string
    with pytest.raises(TypeError):
        hash(Secret(KEY))


def test_settings_repr_and_effective_values_hide_the_key(
    write: WriteToml, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOLYSHEEP_API_KEY", KEY)
    s = load_settings(write(f'[analysis]\napi_key = "{KEY}-file"\n'))
    assert isinstance(s, Settings)
    assert s.analysis.api_key.reveal() == KEY
    assert "SECRET123" not in repr(s)
    assert "SECRET123" not in str(s.effective())
    assert s.effective()["analysis.api_key"] == "********"


@pytest.mark.parametrize("key", ["watchdog_s", "ping_interval_s"])
def test_a_retired_key_says_what_replaced_it(write: WriteToml, key: str) -> None:
    path = write(f"[feed]\n{key} = 30\n")
    with pytest.raises(ConfigError, match=rf"feed\.{key} was removed: .*dead_after_s.*delete"):
        load_settings(path)


# -- endpoints: ws_url and ws_urls ---------------------------------------------------------------

BINANCE_URLS = (
    "wss://stream.binance.com:9443/stream",
    "wss://stream.binance.com:443/stream",
    "wss://data-stream.binance.vision/stream",
)


def test_the_default_endpoints_are_every_one_the_venue_documents() -> None:
    binance = load_settings().venues["binance"]
    assert binance.ws_urls == BINANCE_URLS
    assert binance.ws_url == BINANCE_URLS[0]
    assert load_settings().venues["okx"].ws_urls == ("wss://ws.okx.com:8443/ws/v5/public",)


def test_a_ws_url_set_later_is_the_only_endpoint(write: WriteToml) -> None:
    """A simulator's config (or a flag) setting ws_url must not fall back to the real venue."""
    path = write('[venues.binance]\nws_url = "ws://127.0.0.1:9000/stream"\n')
    binance = load_settings(path).venues["binance"]
    assert binance.ws_urls == ("ws://127.0.0.1:9000/stream",)
    over = load_settings(overrides={"venues.binance.ws_url": "ws://127.0.0.1:1/stream"})
    assert over.venues["binance"].ws_urls == ("ws://127.0.0.1:1/stream",)
    assert over.source("venues.binance.ws_urls") == "flag"


def test_a_ws_urls_list_set_later_replaces_ws_url(write: WriteToml) -> None:
    path = write('[venues.okx]\nws_url = "ws://127.0.0.1:1/a"\n')
    urls = ["ws://127.0.0.1:2/b", "ws://127.0.0.1:3/c", "ws://127.0.0.1:2/b"]
    s = load_settings(path, overrides={"venues.okx.ws_urls": urls})
    assert s.venues["okx"].ws_urls == ("ws://127.0.0.1:2/b", "ws://127.0.0.1:3/c")  # deduplicated
    assert s.venues["okx"].ws_url == "ws://127.0.0.1:2/b"


def test_ws_url_and_ws_urls_in_one_file_must_agree(write: WriteToml) -> None:
    agreeing = write('[venues.okx]\nws_url = "ws://h/a"\nws_urls = ["ws://h/a", "ws://h/b"]\n')
    assert load_settings(agreeing).venues["okx"].ws_urls == ("ws://h/a", "ws://h/b")
    clashing = write('[venues.okx]\nws_url = "ws://h/x"\nws_urls = ["ws://h/a", "ws://h/b"]\n')
    with pytest.raises(ConfigError, match=r"venues\.okx\.ws_url is not the first of venues\.okx"):
        load_settings(clashing)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[]", "venues.bybit.ws_urls must list at least one URL"),
        ('["https://x/y"]', r"venues.bybit.ws_urls\[0\] must be a URL starting ws:// or wss://"),
        ('"wss://x/y"', "venues.bybit.ws_urls must be an array of URLs"),
    ],
)
def test_bad_ws_urls_are_one_clear_error(write: WriteToml, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(write(f"[venues.bybit]\nws_urls = {value}\n"))


@pytest.mark.parametrize(
    "text",
    [
        '[venues.okx]\nws_urls = ["ws://h/a", "ws://h/b"]\nws_url = "ws://h/a"\n',
        '[venues.okx]\nws_url = "ws://h/a"\nws_urls = ["ws://h/a", "ws://h/b"]\n',
    ],
)
def test_agreeing_keys_in_one_file_keep_the_list_in_either_order(
    write: WriteToml, text: str
) -> None:
    assert load_settings(write(text)).venues["okx"].ws_urls == ("ws://h/a", "ws://h/b")


@pytest.mark.parametrize("host", ["ws..okx.com", "a" * 64 + ".example"])
def test_a_host_no_resolver_can_look_up_is_a_config_error(write: WriteToml, host: str) -> None:
    """Not a UnicodeError later, deep in a connection attempt (or doctor's DNS step)."""
    with pytest.raises(ConfigError, match=r"venues\.okx\.ws_url must be a URL"):
        load_settings(write(f'[venues.okx]\nws_url = "wss://{host}/ws/v5/public"\n'))
