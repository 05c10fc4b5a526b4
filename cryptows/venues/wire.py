"""Reading values off the wire: the checks every venue adapter applies to numbers, symbols and
REST bodies. Each raises :class:`FrameError` with the reason a ``BadFrame`` records."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Annotated, TypeAlias, TypeVar

import msgspec

Frame = bytes | str
"""One WebSocket message as received: text frames as ``str``, binary frames as ``bytes``."""

Number = str | float | int | None
"""A number as venues send it: usually a decimal string, sometimes a JSON number, or absent."""

_T = TypeVar("_T")

# Fast-path types: decoded with ``msgspec.json.Decoder(..., strict=False)``, a decimal string or a
# JSON number becomes a float and is checked in C. They accept a subset of what the full path's
# ``price``/``amount`` accept (never "", "NaN", infinities, booleans, padded or Python-only
# spellings such as "1_0"), so whatever they refuse falls back to the full path and its reason.
WirePrice = Annotated[float, msgspec.Meta(gt=0, le=sys.float_info.max)]
"""A positive, finite price."""
WireSize = Annotated[float, msgspec.Meta(ge=0, le=sys.float_info.max)]
"""A size or volume: zero or more, finite."""

if TYPE_CHECKING:
    Absent: TypeAlias = _T | None  # noqa: UP040 - a generic alias mypy reads as T | None
else:

    class Absent:
        """``Absent[T]``: ``None`` when the key is missing, else a ``T``, never JSON ``null``.

        A lax decoder reads the *string* ``"null"`` (any case) as ``None`` for an optional type
        without ``str`` in it, where the full path refuses it: so for msgspec such a field is a
        plain ``T`` with the default ``None`` (a JSON ``null`` declines), while type checkers
        see ``T | None``, which is what the attribute holds.
        """

        def __class_getitem__(cls, item: object) -> object:
            return item


class FrameError(Exception):
    """A frame is unusable; the message is the reason recorded in the ``BadFrame``."""


def _number(value: Number, what: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FrameError(f"{what} is a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FrameError(f"{what} is not a number: {value!r:.40}") from None
    if not math.isfinite(number):
        raise FrameError(f"{what} is not finite: {value!r:.40}")
    return number


def price(value: Number, what: str = "price") -> float | None:
    """A price from the wire: ``None`` if absent or ``""``; positive and finite otherwise."""
    number = _number(value, what)
    if number is not None and number <= 0:
        raise FrameError(f"{what} is not positive: {value!r:.40}")
    return number


def amount(value: Number, what: str = "size") -> float | None:
    """A size or volume: ``None`` if absent or ``""``; zero or more and finite otherwise."""
    number = _number(value, what)
    if number is not None and number < 0:
        raise FrameError(f"{what} is negative: {value!r:.40}")
    return number


def signed(value: Number, what: str = "change") -> float | None:
    """A change (negative, zero or positive): ``None`` if absent or ``""``; finite otherwise."""
    return _number(value, what)


def change_pct(last: float | None, open_24h: Number) -> float | None:
    """Percent change from ``open_24h`` to ``last``: ``None`` if either is absent or the open is
    zero (nothing to compare with); a malformed or negative open raises ``FrameError``."""
    opened = amount(open_24h, "24h open")
    if last is None or not opened:
        return None
    change = (last - opened) / opened * 100
    return change if math.isfinite(change) else None


def timestamp_ms(value: Number) -> int | None:
    """An epoch-ms timestamp sent as an integer or a decimal string; ``None`` if absent."""
    number = _number(value, "timestamp")
    if number is None:
        return None
    if number < 0:
        raise FrameError(f"timestamp is negative: {value!r:.40}")
    return int(number)


def alnum_symbol(s: str | None) -> str:
    """The canonical symbol (upper case) of a symbol the venue spells as one run of letters and
    digits (``BTCUSDT``, ``btcusdt``); anything else raises ``FrameError``."""
    if not s or not s.isalnum():
        raise FrameError(f"bad symbol {s!r:.40}")
    return s.upper()


def require(obj: object, what: str, *fields: str) -> None:
    """Raise ``FrameError`` naming every one of ``fields`` that ``obj`` (a decoded ``what``
    frame) lacks or has as ``""``."""
    missing = [f for f in fields if getattr(obj, f) in (None, "")]
    if missing:
        raise FrameError(f"{what} frame missing {', '.join(missing)}")


def decode_rest(body: bytes | str, kind: type[_T], what: str) -> _T:
    """Decode a REST body into ``kind``; any decoding problem becomes a ``FrameError``."""
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FrameError(f"unexpected {what} answer: {exc}") from exc
