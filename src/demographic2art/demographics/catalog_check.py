"""Cross-check extracted birth and death years with the WikiArt catalog's dates.

The catalog writes many dates with two-digit years ('24-Jan-74'), whose century the catalog
stage infers. A page year with the same two last digits in another century is flagged as
``catalog_century``, because the inferred century is then the likely error. Any other
difference is flagged as ``catalog_year``.
"""

from __future__ import annotations

import logging

from ..workspace import Workspace
from .schema import Conflict, Demographics

logger = logging.getLogger(__name__)

CATALOG_ARTISTS = "catalog/artists.parquet"
_COLUMNS = [
    "artist_key", "birth_year", "birth_century_inferred", "birth_raw",
    "death_year", "death_century_inferred", "death_raw",
]


def load_catalog_dates(workspace: Workspace) -> dict[str, dict]:
    """Return catalog dates by artist key, or an empty dict when the workspace has no catalog."""
    if not workspace.storage.exists(CATALOG_ARTISTS):
        return {}
    frame = workspace.storage.read_parquet(CATALOG_ARTISTS)
    columns = [c for c in _COLUMNS if c in frame.columns]
    if "artist_key" not in columns:
        return {}
    rows = frame[columns].to_dict(orient="records")
    return {str(row["artist_key"]): row for row in rows}


def check_catalog_dates(record: Demographics, catalog_row: dict | None) -> list[Conflict]:
    """Append a conflict to ``record`` for each year that differs from the catalog's; returns them."""
    if not catalog_row:
        return []
    added = []
    for which in ("birth", "death"):
        ours = getattr(record, which).year
        theirs = _year(catalog_row.get(f"{which}_year"))
        if ours is None or theirs is None or ours == theirs:
            continue
        inferred = bool(catalog_row.get(f"{which}_century_inferred"))
        same_two_digits = abs(ours) % 100 == abs(theirs) % 100
        reason = "catalog_century" if inferred and same_two_digits else "catalog_year"
        conflict = Conflict(
            field=f"{which}_year", kept=ours, kept_source=record.sources.get(f"{which}_year", ""),
            other=theirs, other_source="catalog",
        )
        record.conflicts.append(conflict)
        added.append(conflict)
        record.needs_review = True
        if reason not in record.review_reasons:
            record.review_reasons.append(reason)
    return added


def _year(value) -> int | None:
    try:
        if value is None or value != value:
            return None
        return int(value)
    except (TypeError, ValueError):
        return None
