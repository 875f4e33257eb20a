"""HTTP fetching of one image URL: redirects, retries, Retry-After, deadlines and byte caps.

One :class:`AsyncFetcher` shares a pooled async HTTP transport (aiohttp, or httpx
where aiohttp is missing) between the requests of one event loop. Each attempt (all its redirect hops, headers and body)
has one overall deadline of ``timeout_s``, so a server that trickles bytes ends with
``failed/timeout``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .client import Reply, TransportError
from .robots import RobotsCache, x_robots_forbids
from .urls import url_host, url_origin

logger = logging.getLogger(__name__)

REDIRECT_CODES = {301, 302, 303, 307, 308}
OVERLOAD_CODES = {429, 503}


@dataclass
class FetchConfig:
    """Settings of the HTTP client; times are seconds, sizes are bytes."""

    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 10.0
    max_bytes: int = 50 * 1024 * 1024
    retries: int = 3
    retry_after_cap_s: float = 60.0
    backoff_base_s: float = 0.5
    max_redirects: int = 10
    rate_limit_per_host: float | None = None
    rate_burst: int = 1
    per_host: int = 8
    deadline_s: float = 120.0
    user_agent: str = "demographic2art"
    respect_robots: bool = True


@dataclass
class FetchResult:
    """Outcome of fetching one URL; ``retry_at`` (time.monotonic) is set for a deferred request."""

    status: str
    reason: str | None = None
    http_status: int | None = None
    final_url: str | None = None
    body: bytes | None = None
    detail: str | None = None
    retry_at: float | None = None
    attempts: int = 0
    transient: bool = False
    retry_after_s: float | None = field(default=None, repr=False)

    @property
    def deferred(self) -> bool:
        return self.retry_at is not None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the wait in seconds named by a ``Retry-After`` value, or None when invalid.

    Accepts delay-seconds and the three HTTP-date forms of RFC 9110 (IMF-fixdate,
    RFC 850 and asctime). A date in the past gives 0.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    parsed = email.utils.parsedate_tz(text)
    if parsed is None:
        return None
    try:
        instant = email.utils.mktime_tz(parsed)
    except (OverflowError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, instant - current)


def format_http_date(epoch_s: float) -> str:
    """Return ``epoch_s`` as an IMF-fixdate such as ``Tue, 03 Dec 2024 10:15:07 GMT``."""
    return email.utils.format_datetime(datetime.fromtimestamp(epoch_s, timezone.utc), usegmt=True)


class HostGate:
    """Per-host concurrency limit, token-bucket rate limit and Retry-After pause.

    The rate limit is a token bucket of ``burst`` tokens refilled at ``rate_per_s``,
    kept as the generic cell rate algorithm: one theoretical arrival time per host.
    """

    def __init__(self, per_host: int, rate_per_s: float | None, burst: int = 1) -> None:
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._next_allowed: dict[str, float] = {}
        self._arrival: dict[str, float] = {}
        self._per_host = per_host
        self._interval = 1.0 / rate_per_s if rate_per_s else 0.0
        self._tolerance = self._interval * max(0, int(burst) - 1)

    def semaphore(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.BoundedSemaphore(self._per_host)
            return self._semaphores[host]

    def pause(self, host: str, until: float) -> None:
        """Hold every request to ``host`` until the monotonic time ``until``."""
        with self._lock:
            self._next_allowed[host] = max(self._next_allowed.get(host, 0.0), until)

    def reserve(self, host: str, cap_s: float) -> float | None:
        """Return the monotonic time at which a request to ``host`` may start.

        Returns None, reserving nothing, when that time is more than ``cap_s`` ahead.
        """
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_allowed.get(host, 0.0))
            if self._interval:
                arrival = max(self._arrival.get(host, 0.0), start)
                start = max(start, arrival - self._tolerance)
            if start - now > cap_s:
                return None
            if self._interval:
                self._arrival[host] = max(self._arrival.get(host, 0.0), start) + self._interval
            return start

    def next_allowed(self, host: str) -> float:
        with self._lock:
            return self._next_allowed.get(host, 0.0)


class AsyncFetcher:
    """Fetches image URLs through one shared transport; many calls run at once on one event loop.

    ``transport`` is an :class:`~demographic2art.images.client.AiohttpTransport` or
    :class:`~demographic2art.images.httpx_transport.HttpxTransport` (an ``httpx.AsyncClient`` is
    wrapped in the latter), so the rules below are written once for both clients.

    Per-host connection limits use one ``asyncio.Semaphore`` per host; the rate limit
    and Retry-After pauses use :class:`HostGate`. Waits (rate limit, Retry-After within
    the cap, backoff) are ``asyncio.sleep``, so a waiting URL occupies no thread.
    """

    def __init__(self, transport, config: FetchConfig, *,
                 on_pause: Callable[[str, float], None] | None = None) -> None:
        httpx = sys.modules.get("httpx")
        if httpx is not None and isinstance(transport, httpx.AsyncClient):
            from .httpx_transport import HttpxTransport

            transport = HttpxTransport(transport)
        self.transport = transport
        self.config = config
        self.on_pause = on_pause
        self.gate = HostGate(config.per_host, config.rate_limit_per_host, config.rate_burst)
        self.robots = RobotsCache(transport, config.user_agent, timeout_s=min(config.timeout_s, 10.0))
        self._slots: dict[str, asyncio.Semaphore] = {}

    def _slot(self, host: str) -> asyncio.Semaphore:
        slot = self._slots.get(host)
        if slot is None:
            slot = self._slots[host] = asyncio.Semaphore(self.config.per_host)
        return slot

    async def fetch(self, url: str) -> FetchResult:
        """Fetch ``url`` with retries; returns a deferred result when a wait exceeds the cap."""
        config = self.config
        # Limits apply per origin host and port, so two local test servers count apart.
        host = url_host(url)
        attempts = 0
        image_deadline = time.monotonic() + config.deadline_s
        while True:
            if time.monotonic() >= image_deadline:
                return FetchResult(status="failed", reason="deadline", final_url=url, attempts=attempts, transient=True,
                                   detail=f"the image was not fetched within its overall {config.deadline_s} s deadline")
            start = self.gate.reserve(host, config.retry_after_cap_s)
            if start is None:
                return FetchResult(
                    status="rate_limited",
                    reason="retry_after",
                    retry_at=self.gate.next_allowed(host),
                    attempts=attempts,
                    detail=f"host {host} asked for a wait beyond the {config.retry_after_cap_s} s cap",
                )
            delay = start - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

            attempts += 1
            async with self._slot(host):
                result = await self._attempt(url, min(time.monotonic() + config.timeout_s, image_deadline))
            result.attempts = attempts

            if result.http_status in OVERLOAD_CODES and result.retry_after_s is not None:
                retry_time = time.monotonic() + result.retry_after_s
                self.gate.pause(host, retry_time)
                if self.on_pause is not None:
                    self.on_pause(host, retry_time)
                if result.retry_after_s > config.retry_after_cap_s:
                    result.retry_at = retry_time
                    return result
                if attempts <= config.retries:
                    logger.info("%s: HTTP %s, retrying in %.1f s as Retry-After requests", url, result.http_status, result.retry_after_s)
                    continue
                return result
            if result.transient and attempts <= config.retries:
                backoff = config.backoff_base_s * 2 ** (attempts - 1)
                backoff += random.uniform(0, backoff)
                if time.monotonic() + backoff >= image_deadline:
                    return result
                logger.info("%s: %s, retry %d in %.2f s", url, result.reason, attempts, backoff)
                await asyncio.sleep(backoff)
                continue
            return result

    def _timeouts(self, deadline: float) -> dict[str, float]:
        remaining = max(0.001, deadline - time.monotonic())
        return {"connect_s": min(self.config.connect_timeout_s, remaining),
                "read_s": min(self.config.read_timeout_s, remaining)}

    async def _attempt(self, url: str, deadline: float) -> FetchResult:
        """Make one request, following redirects, with everything bounded by ``deadline``.

        ``asyncio.timeout_at`` cancels the attempt at the deadline wherever it waits, so a
        body that trickles or stalls ends at the deadline, not a read timeout later.
        """
        current = [url]
        try:
            async with asyncio.timeout_at(_loop_time(deadline)):
                return await self._follow(current, deadline)
        except TimeoutError:
            return _timed_out(current[0], self.config.timeout_s)
        except TransportError as exc:
            if exc.reason == "timeout" and time.monotonic() >= deadline - 0.01:
                return _timed_out(current[0], self.config.timeout_s)
            return FetchResult(status="failed", reason=exc.reason, final_url=current[0], transient=exc.transient,
                               detail=exc.detail)

    async def _follow(self, current: list[str], deadline: float) -> FetchResult:
        hops = 0
        while True:
            if self.config.respect_robots and not await self.robots.allowed(current[0]):
                return FetchResult(status="rejected", reason="robots_txt", final_url=current[0],
                                   detail=f"robots.txt disallows {current[0]}")
            async with self.transport.get(current[0], **self._timeouts(deadline)) as reply:
                if reply.status in REDIRECT_CODES:
                    location = reply.header("Location")
                    if not location:
                        return FetchResult(status="failed", reason="redirect_without_location",
                                           http_status=reply.status, final_url=current[0])
                    hops += 1
                    if hops > self.config.max_redirects:
                        return FetchResult(status="failed", reason="too_many_redirects",
                                           http_status=reply.status, final_url=current[0],
                                           detail=f"more than {self.config.max_redirects} redirects")
                    current[0] = self.transport.join(reply.url, location)
                    continue
                return await self._read(reply)

    async def _read(self, reply: Reply) -> FetchResult:
        status = reply.status
        final_url = reply.url
        if status != 200:
            retry_after = parse_retry_after(reply.header("Retry-After")) if status in OVERLOAD_CODES else None
            final = "rate_limited" if status == 429 else "failed"
            return FetchResult(status=final, reason=f"http_{status}", http_status=status, final_url=final_url,
                               transient=status >= 500 or status == 429, retry_after_s=retry_after)
        if self.config.respect_robots and x_robots_forbids(reply.values("X-Robots-Tag"), self.config.user_agent):
            return FetchResult(status="rejected", reason="x_robots_tag", http_status=status, final_url=final_url,
                               detail="X-Robots-Tag forbids AI use (noai or noimageai)")
        declared = reply.header("Content-Length") or ""
        if declared.isdigit() and int(declared) > self.config.max_bytes:
            return _too_large(status, final_url, self.config.max_bytes)
        # Joining the chunks once at the end copies the body once.
        chunks: list[bytes] = []
        size = 0
        async for chunk in reply.chunks:
            chunks.append(chunk)
            size += len(chunk)
            if size > self.config.max_bytes:
                return _too_large(status, final_url, self.config.max_bytes)
        return FetchResult(status="ok", http_status=status, final_url=final_url, body=b"".join(chunks))


def _loop_time(deadline: float) -> float:
    """Return the event loop's clock reading at the ``time.monotonic`` instant ``deadline``."""
    loop = asyncio.get_running_loop()
    return loop.time() + (deadline - time.monotonic())


def _timed_out(url: str, timeout_s: float, http_status: int | None = None) -> FetchResult:
    return FetchResult(status="failed", reason="timeout", http_status=http_status, final_url=url,
                       detail=f"the request did not complete within its {timeout_s} s deadline")


def _too_large(http_status: int, url: str, max_bytes: int) -> FetchResult:
    return FetchResult(status="failed", reason="too_large", http_status=http_status, final_url=url,
                       detail=f"the body exceeds the {max_bytes}-byte limit")
