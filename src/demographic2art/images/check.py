"""Validation of image files already on disk, with the same checks as downloads."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import MissingFileError
from .validate import DEFAULT_MAX_PIXELS, validate_image

logger = logging.getLogger(__name__)

# File name extensions that each Pillow format name may carry; a file whose extension
# is not listed for its detected format gets the flag ``extension_mismatch``.
FORMAT_EXTENSIONS = {
    "JPEG": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "PNG": {".png"},
    "WEBP": {".webp"},
    "GIF": {".gif"},
    "TIFF": {".tif", ".tiff"},
    "BMP": {".bmp", ".dib"},
    "MPO": {".jpg", ".jpeg", ".mpo"},
}
EXTENSION_MISMATCH = "extension_mismatch"
# Extensions of the caption, metadata and table files that image folders carry beside
# the images, such as the download's metadata.jsonl. A folder search leaves them out.
SIDECAR_EXTENSIONS = {".json", ".jsonl", ".txt", ".csv", ".tsv", ".parquet", ".md", ".caption"}


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
            images = [p for p in found if p.suffix.lower() not in SIDECAR_EXTENSIONS]
            if not images:
                raise MissingFileError(f"folder {path} contains no image files; name an image file or a folder of images")
            if len(images) < len(found):
                logger.info("%s: left out %d caption, metadata and table files", path, len(found) - len(images))
            files.extend(images)
        elif path.is_file():
            files.append(path)
        else:
            raise MissingFileError(f"{path} does not exist; name an image file or a folder of images")
    return files


def check_images(
    paths: Iterable[str | os.PathLike[str]],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = 512,
    resize_mode: str = "keep",
) -> list[dict[str, Any]]:
    """Validate local image files (folders are searched recursively).

    Returns one dict per file with ``path``, ``status``, ``reason``, ``detail``,
    ``format``, ``mode``, ``size`` ([width, height] as declared), ``stored_size`` and
    ``flags``. A file whose name extension does not match its detected format (a
    JPEG named ``.png``) keeps its status and gets the flag ``extension_mismatch``.
    Folder searches leave out hidden files and folders and the caption, metadata and table files
    of :data:`SIDECAR_EXTENSIONS`; files named directly are always checked. Raises
    :class:`MissingFileError` when a named path does not exist or a named folder
    contains no image files.
    """
    results = []
    for path in _expand(paths):
        outcome = validate_image(
            path.read_bytes(), max_pixels=max_pixels, max_side=max_side, resize_mode=resize_mode
        )
        size = [outcome.width, outcome.height] if outcome.width is not None else None
        flags = list(outcome.flags)
        if extension_mismatch(path, outcome.format):
            flags.append(EXTENSION_MISMATCH)
        stored = [outcome.stored_width, outcome.stored_height] if outcome.stored_width is not None else None
        results.append(
            {
                "path": str(path),
                "status": outcome.status,
                "reason": outcome.reason,
                "detail": outcome.detail,
                "format": outcome.format,
                "mode": outcome.mode,
                "size": size,
                "stored_size": stored,
                "flags": flags,
            }
        )
        logger.debug("%s: %s %s", path, outcome.status, outcome.reason or "")
    return results


def extension_mismatch(path: str | os.PathLike[str], image_format: str | None) -> bool:
    """Return whether the extension of ``path`` is not one used for ``image_format``.

    Unknown formats, files without a detected format and files without an extension
    are never a mismatch.
    """
    extensions = FORMAT_EXTENSIONS.get((image_format or "").upper())
    suffix = Path(path).suffix.lower()
    if not extensions or not suffix:
        return False
    return suffix not in extensions
