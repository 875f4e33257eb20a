"""Extraction through the provider's batch API (OpenAI's ``/v1/files`` and ``/v1/batches``).

Steps: build one JSONL line per page (``custom_id`` is the artist key), upload it with purpose
``batch``, create the batch, poll it until it ends, download the output and error files and
match their lines to pages by ``custom_id``. A page with no line in either file gets
``llm_batch_missing``; a page whose line carries an error gets ``llm_http_error``. Invalid
answers get their one repair attempt as an ordinary call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx

from .cache import AnswerCache
from .client import LLMClient, LLMSettings
from .prompts import build_messages
from .replies import REPAIRABLE, TRANSIENT, read_reply

logger = logging.getLogger(__name__)

BATCH_ENDPOINT = "/v1/chat/completions"
FINAL_STATES = frozenset({"completed", "failed", "expired", "cancelled"})
MAX_POLL_S = 24 * 3600.0
"""Longest wait for a batch: OpenAI's completion window is 24 hours."""


def build_batch_lines(jobs, settings: LLMSettings) -> bytes:
    """Return the JSONL input file of a batch: one chat completion request per job."""
    from .extract import request_body

    lines = [
        json.dumps(
            {"custom_id": job.artist_key, "method": "POST", "url": BATCH_ENDPOINT,
             "body": request_body(settings, build_messages(job.input_text))},
            ensure_ascii=False,
        )
        for job in jobs
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _json_lines(data: bytes) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("batch result line %d is not JSON; ignored", number)
            continue
        if isinstance(value, dict):
            rows.append(value)
    return rows


async def _checked(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise BatchError(f"{what} failed with HTTP {response.status_code}: {response.text[:200]}")
    return response.json()


class BatchError(RuntimeError):
    """Raised when the batch as a whole cannot be submitted or collected."""


async def run_batch(jobs, settings: LLMSettings, cache: AnswerCache, *, transport=None, poll_interval_s: float = 10.0):
    """Submit ``jobs`` as one batch, wait for it, and return ``{artist_key: CallResult}``.

    A batch that cannot be submitted, or that ends ``failed``, ``expired`` or ``cancelled``,
    leaves every page with ``llm_batch_failed`` and the batch's reason; the run goes on.
    """
    from .extract import CallResult, _add_usage, repair_once, result_from_reading

    if not jobs:
        return {}
    results: dict[str, CallResult] = {}
    async with LLMClient(settings, transport=transport) as client:
        try:
            output, errors = await _submit_and_collect(client, build_batch_lines(jobs, settings), poll_interval_s)
        except (BatchError, httpx.HTTPError, ValueError) as error:
            logger.warning("batch failed: %s", error)
            return {job.artist_key: CallResult(status="llm_batch_failed", detail=str(error)) for job in jobs}
        lines = {row.get("custom_id"): row for row in [*errors, *output]}
        for job in jobs:
            row = lines.get(job.artist_key)
            if row is None:
                results[job.artist_key] = CallResult(status="llm_batch_missing", detail="no line in the batch output or error file")
                continue
            response = row.get("response") if isinstance(row.get("response"), dict) else {}
            body = response.get("body")
            if row.get("error") or response.get("status_code") != 200 or not isinstance(body, dict):
                detail = row.get("error") or {"status_code": response.get("status_code"), "body": body}
                results[job.artist_key] = CallResult(status="llm_http_error", detail=json.dumps(detail)[:300], calls=1)
                continue
            reading = read_reply(body)
            result = result_from_reading(reading)
            _add_usage(result, reading, job.estimated_tokens)
            if reading.status in REPAIRABLE:
                await repair_once(client, job, result, reading)
            results[job.artist_key] = result
    for job in jobs:
        if results[job.artist_key].status not in TRANSIENT | {"llm_batch_missing", "llm_batch_failed"}:
            cache.put(job.key, results[job.artist_key].model_dump())
    return results


async def _submit_and_collect(client: LLMClient, data: bytes, poll_interval_s: float):
    http = client.http
    uploaded = await _checked(
        await http.post("/files", data={"purpose": "batch"}, files={"file": ("batch.jsonl", data, "application/jsonl")}),
        "uploading the batch input file",
    )
    batch = await _checked(
        await http.post("/batches", json={"input_file_id": uploaded["id"], "endpoint": BATCH_ENDPOINT,
                                          "completion_window": "24h"}),
        "creating the batch",
    )
    logger.info("batch %s created from file %s", batch.get("id"), uploaded.get("id"))
    started = time.monotonic()
    while batch.get("status") not in FINAL_STATES:
        if time.monotonic() - started > MAX_POLL_S:
            raise BatchError(f"batch {batch.get('id')} did not finish within {MAX_POLL_S:g} s")
        await asyncio.sleep(poll_interval_s)
        batch = await _checked(await http.get(f"/batches/{batch['id']}"), "polling the batch")
    if batch["status"] != "completed":
        raise BatchError(f"batch {batch.get('id')} ended {batch['status']}: {json.dumps(batch.get('errors'))[:200]}")
    output: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for name, target in (("output_file_id", output), ("error_file_id", errors)):
        if batch.get(name):
            response = await http.get(f"/files/{batch[name]}/content")
            if response.status_code >= 400:
                raise BatchError(f"downloading {name} failed with HTTP {response.status_code}")
            target.extend(_json_lines(response.content))
    logger.info("batch %s completed: %d output lines, %d error lines", batch.get("id"), len(output), len(errors))
    return output, errors
