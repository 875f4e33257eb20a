"""Fetch artists' Wikipedia pages (and optionally their Wikidata items) through the APIs.

For each catalog artist with a Wikipedia URL, the title is resolved (redirects followed up to
a few hops, loops detected) and the parsed page downloaded. ``bios/html/<key>.html`` is shaped
like a saved Wikipedia page, so triage and extraction read it as they read saved pages.
``bios/wikitext/<key>.wiki`` keeps the wikitext, and ``bios/api/<key>.json`` the title,
revision id, Wikidata id, redirects and status. A rerun sends nothing for an artist whose record is stored, unless
``refresh`` is set; network failures are not stored, so the next run retries them.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import quote

from pydantic import BaseModel, Field

from ..demographics.wikidata import LINKED_PROPERTIES, PERSON_PROPERTIES, WIKIDATA_DIR, referenced_ids, trim_entity
from ..errors import InvalidValueError, MissingFileError
from ..keys import normalise_slug
from ..storage import Storage
from ..workspace import Workspace
from .importer import HTML_DIR, TRIAGE_COLUMNS, TRIAGE_TABLE
from .mediawiki import USER_AGENT, MediaWikiClient, MediaWikiError, default_api_url, is_item_id, page_title_from_url
from .triage import triage_page

logger = logging.getLogger(__name__)

API_DIR = "bios/api"
WIKITEXT_DIR = "bios/wikitext"
WIKIDATA_API_URL = "https://www.wikidata.org/w/api.php"
CATALOG_ARTISTS = "catalog/artists.parquet"
# Statuses that describe the page itself, so they are stored and not asked again.
FINAL_STATUSES = ("ok", "missing", "redirect_loop", "too_many_redirects", "not_wikipedia_url", "no_url")


class FetchSummary(BaseModel):
    """Counts from one :func:`fetch_bios` run."""

    fetched: int = 0
    cached: int = 0
    statuses: dict[str, int] = Field(default_factory=dict)
    kinds: dict[str, int] = Field(default_factory=dict)
    wikidata_items: int = 0
    requests_sent: int = 0


def fetch_bios(
    workspace: Workspace,
    *,
    urls: dict[str, str] | None = None,
    artists: Iterable[str] | None = None,
    api_url: str | None = None,
    wikidata: bool = False,
    wikidata_api_url: str | None = None,
    user_agent: str = USER_AGENT,
    min_interval_s: float = 1.0,
    maxlag: int = 5,
    timeout_s: float = 30.0,
    refresh: bool = False,
) -> FetchSummary:
    """Fetch each artist's Wikipedia page through the MediaWiki API into the workspace.

    ``urls`` maps artist keys to Wikipedia URLs; by default they come from the catalog's
    ``wikipedia_url`` column. ``api_url`` sends every request to that endpoint instead of the
    one of the URL's wiki (tests point it at a local server). With ``wikidata`` the artist's
    Wikidata item and the items it refers to are cached in ``bios/wikidata/``.
    ``min_interval_s`` is the minimum time between two requests (seconds).
    """
    import pandas as pd

    if min_interval_s < 0:
        raise InvalidValueError(f"min interval {min_interval_s} s is negative; pass 0 or more seconds")
    targets = urls if urls is not None else _catalog_urls(workspace)
    if artists is not None:
        wanted = {normalise_slug(a) for a in artists}
        targets = {key: url for key, url in targets.items() if key in wanted}
    storage = workspace.storage
    statuses: Counter[str] = Counter()
    summary = FetchSummary()
    triage_rows = _existing_triage(workspace)
    with MediaWikiClient(user_agent=user_agent, maxlag=maxlag, min_interval_s=min_interval_s, timeout_s=timeout_s) as client:
        for key in sorted(targets):
            meta_path = f"{API_DIR}/{key}.json"
            meta = storage.read_json(meta_path) if storage.exists(meta_path) and not refresh else None
            if meta is not None and meta.get("status") in FINAL_STATUSES:
                summary.cached += 1
            else:
                meta = _fetch_one(client, storage, key, targets[key], api_url)
                if meta["status"] in FINAL_STATUSES:
                    storage.write_json(meta_path, meta)
                summary.fetched += 1
                if meta["status"] == "ok":
                    page = storage.read_bytes(f"{HTML_DIR}/{key}.html").decode("utf-8")
                    triage = triage_page(page)
                    triage_rows[key] = {
                        "artist_key": key, "kind": triage.kind.value, "language": triage.language,
                        "title": triage.title, "wikidata_id": triage.wikidata_id, "reason": triage.reason,
                        "candidates": list(triage.candidates),
                    }
            statuses[meta["status"]] += 1
            if wikidata and meta.get("status") == "ok" and is_item_id(meta.get("wikidata_id")):
                summary.wikidata_items += fetch_wikidata(
                    client, storage, meta["wikidata_id"], api_url=wikidata_api_url or WIKIDATA_API_URL
                )
        summary.requests_sent = client.requests_sent
    if triage_rows:
        frame = pd.DataFrame([triage_rows[k] for k in sorted(triage_rows)], columns=TRIAGE_COLUMNS)
        storage.write_parquet(TRIAGE_TABLE, frame)
    summary.statuses = dict(statuses)
    summary.kinds = dict(Counter(row["kind"] for key, row in triage_rows.items() if key in targets))
    logger.info("fetched %d pages (%d from cache, %d requests): %s",
                summary.fetched, summary.cached, summary.requests_sent, summary.statuses)
    return summary


def _catalog_urls(workspace: Workspace) -> dict[str, str]:
    if not workspace.storage.exists(CATALOG_ARTISTS):
        raise MissingFileError(
            f"{workspace.url}/{CATALOG_ARTISTS} does not exist; run 'd2a catalog build' first or pass URLs"
        )
    frame = workspace.storage.read_parquet(CATALOG_ARTISTS, columns=["artist_key", "wikipedia_url"])
    return {str(k): (u if isinstance(u, str) else "") for k, u in zip(frame["artist_key"], frame["wikipedia_url"])}


def _existing_triage(workspace: Workspace) -> dict[str, dict]:
    if not workspace.storage.exists(TRIAGE_TABLE):
        return {}
    frame = workspace.storage.read_parquet(TRIAGE_TABLE)
    rows = frame.to_dict(orient="records")
    for row in rows:
        row["candidates"] = list(row.get("candidates") if row.get("candidates") is not None else [])
    return {row["artist_key"]: row for row in rows}


def _fetch_one(client: MediaWikiClient, storage: Storage, key: str, url: str, api_url: str | None) -> dict:
    meta: dict = {"artist_key": key, "url": url or None, "fetched_at": datetime.now(timezone.utc).isoformat()}
    if not url:
        return {**meta, "status": "no_url"}
    parsed = page_title_from_url(url)
    if parsed is None:
        return {**meta, "status": "not_wikipedia_url"}
    host, title = parsed
    endpoint = api_url or default_api_url(host)
    try:
        resolved = client.resolve(endpoint, title)
        parse = client.parse(endpoint, resolved.page_id)
    except MediaWikiError as exc:
        logger.warning("artist %s: %s (%s)", key, exc.status, exc)
        return {**meta, "status": exc.status, "detail": str(exc)}
    revision_id = parse.get("revid") or resolved.revision_id
    storage.write_bytes(f"{HTML_DIR}/{key}.html", saved_page(host, resolved.title, parse, resolved.wikidata_id).encode("utf-8"))
    if parse.get("wikitext"):
        storage.write_text(f"{WIKITEXT_DIR}/{key}.wiki", parse["wikitext"])
    return {
        **meta, "status": "ok", "host": host, "requested_title": title, "title": resolved.title,
        "page_id": resolved.page_id, "revision_id": revision_id, "wikidata_id": resolved.wikidata_id,
        "redirects": resolved.redirects, "disambiguation": resolved.disambiguation,
    }


def saved_page(host: str, title: str, parse: dict, wikidata_id: str | None) -> str:
    """Return a full HTML page shaped like a saved Wikipedia page from a ``parse`` response."""
    language = host.split(".")[0]
    categories = [
        c.get("category", "").replace("_", " ") for c in parse.get("categories") or [] if not c.get("hidden")
    ]
    category_items = "".join(f"<li><a>{html.escape(name)}</a></li>" for name in categories)
    config = f'{{"wgWikibaseItemId":"{wikidata_id}"}}' if wikidata_id else "{}"
    text = parse.get("text") or ""
    if isinstance(text, dict):
        text = text.get("*", "")
    canonical = f"https://{host}/wiki/{quote(title.replace(' ', '_'))}"
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - Wikipedia</title>"
        f'<link rel="canonical" href="{html.escape(canonical)}">'
        f"<script>RLCONF={config};</script></head><body>"
        f'<h1 id="firstHeading">{html.escape(title)}</h1>'
        f'<div id="mw-content-text">{text}</div>'
        f'<div id="catlinks"><div id="mw-normal-catlinks"><ul>{category_items}</ul></div></div>'
        "</body></html>\n"
    )


def fetch_wikidata(client: MediaWikiClient, storage: Storage, item_id: str, *, api_url: str = WIKIDATA_API_URL) -> int:
    """Cache an item and the items its statements point to (two levels); returns how many were fetched."""
    fetched = 0
    person = _cached_or_fetch(client, storage, [item_id], api_url, PERSON_PROPERTIES)
    fetched += person.fetched
    entity = person.entities.get(item_id)
    if entity is None:
        return fetched
    linked = _cached_or_fetch(client, storage, referenced_ids(entity), api_url, LINKED_PROPERTIES)
    fetched += linked.fetched
    countries = [i for e in linked.entities.values() for i in referenced_ids(e)]
    fetched += _cached_or_fetch(client, storage, countries, api_url, LINKED_PROPERTIES).fetched
    return fetched


class _Fetched(BaseModel):
    entities: dict[str, dict] = Field(default_factory=dict)
    fetched: int = 0


def _cached_or_fetch(
    client: MediaWikiClient, storage: Storage, ids: list[str], api_url: str, properties: tuple[str, ...]
) -> _Fetched:
    result = _Fetched()
    missing = []
    for item_id in dict.fromkeys(ids):
        path = f"{WIKIDATA_DIR}/{item_id}.json"
        if storage.exists(path):
            result.entities[item_id] = storage.read_json(path)
        else:
            missing.append(item_id)
    if not missing:
        return result
    try:
        found = client.entities(api_url, missing)
    except MediaWikiError as exc:
        logger.warning("Wikidata items %s: %s (%s)", ",".join(missing[:5]), exc.status, exc)
        return result
    for item_id in missing:
        # An id the API does not return is stored as an empty entity so a rerun does not ask again.
        entity = found.get(item_id) or {"id": item_id}
        trimmed = trim_entity(entity, properties)
        storage.write_json(f"{WIKIDATA_DIR}/{item_id}.json", trimmed)
        result.entities[item_id] = trimmed
        result.fetched += 1
    return result
