"""Order books behind the simulated tops of book: a ladder per side, and the deltas between two.

A book's depth is a pure function of its :class:`~cryptows.sim.book.TopOfBook` (which carries
the venue's update sequence ``seq``): the first level of each side is the top of book itself,
and the levels behind it sit on the tick grid, each present or not and sized by a fixed hash of
(book, price, ``seq`` epoch). So:

- the same (venue, book, ``seq``) gives the same depth on every connection and in REST (one
  engine serves them all), and the depth changes only when ``seq`` does: a REST snapshot at
  update id N and the stream's deltas after N rebuild exactly the book a fresh snapshot shows;
- when the top moves by a tick, most levels behind it stay as they were (they are keyed by
  price, not by distance from the top), and each level's size changes every few updates
  (staggered), so deltas are small, as on a real book.

:func:`changes` gives the delta from one ladder to another (a removed level has size 0), in the
form every venue's incremental channel uses.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from cryptows.sim.book import TopOfBook

__all__ = ["Depth", "Level", "changes", "depth"]

Level = tuple[float, float]
"""(price, size)."""

_PRESENT = 0.7  # share of grid prices behind the top that hold a level
_EPOCH = 16  # a level's size changes every this many updates
_SPACING = 2e-5
_MAX_GRID_STEPS = 20_000  # how far from the top the ladder may reach


@dataclass(frozen=True, slots=True)
class Depth:
    """Both sides of a book, best first, at update ``seq``."""

    bids: list[Level]
    asks: list[Level]
    seq: int
    ts_ms: int


def depth(
    book: TopOfBook, key: str, levels: int, *, lot: float = 1e-8, scale: float | None = None
) -> Depth:
    """Up to ``levels`` price levels per side of ``book``.

    Args:
        book: the top of book (its ``seq`` is the depth's).
        key: the book's name on its venue (``"okx/BTCUSDT"``): venues' depths differ.
        levels: levels per side wanted (the ladder stops at the price 0 on the bid side).
        lot: sizes are multiples of it.
        scale: a typical level's size (the engine's is fixed per book, so that a level keeps
            its size while the top of book changes); default: the top's mean size.
    """
    salt = zlib.crc32(key.encode())
    mean = scale if scale is not None else (book.bid_size + book.ask_size) / 2
    bids = _side(book.bid, book.bid_size, -1, book, salt, levels, mean, lot)
    asks = _side(book.ask, book.ask_size, +1, book, salt ^ 0x5BD1E995, levels, mean, lot)
    return Depth(bids, asks, book.seq, book.ts_ms)


def changes(old: list[Level], new: list[Level]) -> list[Level]:
    """The levels to apply to ``old`` to get ``new``: changed or new ones with their size,
    gone ones with size 0; in ``new``'s order, then the gone ones."""
    before = dict(old)
    after = dict(new)
    out = [(price, size) for price, size in new if before.get(price) != size]
    out += [(price, 0.0) for price, _ in old if price not in after]
    return out


def _side(
    top: float,
    top_size: float,
    direction: int,
    book: TopOfBook,
    salt: int,
    levels: int,
    mean: float,
    lot: float,
) -> list[Level]:
    if levels <= 0:
        return []
    tick = book.tick
    # Levels sit a power of ten of ticks apart, about 0.2 bp of the price: wide enough that a
    # usual move of the top crosses a few of them, fixed unless the price moves threefold.
    spacing = 10 ** max(0, round(math.log10(max(1.0, top * _SPACING / tick))))
    width = spacing * tick
    out: list[Level] = [(top, top_size)]
    index = math.floor(top / width + 1e-9) if direction < 0 else math.ceil(top / width - 1e-9)
    for step in range(_MAX_GRID_STEPS):
        if len(out) >= levels:
            break
        grid = index + direction * step
        if grid <= 0:
            break
        if round(grid * width, 10) == top:
            continue
        epoch = (book.seq + grid) // _EPOCH
        h = _mix(salt, grid, epoch)
        if (h & 0xFFFF) / 0x10000 >= _PRESENT:
            continue
        u = (h >> 16) / 0x10000  # 0 <= u < 1
        size = max(lot, round(mean * (0.1 + 2.5 * u * u) / lot) * lot)
        out.append((round(grid * width, 10), round(size, 10)))
    return out


def _mix(salt: int, grid: int, epoch: int) -> int:
    """A 32-bit hash of the three numbers (fast, fixed across runs and platforms)."""
    h = (salt ^ (grid * 0x9E3779B1) ^ (epoch * 0x85EBCA77)) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x7FEB352D) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x846CA68B) & 0xFFFFFFFF
    h ^= h >> 16
    return h
