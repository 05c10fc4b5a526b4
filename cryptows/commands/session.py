"""One live run of the market service, shared by ``quotes`` and ``arb``: start, hand events
over, stop.

The run's tasks (the output's consumer and its refresh timer) live in one ``TaskGroup`` beside
the market service's own: a bug in any of them ends the run with a one-line error and exit 1
(the traceback goes to the crash log), never a silent stall.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from cryptows.commands.common import (
    DEMO_BANNER,
    RunSpec,
    bugs_reported,
    eprint,
    make_market,
    replay_banner,
    replay_summary,
    stop_on_signals,
    summary_line,
)
from cryptows.crash import first_error
from cryptows.errors import RuntimeFailure
from cryptows.models import VenueHealth, VenueState, VenueStatus
from cryptows.service import LiveMarket, MarketEvent, MarketNotice, Subscription

log = logging.getLogger(__name__)


class Output:
    """Where a command's results go; subclasses override what they need."""

    refresh_s: float | None = None
    """Call :meth:`refresh` this often (a live view); ``None``: never."""
    wants_quotes: bool = False
    """Receive every quote too (conflated per stream if the output falls behind)."""

    def write(self, event: MarketEvent) -> None:
        """Handle one market event (called for every event, in order)."""

    def start(self) -> None:
        """Called once the market runs."""

    def refresh(self) -> None:
        """Periodic work on the event loop (redraw, rate-limited lines)."""

    def finish(self) -> None:
        """Called once when the run ends normally, after the last events and after
        :meth:`stop` (so a summary never lands inside a live view)."""

    def stop(self) -> None:
        """Leave the live view, if any; called once, before :meth:`finish`."""


async def run_session(
    spec: RunSpec,
    duration: float | None,
    make_output: Callable[[LiveMarket], Output],
    *,
    gross: bool = False,
) -> dict[str, VenueHealth]:
    """Run the market for ``spec`` until Ctrl-C, ``duration`` or a failure.

    Prints one summary line per venue on stderr at the end. Raises the market's failure (a
    symbol listed nowhere: exit 2; an internal error: exit 1), and ``RuntimeFailure`` if no
    venue delivered any data at all.
    """
    async with stop_on_signals() as stop:
        if spec.demo:
            eprint(f"cryptows: {DEMO_BANNER}")
        if spec.replay is not None:
            eprint(f"cryptows: {replay_banner(spec)}")
        market = make_market(spec, gross=gross)
        output = make_output(market)
        events = market.subscribe(quotes=output.wants_quotes)
        with bugs_reported("the output"):
            async with market:
                output.start()
                stopped = False
                try:
                    await _drive(market, events, output, stop, duration)
                    if market.failure is None:
                        market.close_all()  # the close events reach the output below
                        for event in events.drain():
                            output.write(event)
                        stopped = True
                        output.stop()  # leave a live view before the summary is printed
                        output.finish()
                except BrokenPipeError:
                    pass  # the reader went away (e.g. `| head`): stop quietly
                finally:
                    if not stopped:
                        output.stop()
                final = market.health()
    if market.failure is not None:
        raise market.failure
    for health in final.values():
        eprint(f"cryptows: {summary_line(health)}")
    if spec.replay is not None:
        eprint(f"cryptows: {replay_summary(spec.replay)}")
    failed = any(h.last_error for h in final.values())
    if not any(h.messages for h in final.values()) and (failed or not stop.is_set()):
        # Nothing ever arrived and something went wrong (or the time was up): a failure. A
        # Ctrl-C before any venue even finished connecting is just a stop.
        reasons = "; ".join(f"{h.venue}: {h.last_error or h.state.value}" for h in final.values())
        raise RuntimeFailure(f"no venue delivered any data ({reasons})")
    return final


