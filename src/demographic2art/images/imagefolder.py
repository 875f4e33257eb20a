"""``images/files/metadata.jsonl`` in the layout of the ``imagefolder`` loader.

🤗 datasets and diffusers' training scripts load a folder of images with one JSON
object per line in ``metadata.jsonl``: ``file_name`` is the image path relative to the
folder that contains the file, and every other field becomes a column. The download
writes one line per stored image with the artwork's catalog fields where the source
table has them (``key``, ``artist``, ``title``, ``style``, ``genre``, ``year``), plus
``text`` with the training caption when ``captions/captions.parquet`` exists. Reading
it needs only the ``json`` module.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from ..workspace import Workspace
from .manifest import MANIFEST_PATH
from .plan import FILES_DIR, SourceEncodingError, iter_source_batches

logger = logging.getLogger(__name__)

METADATA_PATH = f"{FILES_DIR}/metadata.jsonl"
CAPTIONS_PATH = "captions/captions.parquet"
# Catalog field -> source columns that may hold it, first match wins.
CATALOG_FIELDS = {
    "artist": ("artist_key", "artist_slug", "artist", "artistName"),
    "title": ("title", "Title"),
    "style": ("style", "Style"),
    "genre": ("genre", "Genre"),
    "year": ("year", "Create Date"),
}


def _plain(value: Any) -> Any:
    """Return ``value`` as a JSON value: lists for arrays, None for missing values."""
    if value is None:
        return None
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and not value.strip():
        # CSV sources are read as text, so an empty cell is the only missing value; "None" may be a title.
        return None
    return value


def catalog_fields(
    workspace: Workspace,
    keys: set[str],
    *,
    source: str | os.PathLike[str] | None = None,
    url_column: str = "image_url",
) -> dict[str, dict[str, Any]]:
    """Return the catalog fields of each of ``keys`` from the source table, streamed in batches."""
    from .plan import _row_key

    wanted = {"key", "url", url_column}
    for columns in CATALOG_FIELDS.values():
        wanted.update(columns)
    fields: dict[str, dict[str, Any]] = {}
    for _names, records in iter_source_batches(workspace, source, columns=wanted):
        for record in records:
            try:
                key = _row_key(record, _plain(record.get(url_column)))
            except ValueError:
                continue
            if key not in keys or key in fields:
                continue
            values: dict[str, Any] = {}
            for name, columns in CATALOG_FIELDS.items():
                column = next((c for c in columns if c in record), None)
                value = _plain(record.get(column)) if column else None
                if value is not None:
                    values[name] = value
            fields[key] = values
    return fields


def stored_rows(workspace: Workspace) -> list[dict[str, Any]]:
    """Return the manifest rows with status ``ok`` whose file exists, sorted by key.

    Rows whose file was deleted since the download are left out with one warning, so
    ``metadata.jsonl`` and the WebDataset shards name only images that can be read.
    """
    storage = workspace.storage
    if not storage.exists(MANIFEST_PATH):
        return []
    table = storage.read_table(MANIFEST_PATH, columns=["key", "status", "file", "sha256", "updated"])
    rows = sorted((row for row in table.to_pylist() if row["status"] == "ok"), key=lambda row: row["key"])
    # One listing of the files folder instead of one existence check per row, which matters on object storage.
    present = set(storage.glob(f"{FILES_DIR}/**"))
    missing = [row["key"] for row in rows if row["file"] not in present]
    if missing:
        logger.warning(
            "%d stored images are missing from %s (first: %s); rerun 'd2a images download' to fetch them again",
            len(missing), FILES_DIR, missing[0],
        )
    return [row for row in rows if row["file"] in present]


def caption_texts(workspace: Workspace) -> dict[str, str]:
    """Return ``key -> caption`` from ``captions/captions.parquet``; empty when captions were not built."""
    storage = workspace.storage
    if not storage.exists(CAPTIONS_PATH):
        return {}
    table = storage.read_table(CAPTIONS_PATH, columns=["key", "caption"])
    return dict(zip(table.column("key").to_pylist(), table.column("caption").to_pylist()))


def metadata_records(
    workspace: Workspace,
    *,
    source: str | os.PathLike[str] | None = None,
    url_column: str = "image_url",
) -> list[dict[str, Any]]:
    """Return one ``imagefolder`` record per stored image: ``file_name``, ``key``, catalog fields, ``text``."""
    rows = stored_rows(workspace)
    try:
        fields = catalog_fields(workspace, {row["key"] for row in rows}, source=source, url_column=url_column)
    except FileNotFoundError:
        logger.info("no source table to read catalog fields from; metadata.jsonl has file names and keys only")
        fields = {}
    except SourceEncodingError as exc:
        # The download reads only the URL and key columns, so other columns can hold bytes it never decoded.
        logger.warning(
            "%s; metadata.jsonl has file names and keys only, rerun after saving the table as UTF-8 "
            "to add the catalog fields", str(exc).partition(";")[0],
        )
        fields = {}
    texts = caption_texts(workspace)
    prefix = f"{FILES_DIR}/"
    records = []
    for row in rows:
        file = row["file"] or ""
        if not file.startswith(prefix):
            continue
        record = {"file_name": file[len(prefix):], "key": row["key"], **fields.get(row["key"], {})}
        if row["key"] in texts:
            record["text"] = texts[row["key"]]
        records.append(record)
    return records


def write_imagefolder_metadata(
    workspace: Workspace,
    *,
    source: str | os.PathLike[str] | None = None,
    url_column: str = "image_url",
) -> int:
    """Write ``images/files/metadata.jsonl`` for every stored image and return its number of lines."""
    records = metadata_records(workspace, source=source, url_column=url_column)
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    workspace.storage.write_text(METADATA_PATH, text)
    logger.info("wrote %d lines to %s", len(records), METADATA_PATH)
    return len(records)
