"""A Static that is told its lines each refresh and redraws only when they differ."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static

Part = tuple[str, str]
"""(text, Textual style: ``"bold $success"``, ``"$text-muted"``, or ``""``)."""
Line = Sequence[Part]


class Lines(Static):
    """Styled lines; :meth:`show` compares them with what is shown before touching the DOM."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self._key: tuple[tuple[Part, ...], ...] | None = None

    @property
    def text(self) -> str:
        """The plain text shown (for tests and the benchmark)."""
        return "\n".join("".join(t for t, _ in line) for line in self._key or ())

    def show(self, lines: Sequence[Line]) -> bool:
        """Show ``lines``; returns whether anything changed."""
        key = tuple(tuple(line) for line in lines)
        if key == self._key:
            return False
        self._key = key
        self.update(Content("\n").join(Content.assemble(*line) for line in key))
        return True
