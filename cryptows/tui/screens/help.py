"""The help screen: every key, and what the columns mean."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

LEGEND: tuple[tuple[str, str], ...] = (
    ("◆", "open arbitrage opportunity (venues disagree by more than fees)"),
    ("bid / ask", "best usable bid / ask across venues, and where"),
    ("disp", "cross-venue dispersion of mid prices, in basis points"),
    ("24h %", "median 24 h change of the usable venues"),
    ("grey", "not usable: venue not live or quote too old (reason shown)"),
    ("lag", "receipt time − venue timestamp; includes the clock offset"),
)


class HelpScreen(ModalScreen[None]):
    """Lists every key the dashboard answers to."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "close", show=False),
        Binding("question_mark", "dismiss", "close", show=False),
    ]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = tuple(keys)

    def compose(self) -> ComposeResult:
        width = max(len(k) for k, _ in (*self.keys, *LEGEND))
        lines = [Content.styled("keys", "bold $accent")]
        lines += [
            Content.assemble((f"{key:>{width}}  ", "bold $accent"), text) for key, text in self.keys
        ]
        lines.append(Content.styled("columns", "bold $accent"))
        lines += [
            Content.assemble((f"{key:>{width}}  ", "bold"), (text, "$text-muted"))
            for key, text in LEGEND
        ]
        with VerticalScroll(id="help-body") as body:
            body.border_title = "cryptows watch: help"
            body.border_subtitle = "esc or ? to close"
            yield Static(Content("\n").join(lines), id="help-text")
