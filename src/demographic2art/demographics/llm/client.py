"""Asynchronous calls to an OpenAI-compatible chat completions endpoint.

One :class:`LLMClient` holds an ``httpx.AsyncClient``, a concurrency limit, and request and token
rate limits. Transient failures (429 with ``Retry-After``, 5xx, timeouts, connection errors) are
retried a bounded number of times; a quota error (429 with code ``insufficient_quota``) and an
authentication error (401, 403) raise at once, because every later call would fail the same way.
Every other outcome is returned as a named status, never raised.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from ...errors import InvalidValueError, UserError

logger = logging.getLogger(__name__)

POOL_SIZE = 8
MAX_RETRY_AFTER_S = 120.0
"""Longest ``Retry-After`` that is waited for; a longer one ends the call as ``llm_rate_limited``."""


class LLMQuotaError(UserError):
    """Raised when the provider reports that the account's quota or credit is used up."""


class LLMAuthError(UserError):
    """Raised when the provider rejects the API key (HTTP 401 or 403)."""


@dataclass
class LLMSettings:
    """Where and how to call the model. ``api_key`` is never logged or written (``repr`` hides it)."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    concurrency: int = 64
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    timeout_s: float = 60.0
    max_retries: int = 3
    max_completion_tokens: int = 600

    def __post_init__(self) -> None:
        if not self.base_url or not self.base_url.startswith(("http://", "https://")):
            raise InvalidValueError(
                f"invalid base URL {self.base_url!r}; pass --base-url with the endpoint's URL, "
                "e.g. https://api.openai.com/v1 for OpenAI or http://127.0.0.1:8000/v1 for a local server"
            )
        if not self.model:
            raise InvalidValueError("no model given; pass --model with the model name, e.g. gpt-4o-mini")
        if self.concurrency < 1:
            raise InvalidValueError(f"invalid concurrency {self.concurrency}; give at least 1")
        if self.timeout_s <= 0:
            raise InvalidValueError(f"invalid timeout {self.timeout_s}; give a number of seconds above 0")
        self.base_url = self.base_url.rstrip("/")

    def public(self) -> dict[str, Any]:
        """Return the settings without the API key, for logs and the run record."""
        return {
            "base_url": self.base_url, "model": self.model, "concurrency": self.concurrency,
            "requests_per_minute": self.requests_per_minute, "tokens_per_minute": self.tokens_per_minute,
            "timeout_s": self.timeout_s, "max_retries": self.max_retries,
            "max_completion_tokens": self.max_completion_tokens,
        }


class RateLimiter:
    """A token bucket refilled continuously at ``per_minute / 60`` units per second.

    The bucket starts full, so up to ``per_minute`` units pass at once, then the rate holds.
    A request for more than the whole bucket waits for a full bucket and takes it all.
    """

    def __init__(self, per_minute: int | None) -> None:
        self.capacity = float(per_minute) if per_minute else None
        self.available = self.capacity or 0.0
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait until ``amount`` units are available, then take them."""
        if self.capacity is None:
            return
        amount = min(amount, self.capacity)
        rate = self.capacity / 60.0
        async with self.lock:
            while True:
                now = time.monotonic()
                self.available = min(self.capacity, self.available + (now - self.updated) * rate)
                self.updated = now
                if self.available >= amount:
                    self.available -= amount
                    return
                await asyncio.sleep((amount - self.available) / rate)


