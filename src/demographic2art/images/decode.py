"""Validation and encoding of downloaded bodies.

The engine calls :func:`process_body` on a thread pool of the process where the body
arrived (Pillow releases the GIL while it decodes, resizes and encodes) and runs one
such process per core. :class:`DecodePool` runs :func:`process_body` on a pool of
processes for callers that hold bodies in one process.
"""

from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
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


class DecodePool:
    """Runs :func:`process_body` on ``processes`` worker processes, or inline when 0.

    Worker processes are forked where the platform allows it, because spawning one
    re-imports the package (about a second each).
    """

    def __init__(self, processes: int) -> None:
        self.processes = max(0, int(processes))
        self._executor: ProcessPoolExecutor | None = None
        if self.processes:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
            # Start every worker now, before the I/O threads run, so no fork happens while
            # another thread of this process holds a lock.
            warm = [self._executor.submit(int, 0) for _ in range(self.processes)]
            for future in warm:
                future.result()

    def process(self, body: bytes, options: EncodeOptions) -> ProcessedBody:
        if self._executor is None:
            return process_body(body, options)
        return self._executor.submit(process_body, body, options).result()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> "DecodePool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_decode_processes() -> int:
    """Return the number of usable cores, the default number of decode processes."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
