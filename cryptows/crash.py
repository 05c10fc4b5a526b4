"""Internal errors (bugs): a full traceback in a log file, one line for the user."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

import platformdirs

from cryptows.errors import RuntimeFailure


def crash_log_path() -> Path:
    """Where tracebacks of internal errors go (``$CRYPTOWS_LOG_DIR`` overrides the directory)."""
    folder = os.environ.get("CRYPTOWS_LOG_DIR")
    base = Path(folder) if folder else platformdirs.user_log_path("cryptows", appauthor=False)
    return base / "crash.log"


def internal_error(exc: BaseException, where: str) -> RuntimeFailure:
    """Record ``exc`` (a bug) with its traceback and return the one-line error to report.

    The traceback is appended to :func:`crash_log_path`; if that cannot be written, the message
    says so instead of naming a file that does not exist. Locals are never written (a key held
    in a local must not reach a file).
    """
    detail = " ".join((str(exc) or type(exc).__name__).split())
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
            log.write(f"--- {stamp}: internal error in {where}\n")
            log.write("".join(traceback.format_exception(exc)))
        where_logged = f"traceback in {path}"
    except OSError as err:
        where_logged = f"traceback not saved: {err.strerror or err}"
    failure = RuntimeFailure(
        f"internal error in {where}: {type(exc).__name__}: {detail} ({where_logged}); "
        "please report it"
    )
    failure.__cause__ = exc
    return failure


def first_error(exc: BaseException) -> BaseException:
    """The first leaf of a (nested) exception group, or ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
