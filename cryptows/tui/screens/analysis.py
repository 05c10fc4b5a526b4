"""The dashboard's analysis: a confirmation when the spend guard is exceeded, then a modal that
asks the models in a worker (the dashboard stays live) and shows their answers, tokens and cost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from cryptows.analysis.runner import Call, Outcome, estimate_total, send_all
from cryptows.analysis.stats import MarketStats
from cryptows.config import AnalysisSettings

DISCLAIMER = "Model commentary on a market snapshot, not financial advice."


def _usd(value: float | None) -> str:
    return "unknown price" if value is None else f"${value:.5f}"


def outcome_text(outcome: Outcome) -> str:
    """One call's result as plain text: the answer (or why not), then tokens and cost."""
    head = f"── {outcome.call.model} · {outcome.call.task.value}"
    if outcome.error is not None:
        return f"{head}\nfailed: {outcome.error}"
    answer, result = outcome.answer, outcome.result
    assert answer is not None
    assert result is not None
    if answer.ok:
        body = json.dumps(answer.data, indent=2, ensure_ascii=False)
    else:
        body = f"warning: {answer.warning}; the answer as given:\n{answer.raw or '(blank)'}"
    gateway = (
        f" (gateway says ${result.gateway_cost_usd:.5f})"
        if result.gateway_cost_usd is not None
        else ""
    )
    tokens = (
        f"tokens: {result.prompt_tokens} prompt + {result.completion_tokens} completion; "
        f"cost {_usd(outcome.cost_usd)}{gateway}; {result.elapsed_s:.1f} s"
    )
    return f"{head}\n{body}\n{tokens}"


class ConfirmSpendScreen(ModalScreen[bool]):
    """Asks before sending when the estimate exceeds the spend guard (or cannot be priced)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "cancel", show=False),
        Binding("n", "dismiss(False)", "no", show=False),
        Binding("y", "dismiss(True)", "yes", show=False),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box") as box:
            box.border_title = "spend guard"
            yield Static(self.question, id="confirm-text", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("send (y)", id="yes", variant="warning")
                yield Button("cancel (n)", id="no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class AnalysisScreen(ModalScreen[None]):
    """Sends ``calls`` in a worker and shows each answer as it is known."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "close", show=False),
    ]

    def __init__(
        self,
        calls: Sequence[Call],
        settings: AnalysisSettings,
        stats: MarketStats,
        stats_text: str,
    ) -> None:
        super().__init__()
        self.calls = tuple(calls)
        self.stats = stats
        self.settings = settings
        self.stats_text = stats_text
        self.outcomes: list[Outcome] = []

    def compose(self) -> ComposeResult:
        models = ", ".join(dict.fromkeys(c.model for c in self.calls))
        tasks = ", ".join(dict.fromkeys(c.task.value for c in self.calls))
        with Vertical(id="analysis-box") as box:
            box.border_title = f"analysis · {models} · {tasks}"
            box.border_subtitle = "esc to close"
            with VerticalScroll(id="analysis-scroll"):
                yield Static(DISCLAIMER, id="analysis-disclaimer", markup=False)
                yield Static(self.stats_text, id="analysis-stats", markup=False)
                yield Static(
                    f"asking… (estimate {_usd(estimate_total(self.calls))}, at most "
                    f"{len(self.calls)} call(s))",
                    id="analysis-result",
                    markup=False,
                )

    def on_mount(self) -> None:
        self.run_calls()

    @work(exclusive=True, group="analysis", exit_on_error=False)
    async def run_calls(self) -> list[Outcome]:
        return await send_all(self.calls, self.settings, self.stats)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        result = self.query_one("#analysis-result", Static)
        if event.state is WorkerState.SUCCESS:
            outcomes = event.worker.result
            assert isinstance(outcomes, list)
            self.outcomes = outcomes
            total = sum(o.cost_usd or 0.0 for o in outcomes)
            text = "\n".join(outcome_text(o) for o in outcomes)
            result.update(f"{text}\n── total cost {_usd(total)} (local price table)")
            for o in outcomes:
                if o.error is not None:
                    self.app.notify(str(o.error), title="analysis", severity="error", markup=False)
        elif event.state is WorkerState.ERROR:
            error = event.worker.error
            result.update(f"failed: {type(error).__name__}: {error}")
            self.app.notify(
                f"analysis failed: {error}", title="analysis", severity="error", markup=False
            )
