"""robots.txt and ``X-Robots-Tag`` rules for the image downloader.

robots.txt follows RFC 9309: a 4xx answer allows everything, while a 5xx answer or a
network error disallows the whole host. ``X-Robots-Tag: noai`` or ``noimageai``
(for every agent, or for ``demographic2art``) rejects the image.
"""

from __future__ import annotations

import logging
import threading
import urllib.robotparser
from collections.abc import Iterable

import httpx

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
    """Fetches and caches one robots.txt per scheme and host, thread-safe."""

    def __init__(self, client: httpx.Client, user_agent: str, *, timeout_s: float = 10.0) -> None:
        self.client = client
        self.user_agent = user_agent
        self.agent = _product_token(user_agent)
        self.timeout_s = timeout_s
        self._parsers: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        """Return whether robots.txt of the URL's host allows this user agent to fetch it."""
        origin = url_origin(url)
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            parser = self._parsers.get(origin)
            if parser is None:
                parser = self._load(origin)
                self._parsers[origin] = parser
        return parser.can_fetch(self.agent, url)

    def _load(self, origin: str) -> urllib.robotparser.RobotFileParser:
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            response = self.client.get(
                origin + "/robots.txt", follow_redirects=True, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            logger.warning("%s/robots.txt could not be fetched (%s); treating the host as disallowed", origin, exc)
            parser.disallow_all = True
            return parser
        if response.status_code >= 500:
            logger.warning("%s/robots.txt returned HTTP %s; treating the host as disallowed", origin, response.status_code)
            parser.disallow_all = True
        elif response.status_code >= 400:
            parser.allow_all = True
        else:
            text = response.content[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
            parser.parse(text.splitlines())
        return parser
