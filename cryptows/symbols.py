"""Canonical symbols (``BTCUSDT``) and how users may spell them.

A :class:`Symbol` is a base asset and a quote asset. Its canonical form is ``BASE+QUOTE`` upper
case. Users may write ``BTCUSDT``, ``btcusdt``, ``BTC-USDT``, ``BTC/USDT`` or ``btc_usdt``;
without a separator the quote asset is found as the longest known quote-asset suffix, so
``BTCUSDT`` is BTC/USDT, never BTCUSD/T. USD and USDT are different quote assets. Each venue
module turns a ``Symbol`` into its own spelling.
"""

from __future__ import annotations

import re
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
    raise SymbolError(
        f"malformed symbol {text!r}: no known quote asset at its end; write it with a "
        f"separator (e.g. {raw[:3]}-{raw[3:] or 'USDT'}); {_EXAMPLE}"
    )


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


def canonical_from_pair(base: str, quote: str) -> str:
    """Canonical form of a venue's separated pair (``BTC``, ``USDT`` -> ``BTCUSDT``)."""
    return (base + quote).upper()
