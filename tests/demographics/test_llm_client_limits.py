"""LLMClient over real HTTP to the test server on 127.0.0.1: Retry-After forms and cap, 401/403, rate limits."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import sys
import time
from pathlib import Path

import httpx
import pytest

from demographic2art.cli.main import main
from demographic2art.demographics.llm.client import (
    MAX_RETRY_AFTER_S,
    LLMAuthError,
    LLMClient,
    LLMSettings,
    retry_after_seconds,
)

sys.path.insert(0, str(Path(__file__).parent))
from llm_server import LLMTestServer, Reply, answer_json, completion  # noqa: E402
from test_llm_extract import ARTISTS, make_workspace  # noqa: E402

SECRET = "sk-test-never-printed-7f3a"
RATE_LIMITED = {"error": {"message": "slow down", "code": "rate_limit_exceeded"}}


def body(marker: str) -> dict:
    return {"model": "test-model", "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": marker}]}


async def _chat_all(settings: LLMSettings, markers: list[str], estimated_tokens: int = 0):
    async with LLMClient(settings) as client:
        return await asyncio.gather(*(client.chat(body(m), estimated_tokens) for m in markers))


def chat_all(server: LLMTestServer, markers: list[str], estimated_tokens: int = 0, **options):
    settings = dict(base_url=server.base_url, model="test-model", api_key=SECRET, max_retries=1, timeout_s=10)
    settings.update(options)
    return asyncio.run(_chat_all(LLMSettings(**settings), markers, estimated_tokens))


def test_retry_after_seconds_forms():
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert 28.0 <= retry_after_seconds(httpx.Headers({"Retry-After": date})) <= 30.0
    assert retry_after_seconds(httpx.Headers({"Retry-After": email.utils.formatdate(now - 60, usegmt=True)})) == 0.0
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None


def test_retry_after_seconds_waits():
    limited = Reply(status=429, headers={"Retry-After": "1"}, body=RATE_LIMITED)
    with LLMTestServer() as server:
        server.queue("only", limited, completion(answer_json()))
        (outcome,) = chat_all(server, ["only"])
        times = server.chat_request_times()
    assert outcome.payload is not None
    assert outcome.attempts == 2
    assert len(times) == 2
    gap = times[1] - times[0]
    assert gap >= 0.95
    assert gap < 3 * 1.0


def test_retry_after_http_date_waits():
    with LLMTestServer() as server:
        # An HTTP date has one-second resolution, so 'now + 3 s' requests a wait of 2 to 3 s minus
        # the time the request takes; 1 s is above the 0.5 s back-off used when no wait is given.
        date = email.utils.formatdate(time.time() + 3, usegmt=True)
        server.queue("only", Reply(status=429, headers={"Retry-After": date}, body=RATE_LIMITED), completion(answer_json()))
        (outcome,) = chat_all(server, ["only"])
        times = server.chat_request_times()
    assert outcome.payload is not None
    assert len(times) == 2
    gap = times[1] - times[0]
    assert gap >= 1.0
    assert gap < 3 * 3.0


def test_retry_after_beyond_cap_fails_at_once():
    beyond = str(int(MAX_RETRY_AFTER_S * 10))
    with LLMTestServer() as server:
        server.queue("only", Reply(status=429, headers={"Retry-After": beyond}, body=RATE_LIMITED), completion(answer_json()))
        started = time.monotonic()
        (outcome,) = chat_all(server, ["only"], max_retries=3)
        elapsed = time.monotonic() - started
        sent = len(server.chat_request_times())
    assert outcome.status == "llm_rate_limited"
    assert "exceeds" in outcome.detail
    assert sent == 1
    assert elapsed < 3 * 1.0  # no wait at all; 1 s is the budget of one local request here


def test_retry_after_beyond_cap_not_cached(tmp_path):
    from demographic2art.demographics.llm import extract_llm

    workspace = make_workspace(tmp_path / "ws", {"greta-wohlfahrt": ARTISTS["greta-wohlfahrt"]})
    beyond = Reply(status=429, headers={"Retry-After": "86400"}, body=RATE_LIMITED)
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", beyond)
        first = extract_llm(workspace, base_url=server.base_url, model="test-model", max_retries=2)
        second = extract_llm(workspace, base_url=server.base_url, model="test-model", max_retries=2)
    assert first.statuses == {"llm_rate_limited": 1}
    assert second.sent == 1
    assert second.statuses == {"llm_ok": 1}


@pytest.mark.parametrize("status", [401, 403])
def test_auth_error_raises_without_key(status, caplog):
    rejected = Reply(status=status, body={"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})
    caplog.set_level(logging.DEBUG)
    with LLMTestServer(responder=lambda request: rejected) as server:
        with pytest.raises(LLMAuthError) as raised:
            chat_all(server, ["a", "b"], max_retries=3)
        sent = len(server.chat_request_times())
        headers = server.headers[0]
    message = str(raised.value)
    assert f"HTTP {status}" in message
    assert "rejected the API key" in message
    assert SECRET not in message
    assert SECRET not in caplog.text
    assert headers["Authorization"] == f"Bearer {SECRET}"
    assert sent <= 2  # no retries: at most the two calls already in flight


@pytest.mark.parametrize("status", [401, 403])
def test_auth_error_cli_one_line(status, tmp_path, capsys, monkeypatch):
    workspace = make_workspace(tmp_path / "ws", {"greta-wohlfahrt": ARTISTS["greta-wohlfahrt"]})
    monkeypatch.setenv("D2A_TEST_KEY", SECRET)
    rejected = Reply(status=status, body={"error": {"message": "Incorrect API key provided"}})
    with LLMTestServer(responder=lambda request: rejected) as server:
        code = main(["demographics", "extract", "-w", str(workspace.url), "--extractor", "llm", "--base-url",
                     server.base_url, "--model", "test-model", "--api-key-env", "D2A_TEST_KEY"])
    captured = capsys.readouterr()
    assert code == 2
    assert "rejected the API key" in captured.err + captured.out
    assert SECRET not in captured.err + captured.out


def _assert_spaced_after_burst(times: list[float], burst: int, spacing_s: float) -> None:
    """Assert that the requests beyond the first ``burst`` took about ``spacing_s`` each (3x margin above).

    The bucket contains one minute's allowance at the start, so ``burst`` requests pass at once and each
    later one waits for its refill. Single gaps are not checked because arrival jitter on a loaded
    machine can shorten one gap while lengthening the next.
    """
    times = sorted(times)
    extra = len(times) - burst
    span = times[-1] - times[0]
    assert span >= 0.7 * extra * spacing_s
    assert span < 3 * extra * spacing_s + 3.0  # 3 s covers sending the burst itself on a loaded machine


def test_requests_per_minute_limit_spaces_requests():
    # 120 requests per minute: a full bucket of 120, then one request every 0.5 s.
    with LLMTestServer() as server:
        outcomes = chat_all(server, [f"r{i}" for i in range(124)], requests_per_minute=120, concurrency=128)
        times = server.chat_request_times()
    assert all(o.payload is not None for o in outcomes)
    assert len(times) == 124
    _assert_spaced_after_burst(times, burst=120, spacing_s=0.5)


def test_tokens_per_minute_limit_spaces_requests():
    # Each call reserves 40 estimated + 60 completion tokens = 100; 12,000 per minute is a bucket of
    # 120 calls, then one call every 0.5 s.
    with LLMTestServer() as server:
        outcomes = chat_all(server, [f"t{i}" for i in range(124)], estimated_tokens=40, tokens_per_minute=12_000,
                            max_completion_tokens=60, concurrency=128)
        times = server.chat_request_times()
    assert all(o.payload is not None for o in outcomes)
    assert len(times) == 124
    _assert_spaced_after_burst(times, burst=120, spacing_s=0.5)
