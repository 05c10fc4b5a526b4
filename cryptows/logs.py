"""Logging for a command run: how much (``-v``), where (stderr, a file, or nowhere), and a filter
that keeps the HolySheep API key and ``Bearer`` tokens out of every record.

Modules log through ``logging.getLogger(__name__)`` as usual; :func:`start` attaches the
handlers. Verbosity 0 logs warnings and errors, 1 (``-v``) adds cryptows' info, 2 (``-vv``)
cryptows' debug and the libraries' info, 3 (``-vvv``) the libraries' debug too (the
simulator's websockets server then logs every frame; the feed's aiohttp client logs little).
Log records never go to stdout, which carries data only.

Stdlib only: no Rich, no Textual (the dashboard logs through the same handlers).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Final, TextIO

from cryptows.config import ENV_API_KEY

APP_LOGGER: Final = "cryptows"
REDACTED: Final = "********"
SECRET_ENV_VARS: Final = (ENV_API_KEY,)
"""Environment variables whose values are secrets: redacted wherever they appear in a record."""
FILE_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_BEARER: Final = re.compile(r"(\bBearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
"""An RFC 6750 bearer token (``token68``) after the word ``Bearer``."""
_secrets: set[str] = set()
_installed: list[logging.Handler] = []
_saved_levels: dict[str, int] = {}


def add_secret(value: str) -> None:
    """Redact ``value`` (e.g. the API key read from the config file) from every record."""
    for text in (value, value.strip()):
        if text:
            _secrets.add(text)


def known_secrets() -> set[str]:
    """The values to redact: those added, and those of :data:`SECRET_ENV_VARS` right now."""
    found = set(_secrets)
    for var in SECRET_ENV_VARS:
        value = os.environ.get(var, "")
        found.update(text for text in (value, value.strip()) if text)
    return found


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every secret and every ``Bearer`` token replaced by ``********``."""
    chosen = known_secrets() if secrets is None else secrets
    for secret in sorted(chosen, key=len, reverse=True):  # a longer secret may hold a shorter
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(rf"\g<1>{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites each record's final message (and its traceback) with :func:`redact`.

    Installed on the handlers, so it sees every record they write, whichever logger (ours, a
    library's) produced it. The message is formatted here, once, and the record keeps only the
    result: no formatter can put the raw arguments back.
    """

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = known_secrets()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call must not stop the program
            message = f"{record.msg!s} (unformattable arguments left out)"
        record.msg, record.args = redact(message, secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


class _StderrFormatter(logging.Formatter):
    """``cryptows: warning: cryptows.feed.connection: <message>``; a traceback only at debug
    level, else the exception's one-line summary."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        text = f"cryptows: {record.levelname.lower()}: {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None and not self.tracebacks:
            exc = record.exc_info[1]
            return f"{text}: {type(exc).__name__}: {redact(str(exc))} (traceback with -vv)"
        if record.exc_text:  # set (and redacted) by RedactSecrets
            text += "\n" + record.exc_text
        return text


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - stdlib's name
        """A closed or broken stderr loses the record, silently: logging never ends a run."""


class _FileHandler(logging.FileHandler):
    """Appends to a file; with ``delay``, its folder and the file appear with the first record."""

    def _open(self) -> io.TextIOWrapper:
        with contextlib.suppress(FileExistsError):  # a file in the way: open() will say so
            Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def emit(self, record: logging.LogRecord) -> None:
        try:  # the stdlib opens a delayed file outside its own guard
            super().emit(record)
        except Exception:  # noqa: BLE001 - logging never ends a run
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - stdlib's name
        """A full disk (or an unwritable default log) loses the record, silently."""


_LEVELS: Final = (
    (logging.WARNING, logging.WARNING),
    (logging.INFO, logging.WARNING),
    (logging.DEBUG, logging.INFO),
    (logging.DEBUG, logging.DEBUG),
)


def level_for(verbosity: int) -> tuple[int, int]:
    """``(cryptows' level, the libraries' level)`` for ``-v`` given ``verbosity`` times."""
    return _LEVELS[max(0, min(verbosity, len(_LEVELS) - 1))]


def start(
    verbosity: int,
    *,
    log_file: Path | None = None,
    lazy: bool = False,
    to_stderr: bool = True,
) -> None:
    """Route log records for this run, replacing what an earlier call set up.

    Args:
        verbosity: how many ``-v`` were given (see the module docstring).
        log_file: append the records to this file (UTF-8) instead of writing them to stderr.
        lazy: open (and create, with its folder) ``log_file`` only when a first record comes;
            else it is opened (and created) now, so that a bad path is reported before the run
            starts.
        to_stderr: without ``log_file``, write to stderr; ``False`` drops them (a full-screen
            app owns the terminal).

    Raises:
        OSError: ``log_file`` cannot be opened (only when not ``lazy``).
    """
    stop()
    if log_file is not None:
        handler: logging.Handler = _FileHandler(
            log_file, encoding="utf-8", errors="backslashreplace", delay=lazy
        )
        handler.setFormatter(logging.Formatter(FILE_FORMAT))
    elif to_stderr:
        handler = _StderrHandler()
        handler.setFormatter(_StderrFormatter(tracebacks=verbosity >= 2))
    else:
        handler = logging.NullHandler()
    handler.addFilter(RedactSecrets())
    ours, libraries = level_for(verbosity)
    root, app = logging.getLogger(), logging.getLogger(APP_LOGGER)
    for logger, level in ((root, libraries), (app, ours)):
        _saved_levels.setdefault(logger.name, logger.level)
        logger.setLevel(level)
    root.addHandler(handler)
    _installed.append(handler)


def stop() -> None:
    """Remove the handlers :func:`start` added (closing its file) and restore the levels."""
    root = logging.getLogger()
    while _installed:
        handler = _installed.pop()
        root.removeHandler(handler)
        handler.close()
    for name, level in _saved_levels.items():
        logging.getLogger(name if name != "root" else None).setLevel(level)
    _saved_levels.clear()
