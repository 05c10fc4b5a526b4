"""Styled lines on Textual's Line API, told their content each refresh; only changed lines repaint.

Each line's :class:`~textual.strip.Strip` is rendered once and kept until that line's text or
style, the widget's width or its styles change. A new number of lines re-lays out the screen
(the widget is ``height: auto``); a changed line only repaints itself. (A ``Static`` would
re-render all its lines and re-lay out the screen on every update.)
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

Part = tuple[str, str]
"""(text, Textual style: ``"bold $success"``, ``"$text-muted"``, or ``""``)."""
Line = Sequence[Part]


class Lines(Widget):
    """Styled lines; :meth:`show` compares them with what is shown before touching the DOM."""

    DEFAULT_CSS = """
    Lines {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        self._key: tuple[tuple[Part, ...], ...] = ()
        self._strips: dict[int, Strip] = {}
        """Line index -> its strip at :attr:`_strip_width`."""
        self._strip_width = -1
        super().__init__(id=id, classes=classes)

    @property
    def text(self) -> str:
        """The plain text shown (for tests and the benchmark)."""
        return "\n".join("".join(t for t, _ in line) for line in self._key)

    def show(self, lines: Sequence[Line]) -> bool:
        """Show ``lines``; returns whether anything changed."""
        key = tuple(tuple(line) for line in lines)
        old = self._key
        if key == old:
            return False
        self._key = key
        if len(key) != len(old):
            self._strips.clear()
            self.refresh(layout=True)
            return True
        width = self.size.width
        regions = []
        for y, (was, now) in enumerate(zip(old, key, strict=True)):
            if was != now:
                self._strips.pop(y, None)
                regions.append(Region(0, y, width, 1))
        self.refresh(*regions)
        return True

    def render(self) -> Content:
        """All the lines as one Content (what text selection and copying read)."""
        return Content("\n").join(Content.assemble(*line) for line in self._key)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._key)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((sum(cell_len(t) for t, _ in line) for line in self._key), default=0)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.text_selection is not None:  # rare: render the whole text, selection applied
            strips = Visual.to_strips(self, self.render(), width, None, self.visual_style)
            return strips[y] if y < len(strips) else Strip.blank(width)
        if width != self._strip_width:
            self._strips.clear()
            self._strip_width = width
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._line_strip(y, width)
        return strip

    def _line_strip(self, y: int, width: int) -> Strip:
        """Line ``y`` rendered ``width`` cells wide (the one place a line is rendered)."""
        if y >= len(self._key):
            return Strip.blank(width, self.visual_style.rich_style)
        content = Content.assemble(*self._key[y])
        strips = Visual.to_strips(self, content, width, 1, self.visual_style)
        return strips[0] if strips else Strip.blank(width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        """The theme or a pseudo-class changed: render every line again."""
        super().notify_style_update()
        self._strips.clear()

    def selection_updated(self, selection: Selection | None) -> None:
        self._strips.clear()
        super().selection_updated(selection)
