"""Model prices, a token estimate that works offline, and the local cost of a call.

Costs are always computed here, from the token counts the gateway reports (or from the estimate
before sending) and a price table the user can override in ``[analysis.prices."<model>"]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import msgspec

TOKENS_PER_MILLION: Final = 1_000_000


class ModelPrice(msgspec.Struct, frozen=True):
    """What one model costs, in USD per million tokens."""

    input_per_mtok: float
    """Price of prompt (input) tokens, USD per million."""
    output_per_mtok: float
    """Price of completion (output) tokens, USD per million."""


# Output prices are the ones HolySheep publishes (gpt-4.1 $8.00, claude-sonnet-4.5 $15.00,
# gemini-2.5-flash $2.50, deepseek-v3.2 $0.42). Input prices are published inconsistently, so
# these are the model vendors' own list prices (OpenAI, Anthropic, Google AI Studio paid tier with
# prompts <= 200k tokens, DeepSeek cache-miss input), which is also where the output prices
# above agree. They are defaults only: users override any model, or add one, with
# ``[analysis.prices."<model>"] input = ..., output = ...`` in the config file.
DEFAULT_PRICES: Final[Mapping[str, ModelPrice]] = {
    "gpt-4.1": ModelPrice(2.00, 8.00),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "claude-sonnet-4.5": ModelPrice(3.00, 15.00),
    "gemini-2.5-flash": ModelPrice(0.30, 2.50),
    "gemini-2.5-pro": ModelPrice(1.25, 10.00),
    "deepseek-v3.2": ModelPrice(0.28, 0.42),
}
"""Built-in price table (USD per million tokens), model id -> price."""

CHARS_PER_TOKEN: Final = 4
"""The estimate's ratio: about four characters of English or JSON per token for GPT-style BPE
vocabularies. Real tokenizers differ per model and cannot be used offline (they download their
tables on first use), so every figure derived from it is labelled an estimate."""
MESSAGE_OVERHEAD_TOKENS: Final = 4
"""Tokens the chat format adds per message (role and separators), after OpenAI's cookbook."""
REPLY_PRIMING_TOKENS: Final = 3
"""Tokens the chat format adds once per request to prime the reply."""


def price_for(model: str, overrides: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The price of ``model``: ``overrides`` first, then :data:`DEFAULT_PRICES`.

    Returns ``None`` for a model neither table knows (its cost is then shown as unknown).
    """
    return overrides.get(model) or DEFAULT_PRICES.get(model)


def price_table(overrides: Mapping[str, ModelPrice]) -> dict[str, ModelPrice]:
    """The effective price table: built-in prices with ``overrides`` applied (and added)."""
    return {**DEFAULT_PRICES, **overrides}


def estimate_tokens(text: str) -> int:
    """An *estimate* of the tokens in ``text``: ``ceil(len(text) / CHARS_PER_TOKEN)``.

    Offline and model-independent on purpose; show it labelled as an estimate.
    """
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_prompt_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """An *estimate* of a chat request's prompt tokens: each message's content and role by
    :func:`estimate_tokens`, plus :data:`MESSAGE_OVERHEAD_TOKENS` per message and
    :data:`REPLY_PRIMING_TOKENS` once."""
    per_message = (
        estimate_tokens(m.get("content", "")) + estimate_tokens(m.get("role", "")) for m in messages
    )
    return sum(per_message) + MESSAGE_OVERHEAD_TOKENS * len(messages) + REPLY_PRIMING_TOKENS


def cost_usd(price: ModelPrice, prompt_tokens: int, completion_tokens: int) -> float:
    """The cost in USD of ``prompt_tokens`` in and ``completion_tokens`` out at ``price``."""
    return (
        prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok
    ) / TOKENS_PER_MILLION


def estimated_cost_usd(
    price: ModelPrice, messages: Sequence[Mapping[str, str]], max_tokens: int
) -> float:
    """An *estimated upper bound* on a call's cost, for the spend guard: the prompt estimate in,
    and the full ``max_tokens`` out (a reply cannot be longer)."""
    return cost_usd(price, estimate_prompt_tokens(messages), max_tokens)
