"""Small modal prompts: the arbitrage threshold, a symbol to add."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    """One line of input: Enter returns the text, Escape returns ``None``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", show=False)]

    title_text = "input"
    hint = "enter to apply, esc to cancel"
    placeholder = ""

    def __init__(self, value: str = "") -> None:
        super().__init__()
        self.initial = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt") as box:
            box.border_title = self.title_text
            yield Input(value=self.initial, placeholder=self.placeholder, id="prompt-input")
            yield Static(self.hint, classes="prompt-hint", markup=False)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ThresholdScreen(PromptScreen):
    """Asks for the arbitrage threshold, in percent."""

    title_text = "arbitrage threshold (%)"
    hint = "e.g. 0.1 (percent, net of fees); enter to apply, esc to cancel"
    placeholder = "0.1"


class AddSymbolScreen(PromptScreen):
    """Asks for a symbol to watch."""

    title_text = "add a symbol"
    hint = "BTCUSDT, btc-usdt or BTC/USDT; enter to add, esc to cancel"
    placeholder = "SOLUSDT"
