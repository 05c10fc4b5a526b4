"""Price table, token estimate and cost arithmetic, and price overrides from the config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cryptows.analysis.pricing import (
    DEFAULT_PRICES,
    ModelPrice,
    cost_usd,
    estimate_prompt_tokens,
    estimate_tokens,
    estimated_cost_usd,
    price_for,
    price_table,
)
from cryptows.config import load_settings
from cryptows.errors import ConfigError


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def write_config(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write_config


def test_published_output_prices() -> None:
    published = {
        "gpt-4.1": 8.00,
        "claude-sonnet-4.5": 15.00,
        "gemini-2.5-flash": 2.50,
        "deepseek-v3.2": 0.42,
    }
    for model, output in published.items():
        assert DEFAULT_PRICES[model].output_per_mtok == output
    assert {"gpt-4.1-mini", "gemini-2.5-pro"} <= set(DEFAULT_PRICES)


def test_cost_by_hand() -> None:
    # 1,000 in at $2/M = $0.002; 500 out at $8/M = $0.004
    assert cost_usd(ModelPrice(2.00, 8.00), 1_000, 500) == pytest.approx(0.006)
    # 1M in at $0.28 + 2M out at $0.42 = 0.28 + 0.84
    assert cost_usd(ModelPrice(0.28, 0.42), 1_000_000, 2_000_000) == pytest.approx(1.12)
    assert cost_usd(ModelPrice(3.0, 15.0), 0, 0) == 0


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)]
)
def test_estimate_is_a_quarter_of_the_characters_rounded_up(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_prompt_estimate_adds_the_chat_overhead() -> None:
    messages = [
        {"role": "system", "content": "x" * 40},  # 10 + role 2 + overhead 4 = 16
        {"role": "user", "content": "y" * 7},  # 2 + role 1 + overhead 4 = 7
    ]
    assert estimate_prompt_tokens(messages) == 16 + 7 + 3  # + reply priming
    # the guard counts every completion token that may come: 26 in, 600 out at $2/$8
    expected = (26 * 2.0 + 600 * 8.0) / 1e6
    assert estimated_cost_usd(ModelPrice(2.0, 8.0), messages, 600) == pytest.approx(expected)


def test_overrides_win_and_unknown_models_have_no_price() -> None:
    mine = {"gpt-4.1": ModelPrice(1.0, 4.0), "local-llama": ModelPrice(0.0, 0.0)}
    assert price_for("gpt-4.1", mine) == ModelPrice(1.0, 4.0)
    assert price_for("deepseek-v3.2", mine) == DEFAULT_PRICES["deepseek-v3.2"]
    assert price_for("local-llama", mine) == ModelPrice(0.0, 0.0)
    assert price_for("mystery", mine) is None
    table = price_table(mine)
    assert table["gpt-4.1"] == ModelPrice(1.0, 4.0)
    assert set(table) == set(DEFAULT_PRICES) | {"local-llama"}


def test_price_overrides_from_the_config_file(write: Callable[[str], Path]) -> None:
    path = write(
        '[analysis]\nmodel = "gpt-4.1"\n'
        '[analysis.prices."gpt-4.1"]\ninput = 1.5\noutput = 6\n'
        '[analysis.prices."local-llama"]\ninput = 0\noutput = 0\n'
    )
    settings = load_settings(path)
    assert dict(settings.analysis.prices) == {
        "gpt-4.1": ModelPrice(1.5, 6.0),
        "local-llama": ModelPrice(0.0, 0.0),
    }
    assert settings.source("analysis.prices") == f"file {path}"
    assert settings.effective()["analysis.prices"] == {
        "gpt-4.1": {"input": 1.5, "output": 6.0},
        "local-llama": {"input": 0.0, "output": 0.0},
    }


def test_analysis_defaults() -> None:
    analysis = load_settings().analysis
    assert (analysis.task, analysis.max_cost_usd, analysis.max_tokens) == ("all", 0.05, 600)
    assert (analysis.temperature, analysis.connect_timeout_s, analysis.timeout_s) == (0.2, 5, 60)
    assert analysis.json_mode_models == ("gpt-4.1", "gpt-4.1-mini", "deepseek-v3.2")
    assert dict(analysis.prices) == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[analysis.prices."gpt-4.1"]\ninput = 1\n', 'analysis.prices."gpt-4.1" must set output'),
        (
            '[analysis.prices."gpt-4.1"]\ninput = -1\noutput = 2\n',
            'analysis.prices."gpt-4.1".input must be >= 0 (got -1)',
        ),
        (
            '[analysis.prices."gpt-4.1"]\ninput = 1\noutput = 2\nouput = 3\n',
            'unknown key analysis.prices."gpt-4.1".ouput; known keys: input, output',
        ),
        ("[analysis]\nprices = 3\n", "analysis.prices must be a table of tables"),
        ('[analysis]\ntask = "vibes"\n', "analysis.task must be one of sentiment, anomaly,"),
        ("[analysis]\nmax_tokens = 0\n", "analysis.max_tokens must be >= 1 (got 0)"),
        ("[analysis]\ntemperature = 3\n", "analysis.temperature must be between 0 and 2"),
        ("[analysis]\nmax_cost_usd = 0\n", "analysis.max_cost_usd must be > 0"),
        ("[analysis]\ntimeout_s = 0\n", "analysis.timeout_s must be > 0"),
        ("[analysis]\njson_mode_models = [1]\n", "analysis.json_mode_models[0] must be"),
    ],
)
def test_bad_analysis_values_name_the_file_and_key(
    write: Callable[[str], Path], text: str, problem: str
) -> None:
    path = write(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value).startswith(f"config file {path}: {problem}")
