"""A workspace folder holds one study: every stage reads and writes inside it.

Layout (all folders are created on first use)::

    d2a.toml        settings used by each stage, one table per stage; paths inside
                    the workspace are stored relative to it (``./models/tiny``)
    catalog/        artists.parquet, artworks.parquet, problems.json
    images/         files/<artist>/<painting>.jpg, manifest.parquet, quarantine/
    bios/           html/<artist>.html, triage.parquet
    demographics/   json/<artist>.json, demographics.parquet
    captions/       captions.parquet, metadata.jsonl, report.json
    models/         base models built or linked for the study (tiny/)
    runs/           one folder per training run (lora, loss.csv, loss.png)
    gallery/        generated PNGs with JSON sidecars
    portfolios/     image sets generated for group comparisons
    jobs/           web-app job records
    cache/          caches that can be deleted at any time
"""

from __future__ import annotations

import logging
import os
import shutil
import tomllib
from datetime import datetime, timezone
from typing import Any

import tomli_w

from .errors import InvalidValueError
from .storage import Storage

logger = logging.getLogger(__name__)

DEFAULT_WORKSPACE = "./d2a-workspace"
SUBFOLDERS = (
    "catalog",
    "images",
    "bios",
    "demographics",
    "captions",
    "models",
    "runs",
    "gallery",
    "portfolios",
    "jobs",
    "cache",
)
SETTINGS_FILE = "d2a.toml"
# Settings values that start with this prefix are paths relative to the workspace root.
RELATIVE_PREFIX = "./"
# Folders whose JSON run records a failed command may have written into a new workspace.
RUN_RECORD_FOLDERS = ("jobs/commands", "images/runs")

# Local roots that were not workspaces when this process first opened them, with the names
# each contained then (None: the root did not exist). When a command fails, the command line
# removes the layout it added where that layout is still empty.
_new_roots: dict[str, frozenset[str] | None] = {}