@dataclass
class HTTPOutcome:
    """The JSON body of a successful call, or the status and detail of a failed one."""

    payload: dict[str, Any] | None = None
    status: str | None = None
    detail: str | None = None
    attempts: int = 0


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Return the wait a response asks for (``retry-after-ms``, ``Retry-After`` seconds or date), or None."""
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        # Neither seconds nor an HTTP date: the caller backs off as for a 5xx.
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None, response.text[:200]
    if not isinstance(error, dict):
        return None, str(error)[:200]
    return error.get("code") or error.get("type"), str(error.get("message") or "")[:200]


class LLMClient:
    """Send chat completion requests with the limits of :class:`LLMSettings`; use as an async context manager."""

    def __init__(self, settings: LLMSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        headers = {}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        # httpcore's pool matches every queued request against every connection, which costs
        # O(requests x connections) per event. Pools of at most POOL_SIZE connections, each fed
        # by its own slots, keep that small at concurrency 64 and above.
        pool_count = -(-settings.concurrency // POOL_SIZE)
        self.pools = []
        for index in range(pool_count):
            size = len(range(index, settings.concurrency, pool_count))
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
            self.pools.append(httpx.AsyncClient(
                base_url=settings.base_url, headers=headers, timeout=settings.timeout_s, limits=limits, transport=transport
            ))
        self.http = self.pools[0]
        self.slots: asyncio.Queue[int] = asyncio.Queue()
        for slot in range(settings.concurrency):
            self.slots.put_nowait(slot % pool_count)
        self.requests = RateLimiter(settings.requests_per_minute)
        self.tokens = RateLimiter(settings.tokens_per_minute)
        self.paused_until = 0.0

    async def __aenter__(self) -> "LLMClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for pool in self.pools:
            await pool.aclose()

    async def _wait_for_pause(self) -> None:
        delay = self.paused_until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def chat(self, body: dict[str, Any], estimated_tokens: int) -> HTTPOutcome:
        """POST ``body`` to ``/chat/completions`` and return its JSON or a named failure status.

        A 429 waits for its ``Retry-After`` (and pauses every other call of this client as long),
        a 5xx, a timeout or a connection error waits 0.5 s, 1 s, 2 s ... between at most
        ``max_retries`` retries. Raises :class:`LLMQuotaError` and :class:`LLMAuthError`.
        """
        outcome = HTTPOutcome()
        for attempt in range(self.settings.max_retries + 1):
            outcome.attempts = attempt + 1
            await self._wait_for_pause()
            await self.requests.acquire(1)
            await self.tokens.acquire(estimated_tokens + self.settings.max_completion_tokens)
            wait: float | None = None
            pool = await self.slots.get()
            try:
                try:
                    response = await self.pools[pool].post("/chat/completions", json=body)
                except httpx.TimeoutException as error:
                    outcome.status, outcome.detail = "llm_timeout", f"no reply within {self.settings.timeout_s:g} s ({type(error).__name__})"
                except httpx.TransportError as error:
                    outcome.status, outcome.detail = "llm_connection_error", f"{type(error).__name__}: {error}"
                else:
                    result = self._read_response(response)
                    if result is not None:
                        result.attempts = attempt + 1
                        return result
                    _, message = _error_fields(response)
                    outcome.detail = f"HTTP {response.status_code}: {message}"
                    if response.status_code == 429:
                        outcome.status = "llm_rate_limited"
                        wait = retry_after_seconds(response.headers)
                        if wait is not None and wait > MAX_RETRY_AFTER_S:
                            outcome.detail += f" (Retry-After {wait:g} s exceeds {MAX_RETRY_AFTER_S:g} s)"
                            return outcome
                        if wait is not None:
                            self.paused_until = max(self.paused_until, time.monotonic() + wait)
                    else:
                        outcome.status = "llm_http_error"
            finally:
                self.slots.put_nowait(pool)
            if attempt < self.settings.max_retries:
                delay = wait if wait is not None else 0.5 * 2**attempt
                logger.info("retrying after %s (attempt %d): waiting %.1f s", outcome.status, attempt + 1, delay)
                await asyncio.sleep(delay)
        logger.warning("call failed after %d attempts: %s %s", outcome.attempts, outcome.status, outcome.detail)
        return outcome

    def _read_response(self, response: httpx.Response) -> HTTPOutcome | None:
        """Return the final outcome of a response, or None when it should be retried."""
        if response.status_code == 200:
            try:
                payload = response.json()
            except ValueError:
                return HTTPOutcome(status="llm_invalid_json", detail="the HTTP body is not JSON")
            if not isinstance(payload, dict):
                return HTTPOutcome(status="llm_empty", detail="the HTTP body is not a JSON object")
            return HTTPOutcome(payload=payload)
        code, message = _error_fields(response)
        if response.status_code == 429 and code == "insufficient_quota":
            raise LLMQuotaError(
                f"the provider at {self.settings.base_url} reports the quota is used up ({message}); "
                "add credit or raise the limit, then rerun (finished answers are cached)"
            )
        if response.status_code in (401, 403):
            raise LLMAuthError(
                f"the provider at {self.settings.base_url} rejected the API key (HTTP {response.status_code}: {message}); "
                "set OPENAI_API_KEY or the variable named by --api-key-env to a valid key"
            )
        if response.status_code == 429 or response.status_code >= 500 or response.status_code == 408:
            return None
        return HTTPOutcome(status="llm_http_error", detail=f"HTTP {response.status_code}: {message}")
