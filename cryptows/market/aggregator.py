"""The market aggregator: feed events in, arbitrage events and snapshots out. Pure, synchronous.

The aggregator keeps the latest merged quote per (symbol, venue) in one mutable slot, which is
also that leg as the :class:`~cryptows.market.arbitrage.ArbitrageEngine` reads it (a
:class:`~cryptows.market.types.LegView`), and builds :class:`~cryptows.market.types.Snapshot`
values for the CLI, the dashboard and the analysis command. It never reads a clock and does no
I/O: time comes in as arguments (a quote's ``recv_wall_ms``, a status' ``ts_ms``, the ``now_ms``
of :meth:`Aggregator.tick` and :meth:`Aggregator.snapshot`).

Rules:

- **Merge.** The latest quote per (symbol, venue) is ``merge_quote(previous, quote)`` (applied in
  place, :class:`~cryptows.market.merge.QuoteSlot`): book-stream bid/ask win over ticker-stream
  ones; last price and volume come from whichever carries them.
- **Usable.** A leg is usable unless its venue's last :class:`~cryptows.models.VenueStatus` is
  not ``LIVE`` (a venue with no status yet counts as live: quotes only arrive on live
  connections), or the quote predates the venue's last outage, or ``max_quote_age_ms > 0`` and
  the quote is older than that (:class:`~cryptows.market.usability.Usability`). The reason is
  kept: ``"binance backing off: closed by venue with code 1001"``, ``"quote older than 5000 ms"``.
- **Removed legs.** A (symbol, venue) quote is forgotten when the symbol is no longer watched
  (:meth:`Aggregator.set_symbols`) or the venue reports it unlisted (a
  :class:`~cryptows.models.SymbolStatus` with ``unlisted``); its leg leaves the group, so its
  open opportunities close with ``leg_gone``.
- **Time.** :meth:`Aggregator.tick` re-checks quote ages (``max_quote_age_ms``), then lets the
  engine open the candidates that have held for ``confirm_ms`` (the engine's clock is the times
  passed in: quote receipt times and ``tick``'s ``now_ms``).
- **Cost.** Legs are kept per comparison group (:func:`comparison_group`), so a quote costs one
  in-place merge into its slot (no ``Quote`` or ``Leg`` is built per frame) and one
  ``engine.update`` for its leg (O(1) unless its prices cross the group's best, see the
  engine's **Cost**), never a scan of every symbol. With ``max_quote_age_ms`` set, the other legs
  of the group are also re-checked for age (O(venues)); engine work is done only for legs whose
  usable flag flipped. A tick costs O(legs) with ``max_quote_age_ms`` set, plus O(pending
  candidates).
- **History.** Per symbol, at most one (ts_ms, mean usable mid) sample per
  ``history_interval_ms``, in a bounded deque: memory stays constant over a run of any length.

Snapshots' per-symbol views are built by :mod:`cryptows.market.views`. (Slightly over 400 lines:
the rules above are one state machine over one set of quote slots.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptows.errors import SymbolError
from cryptows.market.arbitrage import ArbitrageEngine
from cryptows.market.merge import QuoteSlot
from cryptows.market.routes import LegKey, comparison_group
from cryptows.market.types import (
    ArbEvent,
    MidSample,
    Snapshot,
    SuppressedCount,
    SuppressReason,
    SymbolProblem,
)
from cryptows.market.usability import Usability
from cryptows.market.views import symbol_view
from cryptows.models import FeedEvent, Quote, SymbolStatus, VenueStatus
from cryptows.symbols import Symbol, parse_symbol


class _Slot(QuoteSlot):
    """One (symbol, venue): its latest merged quote, kept in place, which is also its leg as the
    engine reads it (:class:`~cryptows.market.types.LegView`): venue, symbol, base, quote asset,
    bid/ask and sizes, receipt time, usable flag and reason."""

    __slots__ = ("base", "quote", "key", "usable", "stale_reason", "recv_ms")

    def __init__(self, first: Quote, base: str, quote: str) -> None:
        super().__init__(first)
        self.base = base
        self.quote = quote
        """The quote asset (of the symbol)."""
        self.key: LegKey = (first.venue, first.symbol)
        self.usable = True
        self.stale_reason = ""
        self.recv_ms = first.recv_wall_ms
        """``recv_wall_ms`` under the leg's name (set again after every merge)."""