class Workspace:
    """One study's folder, local or on any fsspec file system."""

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_WORKSPACE, **storage_options: Any):
        try:
            self.storage = Storage(root, **storage_options)
        except (ValueError, ImportError) as exc:
            # fsspec raises ValueError for an unknown protocol and ImportError when the
            # package of a known one (s3fs, gcsfs, ...) is not installed.
            raise InvalidValueError(
                f"workspace {os.fspath(root)!r} cannot be opened ({exc}); "
                "use a local folder or a URL of an installed fsspec file system such as s3://bucket/study"
            ) from None
        if self.storage.is_local and os.path.exists(self.storage.root) and not os.path.isdir(self.storage.root):
            raise InvalidValueError(f"workspace {os.fspath(root)!r} is a file, not a folder; pass --workspace a folder path")

    def __repr__(self) -> str:
        return f"Workspace({self.storage.url!r})"

    @property
    def url(self) -> str:
        return self.storage.url

    def create(self) -> "Workspace":
        """Create the folder layout; existing files are left as they are."""
        self.note_if_new()
        for name in SUBFOLDERS:
            self.storage.makedirs(name)
        if not self.storage.exists(SETTINGS_FILE):
            self.storage.write_text(SETTINGS_FILE, tomli_w.dumps({"d2a": self._header()}))
        return self

    def local_path(self, relpath: str = "") -> str:
        return self.storage.local_path(relpath)

    def note_if_new(self) -> None:
        """Remember a local root that is not a workspace yet, for :func:`remove_new_skeletons`."""
        root = self.storage.root
        if not self.storage.is_local or root in _new_roots:
            return
        if not os.path.exists(root):
            _new_roots[root] = None
        elif os.path.isdir(root) and not os.path.exists(os.path.join(root, SETTINGS_FILE)):
            _new_roots[root] = frozenset(os.listdir(root))

    def settings(self) -> dict[str, Any]:
        """Return the recorded settings, one table per stage.

        Values stored as ``./<path>`` (paths inside a local workspace) come back as
        absolute paths under the workspace's current location, so a copied or moved
        workspace uses its own files. Raise :class:`InvalidValueError` when ``d2a.toml``
        is not valid TOML.
        """
        return self._resolve_paths(self._read_settings())

    def _read_settings(self) -> dict[str, Any]:
        if not self.storage.exists(SETTINGS_FILE):
            return {}
        try:
            text = self.storage.read_text(SETTINGS_FILE)
            return tomllib.loads(text)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidValueError(
                f"{self.url}/{SETTINGS_FILE} is not valid TOML ({exc}); fix or delete it "
                "(each stage records its settings again when it runs)"
            ) from None

    def record_settings(self, stage: str, values: dict[str, Any]) -> None:
        """Record the settings a stage ran with, replacing that stage's earlier table.

        On a local workspace, absolute paths inside the workspace are stored relative
        to it (``./models/tiny``); paths outside it stay absolute.
        """
        settings = self._read_settings()
        settings.setdefault("d2a", self._header())
        settings["d2a"]["updated"] = _now()
        settings[stage] = self._relative_paths(_toml_safe(values))
        self.storage.write_text(SETTINGS_FILE, tomli_w.dumps(settings))

    def _relative_paths(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self._relative_paths(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._relative_paths(item) for item in value]
        if not (self.storage.is_local and isinstance(value, str)):
            return value
        if value.startswith(("./", "../")) and os.path.exists(value):
            # A path the user gave relative to the current folder; keep its meaning.
            value = os.path.abspath(value)
        if not os.path.isabs(value):
            return value
        root = os.path.realpath(self.storage.root)
        target = os.path.realpath(value)
        if target == root or os.path.commonpath([root, target]) != root:
            return value
        return RELATIVE_PREFIX + os.path.relpath(target, root).replace(os.sep, "/")

    def _resolve_paths(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self._resolve_paths(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolve_paths(item) for item in value]
        if isinstance(value, str) and value.startswith(RELATIVE_PREFIX) and len(value) > len(RELATIVE_PREFIX):
            relpath = value[len(RELATIVE_PREFIX):]
            return self.storage.path(relpath) if self.storage.is_local else value
        return value

    @staticmethod
    def _header() -> dict[str, Any]:
        from . import __version__

        return {"version": __version__, "created": _now()}


def forget_new_workspaces() -> None:
    """Forget the roots noted by :meth:`Workspace.note_if_new`, at the start of a command."""
    _new_roots.clear()


def remove_new_skeletons() -> list[str]:
    """Remove the workspace layout this process created, where it is still empty.

    A root that did not exist before is removed when it contains no file but
    ``d2a.toml`` and JSON run records (empty folders of any name are allowed). In a
    folder that existed but was not a workspace, only the layout entries this process
    added are removed, under the same rule. Any other file keeps everything. Returns the
    removed paths.
    """
    removed = []
    for root, before in sorted(_new_roots.items()):
        if not os.path.isdir(root):
            continue
        added = sorted(set(os.listdir(root)) - before) if before is not None else None
        if added is not None and not set(added) <= set(SUBFOLDERS) | {SETTINGS_FILE}:
            continue
        if not _only_skeleton(root, added):
            continue
        if added is None:
            shutil.rmtree(root)
            removed.append(root)
        else:
            for name in added:
                path = os.path.join(root, name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)
                removed.append(path)
        logger.debug("removed the workspace layout the failed command created in %s", root)
    _new_roots.clear()
    return removed


def _only_skeleton(root: str, names: list[str] | None = None) -> bool:
    """Return whether ``root`` (or its entries ``names``) has no files but ``d2a.toml`` and JSON run records."""
    tops = [root] if names is None else [os.path.join(root, name) for name in names]
    for top in tops:
        if os.path.isfile(top):
            if os.path.basename(top) != SETTINGS_FILE:
                return False
            continue
        for folder, _subfolders, files in os.walk(top):
            relative = os.path.relpath(folder, root).replace(os.sep, "/")
            for name in files:
                if relative == "." and name == SETTINGS_FILE:
                    continue
                if relative in RUN_RECORD_FOLDERS and name.endswith(".json"):
                    continue
                return False
    return True


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _toml_safe(value: Any) -> Any:
    """Drop None values and turn paths and other objects into strings, which TOML requires."""
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_safe(v) for v in value if v is not None]
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