async def _drive(
    market: LiveMarket,
    events: Subscription,
    output: Output,
    stop: asyncio.Event,
    duration: float | None,
) -> None:
    """Feed ``output`` until stopped, timed out or the market fails; its errors propagate."""
    try:
        async with asyncio.TaskGroup() as tasks:
            workers = [tasks.create_task(_consume(events, output, stop), name="output")]
            if not market.replay:
                workers.append(tasks.create_task(_offline_hint(market), name="offline-hint"))
            if output.refresh_s is not None:
                workers.append(tasks.create_task(_refresh(output, output.refresh_s)))
            await _until_done(stop, duration, market)
            if stop.is_set():
                log.info("run ending: stop asked (Ctrl-C, SIGTERM or a closed stdout)")
            elif market.ended.is_set():
                log.info("run ending: the recording has ended")
            elif market.failure is None:
                log.info("run ending: --duration is up")
            for worker in workers:
                worker.cancel()
    except ExceptionGroup as group:
        raise first_error(group) from None


async def _until_done(stop: asyncio.Event, duration: float | None, market: LiveMarket) -> None:
    waiters = {
        asyncio.ensure_future(stop.wait()),
        asyncio.ensure_future(market.wait_failed()),
        asyncio.ensure_future(market.ended.wait()),  # a replay's end
    }
    try:
        await asyncio.wait(waiters, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


OFFLINE_HINT_S = 5.0
"""When no venue has delivered anything after this long, say why once on stderr."""


def offline_hint(health: dict[str, VenueHealth], *, demo: bool) -> str | None:
    """The one-line explanation when no venue has delivered data yet, else ``None``."""
    if any(h.messages for h in health.values()):
        return None
    reasons = "; ".join(f"{h.venue}: {h.last_error or h.reason or h.state.value}"
                        for h in health.values())  # fmt: skip
    advice = (
        "the simulated venues should answer at once: with a config from `cryptows sim "
        "--write-config`, is that simulator still running? `cryptows doctor --config FILE` "
        "checks it (with --demo, this is a bug: please report it)"
        if demo
        else "still retrying; run `cryptows doctor` to check each venue step by step (DNS, "
        "connect, TLS, handshake, proxy, clock, symbols) with a hint per failure; to try offline "
        "use --demo; behind a proxy set HTTPS_PROXY or ALL_PROXY; where a venue is blocked, "
        "list a regional endpoint in [venues.<name>] ws_urls (tried in order) and set rest_url "
        "(see `cryptows config show`)"
    )
    return f"no venue has delivered data after {OFFLINE_HINT_S:g} s ({reasons}); {advice}"


async def _offline_hint(market: LiveMarket) -> None:
    await asyncio.sleep(OFFLINE_HINT_S)
    hint = offline_hint(market.health(), demo=market.demo)
    if hint is not None:
        eprint(f"cryptows: {hint}")


class ConnectionTrouble:
    """Which of a split venue's connections' states are worth a line.

    A venue split over several connections reports each connection's changes (scoped to its
    symbols) besides its own: a line per connection coming up would bury the venue's. Shown:
    a connection leaving ``live``, and its way back to ``live``; not its first steps.
    """

    _QUIET = frozenset({VenueState.CONNECTING, VenueState.LIVE, VenueState.STOPPED})

    def __init__(self) -> None:
        self._troubled: set[tuple[str, tuple[str, ...]]] = set()

    def shown(self, status: VenueStatus) -> bool:
        if not status.symbols:
            return True  # the venue's own state
        key = (status.venue, status.symbols)
        if status.state not in self._QUIET:
            self._troubled.add(key)
            return True
        if status.state is VenueState.LIVE and key in self._troubled:
            self._troubled.discard(key)
            return True
        return False


async def _consume(events: Subscription, output: Output, stop: asyncio.Event) -> None:
    trouble = ConnectionTrouble()
    try:
        async for event in events:
            if isinstance(event, MarketNotice):  # diagnostics: stderr, whatever the output
                eprint(f"cryptows: warning: {event.message}")
                continue
            if isinstance(event, VenueStatus):
                if not trouble.shown(event):
                    continue
                reason = f": {event.reason}" if event.reason else ""
                log.info("%s %s%s", event.venue, event.state.value, reason)
            output.write(event)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        stop.set()


async def _refresh(output: Output, every: float) -> None:
    while True:
        output.refresh()
        await asyncio.sleep(every)
