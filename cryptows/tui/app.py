"""The ``cryptows watch`` dashboard: one timer pulls a market snapshot and shows what changed.

Rendering rules: one ``set_interval`` timer at ``refresh_hz`` calls :meth:`CryptowsApp.refresh_now`,
which takes ``market.snapshot()``, formats every cell and line as text, and inside one
``batch_update`` hands them to the widgets, which rebuild and repaint only the table rows and the
lines whose text changed (:class:`~cryptows.tui.widgets.table.RowTable`,
:class:`~cryptows.tui.widgets.lines.Lines`); the screen is laid out again only when a widget's
number of lines changes. Tables are rebuilt only when the symbols or their sorted order change,
and sorts on live values re-order at most once a second. Nothing is posted per market frame: the
market absorbs the frames, the app samples it.

(Slightly over 400 lines: the app's key bindings and their actions stay beside the refresh they
drive; the screens and widgets are modules of their own.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer

from cryptows.config import AnalysisSettings
from cryptows.crash import internal_error
from cryptows.errors import CryptowsError
from cryptows.market.types import Snapshot, SymbolView
from cryptows.models import VenueState
from cryptows.service import MarketService
from cryptows.tui import format as fmt
from cryptows.tui.analysis import AnalysisLauncher
from cryptows.tui.keys import bindings, help_rows
from cryptows.tui.screens.detail import DetailScreen
from cryptows.tui.screens.help import HelpScreen
from cryptows.tui.screens.prompt import AddSymbolScreen, ThresholdScreen
from cryptows.tui.state import SortMode, WatchState, default_state_path, save_watch_state
from cryptows.tui.widgets import notes
from cryptows.tui.widgets.arb_panel import ArbPanel
from cryptows.tui.widgets.detail_pane import DetailPane
from cryptows.tui.widgets.header import HeaderBar
from cryptows.tui.widgets.health_panel import HealthPanel, venue_health
from cryptows.tui.widgets.lines import Lines
from cryptows.tui.widgets.table import RowTable
from cryptows.tui.widgets.watchlist import Watchlist

RESORT_MS = 1000
"""Sorts on live values (dispersion, 24 h change) re-order at most this often."""
TALL = 30
"""From this many rows, the selected symbol's per-venue table shows below the watchlist."""
DASHBOARD_ACTIONS = frozenset(
    {"sort", "pause", "threshold", "add_symbol", "remove_symbol", "details", "analyze", "help"}
)
"""Actions that act on the dashboard: disabled while a dialog is open."""


