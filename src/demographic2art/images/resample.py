"""Resizing of decoded pictures: an integer box reduction, then linear interpolation.

A downscale by ``s`` runs in two steps. Whole factors ``k = floor(s)`` of 2 or more
average ``k x k`` blocks (Pillow's ``reduce``), which removes the detail the smaller
picture cannot hold. The rest of the factor, always below 2, is linear interpolation
(OpenCV's ``INTER_LINEAR``): every source pixel still lies within one pixel of a
sample, so nothing is skipped. JPEGs arrive already reduced by libjpeg's scaled
decoding (:func:`.validate.validate_image` requests it), so for them only the
interpolation runs. On the image benchmark's 2-core machine this took about 0.5 ms
per 512 px picture, against about 3 ms for Pillow's antialiased bilinear resize,
which widens its kernel over the whole factor.

Enlarging (``--enlarge``) interpolates linearly too.
"""

from __future__ import annotations

import cv2
import numpy as np
import pyarrow as pa
from PIL import Image


def use_caller_threads() -> None:
    """Make OpenCV resize on the calling thread only.

    The download engine already runs one decode thread pool per core; OpenCV's own
    worker threads would only compete with them for the same cores.
    """
    cv2.setNumThreads(1)


def resample(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Return ``picture`` (mode RGB or L) resized to ``size`` (width, height)."""
    if picture.size == size:
        return picture
    factor = min(picture.width // size[0], picture.height // size[1])
    if factor >= 2:
        picture = picture.reduce(factor)
        if picture.size == size:
            return picture
    pixels, rawmode = _pixels(picture)
    resized = cv2.resize(pixels, size, interpolation=cv2.INTER_LINEAR)
    return Image.frombytes(picture.mode, size, resized, "raw", rawmode)


def _pixels(picture: Image.Image) -> tuple[np.ndarray, str]:
    """Return the pixels of ``picture`` as an array, and the raw mode that reads the array back.

    Pillow exports a picture stored in one memory block through the Arrow interface, so
    the array is a view of the picture's memory instead of a copy. An RGB picture is
    stored with 4 bytes per pixel (RGBX). The view is taken from the exported data
    buffer: Arrow's own ``to_numpy`` would import pandas, about 0.2 s in every worker
    process.
    """
    try:
        exported = pa.array(picture)
    except ValueError:
        # Pictures larger than Pillow's block size are stored in several blocks.
        return np.asarray(picture), picture.mode
    channels, rawmode = (4, "RGBX") if picture.mode == "RGB" else (1, picture.mode)
    shape = (picture.height, picture.width, channels) if channels > 1 else (picture.height, picture.width)
    values = np.frombuffer(exported.buffers()[-1], dtype=np.uint8, count=picture.width * picture.height * channels)
    return values.reshape(shape), rawmode
