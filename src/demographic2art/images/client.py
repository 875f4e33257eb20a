"""The shared HTTP clients: pooled connections, one TLS context and a DNS cache.

httpx opens a new connection only when the pool has no idle one for the origin, and
every connection then resolves its host name. :class:`CachingBackend` resolves each
host once per ``dns_ttl_s`` and connects to the cached address, so thousands of
requests to one image host cost one DNS query. TLS still verifies the host name,
because httpcore passes the origin host, not the address, as the server name.

The TLS context (with its trust store, about 140 roots for the system bundle) is
built once per process and CA file, and every client of the process shares it.
:func:`build_async_client` gives the ``httpx.AsyncClient`` that the engines use;
:func:`build_client` gives the synchronous one.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
from functools import lru_cache
from typing import Any

import anyio
import anyio.to_thread
import httpcore
import httpx

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


class CachingBackend(httpcore.SyncBackend):
    """httpcore's synchronous network backend with host names resolved through a :class:`DnsCache`."""

    def __init__(self, cache: DnsCache) -> None:
        super().__init__()
        self.cache = cache

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = self.cache.resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"DNS lookup of {host} failed: {exc}") from exc
        last_error: Exception | None = None
        for _family, _type, _proto, _name, address in addresses:
            try:
                return super().connect_tcp(address[0], port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"no address found for {host}")


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


@lru_cache(maxsize=8)
def _context_for(ca_file: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def ssl_context(ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """Return this process's TLS context for ``ca_file`` (default: the system trust store).

    The context is built once per process and CA file, so the trust store is parsed
    once, however many clients and connections use it.
    """
    return _context_for(None if ca_file is None else os.fspath(ca_file))


def build_client(
    *,
    user_agent: str,
    concurrency: int,
    ca_file: str | os.PathLike[str] | None = None,
    dns_cache: DnsCache | None = None,
) -> httpx.Client:
    """Return an ``httpx.Client`` with one connection pool, one TLS context and a DNS cache.

    Proxies from the environment are not used (``trust_env=False``), so requests go
    only to the hosts in the URL list.
    """
    limits = httpx.Limits(max_connections=int(concurrency) + 4, max_keepalive_connections=int(concurrency))
    context = ssl_context(ca_file)
    transport = httpx.HTTPTransport(verify=context, trust_env=False, limits=limits)
    # NOTE: httpx 0.29 takes no network backend argument, so the pool it built is
    # replaced by one with the same settings and the caching backend. A later httpx
    # without the private ``_pool`` keeps its own pool and so resolves per connection.
    if hasattr(transport, "_pool") and isinstance(transport._pool, httpcore.ConnectionPool):
        transport._pool = httpcore.ConnectionPool(
            ssl_context=transport._pool._ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CachingBackend(dns_cache or DnsCache()),
        )
    else:
        logger.warning("httpx transport has no connection pool to extend; DNS answers are not cached")
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept": "image/*,*/*;q=0.5"},
        transport=transport,
        follow_redirects=False,
        trust_env=False,
    )


def build_async_client(
    *,
    user_agent: str,
    concurrency: int,
    ca_file: str | os.PathLike[str] | None = None,
    dns_cache: DnsCache | None = None,
) -> httpx.AsyncClient:
    """Return an ``httpx.AsyncClient`` with one connection pool, this process's TLS context and a DNS cache.

    Like :func:`build_client`, it ignores proxies from the environment and follows no
    redirects itself (the fetcher follows them hop by hop).
    """
    limits = httpx.Limits(max_connections=int(concurrency) + 4, max_keepalive_connections=int(concurrency))
    context = ssl_context(ca_file)
    transport = httpx.AsyncHTTPTransport(verify=context, trust_env=False, limits=limits)
    # NOTE: as in build_client, the pool httpx built is replaced by one with the caching backend.
    if hasattr(transport, "_pool") and isinstance(transport._pool, httpcore.AsyncConnectionPool):
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=transport._pool._ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncCachingBackend(dns_cache or DnsCache()),
        )
    else:
        logger.warning("httpx transport has no connection pool to extend; DNS answers are not cached")
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent, "Accept": "image/*,*/*;q=0.5"},
        transport=transport,
        follow_redirects=False,
        trust_env=False,
    )
