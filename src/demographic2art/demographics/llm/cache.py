"""Answers cached in the workspace by model, prompt version, schema hash and input text hash.

A rerun over unchanged pages finds every answer here and sends nothing. Transient failures
(HTTP errors, rate limits, timeouts) are not cached, so a rerun tries them again.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from ...workspace import Workspace

logger = logging.getLogger(__name__)

CACHE_DIR = "demographics/llm/cache"


def cache_key(model: str, prompt_version: str, schema_hash: str, input_hash: str) -> str:
    """Return the SHA-256 key of one answer."""
    return hashlib.sha256(f"{model}\n{prompt_version}\n{schema_hash}\n{input_hash}".encode()).hexdigest()


class AnswerCache:
    """Cached call results under ``demographics/llm/cache/<k[:2]>/<k>.json`` of a workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.storage = workspace.storage

    def _path(self, key: str) -> str:
        return f"{CACHE_DIR}/{key[:2]}/{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """Return the cached result of ``key``, or None (also for an unreadable entry, which is logged)."""
        path = self._path(key)
        if not self.storage.exists(path):
            return None
        try:
            return self.storage.read_json(path)
        except ValueError as error:
            logger.warning("ignoring unreadable cache entry %s: %s", path, error)
            return None

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Store one call result."""
        self.storage.write_json(self._path(key), result)
