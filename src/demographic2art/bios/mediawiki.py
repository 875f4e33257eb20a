"""A polite MediaWiki and Wikibase API client: User-Agent, ``maxlag``, rate limit and retries.

Every request carries a descriptive User-Agent and ``maxlag`` (seconds of database replication
lag above which the server tells clients to wait). A ``maxlag`` error or an HTTP 429/503 answer
is retried after its ``Retry-After`` seconds, at most ``max_retries`` times. Requests to one
client are spaced at least ``min_interval_s`` apart.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from .. import __version__ as _VERSION

logger = logging.getLogger(__name__)

USER_AGENT = f"demographic2art/{_VERSION} (artist-biography research toolkit; set --contact to add yours) httpx"
MAX_REDIRECT_HOPS = 3
MAX_RETRY_AFTER_S = 120.0


class MediaWikiError(Exception):
    """An API error response that ends the request for one page; :mod:`bios.fetch` records it per artist."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ResolvedPage:
    """A page title after normalisation and redirects, with its ids."""

    title: str
    page_id: int | None
    revision_id: int | None
    wikidata_id: str | None
    redirects: list[str] = field(default_factory=list)
    disambiguation: bool = False


def page_title_from_url(url: str | None) -> tuple[str, str] | None:
    """Return ``(host, title)`` of a Wikipedia article URL, or None when it is not one.

    Accepts ``/wiki/Title`` paths, ``/w/index.php?title=Title`` and mobile hosts
    (``en.m.wikipedia.org`` gives ``en.wikipedia.org``).
    """
    if not url or not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not (host == "wikipedia.org" or host.endswith(".wikipedia.org")):
        return None
    host = host.replace(".m.wikipedia.org", ".wikipedia.org")
    if parts.path.startswith("/wiki/"):
        title = parts.path[len("/wiki/"):]
    else:
        title = (parse_qs(parts.query).get("title") or [""])[0]
    title = unquote(title).replace("_", " ").strip()
    if not title:
        return None
    return host, title


def default_api_url(host: str) -> str:
    """Return the API endpoint of a wiki host ('en.wikipedia.org' gives its /w/api.php)."""
    return f"https://{host}/w/api.php"


