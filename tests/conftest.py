"""Shared test fixtures: fixture-frame loading and a clean environment for every test."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

# Bytecode caches, as Python keeps them by default, even where PYTHONDONTWRITEBYTECODE is set
# (some CI images set it): without them every test worker rewrites every test module's asserts
# again (about 7 s of CPU each) and every `cryptows` a test starts (an editable install: no
# compiled copy in site-packages) compiles the package again. Set before the parallel workers
# start, so they and the commands the tests run inherit it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(venue: str, name: str) -> bytes:
    """The exact bytes of ``tests/fixtures/<venue>/<name>`` (a frame as it travels on the wire)."""
    return (FIXTURES / venue / name).read_bytes()


def fixture_names(venue: str, pattern: str = "*") -> list[str]:
    """File names (relative to the venue folder) matching ``pattern``, sorted."""
    folder = FIXTURES / venue
    return sorted(p.relative_to(folder).as_posix() for p in folder.glob(pattern) if p.is_file())


PRIVATE_VARIABLES = (
    "CRYPTOWS_CONFIG",
    "CRYPTOWS_LOG_DIR",
    "HOLYSHEEP_API_KEY",
    "HOLYSHEEP_BASE_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "WSS_PROXY",
    "SOCKS_PROXY",
    "ALL_PROXY",
)
"""The developer's settings a test must never see (proxies in both spellings)."""

PER_USER_DIRECTORIES = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")
"""Where platformdirs puts config, state (``watch`` state, crash logs), caches and data."""


def pytest_configure() -> None:
    """Ctrl-C tests send SIGINT the way a terminal does. Started in the background (``pytest &``
    in a script, some CI runners), pytest inherits SIGINT ignored, and so would every command it
    starts: the Ctrl-C would never arrive. Take the default back (children then get it too)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _folder(var: str) -> str:
    """``XDG_CONFIG_HOME`` -> ``xdg-config``."""
    return "xdg-" + var.removeprefix("XDG_").removesuffix("_HOME").lower()


def clean_environ(home: Path) -> dict[str, str]:
    """``os.environ`` without :data:`PRIVATE_VARIABLES`, with ``HOME`` and every per-user
    directory under ``home``: for a subprocess started outside a test's own environment."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in PRIVATE_VARIABLES}
    env["HOME"] = str(home / "home")
    env |= {var: str(home / _folder(var)) for var in PER_USER_DIRECTORIES}
    return env


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's config, API key and proxies out of every test, and every file a run
    writes (config, state, crash logs) inside the test's own directory: tests run in parallel
    (pytest-xdist), so nothing per-user may be shared between them."""
    for var in PRIVATE_VARIABLES:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in PER_USER_DIRECTORIES:
        monkeypatch.setenv(var, str(tmp_path / _folder(var)))


def _order(item: pytest.Item) -> int:
    """0: a Hypothesis property (hundreds of examples: seconds of CPU); 1: marked ``slow``
    (seconds of waiting); 2: the rest."""
    if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        return 0
    return 1 if item.get_closest_marker("slow") is not None else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, otherwise in the usual order: run in parallel (pytest-xdist hands out
    tests in this order), a long test started last would keep one worker busy after the others
    are done. The Hypothesis properties (seconds of CPU each) share one worker (with
    ``--dist loadgroup``): on two cores the other workers, mostly waiting on sockets and
    subprocesses, keep the other core, rather than every worker fighting for both at first."""
    items.sort(key=_order)
    for item in items:
        if _order(item) == 0:
            item.add_marker(pytest.mark.xdist_group("cpu-bound"))
