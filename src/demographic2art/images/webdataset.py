"""WebDataset tar shards of the stored images: ``images/webdataset/{shard:05d}.tar``.

Each sample is two members with the same key: ``<key>.jpg`` (or ``.png``/``.webp``,
the stored file's bytes) and ``<key>.json`` (the ``imagefolder`` record: key, file
name, catalog fields and caption where known). The sample key is the artwork key
with ``%`` and ``.`` percent-encoded, because WebDataset readers split a member name
at the first dot of its base name. Samples are sorted by artwork key and cut into
shards of ``shard_size``. Each tar is built in memory after its images exist and
written in one atomic write (temporary file then rename locally, one PUT on object
storage), so an interrupted run never leaves half a tar. A shard whose samples did
not change since the last write is left as it is; ``index.json`` stores the digest
of each shard's samples.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import posixpath
import tarfile
import time
from typing import Any

from ..errors import InvalidValueError
from ..workspace import Workspace
from .imagefolder import METADATA_PATH, metadata_records, stored_rows

logger = logging.getLogger(__name__)

WEBDATASET_DIR = "images/webdataset"
INDEX_PATH = f"{WEBDATASET_DIR}/index.json"


def sample_key(key: str) -> str:
    """Return the WebDataset sample key of an artwork key (``%`` and ``.`` percent-encoded)."""
    return key.replace("%", "%25").replace(".", "%2E")


def shard_name(index: int) -> str:
    return f"{WEBDATASET_DIR}/{index:05d}.tar"


def _add_member(archive: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _digest(samples: list[dict[str, Any]]) -> str:
    text = json.dumps([[s["record"], s["sha256"], s["updated"]] for s in samples], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_webdataset(
    workspace: Workspace,
    *,
    shard_size: int = 1000,
    source=None,
    url_column: str = "image_url",
) -> list[str]:
    """Write the tar shards of every stored image and return the paths written this time.

    Shards with unchanged samples are not rewritten, and shards beyond the new count
    are removed. Raises :class:`InvalidValueError` for a ``shard_size`` below 1.
    """
    if int(shard_size) < 1:
        raise InvalidValueError(f"webdataset shard size {shard_size} must be at least 1 sample")
    storage = workspace.storage
    records = {r["key"]: r for r in metadata_records(workspace, source=source, url_column=url_column)}
    samples = [
        {"key": row["key"], "file": row["file"], "sha256": row["sha256"], "updated": row["updated"], "record": records[row["key"]]}
        for row in stored_rows(workspace)
        if row["key"] in records
    ]
    index: dict[str, str] = storage.read_json(INDEX_PATH) if storage.exists(INDEX_PATH) else {}
    written: list[str] = []
    new_index: dict[str, str] = {}
    size = int(shard_size)
    for number, start in enumerate(range(0, len(samples), size)):
        chunk = samples[start:start + size]
        path = shard_name(number)
        digest = _digest(chunk)
        new_index[path] = digest
        if index.get(path) == digest and storage.exists(path):
            continue
        storage.write_bytes(path, _build_tar(storage, chunk))
        written.append(path)
    for stale in set(index) - set(new_index):
        storage.remove(stale)
    storage.write_json(INDEX_PATH, new_index)
    logger.info("webdataset: %d samples in %d shards, %d written", len(samples), len(new_index), len(written))
    return written


def _build_tar(storage, samples: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for sample in samples:
            name = sample_key(sample["key"])
            extension = posixpath.splitext(sample["file"])[1].lstrip(".").lower() or "jpg"
            _add_member(archive, f"{name}.{extension}", storage.read_bytes(sample["file"]), now)
            record = json.dumps(sample["record"], ensure_ascii=False, sort_keys=True).encode("utf-8")
            _add_member(archive, f"{name}.json", record, now)
    return buffer.getvalue()


__all__ = ["INDEX_PATH", "METADATA_PATH", "WEBDATASET_DIR", "sample_key", "shard_name", "write_webdataset"]
