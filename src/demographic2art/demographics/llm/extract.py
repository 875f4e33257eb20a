"""The LLM extractor over a workspace: offline records first, then one structured-output call per biography.

Outputs, beside the offline ones: ``demographics/llm/json/<artist>.json`` (records),
``demographics/llm/demographics.parquet`` (the table, offline columns plus the LLM status and
costs) and ``demographics/llm/run.json`` (settings without the key, status counts, tokens, cost).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, Field

from ...bios.importer import HTML_DIR
from ...bios.triage import EXTRACTED_KINDS
from ...errors import MissingFileError
from ...keys import normalise_slug
from ...workspace import Workspace
from ..offline import extract_page
from ..schema import Demographics, LLMOutcome
from ..workspace_io import COLUMNS, flat_row
from .answer import ArtistAnswer, response_format, schema_hash
from .cache import AnswerCache, cache_key
from .client import LLMClient, LLMSettings
from .costs import ESTIMATED_COMPLETION_TOKENS, RunCost, call_cost, estimate_tokens, price_for
from .merge import merge_answer
from .prompts import DEFAULT_MAX_INPUT_CHARS, PROMPT_VERSION, build_messages, page_input_text, repair_messages, text_hash
from .replies import REPAIRABLE, TRANSIENT, USABLE, ReplyReading, read_reply

logger = logging.getLogger(__name__)

LLM_DIR = "demographics/llm"
LLM_JSON_DIR = f"{LLM_DIR}/json"
LLM_TABLE = f"{LLM_DIR}/demographics.parquet"
LLM_RUN = f"{LLM_DIR}/run.json"
LLM_COLUMNS = [*COLUMNS, "llm_status", "llm_refusal", "llm_quotes_dropped", "prompt_tokens", "completion_tokens", "cost_usd"]


@dataclass
class PageJob:
    """One biography to send: its offline record, input text and cache key."""

    artist_key: str
    record: Demographics
    input_text: str
    key: str
    estimated_tokens: int


class CallResult(BaseModel):
    """The outcome of the calls for one page (the first call and at most one repair); this is what is cached."""

    status: str
    answer: dict[str, Any] | None = None
    refusal: str | None = None
    detail: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0


class LLMExtractSummary(BaseModel):
    """Counts, tokens and cost of one :func:`extract_llm` run."""

    extracted: int = 0
    sent: int = 0
    cached: int = 0
    statuses: dict[str, int] = Field(default_factory=dict)
    quotes_dropped: int = 0
    cost: RunCost = Field(default_factory=RunCost)
    dry_run: bool = False
    batch: bool = False
    table_path: str | None = None


def request_body(settings: LLMSettings, messages: list[dict[str, str]]) -> dict[str, Any]:
    """Return the chat completion request body: strict JSON-schema output, temperature 0."""
    return {
        "model": settings.model,
        "messages": messages,
        "temperature": 0,
        "max_completion_tokens": settings.max_completion_tokens,
        "response_format": response_format(),
    }


def prepare_jobs(
    workspace: Workspace, *, artists: Iterable[str] | None = None, max_input_chars: int = DEFAULT_MAX_INPUT_CHARS,
    model: str,
) -> tuple[list[Demographics], list[PageJob]]:
    """Extract every imported page offline and build the LLM job of each biography."""
    names = sorted(n for n in workspace.storage.listdir(HTML_DIR) if n.endswith(".html"))
    if not names:
        raise MissingFileError(
            f"no pages in {workspace.url}/{HTML_DIR}; run 'd2a bios import SOURCE -w {workspace.url}' first"
        )
    wanted = None if artists is None else {normalise_slug(a) for a in artists}
    records, jobs = [], []
    digest = schema_hash()
    for name in names:
        artist_key = name[: -len(".html")]
        if wanted is not None and artist_key not in wanted:
            continue
        html = workspace.storage.read_bytes(f"{HTML_DIR}/{name}")
        record = extract_page(html, artist_key=artist_key)
        records.append(record)
        if record.page_kind not in {kind.value for kind in EXTRACTED_KINDS}:
            continue
        text = page_input_text(html, max_chars=max_input_chars)
        key = cache_key(model, PROMPT_VERSION, digest, text_hash(text))
        jobs.append(PageJob(artist_key, record, text, key, estimate_tokens(build_messages(text))))
    return records, jobs


def _add_usage(result: CallResult, reading: ReplyReading, estimated_tokens: int) -> None:
    result.calls += 1
    result.prompt_tokens += reading.prompt_tokens if reading.prompt_tokens is not None else estimated_tokens
    result.completion_tokens += reading.completion_tokens or 0


async def repair_once(client: LLMClient, job: PageJob, result: CallResult, reading: ReplyReading) -> None:
    """Send the one repair request for an invalid reply and update ``result`` with its outcome."""
    messages = repair_messages(job.input_text, reading.content or "", reading.detail or "invalid reply")
    estimated = estimate_tokens(messages)
    http = await client.chat(request_body(client.settings, messages), estimated)
    if http.payload is None:
        result.detail = f"{result.detail}; repair call failed: {http.status} {http.detail}"
        return
    second = read_reply(http.payload)
    _add_usage(result, second, estimated)
    if second.status in USABLE:
        result.status, result.answer, result.detail = "llm_repaired", second.answer.model_dump(), None
    else:
        result.detail = f"{result.detail}; repair attempt: {second.status} {second.detail or ''}".strip()


def result_from_reading(reading: ReplyReading) -> CallResult:
    """Return the call result of a first reply, before any repair."""
    return CallResult(
        status=reading.status,
        answer=reading.answer.model_dump() if reading.answer is not None else None,
        refusal=reading.refusal,
        detail=reading.detail,
    )


async def call_page(client: LLMClient, job: PageJob) -> CallResult:
    """Call the model for one page, repair an invalid reply once, and return the result."""
    http = await client.chat(request_body(client.settings, build_messages(job.input_text)), job.estimated_tokens)
    if http.payload is None:
        return CallResult(status=http.status or "llm_http_error", detail=http.detail, calls=http.attempts)
    reading = read_reply(http.payload)
    result = result_from_reading(reading)
    _add_usage(result, reading, job.estimated_tokens)
    if reading.status in REPAIRABLE:
        await repair_once(client, job, result, reading)
    return result


async def _run_calls(jobs: list[PageJob], settings: LLMSettings, cache: AnswerCache, transport) -> dict[str, CallResult]:
    results: dict[str, CallResult] = {}
    async with LLMClient(settings, transport=transport) as client:

        async def one(job: PageJob) -> None:
            result = await call_page(client, job)
            results[job.artist_key] = result
            if result.status not in TRANSIENT:
                cache.put(job.key, result.model_dump())

        tasks = [asyncio.create_task(one(job)) for job in jobs]
        if tasks:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()
    return results


def _outcome(result: CallResult, model: str, cached: bool, prices, batch: bool) -> LLMOutcome:
    cost = call_cost(model, result.prompt_tokens, result.completion_tokens, prices=prices, batch=batch)
    return LLMOutcome(
        status=result.status, model=model, refusal=result.refusal, detail=result.detail,
        prompt_tokens=0 if cached else result.prompt_tokens,
        completion_tokens=0 if cached else result.completion_tokens,
        cost_usd=0.0 if cached else cost, cached=cached,
    )


def finish_record(job: PageJob, result: CallResult, outcome: LLMOutcome) -> Demographics:
    """Return the record of one page: the offline record with a usable answer merged, or unchanged with the outcome."""
    if result.status in USABLE and result.answer is not None:
        return merge_answer(job.record, ArtistAnswer.model_validate(result.answer), job.input_text, outcome)
    record = job.record.model_copy(deep=True)
    record.llm = outcome
    return record


def dry_run_cost(jobs: list[PageJob], model: str, prices=None, batch: bool = False) -> RunCost:
    """Return the estimated tokens and cost of sending ``jobs`` (estimate: see :mod:`.costs`)."""
    cost = RunCost(estimated=True, priced=price_for(model, prices) is not None)
    for job in jobs:
        cost.add(job.estimated_tokens, ESTIMATED_COMPLETION_TOKENS,
                 call_cost(model, job.estimated_tokens, ESTIMATED_COMPLETION_TOKENS, prices=prices, batch=batch))
    return cost


def extract_llm(
    workspace: Workspace,
    *,
    base_url: str,
    model: str,
    api_key: str | None = None,
    artists: Iterable[str] | None = None,
    concurrency: int = 64,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    timeout_s: float = 60.0,
    max_retries: int = 3,
    dry_run: bool = False,
    batch: bool = False,
    prices: dict[str, tuple[float, float]] | None = None,
    max_input_chars: int = DEFAULT_MAX_INPUT_CHARS,
    poll_interval_s: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LLMExtractSummary:
    """Extract demographics with an OpenAI-compatible LLM, the offline values kept as fallback.

    ``base_url`` has no default on purpose (OpenAI's is ``https://api.openai.com/v1``). With
    ``dry_run`` nothing is sent or written: the summary holds the estimated tokens and cost of
    the pages not yet cached. With ``batch`` the uncached pages go through the provider's batch
    API (see :mod:`.batch`). Raises :class:`~.client.LLMQuotaError` when the quota is used up and
    :class:`~.client.LLMAuthError` when the key is rejected; every other failure is a row status.
    """
    settings = LLMSettings(
        base_url=base_url, model=model, api_key=api_key, concurrency=concurrency,
        requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute,
        timeout_s=timeout_s, max_retries=max_retries,
    )
    records, jobs = prepare_jobs(workspace, artists=artists, max_input_chars=max_input_chars, model=model)
    cache = AnswerCache(workspace)
    cached = {job.artist_key: CallResult.model_validate(hit) for job in jobs if (hit := cache.get(job.key)) is not None}
    to_send = [job for job in jobs if job.artist_key not in cached]
    summary = LLMExtractSummary(dry_run=dry_run, batch=batch, cached=len(cached), sent=0 if dry_run else len(to_send))
    logger.info("LLM extraction: %d pages, %d biographies, %d cached, %d to send (%s)",
                len(records), len(jobs), len(cached), len(to_send), settings.public())
    if dry_run:
        summary.cost = dry_run_cost(to_send, model, prices, batch)
        summary.cost.cached = len(cached)
        return summary

    if batch:
        from .batch import run_batch

        fresh = asyncio.run(run_batch(to_send, settings, cache, transport=transport, poll_interval_s=poll_interval_s))
    else:
        fresh = asyncio.run(_run_calls(to_send, settings, cache, transport))
    return write_run(workspace, records, jobs, cached, fresh, settings, prices, summary)


def write_run(
    workspace: Workspace, records: list[Demographics], jobs: list[PageJob], cached: dict[str, CallResult],
    fresh: dict[str, CallResult], settings: LLMSettings, prices, summary: LLMExtractSummary,
) -> LLMExtractSummary:
    """Merge the results into the records and write the JSON records, the table and ``run.json``."""
    import pandas as pd

    by_key = {job.artist_key: job for job in jobs}
    summary.cost.priced = price_for(settings.model, prices) is not None
    summary.cost.cached = len(cached)
    rows = []
    for record in records:
        job = by_key.get(record.artist_key)
        if job is None:
            record = record.model_copy(deep=True)
            record.llm = LLMOutcome(status="llm_skipped", detail=f"page kind {record.page_kind}")
        else:
            is_cached = job.artist_key in cached
            result = cached.get(job.artist_key) or fresh.get(job.artist_key) or CallResult(status="llm_not_run")
            outcome = _outcome(result, settings.model, is_cached, prices, summary.batch)
            if not is_cached:
                summary.cost.add(outcome.prompt_tokens, outcome.completion_tokens, outcome.cost_usd)
            record = finish_record(job, result, outcome)
            summary.quotes_dropped += len(record.llm.quotes_dropped)
        workspace.storage.write_json(f"{LLM_JSON_DIR}/{record.artist_key}.json", record.model_dump(mode="json"))
        row = flat_row(record)
        row.update(
            llm_status=record.llm.status, llm_refusal=record.llm.refusal,
            llm_quotes_dropped=list(record.llm.quotes_dropped), prompt_tokens=record.llm.prompt_tokens,
            completion_tokens=record.llm.completion_tokens, cost_usd=record.llm.cost_usd,
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=LLM_COLUMNS)
    for column in ("birth_year", "death_year"):
        frame[column] = frame[column].astype("Int64")
    workspace.storage.write_parquet(LLM_TABLE, frame)
    summary.extracted = len(rows)
    summary.statuses = dict(Counter(row["llm_status"] for row in rows))
    summary.table_path = LLM_TABLE
    workspace.storage.write_json(LLM_RUN, {"settings": settings.public(), "summary": summary.model_dump(mode="json")})
    workspace.record_settings("demographics_llm", {**settings.public(), "batch": summary.batch})
    logger.info("LLM extraction wrote %d records: %s; cost %.4f USD", len(rows), summary.statuses, summary.cost.cost_usd)
    return summary