class CryptowsApp(App[None]):
    """The live dashboard. Build it with :func:`cryptows.tui.factory.make_app`."""

    CSS_PATH = "cryptows.tcss"
    TITLE = "cryptows"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings())

    def __init__(
        self,
        market: MarketService,
        *,
        state: WatchState,
        state_path: Path | None = None,
        refresh_hz: float = 8.0,
        clock: Callable[[], int] | None = None,
        on_refreshed: Callable[[Snapshot], None] | None = None,
        warning: str = "",
        analysis: AnalysisSettings | None = None,
        saved_symbols: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__()
        self._saved_symbols = saved_symbols
        """Saved as the watchlist instead of the market's symbols (``watch --all``)."""
        self.analysis = AnalysisLauncher(analysis)
        self.market = market
        """The market shown (shared with the CLI; the app only reads it and sends user edits)."""
        self.state_path = state_path if state_path is not None else default_state_path()
        self.refresh_hz = refresh_hz
        self.clock = clock
        self.on_refreshed = on_refreshed
        self.sort_mode = state.sort
        self.paused = False
        self.last_snapshot: Snapshot | None = None
        """The snapshot on screen."""
        self.last_paint_snapshot_ts_ms: int | None = None
        """``ts_ms`` of the last snapshot whose refresh changed something on screen."""
        self.crash: CryptowsError | None = None
        """Set when the app itself failed (a bug): the one-line error for the CLI to report."""
        self._threshold = state.threshold_pct
        self._warning = warning
        self._saved: WatchState | None = state if not state.warning else None
        self._timer: Timer | None = None
        self._order: tuple[str, ...] = ()
        self._sorted_at: int | None = None
        self._resort = True
        self._notices = notes.NoticeLog()
        self._notice_shown = False
        if state.theme and state.theme in self.available_themes:
            self.theme = state.theme

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._header = HeaderBar(id="header")
        self._status = Lines(id="status")
        self._watchlist = Watchlist(id="watchlist")
        self._pane = DetailPane(id="detail-pane")
        self._arb = ArbPanel(id="arb")
        self._health = HealthPanel(id="health")
        self._problems = Lines(id="problems")
        yield self._header
        yield self._status
        yield self._watchlist
        yield self._pane
        yield self._arb
        yield self._health
        yield self._problems
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._apply_size()
        self._watchlist.focus()
        self.refresh_now()
        if self.refresh_hz > 0:
            self._timer = self.set_interval(1 / self.refresh_hz, self.refresh_now)
        if self._warning:
            self.notify(self._warning, title="saved state", severity="warning", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_size()
        if self.last_snapshot is not None:
            self._paint(self.last_snapshot)

    def _apply_size(self) -> None:
        width, height = self.size
        self._watchlist.set_width(width - 1)
        self._pane.display = height >= TALL
        self._pane.set_width(width)

    # -- refresh ----------------------------------------------------------------------------

    def refresh_now(self) -> None:
        """One refresh: check for failure, then (unless paused) pull a snapshot and show it."""
        if not self.screen_stack:  # shutting down: the screens go before the timer stops
            return
        failure = self.market.failure
        if failure is not None:
            self._fail(failure)
            return
        if self.paused:
            return
        self._paint(self._snapshot())

    def stop_refresh(self) -> None:
        """Stop the refresh timer (tests then call :meth:`refresh_now` themselves)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _snapshot(self) -> Snapshot:
        return self.market.snapshot(self.clock() if self.clock is not None else None)

    def _paint(self, snapshot: Snapshot) -> bool:
        """Show ``snapshot``, touching only what changed; returns whether anything did."""
        views = {v.symbol: v for v in snapshot.symbols}
        order = self._display_order(snapshot, views)
        hot = {s for o in snapshot.open_opportunities for s in (o.symbol, o.buy_symbol)}
        health = venue_health(snapshot, self.market.venues)
        width, height = self.size
        watchlist = self._watchlist
        with self.batch_update():
            changed = self._header.show(
                demo=self.market.demo,
                replay=self.market.replay,
                finished=self.market.finished,
                threshold=fmt.threshold(snapshot.threshold_pct, gross=snapshot.gross),
                live=sum(h.state is VenueState.LIVE for h in health),
                venues=len(health),
                sort=self.sort_mode.value,
                paused=self.paused,
                ts_ms=snapshot.ts_ms,
                width=width,
            )
            changed |= self._status.show([notes.status_line(snapshot, health)])
            self._status.display = bool(self._status.text)
            changed |= watchlist.show(order, views, hot)
            if self._pane.display:
                changed |= self._pane.show(watchlist.selected_key, self.market.venues, snapshot)
            changed |= self._arb.show_snapshot(snapshot)
            changed |= self._health.show_snapshot(snapshot, self.market.venues)
            changed |= self._show_problems(snapshot)
            if isinstance(self.screen, DetailScreen):
                changed |= self.screen.show(snapshot)
        self.last_snapshot = snapshot
        for notice in self._notices.fresh(snapshot.notices):
            self.notify(notice, title="cryptows", severity="warning", markup=False)
        if changed:
            self.last_paint_snapshot_ts_ms = snapshot.ts_ms
            if self.on_refreshed is not None:
                self.on_refreshed(snapshot)
        return changed

    def _show_problems(self, snapshot: Snapshot) -> bool:
        """The problem line, and the latest notice below it when the arbitrage panel has room."""
        lines = [notes.problem_line(snapshot)]
        shown = snapshot.notices and notes.notice_fits(self._arb.slack, shown=self._notice_shown)
        if shown:
            lines.append(notes.notice_line(snapshot.notices[-1], self.size.width))
        self._notice_shown = bool(shown)
        changed = self._problems.show([line for line in lines if line])
        self._problems.display = bool(self._problems.text)
        return changed

    def on_arb_panel_resized(self) -> None:
        """The panel's room changed: re-check whether the notice line fits."""
        if self.last_snapshot is not None:
            self._show_problems(self.last_snapshot)

    def _display_order(self, snapshot: Snapshot, views: dict[str, SymbolView]) -> tuple[str, ...]:
        """The rows' order; live-value sorts are recomputed at most once per RESORT_MS."""
        symbols = self.market.symbols
        mode = self.sort_mode
        if mode is SortMode.GIVEN:
            order = symbols
        elif mode is SortMode.SYMBOL:
            order = tuple(sorted(symbols))
        elif (
            not self._resort
            and set(symbols) == set(self._order)
            and self._sorted_at is not None
            and snapshot.ts_ms - self._sorted_at < RESORT_MS
        ):
            return self._order
        else:
            order = tuple(sorted(symbols, key=lambda s: mode.key(views.get(s))))
            self._sorted_at = snapshot.ts_ms
        self._resort = False
        self._order = order
        return order

    def _handle_exception(self, error: Exception) -> None:
        # Textual would print the traceback with its locals (a key held in a local must never
        # reach the terminal): write it to the crash log instead and keep one line for the CLI.
        if self.crash is None:
            self.crash = internal_error(error, "the dashboard")
        super()._handle_exception(error)
        self._exit_renderables.clear()

    def _fail(self, failure: CryptowsError) -> None:
        self.stop_refresh()
        self._save()
        self.exit(return_code=failure.exit_code)  # the CLI reports the failure: one line

    # -- persistence ------------------------------------------------------------------------

    def _save(self) -> None:
        """Write the saved state if it changed; a failure is a warning, never a crash."""
        state = WatchState(
            symbols=self.market.symbols if self._saved_symbols is None else self._saved_symbols,
            sort=self.sort_mode,
            theme=self.theme,
            threshold_pct=self._threshold,
        )
        if state == self._saved:
            return
        try:
            save_watch_state(state, self.state_path)
        except OSError as exc:
            self.notify(
                f"could not save {self.state_path}: {exc.strerror or exc}",
                title="saved state",
                severity="warning",
                markup=False,
            )
            return
        self._saved = state

    def _theme_changed(self, _theme: object) -> None:
        self._save()  # the widgets restyle themselves (their notify_style_update)

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DASHBOARD_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        return True

    async def action_quit(self) -> None:
        """Save and exit cleanly (``q``, Ctrl-C, Ctrl-Q)."""
        self.stop_refresh()
        self._save()
        self.exit()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_rows()))

    def action_sort(self) -> None:
        self.sort_mode = self.sort_mode.next()
        self._resort = True
        self._save()
        self._repaint()
        self.notify(f"sort: {self.sort_mode.value}", timeout=1.5)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.market.set_paused(self.paused)  # a replay's clock stops too
        if self.paused and self.last_snapshot is not None:
            self._paint(self.last_snapshot)  # shows the PAUSED badge, nothing else changes
        else:
            self.refresh_now()

    def action_details(self) -> None:
        symbol = self._watchlist.selected_key
        if symbol is None:
            self.notify("no symbol selected", severity="warning")
            return
        screen = DetailScreen(symbol, self.market.venues)
        self.push_screen(screen)
        if self.last_snapshot is not None:
            self.call_after_refresh(screen.show, self.last_snapshot)

    def action_threshold(self) -> None:
        current = self.last_snapshot.threshold_pct if self.last_snapshot else None
        value = "" if current is None else f"{current:g}"
        self.push_screen(ThresholdScreen(value), self._set_threshold)

    def action_add_symbol(self) -> None:
        self.push_screen(AddSymbolScreen(), self._add_symbol)

    def action_remove_symbol(self) -> None:
        symbol = self._watchlist.selected_key
        if symbol is None:
            self.notify("no symbol selected", severity="warning")
            return
        try:
            self.market.remove_symbol(symbol)
        except CryptowsError as exc:
            self.notify(str(exc), title="remove symbol", severity="error", markup=False)
            return
        self._watchlist.forget(set(self.market.symbols))
        self._edited()

    def action_analyze(self) -> None:
        self.analysis.launch(self)

    @on(RowTable.Selected, "#watchlist")
    def _row_selected(self) -> None:
        self.action_details()

    @on(RowTable.Highlighted, "#watchlist")
    def _row_highlighted(self) -> None:
        pane = self._pane
        if not pane.is_attached or not pane.display or self.last_snapshot is None:
            return
        symbol = self._watchlist.selected_key
        if symbol != pane.symbol:
            pane.show(symbol, self.market.venues, self.last_snapshot)

    # -- edits ------------------------------------------------------------------------------

    def _set_threshold(self, text: str | None) -> None:
        if text is None or not text.strip():
            return
        try:
            value = float(text.strip().rstrip("%"))
        except ValueError:
            self.notify(
                f"not a number: {text!r}; give a percentage such as 0.1",
                title="threshold",
                severity="error",
                markup=False,
            )
            return
        try:
            self.market.set_threshold(value)
        except CryptowsError as exc:
            self.notify(str(exc), title="threshold", severity="error", markup=False)
            return
        self._threshold = value
        self._edited()

    def _add_symbol(self, text: str | None) -> None:
        if text is None or not text.strip():
            return
        try:
            symbol = self.market.add_symbol(text)
        except CryptowsError as exc:
            self.notify(str(exc), title="add symbol", severity="error", markup=False)
            return
        self._edited()
        watchlist = self._watchlist
        if symbol in watchlist.row_order:
            watchlist.move_cursor(row=watchlist.row_order.index(symbol))

    def _edited(self) -> None:
        """The user changed the market: save, and show the result even while paused."""
        self._save()
        self._resort = True
        self._paint(self._snapshot())

    def _repaint(self) -> None:
        """Show the current snapshot again (new sort, size or theme); no new data while paused."""
        if self.last_snapshot is not None:
            self._paint(self.last_snapshot)
