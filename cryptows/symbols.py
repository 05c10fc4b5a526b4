"""Canonical symbols (``BTCUSDT``) and how users may spell them.

A :class:`Symbol` is a base asset and a quote asset. Its canonical form is ``BASE+QUOTE`` upper
case. Users may write ``BTCUSDT``, ``btcusdt``, ``BTC-USDT``, ``BTC/USDT`` or ``btc_usdt``;
without a separator the quote asset is found as the longest known quote-asset suffix, so
``BTCUSDT`` is BTC/USDT, never BTCUSD/T. USD and USDT are different quote assets. Each venue
module turns a ``Symbol`` into its own spelling.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from cryptows.errors import SymbolError

QUOTE_ASSETS: frozenset[str] = frozenset(
    {
        # stablecoins
        "USDT", "USDC", "FDUSD", "TUSD", "BUSD", "DAI", "USDE", "PYUSD", "USD1", "RLUSD", "EURC",
        "EURI", "USDP", "USDD", "USDS",
        # fiat
        "USD", "EUR", "GBP", "AUD", "CAD", "CHF", "JPY", "KRW", "TRY", "BRL", "ARS", "MXN", "PLN",
        "RON", "CZK", "UAH", "ZAR", "IDR", "NGN", "SGD", "HKD", "INR",
        # crypto quote assets
        "BTC", "ETH", "BNB", "SOL", "XRP", "DOGE", "TRX", "DOT",
    }
)  # fmt: skip
"""Quote assets recognised when a symbol has no separator."""

_BY_LENGTH = sorted(QUOTE_ASSETS, key=len, reverse=True)
_ASSET = re.compile(r"[A-Z0-9]{1,20}")
_SEPARATORS = re.compile(r"[-/_]")
_EXAMPLE = "a valid one looks like BTCUSDT, BTC-USDT, BTC/USDT or btc_usdt"


@dataclass(frozen=True, slots=True)
class Symbol:
    """A spot instrument: ``base`` bought and sold for ``quote``."""

    base: str
    """Base asset, upper case (``BTC``)."""
    quote: str
    """Quote asset, upper case (``USDT``)."""

    @property
    def canonical(self) -> str:
        """``BASE+QUOTE`` upper case, e.g. ``BTCUSDT``."""
        return self.base + self.quote

    def __str__(self) -> str:
        return self.canonical


def parse_symbol(text: str) -> Symbol:
    """Read a user-written symbol in any accepted spelling.

    Raises:
        SymbolError: what was wrong with ``text`` and what a valid symbol looks like.
    """
    raw = text.strip().upper()
    if not raw:
        raise SymbolError(f"empty symbol: {_EXAMPLE}")
    parts = _SEPARATORS.split(raw)
    if len(parts) == 2:
        base, quote = parts
        _check_asset(text, base, "base")
        _check_asset(text, quote, "quote")
        return Symbol(base, quote)
    if len(parts) > 2:
        raise SymbolError(f"malformed symbol {text!r}: more than one separator; {_EXAMPLE}")
    if not _ASSET.fullmatch(raw):
        raise SymbolError(f"malformed symbol {text!r}: only letters and digits allowed; {_EXAMPLE}")
    for quote in _BY_LENGTH:
        if raw.endswith(quote) and len(raw) > len(quote):
            return Symbol(raw[: -len(quote)], quote)
    near = near_misses(raw)
    hint = (
        f"did you mean {' or '.join(near)}?"
        if near
        else f"if its quote asset is unusual, write it with a separator (e.g. {raw[:3]}-"
        f"{raw[3:] or 'USDT'}); {_EXAMPLE}"
    )
    raise SymbolError(f"malformed symbol {text!r}: no known quote asset at its end; {hint}")


def _check_asset(text: str, asset: str, role: str) -> None:
    if not _ASSET.fullmatch(asset):
        raise SymbolError(
            f"malformed symbol {text!r}: the {role} asset {asset!r} must be 1-20 letters or "
            f"digits; {_EXAMPLE}"
        )


def parse_symbols(texts: list[str] | tuple[str, ...]) -> tuple[Symbol, ...]:
    """Parse several symbols, dropping duplicates but keeping the user's order."""
    seen: dict[str, Symbol] = {}
    for text in texts:
        sym = parse_symbol(text)
        seen.setdefault(sym.canonical, sym)
    return tuple(seen.values())


_COMMON_QUOTES = ("USDT", "USDC", "USD", "FDUSD", "EUR", "BTC", "ETH", "KRW")
"""Quote assets a typo is most likely aiming at."""


def near_misses(raw: str, limit: int = 2) -> list[str]:
    """Symbols one edit away from ``raw`` (a deleted, swapped or changed letter) that end with
    a common quote asset: ``BTCUSDTT`` -> ``BTCUSDT``, ``ETHUSTD`` -> ``ETHUSDT``."""
    raw = raw.upper()
    letters = sorted(set("".join(_COMMON_QUOTES)))
    edits: list[str] = []
    edits += [raw[:i] + raw[i + 1 :] for i in range(len(raw))]
    edits += [raw[:i] + raw[i + 1] + raw[i] + raw[i + 2 :] for i in range(len(raw) - 1)]
    edits += [raw[:i] + c + raw[i + 1 :] for i in range(len(raw)) for c in letters]
    found: list[str] = []
    for candidate in edits:
        for quote in _COMMON_QUOTES:
            base = candidate[: -len(quote)]
            if candidate.endswith(quote) and len(base) >= 2 and _ASSET.fullmatch(base):
                if candidate not in found and candidate != raw:
                    found.append(candidate)
                break
    return found[:limit]


def listed_alternatives(symbol: str, listed: Collection[str], limit: int = 2) -> list[str]:
    """What a venue lists instead of ``symbol``: the same base with another dollar-like quote
    asset (``BTCUSD`` -> ``BTCUSDT``), else the closest spellings (``BTCUSDTT`` -> ``BTCUSDT``)."""
    found: list[str] = []
    try:
        parsed = parse_symbol(symbol)
    except SymbolError:
        parsed = None
    if parsed is not None:
        for quote in ("USDT", "USD", "USDC", "FDUSD"):
            candidate = parsed.base + quote
            if candidate != symbol and candidate in listed:
                found.append(candidate)
    for close in difflib.get_close_matches(symbol, list(listed), n=limit, cutoff=0.85):
        if close not in found and close != symbol:
            found.append(close)
    return found[:limit]


def canonical_from_pair(base: str, quote: str) -> str:
    """Canonical form of a venue's separated pair (``BTC``, ``USDT`` -> ``BTCUSDT``)."""
    return (base + quote).upper()
