"""The download manifest ``images/manifest.parquet``: one row per artwork key.

Each run merges its rows into the existing manifest by key, so rows of earlier runs
that this run did not touch are kept.
"""

from __future__ import annotations

import logging
from typing import Any

from ..storage import Storage

logger = logging.getLogger(__name__)

MANIFEST_PATH = "images/manifest.parquet"
COLUMNS = [
    "key",
    "url",
    "image_url",
    "final_url",
    "status",
    "reason",
    "http_status",
    "bytes",
    "sha256",
    "width",
    "height",
    "stored_width",
    "stored_height",
    "duration_s",
    "flags",
    "file",
    "updated",
]
STATUSES = ("ok", "rejected", "failed", "skipped", "rate_limited")
INTEGER_COLUMNS = ("http_status", "bytes", "width", "height", "stored_width", "stored_height")


def read_manifest(storage: Storage) -> dict[str, dict[str, Any]]:
    """Return the existing manifest rows by key; empty when there is no manifest yet."""
    if not storage.exists(MANIFEST_PATH):
        return {}
    frame = storage.read_parquet(MANIFEST_PATH)
    rows = {}
    for record in frame.to_dict(orient="records"):
        rows[record["key"]] = {column: _plain(record.get(column)) for column in COLUMNS}
    return rows


def rows_to_frame(rows: list[dict[str, Any]]):
    """Return manifest rows as a DataFrame with the manifest's columns and dtypes."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=COLUMNS)
    return normalise_frame(frame)


def normalise_frame(frame):
    """Return ``frame`` with nullable integer, float and string columns, as the manifest stores them."""
    import pandas as pd

    frame = frame.reindex(columns=COLUMNS)
    for column in INTEGER_COLUMNS:
        frame[column] = pd.array(pd.to_numeric(frame[column]), dtype="Int64")
    frame["duration_s"] = frame["duration_s"].astype("float64")
    for column in ("key", "url", "image_url", "final_url", "status", "reason", "sha256", "flags", "file", "updated"):
        frame[column] = frame[column].astype("string")
    return frame


def write_manifest(storage: Storage, rows: dict[str, dict[str, Any]]) -> None:
    """Write all rows, sorted by key, with nullable integer columns."""
    frame = rows_to_frame([rows[key] for key in sorted(rows)])
    storage.write_parquet(MANIFEST_PATH, frame)
    logger.debug("wrote %d manifest rows", len(frame))


def _plain(value: Any) -> Any:
    """Turn pandas missing values and numpy scalars into None and Python scalars."""
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value
