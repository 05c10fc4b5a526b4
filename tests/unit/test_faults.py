"""Fault scripts for the simulator: parsing and errors (applying them is covered end to end)."""

from __future__ import annotations

import pytest

from cryptows.errors import UsageError
from cryptows.sim.faults import FaultStep, parse_fault

VENUES = ("binance", "bybit", "okx", "coinbase")


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("bybit:drop@10", FaultStep("bybit", "drop", 10.0, None)),
        ("okx:close@5=1011", FaultStep("okx", "close", 5.0, "1011")),
        ("binance:stall@2.5=15", FaultStep("binance", "stall", 2.5, "15")),
        ("coinbase:garbage", FaultStep("coinbase", "garbage", 0.0, None)),
        ("okx:reject=eth-usdt", FaultStep("okx", "reject", 0.0, "ETHUSDT")),
        ("*:refuse=451", FaultStep("*", "refuse", 0.0, "451")),
    ],
)
def test_parse_fault(text: str, step: FaultStep) -> None:
    assert parse_fault(text, VENUES) == step


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("drop", "VENUE:ACTION"),
        ("kraken:drop", "unknown venue 'kraken'"),
        ("bybit:explode", "unknown action 'explode'"),
        ("okx:reject", "needs a symbol"),
        ("okx:close=abc", "takes a number"),
        ("okx:reject=BTC--USDT", "malformed symbol"),
    ],
)
def test_bad_fault_is_a_usage_error(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment.replace("*", r"\*")):
        parse_fault(text, VENUES)
