"""Packed Hypothesis draws for the property tests' plans (tests/unit/test_arbitrage.py,
test_market_lean.py)."""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate, pairwise
from typing import Generic, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

# Packed draws. A Hypothesis draw costs about 25 µs (its span, the choice tree, the mutator's
# bookkeeping): a step drawn field by field (kind, slot, dt, bid, spread, sizes ...) made up to
# eleven of them, plans up to 60 steps, so drawing took about half of the property's time. A
# step is therefore ONE draw of bytes, two a field, and each field decodes to the same values
# with the same weights as the ``sampled_from`` or ``integers`` it replaces (:class:`Field`);
# only genuine floats (``st.floats``, whose nasty values Hypothesis picks on purpose) are still
# drawn on their own. Code 0 of a field is its simplest value (what Hypothesis shrinks it to)
# and Hypothesis shrinks bytes towards 0, so a failure still shrinks to short, simple plans: a
# step being one draw, the shrinker deletes or simplifies whole steps.


class Field(Generic[T]):
    """One discrete field of a packed draw: a 16-bit code decodes to one of ``values``, each
    taking its weight's share of the 65536 codes, in order (code 0: ``values[0]``, which must be
    the simplest). Equal weights by default, as ``sampled_from(values)``: repeat a value to
    weight it, as there."""

    def __init__(self, values: Iterable[T], weights: Iterable[float] | None = None) -> None:
        self.values = tuple(values)
        shares = [1.0] * len(self.values) if weights is None else list(weights)
        assert len(shares) == len(self.values) > 0
        total = sum(shares)
        self.bounds = [round(c / total * 65536) for c in accumulate(shares[:-1])]
        assert all(a < b for a, b in pairwise([0, *self.bounds, 65536])), "a value without codes"

    def __call__(self, code: int) -> T:
        return self.values[bisect_right(self.bounds, code)]


def int_field(lo: int, hi: int) -> Field[int]:
    """``st.integers(lo, hi)`` as a :class:`Field`: the same values, weighted as Hypothesis
    draws them, and ordered as it shrinks them (towards 0, or the bound nearest it; the
    positive side first). Hypothesis draws from a density uniform within ±256 that thins out
    beyond (dt up to 400 or 500), and for a range wider than 127 gives each bound 2/128 and
    its neighbour 1/128 on top. (Not reproduced: 5 % of its draws pick a literal >= 100 of the
    code loaded, here 100 or 300: an accident of which modules are loaded.)"""
    target = min(max(0, lo), hi)
    values = sorted(range(lo, hi + 1), key=lambda x: (abs(x - target), x < target))
    try:  # Hypothesis' density for bounded integers (internal: uniform if it moves)
        from hypothesis.internal.conjecture.providers import INTEGERS_DISTRIBUTION as dist
    except ImportError:  # pragma: no cover
        density = dict.fromkeys(values, 1.0)
    else:
        density = {x: dist.cdf(x + 0.5) - dist.cdf(x - 0.5) for x in values}
    extra = {lo: 2 / 128, lo + 1: 1 / 128, hi - 1: 1 / 128, hi: 2 / 128} if hi - lo > 127 else {}
    scale = (1 - sum(extra.values())) / sum(density.values())
    return Field(values, [density[x] * scale + extra.get(x, 0.0) for x in values])


class Codes:
    """The codes of ``n`` fields, drawn as one bytes string: one Hypothesis draw."""

    def __init__(self, n: int) -> None:
        self._bytes = st.binary(min_size=2 * n, max_size=2 * n)
        self._unpack = struct.Struct(f">{n}H").unpack

    def draw(self, draw: st.DrawFn) -> tuple[int, ...]:
        return self._unpack(draw(self._bytes))
