"""One analysis run, shared by ``cryptows analyze`` and the dashboard's ``a``: plan the
(model, task) calls with their cost estimates, send them concurrently, collect the outcomes.

No I/O but the gateway's, no UI: front ends render :class:`Outcome` themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptows.analysis.client import ChatResult, GatewayClient
from cryptows.analysis.pricing import ModelPrice, cost_usd, estimate_prompt_tokens, price_for
from cryptows.analysis.prompt import Answer, Task, build_messages, parse_answer
from cryptows.analysis.stats import MarketStats
from cryptows.config import AnalysisSettings
from cryptows.errors import CryptowsError


@dataclass(frozen=True, slots=True)
class Call:
    """One request: a model, a task, its messages and its cost estimate."""

    model: str
    task: Task
    messages: list[dict[str, str]]
    json_mode: bool
    est_prompt_tokens: int
    est_completion_tokens: int
    price: ModelPrice | None

    @property
    def est_cost_usd(self) -> float | None:
        if self.price is None:
            return None
        return cost_usd(self.price, self.est_prompt_tokens, self.est_completion_tokens)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one call gave: an answer, or the error that stopped it."""

    call: Call
    result: ChatResult | None
    answer: Answer | None
    error: CryptowsError | None

    @property
    def cost_usd(self) -> float | None:
        r, price = self.result, self.call.price
        if r is None or price is None or r.prompt_tokens is None or r.completion_tokens is None:
            return None
        return cost_usd(price, r.prompt_tokens, r.completion_tokens)


def plan(
    stats: MarketStats, models: Sequence[str], tasks: Sequence[Task], a: AnalysisSettings
) -> list[Call]:
    """Every (model, task) request, with its estimated tokens and cost."""
    calls: list[Call] = []
    for model in models:
        for task in tasks:
            messages = build_messages(task, stats)
            prompt = estimate_prompt_tokens(messages)
            calls.append(
                Call(
                    model=model,
                    task=task,
                    messages=messages,
                    json_mode=model in a.json_mode_models,
                    est_prompt_tokens=prompt,
                    est_completion_tokens=a.max_tokens,
                    price=price_for(model, a.prices),
                )
            )
    return calls


def request_body(call: Call, a: AnalysisSettings) -> dict[str, Any]:
    """The JSON body sent for ``call`` (exactly what the client posts)."""
    body: dict[str, Any] = {
        "model": call.model,
        "messages": call.messages,
        "max_tokens": a.max_tokens,
        "temperature": a.temperature,
    }
    if call.json_mode:
        body["response_format"] = {"type": "json_object"}
    return body


def estimate_total(calls: Sequence[Call]) -> float | None:
    """Upper-bound cost of all calls (max_tokens answers); ``None`` if a price is unknown."""
    costs = [c.est_cost_usd for c in calls]
    if any(c is None for c in costs):
        return None
    return sum(c for c in costs if c is not None)


async def send_all(
    calls: Sequence[Call], a: AnalysisSettings, stats: MarketStats | None = None
) -> list[Outcome]:
    """Send every call concurrently; a failed call is an outcome, never an exception. With
    ``stats``, answers are also checked against them (an anomaly answer must copy the local
    z-scores, not recompute them)."""
    async with GatewayClient(
        a.base_url,
        a.api_key,
        connect_timeout_s=a.connect_timeout_s,
        total_timeout_s=a.timeout_s,
    ) as client:

        async def one(call: Call) -> Outcome:
            try:
                result = await client.chat(
                    call.model,
                    call.messages,
                    max_tokens=a.max_tokens,
                    temperature=a.temperature,
                    json_mode=call.json_mode,
                )
            except CryptowsError as err:
                return Outcome(call, None, None, err)
            return Outcome(call, result, parse_answer(call.task, result.content, stats), None)

        return list(await asyncio.gather(*(one(c) for c in calls)))


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """2 if the gateway rejected the key, 1 for any other failure, 0 when every call answered."""
    codes = [o.error.exit_code for o in outcomes if o.error is not None]
    if not codes:
        return 0
    return 2 if 2 in codes else 1
