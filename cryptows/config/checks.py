"""Value checks: each validates the value of one dotted key and returns it normalised.

A check is called as ``check(key, value)`` with a raw value (from TOML, the environment, a flag
or the built-in defaults) and raises :class:`Invalid` with a message that starts with the key::

    venues.binance.taker_fee_pct must be >= 0 (got -1)

The caller (:mod:`cryptows.config.sources`) prefixes where the value came from.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import urlsplit

from cryptows.analysis.pricing import ModelPrice
from cryptows.config.secret import Secret
from cryptows.errors import SymbolError
from cryptows.symbols import Symbol, parse_symbol

Check = Callable[[str, object], object]
"""Validates the value of one dotted key and returns it normalised; raises :class:`Invalid`."""

MIN_DEAD_AFTER_S: Final = 1.0
"""The shortest liveness bound accepted: below it, network jitter alone would raise false alarms,
and probing every 2/5 of it would crowd Binance's 5 client messages per second."""


class Invalid(Exception):
    """A bad value; the message starts with the dotted key."""


def kind(value: object) -> str:
    """``value``'s TOML type, with an article (``"an integer"``), for messages."""
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        ((list, tuple), "an array"),
        (dict, "a table"),
    )
    return next((name for kind, name in kinds if isinstance(value, kind)), "a date/time")


def show(value: object) -> str:
    """``value`` as JSON, cut to 60 characters, for messages."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def wrong_type(key: str, expected: str, value: object) -> Invalid:
    """The error for a value of the wrong type."""
    return Invalid(f"{key} must be {expected} (got {show(value)}, {kind(value)})")


def number(*, above_zero: bool = False) -> Check:
    """A finite number, >= 0 (or > 0 with ``above_zero``), as a float."""

    def check(key: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong_type(key, "a number", value)
        result = float(value)
        if not math.isfinite(result):
            raise Invalid(f"{key} must be a finite number (got {show(value)})")
        if above_zero and result <= 0:
            raise Invalid(f"{key} must be > 0 (got {show(value)})")
        if result < 0:
            raise Invalid(f"{key} must be >= 0 (got {show(value)})")
        return result

    return check


def _float(key: str, value: object) -> float:
    result = number()(key, value)
    assert isinstance(result, float)
    return result


def count(key: str, value: object) -> int:
    """An integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(key, "an integer", value)
    if value < 0:
        raise Invalid(f"{key} must be >= 0 (got {value})")
    return value


def positive_int(key: str, value: object) -> int:
    """An integer >= 1."""
    result = count(key, value)
    if result < 1:
        raise Invalid(f"{key} must be >= 1 (got {result})")
    return result


def boolean(key: str, value: object) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise wrong_type(key, "true or false", value)
    return value


def text(key: str, value: object) -> str:
    """A non-blank string, stripped."""
    if not isinstance(value, str):
        raise wrong_type(key, "a string", value)
    if not value.strip():
        raise Invalid(f"{key} must not be empty")
    return value.strip()


def url(*schemes: str) -> Check:
    """A URL with one of ``schemes`` and a host."""
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)

    def check(key: str, value: object) -> str:
        result = text(key, value)
        try:
            parts = urlsplit(result)
            ok = parts.scheme.lower() in schemes and bool(parts.hostname)
            ok = ok and not any(c.isspace() for c in result) and (parts.port or 1) > 0
            # A host no resolver can look up (an empty label, one over 63 characters): caught
            # here, it is one config error, not a UnicodeError deep in a connection attempt.
            (parts.hostname or "").encode("idna")
        except ValueError:  # a port that is not a number, or a host IDNA cannot encode
            ok = False
        if not ok:
            raise Invalid(f"{key} must be a URL starting {wanted} with a host (got {show(value)})")
        return result

    return check


def urls(*schemes: str) -> Check:
    """A non-empty array of URLs, each as :func:`url` wants, without duplicates."""
    one = url(*schemes)

    def check(key: str, value: object) -> tuple[str, ...]:
        items = _array(key, value, f'an array of URLs like ["{schemes[-1]}://host/path"]')
        if not items:
            raise Invalid(f"{key} must list at least one URL (got [])")
        return tuple(dict.fromkeys(str(one(f"{key}[{i}]", item)) for i, item in enumerate(items)))

    return check


def choice(*choices: str) -> Check:
    """One of ``choices``, case-insensitive, lowered."""

    def check(key: str, value: object) -> str:
        result = text(key, value).lower()
        if result not in choices:
            raise Invalid(f"{key} must be one of {', '.join(choices)} (got {show(value)})")
        return result

    return check


