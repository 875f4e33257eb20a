"""Reading one chat completion into an answer or a named status.

Statuses (every one keeps the offline values where the LLM gives none):

- ``llm_ok``: a schema-valid answer.
- ``llm_code_fenced``: a schema-valid answer wrapped in a Markdown code fence; used after
  removing the fence.
- ``llm_repaired``: the first reply was invalid, the one repair attempt returned a valid answer.
- ``llm_refused``: the model refused (the ``refusal`` text is kept); no field is filled.
- ``llm_truncated``: ``finish_reason`` is ``length``, so the JSON is cut off.
- ``llm_content_filter``: ``finish_reason`` is ``content_filter``.
- ``llm_empty``: no choices, or a message without content.
- ``llm_invalid_json``: content that is not JSON (after the repair attempt).
- ``llm_schema_invalid``: JSON with extra or missing keys or wrong types (after the repair attempt).
- ``llm_http_error``, ``llm_rate_limited``, ``llm_timeout``, ``llm_connection_error``: the call
  failed (after retries).
- ``llm_skipped``: the page is not a biography, so nothing was sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .answer import ArtistAnswer

USABLE = frozenset({"llm_ok", "llm_code_fenced", "llm_repaired"})
"""Statuses whose answer fills fields."""
REPAIRABLE = frozenset({"llm_invalid_json", "llm_schema_invalid"})
"""Statuses that get the one repair attempt."""
TRANSIENT = frozenset({"llm_http_error", "llm_rate_limited", "llm_timeout", "llm_connection_error"})
"""Statuses that are not cached, so the next run tries again."""

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


@dataclass
class ReplyReading:
    """What one chat completion amounts to."""

    status: str
    answer: ArtistAnswer | None = None
    content: str | None = None
    refusal: str | None = None
    detail: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def _usage(payload: dict[str, Any]) -> tuple[int | None, int | None]:
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None, None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (prompt if isinstance(prompt, int) else None, completion if isinstance(completion, int) else None)


def validation_problem(error: ValidationError) -> str:
    """Return a one-line summary of a validation error: up to five locations and messages."""
    parts = [f"{'.'.join(str(p) for p in item['loc']) or 'answer'}: {item['msg']}" for item in error.errors()[:5]]
    return "; ".join(parts)


def parse_content(content: str) -> tuple[str, ArtistAnswer | None, str | None]:
    """Parse message content into ``(status, answer, problem)``, removing one code fence first."""
    status = "llm_ok"
    fenced = _FENCE.match(content)
    if fenced:
        content = fenced.group(1)
        status = "llm_code_fenced"
    try:
        value = json.loads(content)
    except json.JSONDecodeError as error:
        return "llm_invalid_json", None, f"the content is not JSON ({error.msg} at character {error.pos})"
    try:
        answer = ArtistAnswer.model_validate(value, strict=True)
    except ValidationError as error:
        return "llm_schema_invalid", None, validation_problem(error)
    return status, answer, None


def read_reply(payload: dict[str, Any]) -> ReplyReading:
    """Return the status and, when usable, the validated answer of one chat completion body."""
    prompt_tokens, completion_tokens = _usage(payload)
    reading = ReplyReading(status="llm_empty", prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        reading.detail = "the reply has no choices"
        return reading
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    finish_reason = choice.get("finish_reason")
    refusal = message.get("refusal")
    content = message.get("content")
    if isinstance(refusal, str) and refusal.strip():
        reading.status, reading.refusal = "llm_refused", refusal
        return reading
    if finish_reason == "length":
        reading.status, reading.content = "llm_truncated", content if isinstance(content, str) else None
        reading.detail = "finish_reason is length: the answer was cut off at the completion token limit"
        return reading
    if finish_reason == "content_filter":
        reading.status, reading.detail = "llm_content_filter", "finish_reason is content_filter"
        return reading
    if not isinstance(content, str) or not content.strip():
        reading.detail = "the message has no content"
        return reading
    reading.content = content
    reading.status, reading.answer, reading.detail = parse_content(content)
    return reading
