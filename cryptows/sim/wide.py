"""The wide market: every book beyond the core, evolved lazily and only when asked for.

Several hundred books on four venues cannot each be stepped every 50 ms. Here nothing happens
for a book until somebody asks for it, and then only as much as its own activity says:

- A base asset's USD price (:class:`_Asset`) follows BTC with its own beta plus an
  idiosyncratic walk, jumped in closed form over the time since it was last asked for. A base
  of the core (BTC, ETH, SOL, XRP ...) is its core ``XXXUSDT`` book's mid instead, so
  ``XRPUSDC`` and ``XRP-USD`` follow ``XRPUSDT``. A book's mid is its base's USD price over its
  quote's (USDT, USDC and USD count as one dollar; BTC is the core ``BTCUSDT`` mid).
- Each (venue, book) (:class:`_VenueBook`) changes at random moments, a few times a second for
  the majors down to every few seconds for the tail, as real books do. At a change it takes
  the mid at that moment, its venue offset (mean-reverting, jumped in closed form), new sizes,
  now and then a trade (last price, volume) and, rarely, a dislocation of 0.5-1.2 % for a few
  seconds. Between changes the same :class:`~cryptows.sim.book.TopOfBook` is returned, so a
  subscribed book costs a dictionary lookup per push until it changes.

Every book draws from its own seeded stream, so the same seed and the same sequence of
requested times give the same prices, and asking for one book never moves another.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptows.sim.book import TopOfBook, VenueProfile, make_book, quote_around, round_down
from cryptows.sim.tape import Tape
from cryptows.sim.universe import BASES, CORE_BASES, WIDE_INSTRUMENTS, Instrument

STEP_MS = 50
_IDIO_VOL = 0.00012 * 0.6  # per 50 ms step: the core walk's own part
_OFFSET_VOL = 0.000015
_OFFSET_KEEP = 1 - 0.05  # the venue offset's mean reversion per step
_DISLOCATIONS_PER_S = 1 / 3_000  # per (venue, book): ~0.4/s over 300 books on 4 venues
_DISLOCATION_MS = (2_000, 5_000)
_DISLOCATION_SIZE = (0.005, 0.012)
_CHANGE_24H = 0.04
_DOLLARS = frozenset({"USDT", "USDC", "USD"})


def activity(rank: int) -> float:
    """Book changes per second of a base of this rank on one venue (6/s at the top, 0.3/s in
    the tail)."""
    return max(0.3, 6.0 / (1 + rank / 15))


@dataclass(slots=True)
class _Asset:
    log_usd: float
    beta: float
    vol: float
    btc_seen: float
    at_ms: int
    rng: random.Random


@dataclass(slots=True)
class _VenueBook:
    instrument: Instrument
    rng: random.Random
    rate: float
    """Changes per second."""
    half_spread_bps: float
    mid: float
    offset: float
    sizes: tuple[float, float]
    last: float
    volume: float
    opened: float
    at_ms: int
    next_ms: int
    seq: int = 1
    dislocation: float = 1.0
    dislocated_until: int = 0
    factor: float = 1.0
    """The dislocation factor :attr:`book` was made with."""
    shown: tuple[float, float, float, float] | None = None
    book: TopOfBook | None = None
    tape: Tape | None = None


class WideMarket:
    """The wide market's books for every venue in ``venues``."""

    def __init__(
        self,
        seed: int,
        venues: Mapping[str, VenueProfile],
        core_mid: Callable[[str], float],
        *,
        dislocations: bool,
    ) -> None:
        """Args:
        seed: market seed (each book's stream is derived from it and the book's name).
        venues: each venue's profile.
        core_mid: the current mid of a core book (``BTCUSDT``...), the engine's.
        dislocations: let books dislocate now and then.
        """
        self._seed = seed
        self._venues = venues
        self._core_mid = core_mid
        self._dislocations_on = dislocations
        self._assets: dict[str, _Asset] = {}
        self._books: dict[tuple[str, str], _VenueBook] = {}
        self._sides = random.Random(f"{seed}/sides")  # trade sides, apart from the books' draws

    def book(self, venue: str, symbol: str, now_ms: int, forced: float = 1.0) -> TopOfBook:
        """``venue``'s book of ``symbol`` at ``now_ms`` (which never goes back); ``forced`` is
        a dislocation factor the engine imposes on top (``KeyError``: not listed there)."""
        vb = self._books.get((venue, symbol))
        if vb is None:
            vb = self._books[venue, symbol] = self._open(venue, symbol, now_ms)
        if now_ms >= vb.next_ms:
            self._change(vb, now_ms)
        factor = forced * (vb.dislocation if now_ms < vb.dislocated_until else 1.0)
        if vb.book is None or factor != vb.factor:
            vb.factor = factor
            self._show(vb, now_ms)
        assert vb.book is not None
        return vb.book

    def tape(self, venue: str, symbol: str) -> Tape:
        """``venue``'s trade tape of ``symbol`` (``KeyError`` until :meth:`book` opened it)."""
        tape = self._books[venue, symbol].tape
        assert tape is not None
        return tape

    # -- prices ---------------------------------------------------------------------------

    def _usd(self, base: str, now_ms: int) -> float:
        core = CORE_BASES.get(base)
        if core is not None:
            return self._core_mid(core)
        asset = self._assets.get(base)
        btc = self._core_mid("BTCUSDT")
        if asset is None:
            rng = random.Random(f"{self._seed}/asset/{base}")
            rank = _RANKS[base]
            asset = _Asset(
                log_usd=math.log(BASES[base]),
                beta=rng.uniform(0.6, 1.4),
                vol=_IDIO_VOL * (1 + rank / 150),
                btc_seen=btc,
                at_ms=now_ms,
                rng=rng,
            )
            self._assets[base] = asset
        steps = (now_ms - asset.at_ms) // STEP_MS
        if steps > 0:
            own = asset.vol * math.sqrt(steps) * asset.rng.gauss(0, 1)
            asset.log_usd += asset.beta * math.log(btc / asset.btc_seen) + own
            asset.btc_seen = btc
            asset.at_ms = now_ms
        return math.exp(asset.log_usd)

    def _mid(self, instrument: Instrument, now_ms: int) -> float:
        usd = self._usd(instrument.symbol.base, now_ms)
        quote = instrument.symbol.quote
        if quote in _DOLLARS:
            return usd
        return usd / self._core_mid(quote + "USDT")

    # -- one (venue, book) ----------------------------------------------------------------

    def _open(self, venue: str, symbol: str, now_ms: int) -> _VenueBook:
        profile = self._venues[venue]
        if symbol not in profile.listings:
            raise KeyError(f"{venue} does not list {symbol}")
        instrument = WIDE_INSTRUMENTS[symbol]
        rng = random.Random(f"{self._seed}/{venue}/{symbol}")
        history = random.Random(f"{self._seed}/open_24h/{symbol}")  # the same on every venue
        mid = self._mid(instrument, now_ms)
        opened = mid / (1 + history.uniform(-_CHANGE_24H, _CHANGE_24H))
        opened *= 1 + rng.gauss(0, 0.0003)
        scale = (10 / (10 + instrument.rank)) ** 1.3
        notional = profile.base_volume_usd * rng.uniform(0.5, 1.5) * scale
        usd = self._usd(instrument.symbol.base, now_ms)
        rate = activity(instrument.rank)
        vb = _VenueBook(
            instrument=instrument,
            rng=rng,
            rate=rate,
            half_spread_bps=profile.half_spread_bps * (1 + instrument.rank / 100),
            mid=mid,
            offset=rng.gauss(0, 0.0001),
            sizes=_sizes(rng, usd),
            last=mid,
            volume=notional / usd,
            opened=round_down(opened, instrument.tick),
            at_ms=now_ms,
            next_ms=now_ms + _wait_ms(rng, rate),
        )
        vb.tape = Tape(f"{venue}/{symbol}", mid, now_ms)
        return vb

    def _change(self, vb: _VenueBook, now_ms: int) -> None:
        rng = vb.rng
        steps = max(1, (now_ms - vb.at_ms) // STEP_MS)
        keep = _OFFSET_KEEP**steps
        spread = _OFFSET_VOL * math.sqrt((1 - keep * keep) / (1 - _OFFSET_KEEP**2))
        vb.offset = keep * vb.offset + spread * rng.gauss(0, 1)
        vb.mid = self._mid(vb.instrument, now_ms)
        usd = self._usd(vb.instrument.symbol.base, now_ms)
        vb.sizes = _sizes(rng, usd)
        if rng.random() < 0.5:  # a taker trade at the touch: it sets the last price
            size = max(1e-8, round(_size(rng.expovariate(1.0) * 5_000 / usd), 8))
            mid = vb.mid * (1 + vb.offset) * vb.factor
            bid, ask = quote_around(mid, vb.half_spread_bps, vb.instrument.tick)
            buyer = self._sides.random() < 0.5
            vb.last = ask if buyer else bid
            vb.volume += size
            assert vb.tape is not None
            vb.tape.record(now_ms, vb.last, size, buyer_taker=buyer)
        if self._dislocations_on and rng.random() < _DISLOCATIONS_PER_S / vb.rate:
            size = rng.uniform(*_DISLOCATION_SIZE) * rng.choice((-1, 1))
            vb.dislocation = 1 + size
            vb.dislocated_until = now_ms + rng.randint(*_DISLOCATION_MS)
        vb.at_ms = now_ms
        vb.next_ms = now_ms + _wait_ms(rng, vb.rate)
        vb.book = None

    def _show(self, vb: _VenueBook, now_ms: int) -> None:
        tick = vb.instrument.tick
        bid, ask = quote_around(vb.mid * (1 + vb.offset) * vb.factor, vb.half_spread_bps, tick)
        shown = (bid, ask, *vb.sizes)
        if shown != vb.shown:
            vb.shown = shown
            vb.seq += 1
        vb.book = make_book(
            vb.instrument.symbol, shown, vb.last, vb.volume, vb.opened, ts_ms=now_ms, seq=vb.seq,
            tick=tick,
        )  # fmt: skip


def _wait_ms(rng: random.Random, rate: float) -> int:
    return max(STEP_MS, round(rng.expovariate(rate) * 1000))


def _sizes(rng: random.Random, usd: float) -> tuple[float, float]:
    bid = rng.lognormvariate(math.log(20_000), 1.0) / usd
    ask = rng.lognormvariate(math.log(20_000), 1.0) / usd
    return _size(bid), _size(ask)


def _size(value: float) -> float:
    """A size with 6 significant digits (tiny-priced coins trade in millions)."""
    return float(f"{value:.6g}")


_RANKS = {name: rank for rank, name in enumerate(BASES)}
