"""Run the ``cryptows`` command line inside the test process.

A ``python -m cryptows`` subprocess costs about 0.45 s of CPU before the command does anything
(the interpreter, Typer, which imports pydantic, Rich, aiohttp); a test suite of a hundred such
runs spends a minute of CPU on start-ups alone. :func:`run` invokes the same Click/Typer
application in-process with Typer's :class:`~typer.testing.CliRunner` (stdout and stderr
captured apart, stdin empty and not a terminal, as in a pipe), and gives back what a subprocess
run would: the exit code, stdout, stderr, with the traceback of any exception that escaped
written to stderr (so that "no traceback" checks keep their meaning).

What only a real process shows stays in subprocess tests: the console script itself, signals
(Ctrl-C, SIGTERM), a pseudo-terminal, import side effects, interpreter shutdown; so does a
command talking to a server the test itself runs (``analyze`` and its fake gateway): in a
thread, the command would share the process' logging and stdio with that server.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from typer.testing import CliRunner

from cryptows.cli import app


@dataclass(frozen=True, slots=True)
class Ran:
    """What a finished command gave back, as from :func:`subprocess.run`."""

    returncode: int
    stdout: str
    stderr: str


def run(*args: str, env: Mapping[str, str | None] | None = None) -> Ran:
    """``cryptows ARGS`` in this process, with ``env`` added to (``None``: removed from) the
    test's environment for the run."""
    result = CliRunner().invoke(app, list(args), env=dict(env or {}), prog_name="cryptows")
    stderr = result.stderr
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        stderr += "Traceback (most recent call last):\n"
        stderr += "".join(traceback.format_exception(error))
    return Ran(result.exit_code, result.stdout, stderr)
