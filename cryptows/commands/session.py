"""One live run of the feed, shared by ``quotes`` and ``arb``: start, hand events over, stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cryptows.commands.common import (
    DEMO_BANNER,
    RunSpec,
    eprint,
    stop_on_signals,
    summary_line,
    wait_for_stop,
)
from cryptows.errors import RuntimeFailure, UsageError
from cryptows.feed.manager import FeedManager
from cryptows.models import FeedEvent, SymbolStatus, VenueHealth


class Output:
    """Where a command's results go; subclasses override what they need."""

    refresh_s: float | None = None
    """Call :meth:`refresh` this often (a live view); ``None``: never."""

    def write(self, event: FeedEvent) -> None:
        """Handle one feed event (called for every event, in order)."""

    def start(self) -> None:
        """Called once the feed runs."""

    def refresh(self) -> None:
        """Periodic work on the event loop (redraw, age checks)."""

    def finish(self) -> None:
        """Called once when the run ends normally, before the feed stops (e.g. close what is
        open and print a summary)."""

    def stop(self) -> None:
        """Called last (e.g. leave the live view)."""


async def run_session(
    spec: RunSpec,
    duration: float | None,
    make_output: Callable[[FeedManager], Output],
) -> dict[str, VenueHealth]:
    """Run the feed for ``spec`` until Ctrl-C, ``duration`` or a feed failure.

    Prints one summary line per venue on stderr at the end. Raises ``RuntimeFailure`` if no
    venue delivered any data at all.
    """
    async with stop_on_signals() as stop:
        if spec.demo:
            eprint(f"cryptows: {DEMO_BANNER}")
        manager = FeedManager(spec.settings, spec.symbols, spec.venues)
        output = make_output(manager)
        async with manager:
            unlisted = _Unlisted(spec.venues)
            tasks = [asyncio.create_task(_consume(manager, output, stop, unlisted))]
            output.start()
            if output.refresh_s is not None:
                tasks.append(asyncio.create_task(_refresh(output, output.refresh_s)))
            try:
                await wait_for_stop(stop, duration, manager.task)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                try:
                    if unlisted.error is None:
                        output.finish()
                finally:
                    output.stop()
                final = manager.health()
    if unlisted.error is not None:
        raise unlisted.error
    for health in final.values():
        eprint(f"cryptows: {summary_line(health)}")
    if not any(h.messages for h in final.values()):
        reasons = "; ".join(f"{h.venue}: {h.last_error or h.state.value}" for h in final.values())
        raise RuntimeFailure(f"no venue delivered any data ({reasons})")
    return final


class _Unlisted:
    """Notices a symbol that no venue lists (a typo, most likely): that ends the run, exit 2."""

    def __init__(self, venues: tuple[str, ...]) -> None:
        self.venues = set(venues)
        self.seen: dict[str, set[str]] = {}
        self.error: UsageError | None = None

    def check(self, event: FeedEvent) -> bool:
        """Record ``event``; true once some symbol is known to be listed nowhere."""
        if isinstance(event, SymbolStatus) and event.unlisted:
            where = self.seen.setdefault(event.symbol, set())
            where.add(event.venue)
            if where >= self.venues:
                self.error = UsageError(
                    f"{event.symbol} is not listed on any of {', '.join(sorted(self.venues))}; "
                    "check the symbol (e.g. BTCUSDT, ETH-USDT, BTC-USD)"
                )
                return True
        return False


async def _consume(
    manager: FeedManager, output: Output, stop: asyncio.Event, unlisted: _Unlisted
) -> None:
    try:
        async for event in manager.events():
            if unlisted.check(event):
                stop.set()
                return
            output.write(event)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        stop.set()


async def _refresh(output: Output, every: float) -> None:
    while True:
        output.refresh()
        await asyncio.sleep(every)
