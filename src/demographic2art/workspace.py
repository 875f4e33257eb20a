"""A workspace folder holds one study: every stage reads and writes inside it.

Layout (all folders are created on first use)::

    d2a.toml        settings used by each stage, one table per stage
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
import tomllib
from datetime import datetime, timezone
from typing import Any

import tomli_w

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


class Workspace:
    """One study's folder, local or on any fsspec file system."""

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_WORKSPACE, **storage_options: Any):
        self.storage = Storage(root, **storage_options)

    def __repr__(self) -> str:
        return f"Workspace({self.storage.url!r})"

    @property
    def url(self) -> str:
        return self.storage.url

    def create(self) -> "Workspace":
        """Create the folder layout; existing files are left as they are."""
        for name in SUBFOLDERS:
            self.storage.makedirs(name)
        if not self.storage.exists(SETTINGS_FILE):
            self.storage.write_text(SETTINGS_FILE, tomli_w.dumps({"d2a": self._header()}))
        return self

    def local_path(self, relpath: str = "") -> str:
        return self.storage.local_path(relpath)

    def settings(self) -> dict[str, Any]:
        """Return the recorded settings, one table per stage."""
        if not self.storage.exists(SETTINGS_FILE):
            return {}
        return tomllib.loads(self.storage.read_text(SETTINGS_FILE))

    def record_settings(self, stage: str, values: dict[str, Any]) -> None:
        """Record the settings a stage ran with, replacing that stage's earlier table."""
        settings = self.settings()
        settings.setdefault("d2a", self._header())
        settings["d2a"]["updated"] = _now()
        settings[stage] = _toml_safe(values)
        self.storage.write_text(SETTINGS_FILE, tomli_w.dumps(settings))

    @staticmethod
    def _header() -> dict[str, Any]:
        from . import __version__

        return {"version": __version__, "created": _now()}


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
