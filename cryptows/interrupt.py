"""A Ctrl-C the interpreter had to drop is not lost.

Python delivers Ctrl-C as a ``KeyboardInterrupt`` raised wherever the main thread happens to be.
When that is a descriptor's ``__set_name__`` (class creation, while modules are imported), it
comes out wrapped in a ``RuntimeError`` whose cause is the interrupt:
:func:`caused_by_interrupt` lets the entry point tell that from a bug. When it is a finalizer or
a weak-reference callback (the import system's module locks have one), the interpreter cannot
raise it at all: it prints "Exception ignored in ..." with a traceback and
carries on, and a program that was starting up runs as if the key had never been pressed.

:func:`install` (the entry point's first statement) puts a :data:`sys.unraisablehook` in place
that keeps such a dropped interrupt, silently, instead; :func:`take_lost` hands it to the first
command that installs its own signal handling (:func:`cryptows.commands.common.stop_on_signals`),
which then stops at once, as it would have. Standard library only: it runs before anything else
is imported.
"""

from __future__ import annotations

import sys
from typing import Any

_lost = False
_previous: Any = None
"""The hook :func:`install` replaced: every other unraisable error still goes to it."""


def _hook(unraisable: Any) -> None:
    global _lost
    exc_type = unraisable.exc_type
    if isinstance(exc_type, type) and issubclass(exc_type, KeyboardInterrupt):
        _lost = True
        return
    _previous(unraisable)


def install() -> None:
    """Keep interrupts the interpreter drops (idempotent)."""
    global _previous
    if sys.unraisablehook is not _hook:
        _previous = sys.unraisablehook
        sys.unraisablehook = _hook


def take_lost() -> bool:
    """Whether a Ctrl-C was dropped since the last call (then forgotten)."""
    global _lost
    lost, _lost = _lost, False
    return lost


def caused_by_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` was raised *from* a Ctrl-C (its ``__cause__`` chain holds a
    ``KeyboardInterrupt``), as Python wraps one that lands in a ``__set_name__``. An error
    merely raised while handling one (``__context__``) does not count: that may be a bug."""
    seen: set[int] = set()
    cause = exc.__cause__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__
    return False
