"""Prompts for the three analysis tasks, and a lenient, validating reader of the answers.

:func:`build_messages` embeds the local statistics (:mod:`cryptows.analysis.stats`) as compact
JSON and asks for one JSON object, with an example. :func:`parse_answer` reads the model's
content back: it finds the JSON object (bare, inside a code fence, or among prose), validates it
against the task's schema and never raises; an answer that does not fit is ``ok=False`` with a
one-line warning, its raw text kept for display.

Answer schemas (extra keys are ignored and dropped):

- ``sentiment``: ``{"sentiment": "bullish"|"bearish"|"neutral", "confidence": 0..1,
  "key_factors": [str, ...] (at least one), "summary": str}``.
- ``anomaly``: ``{"anomalies": [{"symbol": str, "is_anomaly": bool, "zscore": number|null,
  "reason": str}, ...]}``. ``zscore`` is the local one, copied; when :func:`parse_answer` is
  given the statistics it checks each symbol is known and its zscore equals the local value.
- ``signal``: one signal for the whole market, ``{"signal": "STRONG_BUY"|"BUY"|"HOLD"|"SELL"|
  "STRONG_SELL", "rationale": str}``, optionally ``"symbols": [{"symbol": str, "signal": ...,
  "rationale": str}, ...]`` (asked for when the statistics hold more than one symbol).

Enum values are matched case-insensitively (``"Bullish"``, ``"strong buy"`` are accepted and
normalised); every string field must be non-empty.
"""

from __future__ import annotations

import json
import math
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec

from cryptows.analysis.stats import MarketStats
from cryptows.errors import UsageError


class Task(StrEnum):
    """An analysis the model is asked for."""

    SENTIMENT = "sentiment"
    ANOMALY = "anomaly"
    SIGNAL = "signal"


ALL_TASKS = "all"
"""The task name that selects every :class:`Task`, in definition order."""

DISCLAIMER = "This is commentary, not financial advice."

ZSCORE_TOLERANCE = 1e-3
"""How far a model's copied zscore may be from the local one (the local one has 4 decimals)."""


def tasks_for(name: str) -> tuple[Task, ...]:
    """The tasks a ``--task`` value selects: ``all`` gives the three.

    Raises:
        UsageError: an unknown name (the message lists the valid ones).
    """
    key = name.strip().lower()
    if key == ALL_TASKS:
        return tuple(Task)
    try:
        return (Task(key),)
    except ValueError:
        valid = ", ".join([*(t.value for t in Task), ALL_TASKS])
        raise UsageError(f"unknown analysis task {name!r}: choose one of {valid}") from None


# -- schemas (typed decoding with msgspec.convert) -------------------------------------------

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
SignalValue = Literal["STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL"]


class SentimentAnswer(msgspec.Struct, frozen=True, kw_only=True):
    sentiment: Literal["bullish", "bearish", "neutral"]
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)]
    key_factors: Annotated[list[NonEmpty], msgspec.Meta(min_length=1)]
    summary: NonEmpty


class AnomalyItem(msgspec.Struct, frozen=True, kw_only=True):
    symbol: NonEmpty
    is_anomaly: bool
    zscore: float | None
    reason: NonEmpty


class AnomalyAnswer(msgspec.Struct, frozen=True, kw_only=True):
    anomalies: list[AnomalyItem]


class SymbolSignal(msgspec.Struct, frozen=True, kw_only=True):
    symbol: NonEmpty
    signal: SignalValue
    rationale: NonEmpty


class SignalAnswer(msgspec.Struct, frozen=True, kw_only=True):
    signal: SignalValue
    rationale: NonEmpty
    symbols: list[SymbolSignal] | None = None


_SCHEMAS: dict[Task, type[msgspec.Struct]] = {
    Task.SENTIMENT: SentimentAnswer,
    Task.ANOMALY: AnomalyAnswer,
    Task.SIGNAL: SignalAnswer,
}


# -- messages ---------------------------------------------------------------------------------

_SYSTEM = (
    "You are a careful crypto market analyst inside cryptows, a terminal market monitor. "
    "You are given statistics that cryptows computed locally from live exchange data. "
    "Explain and judge them; never recompute, estimate or alter any number: when you cite a "
    "figure, copy it exactly as given. Base your judgement only on the data given. "
    "Reply with one JSON object and nothing else (no code fence, no prose). "
    "Your answer is commentary, not financial advice."
)

