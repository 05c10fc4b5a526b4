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
from cryptows.errors import RuntimeFailure
from cryptows.feed.manager import FeedManager
from cryptows.models import FeedEvent, VenueHealth


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
        """Called once when the run ends, before the feed stops (e.g. close what is open)."""

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
            tasks = [asyncio.create_task(_consume(manager, output, stop))]
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
                    output.finish()
                finally:
                    output.stop()
                final = manager.health()
    for health in final.values():
        eprint(f"cryptows: {summary_line(health)}")
    if not any(h.messages for h in final.values()):
        reasons = "; ".join(f"{h.venue}: {h.last_error or h.state.value}" for h in final.values())
        raise RuntimeFailure(f"no venue delivered any data ({reasons})")
    return final


async def _consume(manager: FeedManager, output: Output, stop: asyncio.Event) -> None:
    try:
        async for event in manager.events():
            output.write(event)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        stop.set()


async def _refresh(output: Output, every: float) -> None:
    while True:
        output.refresh()
        await asyncio.sleep(every)
