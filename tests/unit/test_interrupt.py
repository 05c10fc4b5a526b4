"""Ctrl-C that Python cannot raise where it lands: kept, or told apart from a bug."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from cryptows import interrupt


def test_an_error_raised_from_a_ctrl_c_is_one_an_error_during_its_handling_is_not() -> None:
    wrapped = RuntimeError("Error calling __set_name__")
    wrapped.__cause__ = KeyboardInterrupt()
    twice = ValueError("outer")
    twice.__cause__ = wrapped
    assert interrupt.caused_by_interrupt(wrapped)
    assert interrupt.caused_by_interrupt(twice)
    bug = TypeError("a bug while stopping")
    bug.__context__ = KeyboardInterrupt()  # raised while handling one: still a bug
    assert not interrupt.caused_by_interrupt(bug)
    assert not interrupt.caused_by_interrupt(ValueError("plain"))


def test_a_dropped_ctrl_c_is_kept_once_and_other_errors_still_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    interrupt.install()
    interrupt.install()  # idempotent: one hook, not two
    interrupt.take_lost()
    sys.unraisablehook(SimpleNamespace(exc_type=KeyboardInterrupt))
    other = SimpleNamespace(exc_type=ValueError)
    sys.unraisablehook(other)
    assert reported == [other]
    assert interrupt.take_lost()
    assert not interrupt.take_lost()  # handed over once
