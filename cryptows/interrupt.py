"""A Ctrl-C the interpreter had to drop is not lost.

Python delivers Ctrl-C as a ``KeyboardInterrupt`` raised wherever the main thread happens to be.
When that is a finalizer or a weak-reference callback (the import system's module locks have
one), the interpreter cannot raise it: it prints "Exception ignored in ..." with a traceback and
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


def _hook(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        global _lost
        exc_type = unraisable.exc_type
        if isinstance(exc_type, type) and issubclass(exc_type, KeyboardInterrupt):
            _lost = True
            return
        previous(unraisable)

    return hook


def install() -> None:
    """Keep interrupts the interpreter drops (idempotent)."""
    if not getattr(sys.unraisablehook, "_cryptows", False):
        hook = _hook(sys.unraisablehook)
        hook._cryptows = True
        sys.unraisablehook = hook


def take_lost() -> bool:
    """Whether a Ctrl-C was dropped since the last call (then forgotten)."""
    global _lost
    lost, _lost = _lost, False
    return lost
