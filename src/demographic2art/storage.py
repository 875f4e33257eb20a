"""Workspace storage on any fsspec file system (local folders, ``s3://`` buckets, ...).

Every read and write of workspace files goes through :class:`Storage`, so the same
stage code runs on a local folder or on object storage. Paths passed to its methods
are relative to the storage root and always use ``/``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import posixpath
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs

from .errors import InvalidValueError, MissingFileError

logger = logging.getLogger(__name__)


class Storage:
    """A folder on an fsspec file system that holds workspace files.

    ``root`` is a local path or a URL such as ``s3://bucket/study``. Extra keyword
    arguments go to the file system (for example ``endpoint_url`` for S3).
    """

    def __init__(self, root: str | os.PathLike[str], **storage_options: Any) -> None:
        root = os.fspath(root)
        self.fs, path = url_to_fs(root, **storage_options)
        self.is_local = _is_local(self.fs)
        self.root = os.path.abspath(path) if self.is_local else path.rstrip("/")
        self.url = self.root if self.is_local else self.fs.unstrip_protocol(self.root)
        # Local folders this object has created or found, so each write of many files
        # into one folder skips the existence checks.
        self._folders: set[str] = set()

    def __repr__(self) -> str:
        return f"Storage({self.url!r})"

    def path(self, relpath: str = "") -> str:
        """Return the file-system path of ``relpath``, refusing paths that leave the root."""
        clean = posixpath.normpath(relpath.replace("\\", "/")) if relpath else ""
        if clean in ("", "."):
            return self.root
        if clean.startswith("../") or clean == ".." or posixpath.isabs(clean):
            raise InvalidValueError(
                f"path {relpath!r} leaves the storage root {self.url}; use a relative path inside it"
            )
        return posixpath.join(self.root, clean) if not self.is_local else os.path.join(self.root, clean)

    def local_path(self, relpath: str = "") -> str:
        """Return a local path for libraries that need one; only local storage has it."""
        if not self.is_local:
            raise InvalidValueError(
                f"{self.url} is not a local folder; this step needs a local workspace"
            )
        return self.path(relpath)

    def exists(self, relpath: str) -> bool:
        return self.fs.exists(self.path(relpath))

    def makedirs(self, relpath: str = "") -> None:
        self.fs.makedirs(self.path(relpath), exist_ok=True)

    def listdir(self, relpath: str = "") -> list[str]:
        """Return the names (not paths) in a folder, sorted; empty when it does not exist."""
        full = self.path(relpath)
        if not self.fs.exists(full):
            return []
        names = (posixpath.basename(p.rstrip("/")) for p in self.fs.ls(full, detail=False))
        return sorted(name for name in names if not _is_partial_write(name))

    def glob(self, pattern: str) -> list[str]:
        """Return the paths, relative to the root, that match ``pattern``."""
        matches = self.fs.glob(self.path(pattern))
        prefix = self.root.rstrip("/") + "/"
        relative = (m[len(prefix):] if m.startswith(prefix) else m for m in matches)
        return sorted(path for path in relative if not _is_partial_write(posixpath.basename(path)))

    @contextmanager
    def open(self, relpath: str, mode: str = "rb") -> Iterator[IO[Any]]:
        full = self.path(relpath)
        if "r" in mode and not self.fs.exists(full):
            raise MissingFileError(f"{self.url}/{relpath} does not exist")
        with self.fs.open(full, mode) as handle:
            yield handle

    def read_bytes(self, relpath: str) -> bytes:
        with self.open(relpath, "rb") as handle:
            return handle.read()

    def read_text(self, relpath: str) -> str:
        return self.read_bytes(relpath).decode("utf-8")

    def write_bytes(self, relpath: str, data: bytes) -> None:
        """Write ``data`` so that readers never see a half-written file.

        Local writes go to a temporary name in the same folder and are renamed into
        place; object stores make a single PUT visible at once.
        """
        full = self.path(relpath)
        if not self.is_local:
            self.fs.makedirs(posixpath.dirname(full), exist_ok=True)
            self.fs.pipe_file(full, data)
            return
        parent = os.path.dirname(full)
        if parent not in self._folders:
            os.makedirs(parent, exist_ok=True)
            self._folders.add(parent)
        # A hidden name, so a write cut short by a crash is never listed as a workspace file.
        tmp = os.path.join(parent, f".{os.path.basename(full)}.{uuid.uuid4().hex[:8]}.part")
        try:
            handle = open(tmp, "wb")
        except FileNotFoundError:
            # The folder was removed after this object created it.
            os.makedirs(parent, exist_ok=True)
            handle = open(tmp, "wb")
        with handle:
            handle.write(data)
        os.replace(tmp, full)

    def write_text(self, relpath: str, text: str) -> None:
        self.write_bytes(relpath, text.encode("utf-8"))

    def read_json(self, relpath: str) -> Any:
        """Return the parsed JSON file; a file that does not parse raises one error naming it."""
        data = self.read_bytes(relpath)
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidValueError(
                f"{self.path(relpath)} is not valid JSON ({exc}); restore it, or delete it and rerun "
                "the command that writes it"
            ) from exc

    def write_json(self, relpath: str, value: Any) -> None:
        self.write_text(relpath, json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")

    def read_parquet(self, relpath: str, columns: list[str] | None = None):
        import pandas as pd

        return pd.read_parquet(io.BytesIO(self.read_bytes(relpath)), columns=columns)

    def read_table(self, relpath: str, columns: list[str] | None = None):
        """Return the Parquet file as a ``pyarrow.Table``.

        ``ParquetFile.read`` is used because ``pyarrow.parquet.read_table`` imports
        pandas (about 0.2 s), which commands that never build a DataFrame need not pay.
        """
        import pyarrow.parquet as pq

        return pq.ParquetFile(io.BytesIO(self.read_bytes(relpath))).read(columns=columns)

    def write_table(self, relpath: str, table) -> None:
        """Write a ``pyarrow.Table`` as one Parquet object, atomically as :meth:`write_bytes` does."""
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        self.write_bytes(relpath, buffer.getvalue())

    def write_parquet(self, relpath: str, frame) -> None:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        self.write_bytes(relpath, buffer.getvalue())

    def remove(self, relpath: str) -> None:
        full = self.path(relpath)
        if self.fs.exists(full):
            self.fs.rm(full, recursive=True)


def _is_partial_write(name: str) -> bool:
    """Return whether ``name`` is the temporary file of an atomic write that did not finish."""
    return name.startswith(".") and name.endswith(".part")


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")