_LEGEND = (
    "Field meanings: ts_ms = snapshot time (ms since the epoch); window_s = seconds of history "
    "used; demo = true when the data is simulated, not real. Per symbol: venues = usable venues "
    "with a quote; stale_venues/stale_reasons = venues excluded and why; best_bid/best_ask = "
    "best usable prices and their venues; mid = mean mid of the usable venues; last = last trade; "
    "change_24h_pct = median 24 h change in percent; cross_spread_pct = (best_bid - best_ask) / "
    "best_ask * 100, positive means a crossed market; dispersion_bps = standard deviation of the "
    "venues' mids in basis points; zscore = latest mid against the window's mids (null: too few "
    "samples or no movement); return_pct = mid change over the window in percent; "
    "volatility_pct = standard deviation of about 1-second returns in percent, not annualised; "
    "samples/span_s = history samples in the window and the seconds they cover; "
    "open_opportunities/best_net_pct = open cross-venue arbitrage routes and the best net of fees "
    "in percent. Per venue: state (only live is usable), msgs_per_s, lag_p50_ms, reconnects, "
    "last_error. null means unknown."
)

_INSTRUCTIONS: dict[Task, str] = {
    Task.SENTIMENT: (
        "Task: judge the short-term market sentiment over the window from these statistics. "
        'Fields: "sentiment" is one of "bullish", "bearish", "neutral"; "confidence" is a '
        'number from 0 to 1; "key_factors" lists 1 to 4 short factors citing the figures '
        'they rest on; "summary" is one line. A short window of data supports only modest '
        "confidence; say so when data is thin or venues are stale."
    ),
    Task.ANOMALY: (
        "Task: say for each symbol whether its current state looks anomalous. "
        '"anomalies" holds exactly one entry per symbol of the statistics, in the same order. '
        '"zscore" must be the symbol\'s zscore copied exactly from the statistics (null when '
        'it is null): do not compute one. "is_anomaly" is your judgement, weighing the zscore '
        "with the number of samples, the dispersion and cross spread, stale venues and venue "
        'health; "reason" is one short sentence citing the figures.'
    ),
    Task.SIGNAL: (
        "Task: give one trading signal for the market as a whole over the very short term. "
        '"signal" is one of "STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL"; "rationale" '
        "is one or two sentences citing the figures. Prefer HOLD when the data is thin, mixed "
        "or stale."
    ),
}
_PER_SYMBOL_SIGNAL = (
    ' Also give "symbols": one entry per symbol of the statistics, in the same order, with its '
    'own "signal" and a one-sentence "rationale".'
)


def _example(task: Task, stats: MarketStats) -> dict[str, Any]:
    """An example answer of the right shape (values are placeholders, except copied zscores)."""
    if task is Task.SENTIMENT:
        return {
            "sentiment": "neutral",
            "confidence": 0.4,
            "key_factors": ["<short factor citing a figure>", "<another factor>"],
            "summary": "<one line>",
        }
    if task is Task.ANOMALY:
        items = stats.symbols[:2]
        return {
            "anomalies": [
                {
                    "symbol": s.symbol,
                    "is_anomaly": False,
                    "zscore": s.zscore,
                    "reason": "<one short sentence citing the figures>",
                }
                for s in items
            ]
            or [
                {
                    "symbol": "<symbol>",
                    "is_anomaly": False,
                    "zscore": None,
                    "reason": "<one short sentence>",
                }
            ]
        }
    example: dict[str, Any] = {"signal": "HOLD", "rationale": "<one or two sentences>"}
    if len(stats.symbols) > 1:
        example["symbols"] = [
            {"symbol": s.symbol, "signal": "HOLD", "rationale": "<one sentence>"}
            for s in stats.symbols[:2]
        ]
    return example


def stats_json(stats: MarketStats) -> str:
    """The statistics as the compact JSON the prompt embeds (deterministic)."""
    return msgspec.json.encode(stats).decode()


def build_messages(task: Task, stats: MarketStats) -> list[dict[str, str]]:
    """The chat messages (system, user) for ``task`` on ``stats``; the same stats give the same
    messages."""
    instructions = _INSTRUCTIONS[task]
    if task is Task.SIGNAL and len(stats.symbols) > 1:
        instructions += _PER_SYMBOL_SIGNAL
    demo = " The data is SIMULATED (demo mode): say so in your answer." if stats.demo else ""
    example = json.dumps(_example(task, stats), separators=(", ", ": "))
    user = "\n\n".join(
        [
            instructions + demo,
            "Local statistics (computed by cryptows; do not recompute them, copy figures "
            "exactly):\n" + stats_json(stats),
            _LEGEND,
            "Answer with a single JSON object of exactly this shape, for example (text in angle "
            "brackets and the example's choices are placeholders, not suggestions):\n" + example,
            DISCLAIMER,
        ]
    )
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


