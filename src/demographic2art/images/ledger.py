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

import logging
from typing import Any

import pyarrow as pa

from ..storage import Storage
from .manifest import MANIFEST_PATH, conform, rows_to_table

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
    storage.write_table(path, rows_to_table(rows))


def load_ledger(storage: Storage) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Return ``key -> (status, reason, file)`` from the manifest and any unmerged parts.

    Only these four columns are read, so the ledger of a full catalog stays small.
    """
    columns = ["key", "status", "reason", "file"]
    ledger: dict[str, tuple[str | None, str | None, str | None]] = {}
    sources = ([MANIFEST_PATH] if storage.exists(MANIFEST_PATH) else []) + storage.glob(f"{PARTS_DIR}/*.parquet")
    for relpath in sources:
        table = storage.read_table(relpath, columns)
        keys, statuses, reasons, files = (table.column(c).to_pylist() for c in columns)
        ledger.update(zip(keys, zip(statuses, reasons, files)))
    return ledger


def merge_parts(storage: Storage) -> int:
    """Merge every part into ``images/manifest.parquet`` (later rows win) and delete the parts.

    Returns the number of manifest rows. A crash between the write and the deletes is
    harmless, because merging the same parts again gives the same manifest.
    """
    parts = storage.glob(f"{PARTS_DIR}/*.parquet")
    tables = []
    if storage.exists(MANIFEST_PATH):
        tables.append(conform(storage.read_table(MANIFEST_PATH)))
    tables.extend(conform(storage.read_table(part)) for part in parts)
    if not tables:
        return 0
    merged = latest_per_key(pa.concat_tables(tables))
    storage.write_table(MANIFEST_PATH, merged)
    for part in parts:
        storage.remove(part)
    logger.debug("merged %d parts into %d manifest rows", len(parts), merged.num_rows)
    return merged.num_rows


def latest_per_key(table: pa.Table) -> pa.Table:
    """Return the last row of each key of ``table``, sorted by key.

    Arrow's sort is stable, so among the rows of one key the last in the sorted order
    is the latest. Arrow's ``group_by`` is not used because it imports pandas (about 0.2 s).
    """
    import pyarrow.compute as pc

    if table.num_rows < 2:
        return table
    order = pc.sort_indices(table, sort_keys=[("key", "ascending")])
    keys = table.column("key").combine_chunks().take(order)
    # A row is the latest of its key when the next row has another key. The last row always is.
    changes = pc.not_equal(keys.slice(0, len(keys) - 1), keys.slice(1))
    latest = pa.concat_arrays([order.slice(0, len(order) - 1).filter(changes), order.slice(len(order) - 1)])
    return table.take(latest)
