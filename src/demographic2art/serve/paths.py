"""Turning a requested gallery file name into a path that stays inside the gallery."""

from __future__ import annotations

import os
import re

from .jobs import GALLERY

# One plain file name: no separators, no leading dot, no percent signs or control bytes.
GALLERY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.(png|json)$")
MAX_NAME_CHARS = 200


def gallery_relpath(storage, name: str) -> str | None:
    """Return ``gallery/<name>`` when ``name`` is a plain file inside the gallery, else None.

    The name must match :data:`GALLERY_NAME`, which rules out ``..``, slashes,
    backslashes, ``%``-encoded text, NUL and absolute paths. On local storage the
    resolved path (after following symlinks) must also lie inside the gallery folder.
    """
    if len(name) > MAX_NAME_CHARS or not GALLERY_NAME.match(name):
        return None
    relpath = f"{GALLERY}/{name}"
    if storage.is_local:
        root = os.path.realpath(storage.path(GALLERY))
        target = os.path.realpath(storage.path(relpath))
        if os.path.commonpath([root, target]) != root or not os.path.isfile(target):
            return None
    elif not storage.exists(relpath):
        return None
    return relpath
