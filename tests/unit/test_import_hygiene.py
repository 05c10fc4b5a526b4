"""Domain packages must import without Textual (and without Rich): the UI is a thin layer."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN_MODULES = [
    "cryptows.errors",
    "cryptows.models",
    "cryptows.symbols",
    "cryptows.config",
    "cryptows.venues",
    "cryptows.venues.binance",
    "cryptows.venues.bybit",
    "cryptows.venues.okx",
    "cryptows.venues.coinbase",
]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_imports_without_ui_libraries(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in ('textual', 'rich') if m in sys.modules); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