class MediaWikiClient:
    """Synchronous client for one MediaWiki or Wikibase API endpoint at a time."""

    def __init__(
        self,
        *,
        user_agent: str = USER_AGENT,
        maxlag: int = 5,
        min_interval_s: float = 1.0,
        timeout_s: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        self.maxlag = maxlag
        self.min_interval_s = min_interval_s
        self.max_retries = max_retries
        self.requests_sent = 0
        self._last_request = 0.0
        self._lock = threading.Lock()
        self._http = httpx.Client(
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout_s,
            follow_redirects=True,
            max_redirects=MAX_REDIRECT_HOPS,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def __enter__(self) -> MediaWikiClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def get(self, api_url: str, params: dict[str, str | int]) -> dict:
        """Send one GET to ``api_url`` and return the decoded JSON; API errors raise :class:`MediaWikiError`."""
        query = {"format": "json", "formatversion": 2, "maxlag": self.maxlag, **params}
        for attempt in range(self.max_retries + 1):
            self._wait_turn()
            try:
                response = self._http.get(api_url, params=query)
            except httpx.TooManyRedirects as exc:
                raise MediaWikiError("too_many_redirects", f"{api_url}: more than {MAX_REDIRECT_HOPS} HTTP redirects") from exc
            except httpx.HTTPError as exc:
                raise MediaWikiError("network_error", f"{api_url}: {exc}") from exc
            self.requests_sent += 1
            wait = _retry_after(response)
            body = _json_or_none(response)
            error = (body or {}).get("error") if isinstance(body, dict) else None
            lagged = error is not None and error.get("code") == "maxlag"
            if response.status_code in (429, 503) or lagged:
                if attempt == self.max_retries:
                    raise MediaWikiError("rate_limited", f"{api_url}: still limited after {self.max_retries} retries")
                logger.warning("API %s asked to wait %.1f s (HTTP %d%s); retrying",
                               api_url, wait, response.status_code, ", maxlag" if lagged else "")
                time.sleep(wait)
                continue
            if response.status_code >= 400:
                raise MediaWikiError("http_error", f"{api_url}: HTTP {response.status_code}")
            if body is None:
                raise MediaWikiError("invalid_response", f"{api_url}: the response is not JSON")
            if error is not None:
                raise MediaWikiError(error.get("code") or "api_error", f"{api_url}: {error.get('info') or error}")
            return body
        raise AssertionError("unreachable")

    def _wait_turn(self) -> None:
        with self._lock:
            delay = self._last_request + self.min_interval_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last_request = time.monotonic()

    # MediaWiki -------------------------------------------------------------------------------

    def resolve(self, api_url: str, title: str) -> ResolvedPage:
        """Resolve a title through normalisation and redirects (at most :data:`MAX_REDIRECT_HOPS`).

        A redirect chain that comes back to a title already seen raises ``redirect_loop``. A
        longer chain raises ``too_many_redirects``, and a page that does not exist raises ``missing``.
        """
        body = self.get(api_url, {
            "action": "query", "titles": title, "redirects": 1, "prop": "info|pageprops",
            "ppprop": "wikibase_item|disambiguation",
        })
        query = body.get("query") or {}
        current = title
        for item in query.get("normalized") or []:
            if item.get("from") == current:
                current = item.get("to") or current
        hops = {item.get("from"): item.get("to") for item in query.get("redirects") or []}
        seen = [current]
        while current in hops:
            current = hops[current]
            if current in seen:
                raise MediaWikiError("redirect_loop", f"redirect loop: {' -> '.join([*seen, current])}")
            seen.append(current)
            if len(seen) - 1 > MAX_REDIRECT_HOPS:
                raise MediaWikiError("too_many_redirects", f"more than {MAX_REDIRECT_HOPS} redirects from {title!r}")
        pages = query.get("pages") or []
        page = next((p for p in pages if p.get("title") == current), pages[0] if pages else None)
        if page is None or page.get("missing") or page.get("invalid"):
            raise MediaWikiError("missing", f"page {current!r} does not exist")
        props = page.get("pageprops") or {}
        return ResolvedPage(
            title=page.get("title") or current,
            page_id=page.get("pageid"),
            revision_id=page.get("lastrevid"),
            wikidata_id=props.get("wikibase_item"),
            redirects=seen[1:],
            disambiguation="disambiguation" in props,
        )

    def parse(self, api_url: str, page_id: int) -> dict:
        """Return the ``parse`` response of a page: HTML text, categories, revision id, wikitext."""
        body = self.get(api_url, {
            "action": "parse", "pageid": page_id, "prop": "text|categories|revid|displaytitle|wikitext",
            "disableeditsection": 1,
        })
        return body.get("parse") or {}

    # Wikibase --------------------------------------------------------------------------------

    def entities(self, api_url: str, ids: list[str], *, props: str = "labels|claims|sitelinks") -> dict[str, dict]:
        """Return Wikibase entities by id, asking 50 ids per request (the API's limit)."""
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 50):
            chunk = ids[start: start + 50]
            body = self.get(api_url, {
                "action": "wbgetentities", "ids": "|".join(chunk), "props": props, "languages": "en",
            })
            for key, entity in (body.get("entities") or {}).items():
                if "missing" not in entity:
                    found[key] = entity
        return found


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        seconds = 5.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _json_or_none(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


_ITEM_ID = re.compile(r"^Q\d+$")


def is_item_id(value: str | None) -> bool:
    """Return True for a Wikidata item id such as 'Q42'."""
    return bool(value and _ITEM_ID.match(value))