# -- answers ----------------------------------------------------------------------------------


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """A model's answer to one task: validated ``data`` when ``ok``, else a one-line warning."""

    task: Task
    ok: bool
    data: dict[str, Any] | None
    """The validated answer (schema fields only, enums normalised); ``None`` when not ok."""
    raw: str
    """The content exactly as the model sent it."""
    warning: str
    """Empty when ok."""


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[^\n]*\n?(.*?)```", re.DOTALL)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object found in ``text``: fenced blocks first, then the whole text,
    then objects embedded in prose (scanning from each ``{`` not inside a found object)."""
    found: list[dict[str, Any]] = []
    candidates = [m.group(2) for m in _FENCE.finditer(text)]
    candidates.append(text)
    for chunk in candidates:
        pos = 0
        while True:
            start = chunk.find("{", pos)
            if start < 0:
                break
            try:
                value, end = _DECODER.raw_decode(chunk, start)
            except ValueError:
                pos = start + 1
                continue
            if isinstance(value, dict):
                found.append(value)
            pos = end
    return found


def _normalise(task: Task, obj: dict[str, Any]) -> dict[str, Any]:
    """Case-fold enum values (``"Bullish"`` -> ``bullish``, ``"strong buy"`` -> ``STRONG_BUY``)."""

    def signal(value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r"[\s-]+", "_", value.strip()).upper()
        return value

    out = dict(obj)
    if task is Task.SENTIMENT and isinstance(out.get("sentiment"), str):
        out["sentiment"] = out["sentiment"].strip().lower()
    if task is Task.SIGNAL:
        out["signal"] = signal(out.get("signal"))
        per = out.get("symbols")
        if isinstance(per, list):
            out["symbols"] = [
                {**item, "signal": signal(item.get("signal"))} if isinstance(item, dict) else item
                for item in per
            ]
    return out


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _check_anomalies(answer: AnomalyAnswer, stats: MarketStats) -> str:
    """Cross-check an anomaly answer with the local statistics; a problem as one line, or ''."""
    local = {s.symbol: s.zscore for s in stats.symbols}
    for item in answer.anomalies:
        if item.symbol not in local:
            return f"unknown symbol {item.symbol!r} in the answer"
        expected = local[item.symbol]
        got = item.zscore
        if expected is None and got is None:
            continue
        if (
            expected is None
            or got is None
            or not math.isclose(got, expected, rel_tol=0, abs_tol=ZSCORE_TOLERANCE)
        ):
            return (
                f"{item.symbol}: the answer's zscore {got} differs from the local {expected} "
                "(the model must copy it)"
            )
    missing = [s for s in local if s not in {i.symbol for i in answer.anomalies}]
    if missing:
        return f"no entry for {', '.join(missing)}"
    return ""


def parse_answer(task: Task, content: str | None, stats: MarketStats | None = None) -> Answer:
    """Read a model's answer to ``task``; never raises.

    Accepts the JSON object bare, inside a code fence, or surrounded by prose (the first object
    that fits the schema wins). With ``stats``, an anomaly answer must cover exactly the known
    symbols and copy their local z-scores (within :data:`ZSCORE_TOLERANCE`).
    """
    raw = content if isinstance(content, str) else ""

    def fail(warning: str) -> Answer:
        return Answer(task=task, ok=False, data=None, raw=raw, warning=_one_line(warning))

    if not raw.strip():
        return fail(f"{task.value}: the model returned an empty answer")
    objects = _objects(raw)
    if not objects:
        return fail(f"{task.value}: the answer holds no valid JSON object; shown raw")
    schema = _SCHEMAS[task]
    first_error = ""
    for obj in objects:
        try:
            value = msgspec.convert(_normalise(task, obj), type=schema)
        except msgspec.ValidationError as exc:
            first_error = first_error or str(exc)
            continue
        if isinstance(value, AnomalyAnswer) and stats is not None:
            problem = _check_anomalies(value, stats)
            if problem:
                first_error = first_error or problem
                continue
        data = msgspec.to_builtins(value)
        if isinstance(value, SignalAnswer) and value.symbols is None:
            data.pop("symbols", None)
        return Answer(task=task, ok=True, data=data, raw=raw, warning="")
    return fail(f"{task.value}: invalid answer ({first_error}); shown raw")
