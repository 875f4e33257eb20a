"""A MediaWiki and Wikibase API on 127.0.0.1 for the biography-fetch tests.

It answers ``GET /w/api.php`` with ``action=query`` (titles, normalisation, redirects,
pageprops), ``action=parse`` (HTML, categories, revision id, wikitext) and
``action=wbgetentities`` (labels and claims), in the JSON shapes of the real APIs with
``formatversion=2``. Every request is recorded with its parameters and headers. Titles in
``maxlag_titles`` get one ``maxlag`` error (with ``Retry-After``) before the real answer.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class WikiPage:
    """One invented article."""

    title: str
    page_id: int
    revision_id: int
    html: str
    categories: list[str] = field(default_factory=list)
    wikidata_id: str | None = None
    wikitext: str = ""
    disambiguation: bool = False


def item_claim(prop: str, item_id: str, *, rank: str = "normal", qualifiers: dict | None = None) -> dict:
    """Return a statement whose value is an item, as wbgetentities writes it."""
    claim = {
        "mainsnak": {"snaktype": "value", "property": prop, "datatype": "wikibase-item",
                     "datavalue": {"value": {"entity-type": "item", "numeric-id": int(item_id[1:]), "id": item_id},
                                   "type": "wikibase-entityid"}},
        "type": "statement", "id": f"{item_id}$test-{prop}", "rank": rank,
    }
    if qualifiers:
        claim["qualifiers"] = qualifiers
    return claim


def time_value(time: str, precision: int = 11) -> dict:
    """Return a time datavalue ('+1871-03-14T00:00:00Z', precision 11 = day, 9 = year)."""
    return {"value": {"time": time, "timezone": 0, "before": 0, "after": 0, "precision": precision,
                      "calendarmodel": "http://www.wikidata.org/entity/Q1985727"}, "type": "time"}


def time_claim(prop: str, time: str, precision: int = 11) -> dict:
    """Return a statement whose value is a point in time."""
    return {"mainsnak": {"snaktype": "value", "property": prop, "datatype": "time",
                         "datavalue": time_value(time, precision)},
            "type": "statement", "id": f"test-{prop}", "rank": "normal"}


def string_claim(prop: str, value: str) -> dict:
    """Return a statement whose value is a string (such as P297, the ISO alpha-2 code)."""
    return {"mainsnak": {"snaktype": "value", "property": prop, "datatype": "external-id",
                         "datavalue": {"value": value, "type": "string"}},
            "type": "statement", "id": f"test-{prop}", "rank": "normal"}


def entity(item_id: str, label: str, claims: list[dict]) -> dict:
    """Return an item as wbgetentities returns it."""
    grouped: dict[str, list[dict]] = {}
    for claim in claims:
        grouped.setdefault(claim["mainsnak"]["property"], []).append(claim)
    return {"type": "item", "id": item_id, "labels": {"en": {"language": "en", "value": label}},
            "claims": grouped, "sitelinks": {}}


class WikiTestServer:
    """Threaded HTTP server; use as a context manager, read ``api_url`` and ``requests``."""

    def __init__(self, pages: list[WikiPage], *, redirects: dict[str, str] | None = None,
                 entities: dict[str, dict] | None = None, maxlag_titles: set[str] | None = None) -> None:
        self.pages = {page.title: page for page in pages}
        self.by_id = {page.page_id: page for page in pages}
        self.redirects = dict(redirects or {})
        self.entities = dict(entities or {})
        self.maxlag_titles = set(maxlag_titles or ())
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/w/api.php"

    def __enter__(self) -> WikiTestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with server._lock:
                    server.requests.append({"path": parts.path, "params": params, "headers": dict(self.headers)})
                status, headers, body = server.answer(parts.path, params)
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict, dict]:
        """Return (status, headers, body) for one API request."""
        if path != "/w/api.php":
            return 404, {}, {"error": {"code": "notfound", "info": path}}
        action = params.get("action")
        if action == "query":
            return self._query(params)
        if action == "parse":
            page = self.by_id.get(int(params.get("pageid", "0")))
            if page is None:
                return 200, {}, {"error": {"code": "nosuchpageid", "info": "There is no page with ID."}}
            return 200, {}, {"parse": {
                "title": page.title, "pageid": page.page_id, "revid": page.revision_id, "displaytitle": page.title,
                "text": page.html, "wikitext": page.wikitext,
                "categories": [{"sortkey": "", "category": c.replace(" ", "_")} for c in page.categories]
                + [{"sortkey": "", "category": "Articles_with_hCards", "hidden": True}],
            }}
        if action == "wbgetentities":
            ids = params.get("ids", "").split("|")
            found = {i: self.entities.get(i, {"id": i, "missing": ""}) for i in ids}
            return 200, {}, {"entities": found, "success": 1}
        return 200, {}, {"error": {"code": "badvalue", "info": f"Unrecognized value for parameter action: {action}"}}

    def _query(self, params: dict[str, str]) -> tuple[int, dict, dict]:
        title = params.get("titles", "")
        if title in self.maxlag_titles:
            self.maxlag_titles.discard(title)
            return 200, {"Retry-After": "1", "X-Database-Lag": "7"}, {
                "error": {"code": "maxlag", "info": "Waiting for a database server: 7 seconds lagged.", "lag": 7},
            }
        query: dict = {}
        normalized = title[:1].upper() + title[1:]
        if normalized != title:
            query["normalized"] = [{"fromencoded": False, "from": title, "to": normalized}]
        current, hops, seen = normalized, [], {normalized}
        while current in self.redirects and len(hops) < 10:
            target = self.redirects[current]
            hops.append({"from": current, "to": target})
            if target in seen:
                break
            seen.add(target)
            current = target
        if hops:
            query["redirects"] = hops
        page = self.pages.get(current)
        if page is None:
            query["pages"] = [{"ns": 0, "title": current, "missing": True}]
        else:
            props = {"wikibase_item": page.wikidata_id} if page.wikidata_id else {}
            if page.disambiguation:
                props["disambiguation"] = ""
            query["pages"] = [{
                "pageid": page.page_id, "ns": 0, "title": page.title, "contentmodel": "wikitext",
                "pagelanguage": "en", "lastrevid": page.revision_id, "length": len(page.wikitext), "pageprops": props,
            }]
        return 200, {}, {"batchcomplete": True, "query": query}
