"""A string that never shows itself, for the gateway key (``analysis.api_key``)."""

from __future__ import annotations

import hmac


class Secret:
    """A string that never shows itself: ``str``/``repr`` give ``'********'`` or ``'<not set>'``.

    Use :meth:`reveal` at the one place the value is needed (the request header).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself."""
        return self._value

    @property
    def is_set(self) -> bool:
        """Whether a non-empty value is held."""
        return bool(self._value)

    def __bool__(self) -> bool:
        return self.is_set

    def __str__(self) -> str:
        return "********" if self._value else "<not set>"

    def __repr__(self) -> str:
        return f"Secret({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # a hash would be a cheap oracle for the value
