"""Fault scripts for the simulator: parsing and errors (applying them is covered end to end)."""

from __future__ import annotations

import pytest

from cryptows.clock import wall_ms
from cryptows.errors import UsageError
from cryptows.sim.binance import BinanceSim
from cryptows.sim.faults import FaultStep, apply_fault, parse_fault
from cryptows.sim.market import MarketEngine

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
        (
            "binance:dislocate@2=BTCUSDT:1.0:4",
            FaultStep("binance", "dislocate", 2.0, "BTCUSDT:1.0:4.0"),
        ),
        (
            "binance:dislocate=BTCUSDT:1.0:4@2",
            FaultStep("binance", "dislocate", 2.0, "BTCUSDT:1.0:4.0"),
        ),
        ("okx:dislocate=eth-usdt:-0.8", FaultStep("okx", "dislocate", 0.0, "ETHUSDT:-0.8:5.0")),
        ("*:dislocate@1.5=SOLUSD:2:0.5", FaultStep("*", "dislocate", 1.5, "SOLUSD:2.0:0.5")),
        ("okx:skew=2000", FaultStep("okx", "skew", 0.0, "2000")),
        ("binance:skew@3=-1500", FaultStep("binance", "skew", 3.0, "-1500")),
        ("*:skew=0", FaultStep("*", "skew", 0.0, "0")),
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
        ("bybit:drop@1.2.3", "not a number of seconds"),
        ("bybit:drop@1=2@3", "give @SECONDS once"),
        ("binance:dislocate", "dislocate needs SYMBOL:PCT"),
        ("binance:dislocate=BTCUSDT", "takes SYMBOL:PCT"),
        ("binance:dislocate=BTCUSDT:1:2:3", "takes SYMBOL:PCT"),
        ("binance:dislocate=BTCUSDT:abc", "PCT must be a number"),
        ("binance:dislocate=BTCUSDT:nan", "PCT must be a number"),
        ("binance:dislocate=BTCUSDT:0", "not 0"),
        ("binance:dislocate=BTCUSDT:-100", "from -50 to 50"),
        ("binance:dislocate=BTCUSDT:1:0", "SECONDS must be above 0"),
        ("binance:dislocate=BTCUSDT:1:x", "SECONDS must be a number"),
        ("binance:dislocate=BTCUSD:1", "binance does not list BTCUSD"),
        ("binance:dislocate=FOOUSDT:1", "binance does not list FOOUSDT"),
        ("binance:dislocate=BTC--USDT:1", "malformed symbol"),
        ("*:dislocate=FOOUSDT:1", "any of the venues does not list FOOUSDT"),
        ("okx:skew", "skew takes whole milliseconds"),
        ("okx:skew=1.5", "skew takes whole milliseconds"),
        ("okx:skew=soon", "skew takes whole milliseconds"),
    ],
)
def test_bad_fault_is_a_usage_error(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment.replace("*", r"\*")):
        parse_fault(text, VENUES)


async def test_skew_moves_the_venues_server_time_and_zero_ends_it() -> None:
    """``skew=MS`` shifts what the REST server-time answers show (``server_time_ms``)."""
    server = BinanceSim(MarketEngine(seed=1, start_ms=wall_ms(), dislocations=False))
    await apply_fault(server, parse_fault("binance:skew=2000", VENUES))
    assert server.faults.clock_skew_ms == 2000
    assert abs(server.server_time_ms() - wall_ms() - 2000) < 1000
    answer = server.rest("/api/v3/time", {})
    assert answer is not None
    assert abs(answer[1]["serverTime"] - wall_ms() - 2000) < 1000
    await apply_fault(server, parse_fault("binance:skew=0", VENUES))
    assert server.faults.clock_skew_ms == 0
