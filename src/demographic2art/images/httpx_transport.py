"""The httpx transport of the image downloader, used where aiohttp is not installed.

httpx opens a new connection only when the pool has no idle one for the origin, and
every connection then resolves its host name. :class:`AsyncCachingBackend` resolves
each host once per ``dns_ttl_s`` and connects to the cached address, so thousands of
requests to one image host cost one DNS query. TLS still verifies the host name,
because httpcore passes the origin host, not the address, as the server name.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
import httpcore
import httpx

from .client import Reply, TransportError, ssl_context

logger = logging.getLogger(__name__)


class DnsCache:
    """Thread-safe cache of ``getaddrinfo`` results, kept for ``ttl_s`` seconds."""

    def __init__(self, ttl_s: float = 300.0) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int], tuple[float, list[tuple[Any, ...]]]] = {}
        self.lookups = 0

    def resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """Return the addresses of ``host:port``; raises ``OSError`` as ``getaddrinfo`` does."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get((host, port))
            if entry is not None and entry[0] > now:
                return entry[1]
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with self._lock:
            self.lookups += 1
            self._entries[(host, port)] = (now + self.ttl_s, addresses)
        return addresses

    def cached(self, host: str, port: int) -> list[tuple[Any, ...]] | None:
        """Return the cached addresses of ``host:port``, or None when a lookup is due."""
        with self._lock:
            entry = self._entries.get((host, port))
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None


class AsyncCachingBackend(httpcore.AnyIOBackend):
    """httpcore's asyncio network backend with host names resolved through a :class:`DnsCache`."""

    def __init__(self, cache: DnsCache) -> None:
        super().__init__()
        self.cache = cache

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = self.cache.cached(host, port)
        if addresses is None:
            try:
                addresses = await anyio.to_thread.run_sync(self.cache.resolve, host, port)
            except OSError as exc:
                raise httpcore.ConnectError(f"DNS lookup of {host} failed: {exc}") from exc
        last_error: Exception | None = None
        for _family, _type, _proto, _name, address in addresses:
            try:
                return await super().connect_tcp(address[0], port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"no address found for {host}")


def build_async_client(
    *,
    user_agent: str,
    concurrency: int,
    ca_file: str | os.PathLike[str] | None = None,
    dns_cache: DnsCache | None = None,
) -> httpx.AsyncClient:
    """Return an ``httpx.AsyncClient`` with one connection pool, this process's TLS context and a DNS cache.

    It ignores proxies from the environment, so requests go only to the hosts in the
    URL list, and follows no redirects itself (the fetcher follows them hop by hop).
    """
    limits = httpx.Limits(max_connections=int(concurrency) + 4, max_keepalive_connections=int(concurrency))
    context = ssl_context(ca_file)
    transport = httpx.AsyncHTTPTransport(verify=context, trust_env=False, limits=limits)
    _use_backend(transport, httpcore.AsyncConnectionPool, AsyncCachingBackend(dns_cache or DnsCache()), limits)
    return httpx.AsyncClient(transport=transport, **_client_options(user_agent))


def _use_backend(transport, pool_class, backend, limits: httpx.Limits) -> None:
    """Replace the connection pool of an httpx ``transport`` by one with ``backend``.

    NOTE: httpx 0.29 takes no network backend argument, so the pool it built is replaced
    by one with the same settings and the caching backend. A later httpx without the
    private ``_pool`` keeps its own pool and so resolves per connection.
    """
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, pool_class):
        logger.warning("httpx transport has no connection pool to extend; DNS answers are not cached")
        return
    transport._pool = pool_class(
        ssl_context=pool._ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )


def _client_options(user_agent: str) -> dict:
    """Return the httpx client settings: no proxies, no automatic redirects."""
    return {
        "headers": {"User-Agent": user_agent, "Accept": "image/*,*/*;q=0.5"},
        "follow_redirects": False,
        "trust_env": False,
    }


class HttpxTransport:
    """Requests through an ``httpx.AsyncClient``, with its errors turned into :class:`TransportError`."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @staticmethod
    def join(base: str, location: str) -> str:
        """Return the absolute URL of a redirect ``location`` seen at ``base``."""
        return str(httpx.URL(base).join(location))

    @asynccontextmanager
    async def get(self, url: str, *, connect_s: float, read_s: float) -> AsyncIterator[Reply]:
        """Send a GET request for ``url`` and yield the response, its body not yet read."""
        timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=max(connect_s, read_s))
        try:
            async with self.client.stream("GET", url, timeout=timeout) as response:
                yield Reply(response.status_code, str(response.url), response.headers.get_list,
                            _httpx_chunks(response))
        except TransportError:
            raise
        except httpx.HTTPError as exc:
            raise _httpx_error(exc) from exc

    async def get_text(self, url: str, *, timeout_s: float, max_bytes: int) -> tuple[int, str]:
        """Return the status and text of ``url``, following redirects."""
        try:
            response = await self.client.get(url, follow_redirects=True, timeout=timeout_s)
        except httpx.HTTPError as exc:
            raise _httpx_error(exc) from exc
        return response.status_code, response.content[:max_bytes].decode("utf-8", errors="replace")

    async def aclose(self) -> None:
        await self.client.aclose()


async def _httpx_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise _httpx_error(exc) from exc


def _httpx_error(exc: httpx.HTTPError) -> TransportError:
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return TransportError("timeout", detail, transient=True)
    if isinstance(exc, (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return TransportError("connection_error", detail, transient=True)
    if isinstance(exc, httpx.DecodingError):
        return TransportError("content_decoding_error", str(exc), transient=False)
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return TransportError("invalid_url", str(exc), transient=False)
    return TransportError("http_error", detail, transient=True)
