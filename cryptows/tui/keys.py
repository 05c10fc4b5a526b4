"""The dashboard's keys: one table feeds both the bindings (and so the footer) and the help."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Key:
    """One key of the dashboard."""

    key: str
    """Textual key name(s), comma-separated."""
    action: str
    label: str
    """Short footer label."""
    display: str
    """How the key is written in the footer and the help."""
    help: str
    """What it does, for the help screen."""
    show: bool = True
    priority: bool = False


KEYS: tuple[Key, ...] = (
    Key("q", "quit", "quit", "q", "quit (saves the watchlist, sort, theme and threshold)"),
    Key("ctrl+c", "quit", "quit", "ctrl+c", "quit, same as q", show=False, priority=True),
    Key("question_mark", "help", "help", "?", "this help"),
    Key("enter", "details", "detail", "enter", "per-venue detail of the selected symbol"),
    Key("s", "sort", "sort", "s", "cycle sort: given order, symbol, dispersion, 24 h change"),
    Key("p", "pause", "pause", "p", "pause / resume the display (data keeps flowing)"),
    Key("t", "threshold", "thresh", "t", "set the arbitrage threshold (%)"),
    Key("slash", "add_symbol", "add", "/", "add a symbol to the watchlist"),
    Key("delete", "remove_symbol", "remove", "del", "remove the selected symbol"),
    Key("a", "analyze", "analyze", "a", "ask the configured model about the market (costs money)"),
)

EXTRA_HELP: tuple[tuple[str, str], ...] = (
    ("↑ ↓", "move between symbols (pgup/pgdn, home/end too)"),
    ("ctrl+p", "command palette: change theme, quit, ..."),
    ("esc", "close a dialog"),
)


def bindings() -> list[Binding]:
    """The app's bindings, built from :data:`KEYS`."""
    return [
        Binding(k.key, k.action, k.label, key_display=k.display, show=k.show, priority=k.priority)
        for k in KEYS
    ]


def help_rows() -> list[tuple[str, str]]:
    """(key, what it does) for every key, in the order the help lists them."""
    return [(k.display, k.help) for k in KEYS] + list(EXTRA_HELP)
