"""``-v``/``--log-file`` as a user meets them: on every command, before or after its name, never
on stdout, never holding the API key, and never on the dashboard's screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from cryptows.cli import app
from tests.cli import run
from tests.integration.conftest import bound

KEY = "sk-holysheep-LOGTEST-0123456789"

LEAK = """
import logging, sys
from cryptows.cli import app, main
from cryptows.commands.common import load_settings
from cryptows.commands.options import ConfigOption, LogFileOption, VerboseOption


@app.command("leak")
def leak(config: ConfigOption = None, verbose: VerboseOption = 0, log_file: LogFileOption = None):
    key = load_settings(config).analysis.api_key.reveal()
    log = logging.getLogger("cryptows.leak")
    log.debug("the key is %s", key)
    log.debug("headers %s", {"Authorization": "Bearer " + key})
    try:
        raise RuntimeError("the gateway echoed " + key)
    except RuntimeError:
        log.exception("request failed")
    print("stdout stays data")


sys.argv = ["cryptows", *sys.argv[1:]]
main()
"""
"""The real CLI plus one command that logs the key it loaded, the way a careless line would."""


def _run(
    *args: str, env: dict[str, str] | None = None, seconds: float = 60, script: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "cryptows"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=bound(seconds),
        env={**os.environ, **(env or {})},
        check=False,
    )


def _leaf_commands(group: typer.core.TyperGroup) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name, command in group.commands.items():
        if isinstance(command, typer.core.TyperGroup):
            found += [(f"{name} {sub}", c) for sub, c in _leaf_commands(command)]
        else:
            found.append((name, command))
    return found


def test_every_command_takes_the_logging_options() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    commands = _leaf_commands(root)
    assert {name for name, _ in commands} >= {"quotes", "arb", "watch", "analyze", "models",
                                              "sim", "config show"}  # fmt: skip
    for name, command in [("(root)", root), *commands]:
        options = {opt for param in command.params for opt in param.opts}
        assert {"-v", "--verbose", "--log-file"} <= options, name


@pytest.mark.parametrize("where", ["after", "before"])
def test_quotes_logs_to_the_file_and_stdout_stays_ndjson(tmp_path: Path, where: str) -> None:
    log_file = tmp_path / "q.log"
    options = ["-vv", "--log-file", str(log_file)]
    command = ["quotes", "--demo", "--json", "--duration", "2", "BTCUSDT"]
    args = [*command, *options] if where == "after" else [*options, *command]
    result = run(*args)  # in-process: tests/cli.py
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines
    assert all(json.loads(line)["type"] in ("quote", "venue") for line in lines)
    text = log_file.read_text(encoding="utf-8")
    assert " DEBUG   cryptows.commands.common: settings: {" in text
    assert " INFO    cryptows.commands.common: venues binance,bybit,okx,coinbase; symbols " in text
    assert "cryptows.commands.session: run ending: --duration is up" in text
    assert ": info:" not in result.stderr  # the log went to the file only
    assert ": debug:" not in result.stderr


def test_without_a_file_the_log_goes_to_stderr(tmp_path: Path) -> None:
    result = run("quotes", "--demo", "--json", "--duration", "2", "-v", "BTCUSDT")  # in-process
    assert result.returncode == 0, result.stderr
    assert "cryptows: info: cryptows.commands.session: binance live" in result.stderr
    assert ": debug:" not in result.stderr  # -v is info
    assert all(json.loads(line) for line in result.stdout.splitlines())


@pytest.mark.parametrize("source", ["env", "config"])
@pytest.mark.parametrize("where", ["after", "before"])
def test_the_api_key_never_reaches_the_log(tmp_path: Path, source: str, where: str) -> None:
    log_file = tmp_path / "leak.log"
    env: dict[str, str] = {}
    args = ["leak"]
    if source == "env":
        env["HOLYSHEEP_API_KEY"] = KEY
    else:
        config = tmp_path / "config.toml"
        config.write_text(f'[analysis]\napi_key = "{KEY}"\n', encoding="utf-8")
        args += ["--config", str(config)]
    options = ["-vv", "--log-file", str(log_file)]
    result = _run(*(args + options if where == "after" else options + args), env=env, script=LEAK)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "stdout stays data\n"
    text = log_file.read_text(encoding="utf-8")
    assert "cryptows.leak: the key is ********" in text  # the record was written ...
    assert "{'Authorization': 'Bearer ********'}" in text
    assert "RuntimeError: the gateway echoed ********" in text
    assert KEY not in text  # ... without the key
    assert KEY not in result.stderr


def test_an_unwritable_log_file_is_one_error_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _run("config", "path", "--log-file", str(blocker / "x.log"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cryptows: error: ")
    assert "--log-file" in lines[0]
    assert "cannot write the log file" in lines[0]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize(
    ("args", "explicit"),
    [
        (["watch", "--demo", "-vv", "BTCUSDT"], False),
        (["-vv", "watch", "--demo", "BTCUSDT"], False),  # the root's -v: still not on the screen
        (["watch", "--demo", "-vv", "--log-file", "{mine}", "BTCUSDT"], True),
    ],
)
def test_watch_logs_to_a_file_never_to_the_screen(
    tmp_path: Path, args: list[str], explicit: bool
) -> None:
    from tests.tui.test_cli_watch import Terminal

    env = dict(os.environ) | {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "CRYPTOWS_LOG_DIR": str(tmp_path / "logdir"),
    }
    log_file = tmp_path / "mine.log" if explicit else tmp_path / "logdir" / "watch.log"
    term = Terminal([arg.format(mine=log_file) for arg in args], env)
    assert term.read_until(b"4/4 live", 30), term.text[-2000:]
    term.send(b"\x03")  # Ctrl-C
    assert term.wait(15) == 0, term.text[-2000:]
    assert b"cryptows.commands" not in term.text
    assert b"debug:" not in term.text
    text = log_file.read_text(encoding="utf-8")
    assert "DEBUG   cryptows.commands.common: settings: {" in text
