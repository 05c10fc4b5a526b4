"""A config that points at simulated venues (``demo = true``) labels the run DEMO, as --demo does,
without starting a simulator of its own."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cryptows.commands.common import live_spec, load_spec
from cryptows.config import ConfigError, example_config_text, load_settings

SIM_CONFIG = """demo = true

[venues.binance]
ws_url = "ws://127.0.0.1:1/stream"
rest_url = "http://127.0.0.1:1"
"""


@pytest.fixture
def sim_config(tmp_path: Path) -> Path:
    path = tmp_path / "sim.toml"
    path.write_text(SIM_CONFIG, encoding="utf-8")
    return path


def test_demo_defaults_to_false_and_is_read_from_the_file(sim_config: Path) -> None:
    assert load_settings().demo is False
    settings = load_settings(sim_config)
    assert settings.demo is True
    assert settings.source("demo") == f"file {sim_config}"
    assert settings.effective()["demo"] is True


def test_demo_must_be_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('demo = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="demo must be true or false"):
        load_settings(path)


def test_the_example_config_documents_demo() -> None:
    text = example_config_text()
    assert tomllib.loads(text)["demo"] is False
    assert "simulated exchanges" in text.split("demo = false")[0].rsplit("\n\n", 1)[-1]


def test_a_demo_config_makes_a_demo_run(sim_config: Path) -> None:
    assert load_spec(["BTCUSDT"], None, sim_config, demo=False).demo is True
    assert load_spec(["BTCUSDT"], None, None, demo=False).demo is False
    assert load_spec(["BTCUSDT"], None, None, demo=True).demo is True


async def test_a_demo_config_starts_no_simulator(
    sim_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only --demo runs the embedded simulator; the config points at one running elsewhere."""
    import cryptows.sim.cluster

    class NoCluster:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the embedded simulator was started")

    monkeypatch.setattr(cryptows.sim.cluster, "SimCluster", NoCluster)
    async with live_spec(["BTCUSDT"], None, sim_config, demo=False) as spec:
        assert spec.demo is True
        assert spec.settings.venues["binance"].ws_url == "ws://127.0.0.1:1/stream"
    with pytest.raises(AssertionError, match="embedded simulator"):
        async with live_spec(["BTCUSDT"], None, None, demo=True):
            pass
