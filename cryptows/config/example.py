"""The commented example configuration, generated from the key declarations.

Every key appears with its help text as a comment and its built-in default as the value; the
``[venues.<name>]`` tables come from :data:`cryptows.venues.ADAPTERS`. The repository's
``config.example.toml`` is this text (regenerate it with
``python -m cryptows.config > config.example.toml``).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from cryptows.config.keys import TABLE_KEYS, TOP_KEYS, VENUE_KEYS, Key
from cryptows.errors import ConfigError
from cryptows.venues import ADAPTERS

_WIDTH: Final = 98
"""Longest comment line when wrapping text."""
_LIMIT: Final = 99
"""Longest comment line that a ``Default:`` note is appended to."""
_NBSP: Final = "\xa0"
"""A space that no comment line breaks at, written as a plain space."""

_HEADER: Final = """\
cryptows configuration.

Written by `cryptows config init`; see the effective values with `cryptows config show`.
Every key below is set to its built-in default, so you can delete any line you do not change.
Precedence, lowest to highest: built-in defaults < this file < environment < command-line flags.
The file is found at --config PATH, else $CRYPTOWS_CONFIG, else the per-user config directory
(`cryptows config path` prints which)."""


def toml_value(value: object) -> str:
    """``value`` written as a TOML value (boolean, number, string or array)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r} here")


def assignment(name: str, value: object) -> list[str]:
    """``name = value`` as TOML lines: an array too long for one line gets one item per line."""
    line = f"{name} = {toml_value(value)}"
    if len(line) <= _WIDTH or not isinstance(value, list | tuple):
        return [line]
    return [f"{name} = [", *(f"    {toml_value(item)}," for item in value), "]"]


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _comment(text: str, first: str = "# ", rest: str = "# ") -> list[str]:
    """``text`` as comment lines of at most :data:`_WIDTH`; a ``\\n`` starts a new line, and no
    line breaks at a no-break space (``\\xa0``)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(
            paragraph,
            width=_WIDTH,
            initial_indent=first,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [first.rstrip()]
        first = rest
    return [line.replace(_NBSP, " ") for line in lines]


def _described(help_text: str, default: str) -> list[str]:
    """``help_text`` as comment lines, then ``Default: ...`` on the last line if it fits."""
    lines = _comment(help_text)
    first, *rest = f"Default: {default}".split("\n")
    if len(lines[-1]) + 1 + len(first) <= _LIMIT:
        lines[-1] += " " + first
    else:
        lines += _comment(first)
    return [*lines, *_comment("\n".join(rest))] if rest else lines


def _with_default(key: Key) -> list[str]:
    shown = key.shown_default if key.shown_default is not None else toml_value(key.default)
    return _described(key.help, shown)


def _table(header: str, table: Mapping[str, object]) -> list[str]:
    lines = [f"[{header}]"]
    values = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in values.items()]
    for name, value in table.items():
        if isinstance(value, Mapping):
            lines += _table(f"{header}.{_toml_key(name)}", value)
    return lines


def _keys(keys: Iterable[Key], *, spaced: bool) -> list[str]:
    """Each key with its help and default as a comment; tables (``[a.b]``) after the values."""
    keys = list(keys)
    lines: list[str] = []
    for key in keys:
        if not isinstance(key.default, Mapping):
            lines += [*_with_default(key), *assignment(key.field, key.default)]
            lines += [""] if spaced else []
    for key in keys:
        if isinstance(key.default, Mapping):
            lines += ["", *_with_default(key), *_table(key.name, key.default)]
    return lines


def _venues() -> list[str]:
    width = max(len(template.field) for template in VENUE_KEYS) + 2
    lines = ["# One table per venue. Keys in each:"]
    for template in VENUE_KEYS:
        text = template.help
        if template.from_adapter is None:
            text += f" (default:{_NBSP}{toml_value(template.default)})"
        lines += _comment(text, f"#   {template.field:<{width}}", "#" + " " * (width + 3))
    for name, adapter in ADAPTERS.items():
        lines += ["", f"[venues.{name}]"]
        notes = {"ws_url": adapter.endpoint_note, "taker_fee_pct": adapter.fee_source}
        for template in VENUE_KEYS:
            value = toml_value(template.default_for(adapter))
            if template.from_adapter is not None:
                note = notes.get(template.field, "")
                joint = "" if not note else " " if note.startswith("(") else ". "
                lines += _comment(f"Default: {value}{joint}{note}")
            lines += assignment(template.field, template.default_for(adapter))
    return lines


def example_config_text() -> str:
    """The commented example configuration (``config init`` writes it): every key, its default
    and what it means."""
    lines = [*_comment(_HEADER), ""]
    lines += _keys(TOP_KEYS, spaced=True)
    lines += [*_venues(), ""]
    for table in dict.fromkeys(key.table for key in TABLE_KEYS):
        lines.append(f"[{table}]")
        lines += _keys((key for key in TABLE_KEYS if key.table == table), spaced=False)
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_example_config(path: Path, *, force: bool = False) -> Path:
    """Write :func:`example_config_text` to ``path``, creating parent directories.

    The file is made readable by its owner only, since it may come to hold the API key.

    Raises:
        ConfigError: ``path`` exists and ``force`` is false, or it cannot be written.
    """
    if path.exists() and not force:
        raise ConfigError(f"config file {path} already exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example_config_text(), encoding="utf-8")
        path.chmod(0o600)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot write it: {exc.strerror or exc}") from exc
    return path
