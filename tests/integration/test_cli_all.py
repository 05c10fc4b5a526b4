"""``--all`` and ``--quote``: every symbol two venues list, from their symbol lists (the
simulator's listings, whatever their size), and the usage errors around them."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cryptows.commands.common import RunSpec
from cryptows.commands.universe import check_all_options, common_symbols, expand_all
from cryptows.errors import UsageError
from cryptows.service import LiveMarket
from cryptows.sim.cluster import SimCluster, venue_profiles
from cryptows.symbols import parse_symbol
from tests.cli import Ran, run
from tests.integration.conftest import VENUES, settings_for, until

CLOSED = "http://127.0.0.1:1"
"""A loopback REST base nothing listens on: its symbol list cannot be read."""


def _on_two(listings: dict[str, frozenset[str]], quote: str | None = None) -> set[str]:
    counts = Counter(s for listed in listings.values() for s in listed)
    return {
        s for s, n in counts.items() if n >= 2 and (quote is None or parse_symbol(s).quote == quote)
    }


def _spec(cluster: SimCluster, **extra: object) -> RunSpec:
    settings = settings_for(cluster, **extra)
    return RunSpec(symbols=settings.symbols, venues=VENUES, settings=settings, demo=True)


def test_common_symbols_need_two_venues_and_keep_an_order() -> None:
    lists = {
        "a": frozenset({"BTCUSDT", "ETHUSDT", "SOLUSDT", "BTCUSD"}),
        "b": frozenset({"BTCUSDT", "ETHUSDT", "BTCUSD"}),
        "c": frozenset({"BTCUSDT", "SOLUSDT", "DOGEEUR"}),
    }
    symbols, per_venue = common_symbols(lists)
    assert [s.canonical for s in symbols] == ["BTCUSDT", "BTCUSD", "ETHUSDT", "SOLUSDT"]
    assert [s.canonical for s in per_venue["c"]] == ["BTCUSDT", "SOLUSDT"]
    usdt, _ = common_symbols(lists, "USDT")
    assert {s.canonical for s in usdt} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}


def test_all_with_symbols_or_quote_without_all_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--all takes no symbols"):
        check_all_options(["BTCUSDT"], all_symbols=True, quote=None)
    with pytest.raises(UsageError, match="--quote only narrows --all"):
        check_all_options(None, all_symbols=False, quote="USDT")
    with pytest.raises(UsageError, match="not a quote asset"):
        check_all_options(None, all_symbols=True, quote="NOPE")
    assert check_all_options(None, all_symbols=True, quote="usdt") == "USDT"


async def test_all_takes_what_two_venues_list_and_streams_it(
    cluster: SimCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    listings = {v: cluster.engine.listings(v) for v in VENUES}
    expected = _on_two(listings)
    spec = await expand_all(_spec(cluster), None)
    assert {s.canonical for s in spec.symbols} == expected
    assert spec.venue_symbols is not None
    assert spec.lists is not None
    for venue, mine in spec.venue_symbols.items():
        assert {s.canonical for s in mine} == expected & listings[venue]
    err = capsys.readouterr().err
    assert "reading symbol lists" in err
    assert f"--all: {len(expected)} symbols" in err
    market = LiveMarket(
        spec.settings, spec.symbols, spec.venues, demo=True,
        venue_symbols=spec.venue_symbols, lists=spec.lists,
    )  # fmt: skip
    wanted = {(v, s.canonical) for v, mine in spec.venue_symbols.items() for s in mine}

    def quoted() -> set[tuple[str, str]]:
        return {(q.venue, q.symbol) for view in market.snapshot().symbols for q in view.quotes}

    async with market:
        await until(lambda: quoted() >= wanted, 15, "every venue quoting every symbol it lists")
        health = market.health()
        assert not any(h.symbol_errors for h in health.values())  # nothing asked that is unlisted
        assert spec.lists.fetches == len(VENUES)  # the feed reused the lists --all read


async def test_all_quote_filter_and_a_venue_whose_list_fails_is_left_out(
    cluster: SimCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = VENUES[0]
    spec = _spec(cluster, **{f"venues.{broken}.rest_url": CLOSED})
    result = await expand_all(spec, "USDT")
    assert broken not in result.venues
    listings = {v: cluster.engine.listings(v) for v in VENUES if v != broken}
    assert {s.canonical for s in result.symbols} == _on_two(listings, "USDT")
    assert all(s.quote == "USDT" for s in result.symbols)
    assert f"warning: {broken} left out" in capsys.readouterr().err


async def test_all_with_no_list_readable_is_a_usage_error(cluster: SimCluster) -> None:
    spec = _spec(cluster, **{f"venues.{v}.rest_url": CLOSED for v in VENUES})
    with pytest.raises(UsageError, match="could read no venue's symbol list") as info:
        await expand_all(spec, None)
    assert info.value.exit_code == 2


def _cli(*args: str) -> Ran:
    return run(*args)  # in-process (tests/cli.py)


@pytest.mark.parametrize("command", ["arb", "watch", "quotes"])
def test_cli_all_with_symbols_is_exit_2_in_one_line(command: str) -> None:
    done = _cli(command, "--demo", "--all", "BTCUSDT")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "cryptows: error: --all takes no symbols; drop either --all or the symbols"
    ]


def test_cli_quotes_demo_all_usdt_streams_only_common_usdt_symbols() -> None:
    done = _cli("quotes", "--demo", "--all", "--quote", "USDT", "--json", "--duration", "3")
    assert done.returncode == 0, done.stderr
    expected = _on_two({v: p.listings for v, p in venue_profiles().items()}, "USDT")
    assert f"--all: {len(expected)} symbols" in done.stderr
    assert "reading symbol lists" in done.stderr
    seen = {
        line["symbol"]
        for line in map(json.loads, done.stdout.splitlines())
        if line["type"] == "quote"
    }
    assert seen
    assert seen <= expected
    assert len(seen) > 2  # more than the default two symbols
