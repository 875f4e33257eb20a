"""Image stage: download artwork images, validate them and store 8-bit RGB files.

Public API::

    normalise_url(url, *, size="large") -> str
    validate_image(data, *, max_pixels=..., max_side=512, resize_mode="keep", enlarge=False)
    check_images(paths, ...) -> list[dict]
    download_images(workspace, ...) -> DownloadSummary
"""

from __future__ import annotations

from .check import check_images
from .download import DownloadSummary, download_images
from .urls import normalise_url
from .validate import ValidationResult, validate_image

__all__ = [
    "DownloadSummary",
    "ValidationResult",
    "check_images",
    "download_images",
    "normalise_url",
    "validate_image",
]
