"""Domain code must import without Textual and without Rich: the UI is a thin layer.

Ruff's TID251 bans the imports statically (pyproject.toml, cryptows/commands/ruff.toml); this
proves it at run time, transitively, for every module of every domain package: a new module
is covered the moment it exists.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import cryptows

DOMAIN_PACKAGES = ("venues", "feed", "market", "sim", "analysis", "config", "doctor", "recording")
DOMAIN_TOP_LEVEL = ("errors", "models", "symbols", "service", "crash", "clock", "logs")
UI_LIBRARIES = ("textual", "rich")


def domain_modules() -> list[str]:
    """Every module of the domain: the top-level ones and all of each domain package."""
    names = [f"cryptows.{name}" for name in DOMAIN_TOP_LEVEL]
    for package in DOMAIN_PACKAGES:
        names.append(f"cryptows.{package}")
        path = [str(Path(p) / package) for p in cryptows.__path__]
        names += [f"cryptows.{package}.{m.name}" for m in pkgutil.iter_modules(path)]
    return sorted(names)


def test_every_domain_package_is_covered() -> None:
    modules = domain_modules()
    for package in DOMAIN_PACKAGES:
        assert sum(m.startswith(f"cryptows.{package}.") for m in modules) >= 2, package
    assert "cryptows.analysis.client" in modules
    assert "cryptows.sim.cluster" in modules


def test_domain_modules_import_without_ui_libraries() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {domain_modules()!r}:\n"
        "    before = {m for m in sys.modules if m.split('.')[0] in " + repr(UI_LIBRARIES) + "}\n"
        "    importlib.import_module(name)\n"
        "    after = {m.split('.')[0] for m in sys.modules if m.split('.')[0] in "
        + repr(UI_LIBRARIES)
        + "}\n"
        "    if after:\n"
        "        print(name, sorted(after))\n"
        "        break\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "", f"imports a UI library: {result.stdout.strip()}"


@pytest.mark.parametrize("module", ["cryptows.tui.state"])
def test_the_dashboard_state_module_stays_textual_free(module: str) -> None:
    """The CLI reads the saved watchlist before it builds the app: no Textual import for it."""
    code = f"import sys, {module}; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_watch_usage_error_is_said_before_textual_is_imported() -> None:
    """A typo costs the user no dashboard start-up: the arguments are checked first."""
    code = (
        "import sys\n"
        "from cryptows.__main__ import main\n"
        "sys.argv = ['cryptows', 'watch', '--all', 'BTCUSDT']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    print(exit.code, 'textual' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["2", "False"], result.stderr
    assert "--all takes no symbols" in result.stderr
