"""Shared test fixtures: fixture-frame loading and a clean environment for every test."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(venue: str, name: str) -> bytes:
    """The exact bytes of ``tests/fixtures/<venue>/<name>`` (a frame as it travels on the wire)."""
    return (FIXTURES / venue / name).read_bytes()


def fixture_names(venue: str, pattern: str = "*") -> list[str]:
    """File names (relative to the venue folder) matching ``pattern``, sorted."""
    folder = FIXTURES / venue
    return sorted(p.relative_to(folder).as_posix() for p in folder.glob(pattern) if p.is_file())


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's config, API key and proxies out of every test."""
    for var in ("CRYPTOWS_CONFIG", "HOLYSHEEP_API_KEY", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
