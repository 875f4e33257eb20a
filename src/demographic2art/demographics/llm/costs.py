"""Token counts and costs of LLM calls.

Token counts before a call are an estimate: one token per 4 characters of message text plus 4
tokens of framing per message, which is close to OpenAI's rule of thumb for English text and
errs high for pages in other scripts. After a call, the ``usage`` the server returns is used.
"""

from __future__ import annotations

import math

from pydantic import BaseModel

from ...errors import InvalidValueError

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
ESTIMATED_COMPLETION_TOKENS = 250
"""Estimated completion tokens of one answer (a filled answer of the schema is about 200)."""

# USD per million tokens (input, output), OpenAI list prices for the standard API tier in
# 2025. The batch API bills half of these. Override with ``prices`` for other models or dates.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}
BATCH_DISCOUNT = 0.5


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """Return the estimated prompt tokens of a list of chat messages (see the module docstring)."""
    return sum(TOKENS_PER_MESSAGE + math.ceil(len(m.get("content") or "") / CHARS_PER_TOKEN) for m in messages)


def price_for(model: str, prices: dict[str, tuple[float, float]] | None = None) -> tuple[float, float] | None:
    """Return the (input, output) USD price per million tokens of ``model``, or None when unknown.

    A dated model name such as ``gpt-4o-mini-2024-07-18`` takes the price of its longest listed prefix.
    """
    table = {**DEFAULT_PRICES, **(prices or {})}
    if model in table:
        return table[model]
    matches = [name for name in table if model.startswith(name)]
    return table[max(matches, key=len)] if matches else None


def call_cost(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    *,
    prices: dict[str, tuple[float, float]] | None = None,
    batch: bool = False,
) -> float:
    """Return the USD cost of one call (0.0 for a model without a price)."""
    price = price_for(model, prices)
    if price is None:
        return 0.0
    cost = (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000
    return cost * BATCH_DISCOUNT if batch else cost


def parse_price(text: str) -> tuple[float, float]:
    """Parse ``"INPUT,OUTPUT"`` (USD per million tokens) into a price pair."""
    try:
        first, second = (float(part) for part in text.split(","))
    except ValueError:
        raise InvalidValueError(
            f"invalid price {text!r}; give the input and output USD price per million tokens as INPUT,OUTPUT, e.g. 0.15,0.60"
        ) from None
    if first < 0 or second < 0:
        raise InvalidValueError(f"invalid price {text!r}; prices must not be negative")
    return first, second


class RunCost(BaseModel):
    """Tokens and cost over a run; ``estimated`` when no call was made (dry run)."""

    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True
    estimated: bool = False

    def add(self, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
        """Add one call's tokens and cost."""
        self.calls += 1
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost_usd += cost_usd
