"""``cryptows config init|show|path`` and the CLI's error contract, through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cryptows import __version__
from cryptows.cli import app
from cryptows.config import default_config_path, example_config_text
from tests.cli import Ran
from tests.cli import run as run_cli

SECRET = "sk-test-SECRET123"


def run(*args: str, env: dict[str, str] | None = None) -> Ran:
    """``cryptows ARGS`` (in-process: tests/cli.py) with the (already cleaned) environment plus
    ``env``."""
    return run_cli(*args, env={"NO_COLOR": "1", "COLUMNS": "100", **(env or {})})


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m cryptows ARGS``: the console entry itself, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "cryptows", *args],
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_error_line(result: Ran | subprocess.CompletedProcess[str], *parts: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cryptows: error: ")
    for part in parts:
        assert part in lines[0]
    return lines[0]


# -- the CLI's contract (exit codes, one-line errors), in-process --------------------------------


def test_init_then_show_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "config.toml"
    init = run("config", "init", "--config", str(path))
    assert init.returncode == 0, init.stderr
    assert path.read_text(encoding="utf-8") == example_config_text()
    assert str(path) in init.stderr

    shown = run("config", "show", "--config", str(path), "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["config_file"] == str(path)
    settings = doc["settings"]
    assert settings["symbols"] == {"value": ["BTCUSDT", "ETHUSDT"], "source": f"file {path}"}
    assert settings["venues.coinbase.taker_fee_pct"]["value"] == 0.6
    assert settings["analysis.api_key"] == {"value": "<not set>", "source": f"file {path}"}


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n", encoding="utf-8")
    result = run("config", "init", "--config", str(path))
    assert_one_error_line(result, str(path), "already exists", "--force")
    assert path.read_text(encoding="utf-8") == "# mine\n"
    forced = run("config", "init", "--config", str(path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert path.read_text(encoding="utf-8") == example_config_text()


def test_malformed_toml_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('symbols = ["BTCUSDT"]\n[arb\nthreshold_pct = 1\n', encoding="utf-8")
    result = run("config", "show", "--config", str(path))
    assert_one_error_line(result, f"config file {path}", "invalid TOML at line 2")


def test_unknown_key_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[venues.binance]\nwsurl = "wss://x"\n', encoding="utf-8")
    result = run("config", "show", "--config", str(path))
    assert_one_error_line(result, str(path), "venues.binance.wsurl", "venues.binance.ws_url")


def test_missing_config_via_env_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    result = run("config", "show", env={"CRYPTOWS_CONFIG": str(missing)})
    assert_one_error_line(result, str(missing), "$CRYPTOWS_CONFIG")


def test_show_never_prints_the_key(tmp_path: Path) -> None:
    env = {"HOLYSHEEP_API_KEY": SECRET}
    human = run("config", "show", env=env)
    assert human.returncode == 0, human.stderr
    as_json = run("config", "show", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    for result in (human, as_json):
        assert "SECRET123" not in result.stdout + result.stderr
    line = next(ln for ln in human.stdout.splitlines() if ln.startswith("analysis.api_key"))
    assert "********" in line
    assert "env HOLYSHEEP_API_KEY" in line
    key = json.loads(as_json.stdout)["settings"]["analysis.api_key"]
    assert key == {"value": "********", "source": "env HOLYSHEEP_API_KEY"}


def test_help_and_version_through_the_console_entry() -> None:
    helped = run_process("--help")
    assert helped.returncode == 0
    assert "config" in helped.stdout
    version = run_process("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"cryptows {__version__}"


def test_usage_errors_exit_2() -> None:
    assert run("no-such-command").returncode == 2
    assert run("config", "show", "--no-such-flag").returncode == 2
    assert_one_error_line(run_process("config", "show", "--no-such-flag"), "--no-such-flag")


# -- in process --------------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_path_prints_default_location_and_notes_absence(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "path"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(default_config_path())
    assert "does not exist" in result.stderr


def test_path_with_explicit_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["config", "path", "--config", str(path)])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(path)
    assert "from --config; exists" in result.stderr


def test_init_writes_the_default_location(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "init"])
    assert result.exit_code == 0, result.output
    assert default_config_path().read_text(encoding="utf-8") == example_config_text()
    again = runner.invoke(app, ["config", "init"])
    assert again.exit_code == 2
    assert again.stderr.startswith("cryptows: error: config file ")


def test_show_human_form_lists_every_key_with_its_source(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[arb]\nthreshold_pct = 0.5\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"# config file: {path}"
    threshold = next(ln for ln in lines if ln.startswith("arb.threshold_pct"))
    assert threshold.split("#")[0].strip() == "arb.threshold_pct = 0.5"
    assert threshold.endswith(f"# file {path}")
    assert any(
        ln.startswith('symbols = ["BTCUSDT", "ETHUSDT"]') and ln.endswith("# default")
        for ln in lines
    )
    assert result.stderr == ""
