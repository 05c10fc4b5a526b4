"""Prompts embed the local statistics; answers are read leniently and validated, never raising."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from cryptows.analysis.prompt import (
    DISCLAIMER,
    Answer,
    Task,
    build_messages,
    parse_answer,
    stats_json,
    tasks_for,
)
from cryptows.analysis.stats import MarketStats, SymbolStats, VenueStat
from cryptows.errors import UsageError


def _sym(symbol: str, zscore: float | None, **kw: Any) -> SymbolStats:
    fields: dict[str, Any] = {
        "symbol": symbol,
        "venues": 3,
        "stale_venues": (),
        "stale_reasons": (),
        "best_bid": 100.0,
        "best_bid_venue": "okx",
        "best_ask": 100.1,
        "best_ask_venue": "binance",
        "mid": 100.05,
        "last": 100.02,
        "change_24h_pct": 1.5,
        "cross_spread_pct": -0.0999,
        "dispersion_bps": 2.1234,
        "zscore": zscore,
        "return_pct": 0.0123,
        "volatility_pct": 0.004567,
        "samples": 10,
        "span_s": 9.0,
        "open_opportunities": 0,
        "best_net_pct": None,
    }
    fields.update(kw)
    return SymbolStats(**fields)


STATS = MarketStats(
    ts_ms=1_700_000_000_000,
    window_s=10.0,
    demo=False,
    symbols=(
        _sym("BTCUSDT", 2.8731),
        _sym("ETHUSDT", -0.4125, stale_venues=("okx",), stale_reasons=("okx stale",)),
        _sym("SOLUSDT", None, samples=3),
    ),
    venues=(
        VenueStat(venue="binance", state="live", msgs_per_s=20.5, lag_p50_ms=40.0, reconnects=0),
        VenueStat(venue="okx", state="stale", reconnects=2, last_error="heartbeat lost"),
    ),
)

GOOD: dict[Task, dict[str, Any]] = {
    Task.SENTIMENT: {
        "sentiment": "bullish",
        "confidence": 0.62,
        "key_factors": ["BTCUSDT zscore 2.8731", "return_pct 0.0123"],
        "summary": "Mildly bullish on thin data.",
    },
    Task.ANOMALY: {
        "anomalies": [
            {"symbol": "BTCUSDT", "is_anomaly": True, "zscore": 2.8731, "reason": "High z."},
            {"symbol": "ETHUSDT", "is_anomaly": False, "zscore": -0.4125, "reason": "Normal."},
            {"symbol": "SOLUSDT", "is_anomaly": False, "zscore": None, "reason": "Few samples."},
        ]
    },
    Task.SIGNAL: {"signal": "HOLD", "rationale": "Mixed, thin data."},
}


# -- tasks --------------------------------------------------------------------------------------


def test_tasks_for() -> None:
    assert tasks_for("all") == (Task.SENTIMENT, Task.ANOMALY, Task.SIGNAL)
    assert tasks_for("anomaly") == (Task.ANOMALY,)
    assert tasks_for(" Signal ") == (Task.SIGNAL,)
    with pytest.raises(UsageError) as info:
        tasks_for("forecast")
    message = str(info.value)
    assert "\n" not in message
    assert "'forecast'" in message
    assert "sentiment, anomaly, signal, all" in message


# -- messages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("task", list(Task))
def test_messages_ground_the_model(task: Task) -> None:
    messages = build_messages(task, STATS)
    assert [m["role"] for m in messages] == ["system", "user"]
    system, user = messages[0]["content"], messages[1]["content"]
    assert "JSON" in system
    assert "JSON" in user
    assert "not financial advice" in system
    assert "not financial advice" in user
    assert DISCLAIMER in user
    assert "do not recompute" in user
    # The statistics, compact and verbatim, with the local z-scores as computed.
    assert stats_json(STATS) in user
    assert '"zscore":2.8731' in user
    assert '"zscore":-0.4125' in user
    assert '"zscore":null' in user
    assert json.loads(stats_json(STATS))["symbols"][0]["zscore"] == 2.8731
    assert '"volatility_pct":0.004567' in user
    assert "not annualised" in user
    assert "heartbeat lost" in user  # venue health is part of the grounding


def test_messages_hold_an_example_of_each_schema() -> None:
    sentiment = build_messages(Task.SENTIMENT, STATS)[1]["content"]
    assert '{"sentiment": "neutral", "confidence": 0.4, "key_factors": [' in sentiment
    anomaly = build_messages(Task.ANOMALY, STATS)[1]["content"]
    # The example copies the real z-scores: the model sees the shape and where they come from.
    assert '{"anomalies": [{"symbol": "BTCUSDT", "is_anomaly": false, "zscore": 2.8731, ' in anomaly
    signal = build_messages(Task.SIGNAL, STATS)[1]["content"]
    assert '{"signal": "HOLD", "rationale": "<one or two sentences>", "symbols": [' in signal
    one = msgspec.structs.replace(STATS, symbols=STATS.symbols[:1])
    single = build_messages(Task.SIGNAL, one)[1]["content"]
    assert '{"signal": "HOLD", "rationale": "<one or two sentences>"}' in single
    assert '"symbols"' not in single.split("not suggestions):")[1]


def test_messages_are_deterministic_and_flag_demo() -> None:
    for task in Task:
        assert build_messages(task, STATS) == build_messages(task, STATS)
    assert "SIMULATED" not in build_messages(Task.SIGNAL, STATS)[1]["content"]
    demo = msgspec.structs.replace(STATS, demo=True)
    assert "SIMULATED" in build_messages(Task.SIGNAL, demo)[1]["content"]


def test_messages_with_no_symbols() -> None:
    empty = MarketStats(ts_ms=0, window_s=10.0, demo=True, symbols=(), venues=())
    for task in Task:
        assert "JSON" in build_messages(task, empty)[1]["content"]


# -- answers ------------------------------------------------------------------------------------


def _bad(answer: Answer, raw: str, *fragments: str) -> None:
    assert answer.ok is False
    assert answer.data is None
    assert answer.raw == raw
    assert answer.warning
    assert "\n" not in answer.warning
    for fragment in fragments:
        assert fragment in answer.warning


@pytest.mark.parametrize("task", list(Task))
def test_good_answer(task: Task) -> None:
    raw = json.dumps(GOOD[task])
    answer = parse_answer(task, raw, STATS)
    assert answer == Answer(task=task, ok=True, data=GOOD[task], raw=raw, warning="")


def test_fenced_json() -> None:
    raw = "```json\n" + json.dumps(GOOD[Task.SENTIMENT], indent=2) + "\n```"
    answer = parse_answer(Task.SENTIMENT, raw)
    assert answer.ok
    assert answer.data == GOOD[Task.SENTIMENT]
    assert answer.raw == raw


def test_fenced_block_is_preferred_to_json_in_prose() -> None:
    raw = (
        'The format was {"signal": "HOLD", "rationale": "placeholder"}; my answer:\n'
        '```json\n{"signal": "BUY", "rationale": "Momentum."}\n```'
    )
    answer = parse_answer(Task.SIGNAL, raw)
    assert answer.ok
    assert answer.data == {"signal": "BUY", "rationale": "Momentum."}


def test_bare_fence_with_prose_around() -> None:
    raw = "Here you go:\n```\n" + json.dumps(GOOD[Task.SIGNAL]) + "\n```\nHope it helps."
    answer = parse_answer(Task.SIGNAL, raw)
    assert answer.ok
    assert answer.data == GOOD[Task.SIGNAL]


def test_prose_around_json() -> None:
    raw = (
        "Looking at the numbers {briefly}, my answer is "
        + json.dumps(GOOD[Task.ANOMALY])
        + " -- note that this is not advice."
    )
    answer = parse_answer(Task.ANOMALY, raw, STATS)
    assert answer.ok, answer.warning
    assert answer.data == GOOD[Task.ANOMALY]


@pytest.mark.parametrize("content", ["", "   \n\t ", None])
def test_blank_content(content: str | None) -> None:
    answer = parse_answer(Task.SENTIMENT, content)
    _bad(answer, content or "", "empty")


def test_prose_without_json() -> None:
    raw = "The market looks bullish to me.\nBuy the dip!"
    _bad(parse_answer(Task.SENTIMENT, raw), raw, "no valid JSON object", "shown raw")


def test_truncated_json() -> None:
    raw = '{"sentiment": "bullish", "confidence": 0.7, "key_fac'
    _bad(parse_answer(Task.SENTIMENT, raw), raw, "no valid JSON object")


@pytest.mark.parametrize(
    ("task", "change", "fragment"),
    [
        (Task.SENTIMENT, {"sentiment": "very bullish"}, "$.sentiment"),
        (Task.SENTIMENT, {"confidence": 1.2}, "$.confidence"),
        (Task.SENTIMENT, {"confidence": -0.1}, "$.confidence"),
        (Task.SENTIMENT, {"confidence": "high"}, "$.confidence"),
        (Task.SENTIMENT, {"key_factors": []}, "$.key_factors"),
        (Task.SENTIMENT, {"key_factors": "one"}, "$.key_factors"),
        (Task.SENTIMENT, {"summary": ""}, "$.summary"),
        (Task.SIGNAL, {"signal": "MOON"}, "$.signal"),
        (Task.SIGNAL, {"rationale": None}, "$.rationale"),
        (Task.ANOMALY, {"anomalies": {"BTCUSDT": True}}, "$.anomalies"),
    ],
)
def test_invalid_fields(task: Task, change: dict[str, Any], fragment: str) -> None:
    raw = json.dumps({**GOOD[task], **change})
    _bad(parse_answer(task, raw, STATS), raw, fragment, "invalid answer", "shown raw")


def test_missing_field() -> None:
    data = dict(GOOD[Task.SENTIMENT])
    del data["confidence"]
    raw = json.dumps(data)
    _bad(parse_answer(Task.SENTIMENT, raw), raw, "confidence")


def test_anomaly_item_with_wrong_type() -> None:
    item = {"symbol": "BTCUSDT", "is_anomaly": "yes", "zscore": 2.8731, "reason": "r"}
    raw = json.dumps({"anomalies": [item]})
    _bad(parse_answer(Task.ANOMALY, raw), raw, "$.anomalies[0].is_anomaly")


def test_anomaly_zscore_must_be_the_local_one() -> None:
    data = json.loads(json.dumps(GOOD[Task.ANOMALY]))
    data["anomalies"][0]["zscore"] = 3.1  # recomputed or invented by the model
    raw = json.dumps(data)
    _bad(parse_answer(Task.ANOMALY, raw, STATS), raw, "BTCUSDT", "3.1", "2.8731")
    # Without the statistics only the schema is checked.
    assert parse_answer(Task.ANOMALY, raw).ok
    # A null where the local one exists is a mismatch too.
    data["anomalies"][0]["zscore"] = None
    assert not parse_answer(Task.ANOMALY, json.dumps(data), STATS).ok


def test_anomaly_symbols_must_match() -> None:
    data = json.loads(json.dumps(GOOD[Task.ANOMALY]))
    data["anomalies"] = data["anomalies"][:2]
    raw = json.dumps(data)
    _bad(parse_answer(Task.ANOMALY, raw, STATS), raw, "no entry for SOLUSDT")
    data = json.loads(json.dumps(GOOD[Task.ANOMALY]))
    data["anomalies"][2]["symbol"] = "DOGEUSDT"
    raw = json.dumps(data)
    _bad(parse_answer(Task.ANOMALY, raw, STATS), raw, "unknown symbol 'DOGEUSDT'")


def test_enums_are_normalised_and_extras_dropped() -> None:
    raw = json.dumps(
        {
            "signal": "strong buy",
            "rationale": "Momentum.",
            "confidence": 0.9,
            "symbols": [{"symbol": "BTCUSDT", "signal": "Sell", "rationale": "Rich."}],
        }
    )
    answer = parse_answer(Task.SIGNAL, raw)
    assert answer.ok
    assert answer.data == {
        "signal": "STRONG_BUY",
        "rationale": "Momentum.",
        "symbols": [{"symbol": "BTCUSDT", "signal": "SELL", "rationale": "Rich."}],
    }
    sentiment = parse_answer(
        Task.SENTIMENT, json.dumps({**GOOD[Task.SENTIMENT], "sentiment": "Bearish"})
    )
    assert sentiment.data is not None
    assert sentiment.data["sentiment"] == "bearish"


def test_nan_is_rejected() -> None:
    raw = '{"sentiment": "neutral", "confidence": NaN, "key_factors": ["x"], "summary": "s"}'
    _bad(parse_answer(Task.SENTIMENT, raw), raw)


def test_first_valid_object_wins() -> None:
    # The model echoes the example shape wrongly first, then answers properly.
    raw = '{"sentiment": "maybe"} then, corrected: ' + json.dumps(GOOD[Task.SENTIMENT])
    answer = parse_answer(Task.SENTIMENT, raw)
    assert answer.ok
    assert answer.data == GOOD[Task.SENTIMENT]


def test_wrong_top_level_type() -> None:
    raw = '["bullish", 0.7]'
    _bad(parse_answer(Task.SENTIMENT, raw), raw, "no valid JSON object")


@pytest.mark.parametrize("task", list(Task))
def test_never_raises_on_garbage(task: Task) -> None:
    for raw in ["{", "}{", "{{}}", '{"a": 1}', "```", "```json\n```", "\x00\xff", "{" * 5000]:
        answer = parse_answer(task, raw, STATS)
        assert answer.ok is False
        assert answer.raw == raw
        assert answer.warning
