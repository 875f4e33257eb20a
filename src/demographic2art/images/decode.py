"""Validation and encoding of downloaded bodies.

The engine calls :func:`process_body` on a thread pool of the process where the body
arrived (Pillow releases the GIL while it decodes, resizes and encodes) and runs one
such process per core.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass
from typing import Any

from .validate import sniff_format, validate_image

logger = logging.getLogger(__name__)

PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


@dataclass(frozen=True)
class EncodeOptions:
    """How stored images are validated, resized and encoded."""

    max_pixels: int
    max_side: int
    resize_mode: str
    enlarge: bool
    image_format: str
    quality: int


@dataclass
class ProcessedBody:
    """Manifest fields of one body plus the encoded image (``ok``) or the sniffed format (rejected)."""

    fields: dict[str, Any]
    encoded: bytes | None
    reason: str | None
    detail: str | None
    sniffed: str | None


def process_body(body: bytes, options: EncodeOptions) -> ProcessedBody:
    """Hash, validate, convert, resize and encode one downloaded body."""
    fields: dict[str, Any] = {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    outcome = validate_image(
        body,
        max_pixels=options.max_pixels,
        max_side=options.max_side,
        resize_mode=options.resize_mode,
        enlarge=options.enlarge,
    )
    fields.update(width=outcome.width, height=outcome.height, flags=",".join(outcome.flags) or None)
    if not outcome.ok:
        return ProcessedBody(fields, None, outcome.reason, outcome.detail, sniff_format(body))
    buffer = io.BytesIO()
    save_options: dict[str, Any] = {}
    if options.image_format in ("jpeg", "webp"):
        save_options["quality"] = options.quality
    outcome.image.save(buffer, format=PILLOW_FORMATS[options.image_format], **save_options)
    fields.update(stored_width=outcome.stored_width, stored_height=outcome.stored_height)
    return ProcessedBody(fields, buffer.getvalue(), None, None, None)


def default_decode_processes() -> int:
    """Return the number of usable cores, the default number of decode processes."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
