"""``--all``: every symbol listed on at least two of the chosen venues (``--quote``: in one quote
asset), from the venues' REST symbol lists.

The lists are read once, one request per venue, all in parallel and each bounded by
``feed.open_timeout_s``; the same lists are then handed to the feed (which reads them again only
once they are old). A venue whose list cannot be read is reported and left out; none readable,
or fewer than two, is a usage error (exit 2), as is ``--all`` with symbols named.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping

import aiohttp

from cryptows.commands.common import RunSpec, eprint
from cryptows.errors import SymbolError, UsageError
from cryptows.feed.listing import ListUnavailable, SymbolLists
from cryptows.symbols import QUOTE_ASSETS, Symbol, parse_symbol


def check_all_options(symbols: object, *, all_symbols: bool, quote: str | None) -> str | None:
    """Refuse ``--all`` with symbols and ``--quote`` without ``--all``; returns the quote
    asset, upper case (``None``: any)."""
    if all_symbols and symbols:
        raise UsageError("--all takes no symbols; drop either --all or the symbols")
    if quote is None:
        return None
    if not all_symbols:
        raise UsageError("--quote only narrows --all; add --all, or name the symbols instead")
    asset = quote.strip().upper()
    if asset not in QUOTE_ASSETS:
        known = ", ".join(sorted(QUOTE_ASSETS))
        raise UsageError(f"--quote {quote!r} is not a quote asset cryptows knows; one of {known}")
    return asset


def common_symbols(
    lists: Mapping[str, frozenset[str]], quote: str | None = None
) -> tuple[tuple[Symbol, ...], dict[str, tuple[Symbol, ...]]]:
    """The symbols at least two of ``lists`` list (in ``quote`` only, if given), most venues
    first, then by name; and venue -> those of them it lists, in the same order."""
    counts = Counter(s for listed in lists.values() for s in listed)
    chosen: list[Symbol] = []
    for text, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if n < 2:
            continue
        try:
            symbol = parse_symbol(text)
        except SymbolError:
            continue  # a spelling cryptows cannot stream
        if quote is None or symbol.quote == quote:
            chosen.append(symbol)
    per_venue = {
        venue: tuple(s for s in chosen if s.canonical in listed) for venue, listed in lists.items()
    }
    return tuple(chosen), per_venue


async def expand_all(spec: RunSpec, quote: str | None) -> RunSpec:
    """``spec`` with every symbol listed on two of its venues (module docstring)."""
    venues = spec.venues
    eprint(f"cryptows: reading symbol lists from {', '.join(venues)}…")
    timeout_s = spec.settings.feed.open_timeout_s
    lists = SymbolLists()
    rest_urls = {v: spec.settings.venues[v].rest_url for v in venues}
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as http:
        results = await lists.read_all(http, rest_urls, timeout_s)
    read: dict[str, frozenset[str]] = {}
    for venue, result in results.items():
        if isinstance(result, ListUnavailable):
            eprint(f"cryptows: warning: {venue} left out, its symbol list is unavailable: {result}")
        else:
            read[venue] = result
    if not read:
        raise UsageError(
            f"--all could read no venue's symbol list ({', '.join(venues)}); check the network "
            "or name the symbols instead"
        )
    if len(read) < 2:
        raise UsageError(
            f"--all needs the symbol lists of two venues, but only {', '.join(read)}'s could be "
            "read; name the symbols instead"
        )
    symbols, per_venue = common_symbols(read, quote)
    if not symbols:
        where = f" quoted in {quote}" if quote else ""
        raise UsageError(
            f"no symbol{where} is listed on two of {', '.join(read)}; try another --quote"
        )
    eprint(
        f"cryptows: --all: {len(symbols)} symbols listed on at least two of {', '.join(read)}"
        f" ({', '.join(f'{v} {len(s)}' for v, s in per_venue.items())})"
    )
    return dataclasses.replace(
        spec,
        symbols=symbols,
        venues=tuple(read),
        venue_symbols=per_venue,
        lists=lists,
    )