def temperature(key: str, value: object) -> float:
    """A sampling temperature, 0 to 2."""
    result = _float(key, value)
    if result > 2:
        raise Invalid(f"{key} must be between 0 and 2 (got {show(value)})")
    return result


def liveness_bound(*, allow_zero: bool) -> Check:
    """Seconds >= :data:`MIN_DEAD_AFTER_S` (or 0, meaning "inherit", with ``allow_zero``)."""

    def check(key: str, value: object) -> float:
        seconds = _float(key, value)
        if seconds < MIN_DEAD_AFTER_S and not (allow_zero and seconds == 0):
            also = " or 0" if allow_zero else ""
            raise Invalid(f"{key} must be >= {MIN_DEAD_AFTER_S:g}{also} (got {show(value)})")
        return seconds

    return check


def secret(key: str, value: object) -> Secret:
    """A string kept as a :class:`Secret`; the value never appears in a message."""
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise Invalid(f"{key} must be a string (got {kind(value)}; value not shown)")
    return Secret(value.strip())


def _array(key: str, value: object, expected: str) -> list[object]:
    if not isinstance(value, list | tuple):
        raise wrong_type(key, expected, value)
    return list(value)


def symbols(key: str, value: object) -> tuple[Symbol, ...]:
    """A non-empty array of symbols, canonical and without duplicates."""
    items = _array(key, value, 'an array of symbols like ["BTCUSDT"]')
    if not items:
        raise Invalid(f"{key} must list at least one symbol (got [])")
    seen: dict[str, Symbol] = {}
    for i, item in enumerate(items):
        if isinstance(item, Symbol):
            symbol = item
        elif isinstance(item, str):
            try:
                symbol = parse_symbol(item)
            except SymbolError as exc:
                raise Invalid(f"{key}[{i}]: {exc}") from exc
        else:
            raise wrong_type(f"{key}[{i}]", "a symbol string", item)
        seen.setdefault(symbol.canonical, symbol)
    return tuple(seen.values())


_ASSET = re.compile(r"[A-Z0-9]{1,20}")


def pairs(key: str, value: object) -> tuple[tuple[str, str], ...]:
    """An array of pairs of different asset names, upper-cased, without duplicates."""
    found: dict[tuple[str, str], None] = {}
    for i, item in enumerate(_array(key, value, 'an array of pairs like [["USD", "USDT"]]')):
        here = f"{key}[{i}]"
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise wrong_type(here, 'a pair of asset names like ["USD", "USDT"]', item)
        first, second = (a.strip().upper() if isinstance(a, str) else "" for a in item)
        if not (_ASSET.fullmatch(first) and _ASSET.fullmatch(second)):
            problem = f"must hold two assets of 1-20 letters or digits (got {show(item)})"
            raise Invalid(f"{here} {problem}")
        if first == second:
            raise Invalid(f"{here} must name two different assets (got {show(item)})")
        found[(first, second)] = None
    return tuple(found)


def model_ids(key: str, value: object) -> tuple[str, ...]:
    """An array of non-blank model ids, without duplicates."""
    items = _array(key, value, 'an array of model ids like ["gpt-4.1"]')
    return tuple(dict.fromkeys(text(f"{key}[{i}]", item) for i, item in enumerate(items)))


def prices(key: str, value: object) -> dict[str, ModelPrice]:
    """A table model id -> ``{input = USD, output = USD}`` per million tokens."""
    if isinstance(value, Mapping) and all(isinstance(v, ModelPrice) for v in value.values()):
        return {str(model): price for model, price in value.items()}
    if not isinstance(value, dict):
        raise wrong_type(key, 'a table of tables like [analysis.prices."gpt-4.1"]', value)
    result: dict[str, ModelPrice] = {}
    for model, table in value.items():
        here = f'{key}."{model}"'
        if not str(model).strip():
            raise Invalid(f"{key}: a model id must not be empty")
        if not isinstance(table, dict):
            raise wrong_type(here, "a table with input = and output = (USD per million)", table)
        unknown = sorted(set(table) - {"input", "output"})
        if unknown:
            raise Invalid(f"unknown key {here}.{unknown[0]}; known keys: input, output")
        missing = [name for name in ("input", "output") if name not in table]
        if missing:
            raise Invalid(f"{here} must set {' and '.join(missing)} (USD per million tokens)")
        cost_in = _float(f"{here}.input", table["input"])
        cost_out = _float(f"{here}.output", table["output"])
        result[str(model).strip()] = ModelPrice(cost_in, cost_out)
    return result
