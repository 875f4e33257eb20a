"""robots.txt and ``X-Robots-Tag`` rules for the image downloader.

robots.txt follows RFC 9309: a 4xx answer allows everything, while a 5xx answer or a
network error disallows the whole host. ``X-Robots-Tag: noai`` or ``noimageai``
(for every agent, or for ``demographic2art``) rejects the image.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.robotparser
from collections.abc import Iterable

from .client import TransportError, build_async_transport
from .urls import url_origin

logger = logging.getLogger(__name__)

AI_DIRECTIVES = {"noai", "noimageai"}
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 requires parsing at least the first 500 KiB.


def _product_token(user_agent: str) -> str:
    return user_agent.split("/", 1)[0].strip().lower()


def x_robots_forbids(values: Iterable[str], user_agent: str) -> bool:
    """Return True when an ``X-Robots-Tag`` value forbids AI use for this user agent.

    A value is a comma-separated list of directives, optionally led by ``<agent>:``
    to address one crawler; other crawlers' rules are ignored.
    """
    agent = _product_token(user_agent)
    for value in values:
        target = None
        for part in value.split(","):
            token = part.strip().lower()
            if ":" in token:
                name, _, rest = token.partition(":")
                if name.strip() not in AI_DIRECTIVES and " " not in name.strip():
                    target = name.strip()
                    token = rest.strip()
            if target not in (None, agent):
                continue
            if token in AI_DIRECTIVES:
                return True
    return False


class RobotsCache:
    """Fetches and caches one robots.txt per scheme and host through an async transport.

    ``transport`` is one of :mod:`.client`'s transports. Concurrent requests to a new
    host wait for one fetch of its robots.txt.
    """

    def __init__(self, transport, user_agent: str, *, timeout_s: float = 10.0) -> None:
        self.transport = transport
        self.agent = _product_token(user_agent)
        self.timeout_s = timeout_s
        self._parsers: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def seed(self, origin: str, parser: urllib.robotparser.RobotFileParser) -> None:
        """Use ``parser`` as the robots.txt of ``origin`` (``scheme://host:port``) instead of fetching it."""
        self._parsers[origin] = parser

    async def allowed(self, url: str) -> bool:
        """Return whether robots.txt of the URL's host allows this user agent to fetch it."""
        origin = url_origin(url)
        parser = self._parsers.get(origin)
        if parser is None:
            lock = self._locks.setdefault(origin, asyncio.Lock())
            async with lock:
                parser = self._parsers.get(origin)
                if parser is None:
                    parser = await self.load(origin)
                    self._parsers[origin] = parser
        return parser.can_fetch(self.agent, url)

    async def load(self, origin: str) -> urllib.robotparser.RobotFileParser:
        """Fetch and parse robots.txt of ``origin`` (``scheme://host:port``), without caching it."""
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            status, text = await self.transport.get_text(origin + "/robots.txt", timeout_s=self.timeout_s,
                                                         max_bytes=ROBOTS_MAX_BYTES)
        except TransportError as exc:
            logger.warning("%s/robots.txt could not be fetched (%s); treating the host as disallowed", origin, exc.detail)
            parser.disallow_all = True
            return parser
        if status >= 500:
            logger.warning("%s/robots.txt returned HTTP %s; treating the host as disallowed", origin, status)
            parser.disallow_all = True
        elif status >= 400:
            parser.allow_all = True
        else:
            parser.parse(text.splitlines())
        return parser


def fetch_robots(origin: str, *, user_agent: str, ca_file: str | None = None,
                 timeout_s: float = 10.0) -> urllib.robotparser.RobotFileParser:
    """Fetch and parse robots.txt of ``origin`` on a short-lived event loop, for code that runs none."""

    async def load() -> urllib.robotparser.RobotFileParser:
        transport = build_async_transport(user_agent=user_agent, concurrency=1, ca_file=ca_file)
        try:
            return await RobotsCache(transport, user_agent, timeout_s=timeout_s).load(origin)
        finally:
            await transport.aclose()

    return asyncio.run(load())
