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
ARB_LEGEND: tuple[tuple[str, str], ...] = (
    ("gross/net", "sell bid over buy ask, before / after both taker fees"),
    ("rank", "#1 = the best open route of its symbol (by net)"),
    ("#2 sell", "shares its sell leg (or buy, or both) with a better route:"),
    ("", "both draw on one book, so sizes and profits do not add up"),
    ("est profit", "for the executable size, net of fees, in the quote asset"),
    ("leg ages", "age of the buy / sell quote; for: how long it has been open"),
    ("why", "why it closed: below = net fell under the threshold,"),
    ("", "stale = a leg's venue went down or its quote got too old,"),
    ("", "gone = a leg's quote went away (unlisted), end = run ended"),
    ("suppressed", "candidates that did not open: below fees (only gross"),
    ("", "cleared), stale leg, quote mismatch (USD is not USDT),"),
    ("", "unconfirmed (did not hold for [arb] confirm_ms)"),
    ("⚠", "symbols a venue cannot stream; the latest run notice"),
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
        width = max(len(k) for k, _ in (*self.keys, *LEGEND, *ARB_LEGEND))
        lines = [Content.styled("keys", "bold $accent")]
        lines += [
            Content.assemble((f"{key:>{width}}  ", "bold $accent"), text) for key, text in self.keys
        ]
        for title, legend in (("columns", LEGEND), ("arbitrage panel", ARB_LEGEND)):
            lines.append(Content.styled(title, "bold $accent"))
            lines += [
                Content.assemble((f"{key:>{width}}  ", "bold"), (text, "$text-muted"))
                for key, text in legend
            ]
        with VerticalScroll(id="help-body") as body:
            body.border_title = "cryptows watch: help"
            body.border_subtitle = "esc or ? to close"
            yield Static(Content("\n").join(lines), id="help-text")
