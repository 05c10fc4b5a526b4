"""Canonical symbols: accepted spellings, quote-asset splitting, and clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptows.errors import SymbolError
from cryptows.symbols import QUOTE_ASSETS, Symbol, parse_symbol, parse_symbols


@pytest.mark.parametrize(
    "text", ["BTCUSDT", "btcusdt", "BTC-USDT", "BTC/USDT", "btc_usdt", " BtcUsdt "]
)
def test_accepted_spellings_are_canonicalised(text: str) -> None:
    assert parse_symbol(text) == Symbol("BTC", "USDT")
    assert parse_symbol(text).canonical == "BTCUSDT"


@pytest.mark.parametrize(
    ("text", "base", "quote"),
    [
        ("BTCUSDT", "BTC", "USDT"),  # longest match: not BTCUSD/T
        ("BTCUSD", "BTC", "USD"),
        ("ETHBTC", "ETH", "BTC"),
        ("BNBFDUSD", "BNB", "FDUSD"),  # not BNBFD/USD
        ("XRPAUD", "XRP", "AUD"),
        ("1000PEPEUSDT", "1000PEPE", "USDT"),
        ("BTC-USD", "BTC", "USD"),
        ("ABC/XYZ", "ABC", "XYZ"),  # explicit separator: any quote asset
    ],
)
def test_base_quote_split(text: str, base: str, quote: str) -> None:
    assert parse_symbol(text) == Symbol(base, quote)


def test_usd_and_usdt_are_different() -> None:
    assert parse_symbol("BTC-USD") != parse_symbol("BTC-USDT")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty symbol"),
        ("   ", "empty symbol"),
        ("BTC--USDT", "more than one separator"),
        ("BTC-", "quote asset ''"),
        ("-USDT", "base asset ''"),
        ("BTC$USDT", "only letters and digits"),
        ("USDT", "no known quote asset"),
        ("FOOBAR", "no known quote asset"),
        ("BTC-US DT", "quote asset"),
    ],
)
def test_malformed_symbols_say_what_is_wrong_and_what_is_valid(text: str, fragment: str) -> None:
    with pytest.raises(SymbolError) as info:
        parse_symbol(text)
    message = str(info.value)
    assert fragment in message
    assert "BTCUSDT" in message  # shows what a valid one looks like
    assert "\n" not in message


def test_parse_symbols_deduplicates_in_order() -> None:
    assert parse_symbols(["eth-usdt", "BTCUSDT", "ETHUSDT"]) == (
        Symbol("ETH", "USDT"),
        Symbol("BTC", "USDT"),
    )


@given(
    st.from_regex(r"[A-Z][A-Z0-9]{0,7}", fullmatch=True),
    st.sampled_from(sorted(QUOTE_ASSETS)),
    st.sampled_from(["", "-", "/", "_"]),
)
def test_round_trip_with_separator(base: str, quote: str, sep: str) -> None:
    text = f"{base}{sep or '-'}{quote}"
    assert parse_symbol(text) == Symbol(base, quote)
    assert parse_symbol(text.lower()).canonical == base + quote


@given(st.text(max_size=30))
def test_parse_symbol_only_raises_symbol_error(text: str) -> None:
    try:
        sym = parse_symbol(text)
    except SymbolError:
        return
    assert sym.canonical == sym.canonical.upper()
    assert sym.base
    assert sym.quote


@pytest.mark.parametrize(
    ("text", "meant"),
    [("BTCUSDTT", "BTCUSDT"), ("btcudst", "BTCUSDT"), ("SOLUSDTX", "SOLUSDT")],
)
def test_a_near_miss_suggests_the_symbol_not_a_separator(text: str, meant: str) -> None:
    with pytest.raises(SymbolError, match=f"did you mean {meant}") as info:
        parse_symbol(text)
    assert "-USDT" not in str(info.value)  # not "write it as BTC-USDTT"


def test_listed_alternatives_prefer_the_same_base_then_close_spellings() -> None:
    from cryptows.symbols import listed_alternatives

    listed = {"BTCUSDT", "BTCUSDC", "ETHUSDT", "ETHBTC"}
    assert listed_alternatives("BTCUSD", listed) == ["BTCUSDT", "BTCUSDC"]
    assert listed_alternatives("ETHUSDTT", listed) == ["ETHUSDT"]
    assert listed_alternatives("DOGEUSDT", listed) == []