@dataclass(slots=True)
class _SymbolState:
    """Everything kept about one canonical symbol."""

    symbol: str
    base: str
    quote: str
    legs: dict[LegKey, _Slot]
    """The legs of this symbol's comparison group (shared with the group's other symbols)."""
    quotes: dict[str, _Slot] = field(default_factory=dict)
    """Latest merged quote per venue (the same slots as its legs in ``legs``)."""
    history: deque[MidSample] = field(default_factory=deque)
    last_sample_ms: int | None = None


class Aggregator:
    """Latest quotes per (symbol, venue), their usability, arbitrage and snapshots.

    Args:
        symbols: The subscribed symbols, in display order (snapshots list them first, then any
            other symbol that has quoted, sorted).
        fees_pct: Taker fee per venue, in percent.
        threshold_pct: The arbitrage metric (net, or gross with ``gross``) that opens an
            opportunity.
        hysteresis_pct: An open opportunity closes below ``threshold_pct - hysteresis_pct``.
        gross: Compare gross spreads instead of net of fees.
        max_quote_age_ms: When positive, a quote older than this is not usable.
        confirm_ms: A candidate opens only after qualifying for this long (0: at once).
        equivalents: Quote assets declared equivalent, e.g. ``[("USD", "USDT")]``.
        history_size: Samples kept per symbol.
        history_interval_ms: Minimum time between two samples of one symbol.
        demo: Copied into every snapshot (the data comes from the simulator).
    """

    def __init__(
        self,
        symbols: Sequence[Symbol],
        *,
        fees_pct: Mapping[str, float],
        threshold_pct: float,
        hysteresis_pct: float,
        gross: bool = False,
        max_quote_age_ms: int = 0,
        equivalents: Iterable[tuple[str, str]] = (),
        confirm_ms: int = 0,
        history_size: int = 300,
        history_interval_ms: int = 1000,
        demo: bool = False,
    ) -> None:
        self.engine: ArbitrageEngine = ArbitrageEngine(
            fees_pct,
            threshold_pct=threshold_pct,
            hysteresis_pct=hysteresis_pct,
            gross=gross,
            equivalents=equivalents,
            confirm_ms=confirm_ms,
        )
        self._usability = Usability(max_quote_age_ms)
        """The venues' states and the usability of their quotes."""
        self.history_size = history_size
        self.history_interval_ms = history_interval_ms
        self.demo = demo
        self._order: tuple[str, ...] = tuple(dict.fromkeys(s.canonical for s in symbols))
        self._parsed: dict[str, Symbol] = {s.canonical: s for s in symbols}
        self._states: dict[str, _SymbolState] = {}
        self._groups: dict[str, dict[LegKey, _Slot]] = {}
        self._venue_symbols: dict[str, dict[str, _SymbolState]] = {}
        """Venue -> the symbols it has quoted (for status changes)."""
        self._now = 0
        """High-water mark of the times seen: a late event never moves time backwards."""
        self._symbol_problems: dict[tuple[str, str], str] = {}
        for sym in self._parsed.values():
            self._state(sym.canonical)

    # -- queries ----------------------------------------------------------------------------

    @property
    def symbol_problems(self) -> Mapping[tuple[str, str], str]:
        """(venue, symbol) -> message, for symbols a venue cannot stream right now."""
        return self._symbol_problems

    @property
    def max_quote_age_ms(self) -> int:
        """When positive, a quote older than this is not usable."""
        return self._usability.max_quote_age_ms

    @property
    def symbols(self) -> tuple[str, ...]:
        """The watched symbols, in display order."""
        return self._order

    def set_symbols(self, symbols: Sequence[Symbol], now_ms: int) -> list[ArbEvent]:
        """Watch ``symbols`` (in this order) from now on.

        A symbol no longer watched is forgotten: its quotes and legs go, and its open
        opportunities close (the returned events).
        """
        order = tuple(dict.fromkeys(s.canonical for s in symbols))
        now = self._advance(now_ms)
        events: list[ArbEvent] = []
        for gone in set(self._order) - set(order):
            state = self._states.pop(gone, None)
            if state is None:
                continue
            for venue in list(state.quotes):
                events.extend(self._drop(state, venue, now))
            for problem in [k for k in self._symbol_problems if k[1] == gone]:
                del self._symbol_problems[problem]
        self._order = order
        for sym in symbols:
            self._parsed.setdefault(sym.canonical, sym)
            self._state(sym.canonical)
        return events

    def set_threshold(self, threshold_pct: float, hysteresis_pct: float) -> None:
        """Change the arbitrage threshold; it applies from the next evaluation of each pair
        (and to the candidates confirmed by the next tick)."""
        self.engine.threshold = threshold_pct
        self.engine.hold_level = threshold_pct - hysteresis_pct

    def set_confirm_ms(self, confirm_ms: int) -> None:
        """Change how long a candidate must qualify before it opens (``[arb] confirm_ms``)."""
        self.engine.confirm_ms = max(0, confirm_ms)

    # -- events -----------------------------------------------------------------------------

    def on_event(self, event: FeedEvent) -> list[ArbEvent]:
        """Apply any feed event; returns the arbitrage events it caused."""
        if isinstance(event, Quote):
            return self.on_quote(event)
        if isinstance(event, VenueStatus):
            return self.on_status(event)
        return self.on_symbol_status(event)

    def on_quote(self, quote: Quote) -> list[ArbEvent]:
        """Merge ``quote`` into its (symbol, venue), update its leg and re-check its pairs."""
        now = quote.recv_wall_ms
        if now < self._now:
            now = self._now
        else:
            self._now = now
        venue = quote.venue
        state = self._states.get(quote.symbol)
        if state is None:
            state = self._state(quote.symbol)
        legs = state.legs
        slot = state.quotes.get(venue)
        if slot is None:
            slot = state.quotes[venue] = _Slot(quote, state.base, state.quote)
            legs[slot.key] = slot
            self._venue_symbols.setdefault(venue, {})[state.symbol] = state
        else:
            slot.merge(quote)
            slot.recv_ms = slot.recv_wall_ms
        usability = self._usability
        if usability.max_quote_age_ms > 0:
            slot.usable, slot.stale_reason = usability.check(
                venue, state.symbol, slot.recv_wall_ms, now
            )
            # Other legs of the group may have aged out since the last tick: flag them first so
            # no pair is judged on a quote that is too old.
            events: list[ArbEvent] = []
            key = slot.key
            for other in list(legs):
                if other != key:
                    self._recheck(legs, other, now, events)
            events.extend(self.engine.update(legs, key, now))
        else:
            if venue in usability.troubled:
                slot.usable, slot.stale_reason = usability.check(
                    venue, state.symbol, slot.recv_wall_ms, now
                )
            elif not slot.usable:  # (a venue never troubled: its slot was created usable)
                slot.usable, slot.stale_reason = True, ""
            events = self.engine.update(legs, slot.key, now)
        last = state.last_sample_ms
        if last is None or now - last >= self.history_interval_ms:
            self._sample(state, now)
        return events

    def on_status(self, status: VenueStatus) -> list[ArbEvent]:
        """Record a venue's state; its legs become (un)usable and their pairs are re-checked."""
        venue = status.venue
        now = self._advance(status.ts_ms)
        self._usability.on_status(status)
        events: list[ArbEvent] = []
        for state in self._venue_symbols.get(venue, {}).values():
            self._recheck(state.legs, (venue, state.symbol), now, events)
        return events

    def on_symbol_status(self, status: SymbolStatus) -> list[ArbEvent]:
        """Remember (or, with ``status.ok``, forget) a problem with one symbol on one venue.

        A symbol the venue does not list (``status.unlisted``) also loses that venue's quote:
        its open opportunities close with ``leg_gone`` (the returned events).
        """
        key = (status.venue, status.symbol)
        if status.ok:
            self._symbol_problems.pop(key, None)
            return []
        self._symbol_problems[key] = status.message
        if not status.unlisted:
            return []
        state = self._states.get(status.symbol)
        if state is None or status.venue not in state.quotes:
            return []
        return self._drop(state, status.venue, self._advance(status.ts_ms))

    def tick(self, now_ms: int) -> list[ArbEvent]:
        """Re-check quote ages at ``now_ms`` (pairs of legs that aged out close), then open the
        candidates that have held for ``confirm_ms``.

        With ``max_quote_age_ms`` set, O(legs) to check, engine work only for legs whose usable
        flag flipped; then O(pending candidates).
        """
        now = self._advance(now_ms)
        events: list[ArbEvent] = []
        if self.max_quote_age_ms > 0:
            for legs in self._groups.values():
                for key in list(legs):
                    self._recheck(legs, key, now, events)
        events.extend(self.engine.tick(now))
        return events

    def close_all(self, now_ms: int) -> list[ArbEvent]:
        """Close every open opportunity (end of a run)."""
        return self.engine.close_all(now_ms)

    # -- snapshot ---------------------------------------------------------------------------

    def snapshot(self, now_ms: int) -> Snapshot:
        """The whole market as of ``now_ms`` (usability and ages evaluated at ``now_ms``)."""
        ordered = list(self._order)
        configured = set(ordered)
        ordered.extend(sorted(s for s in self._states if s not in configured))
        check = self._usability.check
        views = tuple(
            symbol_view(state.symbol, state.quotes, state.history, check, now_ms)
            for state in (self._states[s] for s in ordered)
        )
        return Snapshot(
            ts_ms=now_ms,
            symbols=views,
            open_opportunities=self.engine.open_opportunities(),
            recent_closed=tuple(self.engine.closed),
            suppressed=tuple(
                SuppressedCount(r.value, self.engine.suppressed[r]) for r in SuppressReason
            ),
            venue_states=self._usability.venue_states(self._venue_symbols),
            demo=self.demo,
            threshold_pct=self.engine.threshold,
            gross=self.engine.gross,
            problems=tuple(
                SymbolProblem(venue, symbol, message)
                for (venue, symbol), message in sorted(self._symbol_problems.items())
            ),
        )

    # -- internals --------------------------------------------------------------------------

    def _state(self, symbol: str) -> _SymbolState:
        """The state of ``symbol``, created (and its symbol parsed, once) on first sight."""
        state = self._states.get(symbol)
        if state is not None:
            return state
        parsed = self._parsed.get(symbol)
        if parsed is None:
            try:
                parsed = parse_symbol(symbol)
            except SymbolError:
                # Not splittable: it still meets the same canonical symbol on other venues.
                parsed = Symbol(symbol, "")
            self._parsed[symbol] = parsed
        group = comparison_group(parsed.base, parsed.quote)
        legs = self._groups.setdefault(group, {})
        state = _SymbolState(
            symbol=symbol,
            base=parsed.base,
            quote=parsed.quote,
            legs=legs,
            history=deque(maxlen=self.history_size),
        )
        self._states[symbol] = state
        return state

    def _advance(self, now_ms: int) -> int:
        self._now = max(self._now, now_ms)
        return self._now

    def _recheck(
        self, legs: dict[LegKey, _Slot], key: LegKey, now: int, events: list[ArbEvent]
    ) -> None:
        """Refresh one leg's usable flag and reason at ``now``; re-check its pairs on a flip."""
        leg = legs[key]
        usable, reason = self._usability.check(key[0], key[1], leg.recv_wall_ms, now)
        flipped = usable != leg.usable
        leg.usable, leg.stale_reason = usable, reason
        if flipped:
            events.extend(self.engine.update(legs, key, now))

    def _drop(self, state: _SymbolState, venue: str, now: int) -> list[ArbEvent]:
        """Forget ``venue``'s quote of ``state``'s symbol; its pairs close (``leg_gone``)."""
        state.quotes.pop(venue, None)
        self._venue_symbols.get(venue, {}).pop(state.symbol, None)
        key = (venue, state.symbol)
        if state.legs.pop(key, None) is None:
            return []
        return self.engine.update(state.legs, key, now)

    def _sample(self, state: _SymbolState, now: int) -> None:
        """Append (now, mean usable mid) to the symbol's history, if any venue has a mid."""
        total = 0.0
        count = 0
        for venue, q in state.quotes.items():
            if q.bid is None or q.ask is None:
                continue
            if not self._usability.check(venue, state.symbol, q.recv_wall_ms, now)[0]:
                continue
            total += (q.bid + q.ask) / 2
            count += 1
        if count:
            state.history.append(MidSample(now, total / count))
            state.last_sample_ms = now
