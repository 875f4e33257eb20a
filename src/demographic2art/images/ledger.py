"""The per-URL ledger: which artworks are done, which failed for good, which to retry.

Each shard of a run writes its rows to ``images/parts/<run>-<shard>.parquet`` after
the image files of those rows, and rewrites it every few seconds while the shard
runs, so a process killed at any moment (SIGKILL included) leaves only rows whose
files exist. The next run reads ``images/manifest.parquet`` plus every part, merges
the parts into the manifest and deletes them. A rerun fetches only keys with no row
yet and rows that failed for a transient reason (timeouts, resets, 5xx, 429,
Retry-After beyond the cap); rows rejected or failed for good (404, HTML, truncated,
robots opt-out) are kept unless ``retry_failed`` is set.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from ..storage import Storage
from .manifest import COLUMNS, MANIFEST_PATH, normalise_frame, rows_to_frame

logger = logging.getLogger(__name__)

PARTS_DIR = "images/parts"
TRANSIENT_REASONS = {
    "timeout",
    "deadline",
    "connection_error",
    "http_error",
    "internal_error",
    "retry_after",
    "http_408",
    "http_425",
    "http_429",
}


def is_transient(status: str | None, reason: str | None) -> bool:
    """Return True for a row that a rerun should try again: rate-limited or failed for a transient reason."""
    if status == "rate_limited":
        return True
    if status != "failed" or reason is None:
        return False
    return reason in TRANSIENT_REASONS or (reason.startswith("http_5") and len(reason) == 8)


def part_path(run_id: str, shard: int) -> str:
    return f"{PARTS_DIR}/{run_id}-{shard:05d}.parquet"


def write_part(storage: Storage, path: str, rows: list[dict[str, Any]]) -> None:
    """Write one shard's rows in a single object, as the manifest stores them."""
    storage.write_parquet(path, rows_to_frame(rows))


def _read_frame(storage: Storage, relpath: str, columns: list[str] | None = None):
    import pandas as pd

    return pd.read_parquet(io.BytesIO(storage.read_bytes(relpath)), columns=columns)


def load_ledger(storage: Storage) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Return ``key -> (status, reason, file)`` from the manifest and any unmerged parts.

    Only these four columns are read, so the ledger of a full catalog stays small.
    """
    columns = ["key", "status", "reason", "file"]
    ledger: dict[str, tuple[str | None, str | None, str | None]] = {}
    sources = ([MANIFEST_PATH] if storage.exists(MANIFEST_PATH) else []) + storage.glob(f"{PARTS_DIR}/*.parquet")
    for relpath in sources:
        frame = _read_frame(storage, relpath, columns).astype(object)
        frame = frame.where(frame.notna(), None)
        for key, status, reason, file in frame.itertuples(index=False, name=None):
            ledger[key] = (status, reason, file)
    return ledger


def merge_parts(storage: Storage) -> int:
    """Merge every part into ``images/manifest.parquet`` (later rows win) and delete the parts.

    Returns the number of manifest rows. A crash between the write and the deletes is
    harmless, because merging the same parts again gives the same manifest.
    """
    import pandas as pd

    parts = storage.glob(f"{PARTS_DIR}/*.parquet")
    frames = []
    if storage.exists(MANIFEST_PATH):
        frames.append(normalise_frame(_read_frame(storage, MANIFEST_PATH)))
    frames.extend(normalise_frame(_read_frame(storage, part)) for part in parts)
    if not frames:
        return 0
    merged = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    merged = merged.drop_duplicates("key", keep="last").sort_values("key", kind="stable").reset_index(drop=True)
    storage.write_parquet(MANIFEST_PATH, merged[COLUMNS])
    for part in parts:
        storage.remove(part)
    logger.debug("merged %d parts into %d manifest rows", len(parts), len(merged))
    return len(merged)
