"""Running offline extraction over a workspace: ``demographics/json/`` and ``demographics/demographics.parquet``."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator

from pydantic import BaseModel, Field

from ..bios.importer import HTML_DIR, iter_saved_pages
from ..bios.triage import candidate_for_years
from ..errors import MissingFileError
from ..keys import normalise_slug
from ..workspace import Workspace
from .offline import extract_page
from .catalog_check import check_catalog_dates, load_catalog_dates
from .wikidata import merge_wikidata, wikidata_facts, wikidata_lookup
from .overrides import OVERRIDES_FILE, Override, apply_overrides, parse_overrides
from .schema import Demographics

logger = logging.getLogger(__name__)

JSON_DIR = "demographics/json"
TABLE = "demographics/demographics.parquet"
COLUMNS = [
    "artist_key",  # artist slug
    "page_kind",  # biography, other_language, disambiguation, group, topic, not_wikipedia, error
    "birth_year",  # int, BC negative
    "birth_approximate",  # bool
    "birth_date",  # ISO YYYY-MM-DD when the day is known
    "birth_place",  # place text as the page shows it
    "birth_country",  # ISO alpha-2 code of the birth place's country
    "death_year",
    "death_approximate",
    "death_date",
    "death_place",
    "gender",  # female, male, non-binary
    "nationality",  # nationality text as the page shows it
    "nationality_codes",  # list of ISO alpha-2 codes
    "sources",  # JSON object: field -> infobox, lead, categories, body
    "needs_review",  # bool
    "matched_candidate",  # disambiguation candidate whose entry shows the catalog's years
]


class ExtractSummary(BaseModel):
    """Counts from one :func:`extract_workspace` run."""

    extracted: int = 0
    kinds: dict[str, int] = Field(default_factory=dict)
    needs_review: int = 0
    table_path: str = TABLE


SENSITIVE_COLUMNS = ["ethnicity", "ethnicity_quote", "religion", "religion_quote"]
"""Columns added only when a study turns on the sensitive attributes (values stated on the page, with quotes)."""


def flat_row(record: Demographics, *, include_sensitive: bool = False) -> dict:
    """Return the flat table row of one record, with the columns of :data:`COLUMNS`.

    Ethnicity and religion (:data:`SENSITIVE_COLUMNS`) are added only with ``include_sensitive``.
    """
    row = _flat_row(record)
    if include_sensitive:
        for name in ("ethnicity", "religion"):
            value = getattr(record, name)
            row[name] = value.value if value else None
            row[f"{name}_quote"] = value.quote if value else None
    return row


def _flat_row(record: Demographics) -> dict:
    return {
        "artist_key": record.artist_key,
        "page_kind": record.page_kind,
        "birth_year": record.birth.year,
        "birth_approximate": record.birth.approximate,
        "birth_date": record.birth.date,
        "birth_place": record.birth.place.raw,
        "birth_country": record.birth.place.country_code,
        "death_year": record.death.year,
        "death_approximate": record.death.approximate,
        "death_date": record.death.date,
        "death_place": record.death.place.raw,
        "gender": record.gender,
        "nationality": record.nationality.raw,
        "nationality_codes": list(record.nationality.codes),
        "sources": json.dumps(record.sources, sort_keys=True),
        "needs_review": record.needs_review,
        "matched_candidate": record.matched_candidate,
    }


def extract_workspace(
    workspace: Workspace,
    *,
    artists: Iterable[str] | None = None,
    include_sensitive: bool = False,
    pages_dir: str | os.PathLike[str] | None = None,
) -> ExtractSummary:
    """Extract every imported page (or the selected artists) and write the JSON records and the table.

    ``pages_dir`` reads the pages from a folder of ``<slug>.html`` files (or an ``html.tar.xz``
    archive) in place of the workspace's imported pages, so no ``d2a bios import`` is needed; the
    records and the table are still written to the workspace. Wikidata items cached by
    ``d2a bios fetch --wikidata`` fill and cross-check the fields. Years that differ from the
    catalog's (when the workspace has a catalog) are recorded as conflicts. The researcher's
    ``demographics/overrides.csv``, when present, is applied last. The table leaves out
    ethnicity and religion unless ``include_sensitive`` is set (the JSON records keep them).
    """
    import pandas as pd

    wanted = None if artists is None else {normalise_slug(a) for a in artists}
    if pages_dir is not None:
        if not os.path.exists(pages_dir):
            raise MissingFileError(
                f"pages folder {os.fspath(pages_dir)} does not exist; pass a folder of <slug>.html pages or an html.tar.xz archive"
            )
        pages = iter_saved_pages(pages_dir, wanted)
    else:
        pages = _workspace_pages(workspace, wanted)
    overrides = load_workspace_overrides(workspace)
    lookup = wikidata_lookup(workspace.storage)
    catalog_dates = load_catalog_dates(workspace)
    rows = []
    for key, page in pages:
        record = extract_page(page, artist_key=key)
        if record.page_kind == "disambiguation" and catalog_dates.get(key):
            row = catalog_dates[key]
            record.matched_candidate = candidate_for_years(
                page, _int_or_none(row.get("birth_year")), _int_or_none(row.get("death_year"))
            )
        if record.wikidata_id and record.page_kind in ("biography", "other_language"):
            merge_wikidata(record, wikidata_facts(record.wikidata_id, lookup))
        if catalog_dates:
            check_catalog_dates(record, catalog_dates.get(key))
        apply_overrides(record, overrides)
        workspace.storage.write_json(f"{JSON_DIR}/{key}.json", record.model_dump(mode="json"))
        rows.append(flat_row(record, include_sensitive=include_sensitive))
    if not rows and pages_dir is not None:
        raise MissingFileError(
            f"no <slug>.html pages{' of the selected artists' if wanted is not None else ''} in {os.fspath(pages_dir)}; "
            "pass the folder that holds the saved pages"
        )
    frame = pd.DataFrame(rows, columns=COLUMNS + (SENSITIVE_COLUMNS if include_sensitive else []))
    frame["birth_year"] = frame["birth_year"].astype("Int64")
    frame["death_year"] = frame["death_year"].astype("Int64")
    workspace.storage.write_parquet(TABLE, frame)
    kinds = dict(Counter(row["page_kind"] for row in rows))
    review = sum(bool(row["needs_review"]) for row in rows)
    logger.info("extracted %d pages: %s", len(rows), kinds)
    return ExtractSummary(extracted=len(rows), kinds=kinds, needs_review=review)


def _workspace_pages(workspace: Workspace, wanted: set[str] | None) -> Iterator[tuple[str, bytes]]:
    names = sorted(n for n in workspace.storage.listdir(HTML_DIR) if n.endswith(".html"))
    if not names:
        raise MissingFileError(
            f"no pages in {workspace.url}/{HTML_DIR}; run 'd2a bios import SOURCE -w {workspace.url}' "
            "first or pass --pages with a folder of saved pages"
        )
    for name in names:
        key = name[: -len(".html")]
        if wanted is None or key in wanted:
            yield key, workspace.storage.read_bytes(f"{HTML_DIR}/{name}")


def load_workspace_overrides(workspace: Workspace) -> list[Override]:
    """Return the overrides in the workspace's ``demographics/overrides.csv`` (none when absent)."""
    if not workspace.storage.exists(OVERRIDES_FILE):
        return []
    return parse_overrides(workspace.storage.read_text(OVERRIDES_FILE), origin=f"{workspace.url}/{OVERRIDES_FILE}")


def _int_or_none(value) -> int | None:
    try:
        return None if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return None
