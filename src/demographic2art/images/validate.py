"""Validation and conversion of one encoded image into an 8-bit RGB picture.

Each image is checked from its bytes (format, declared size against a pixel budget,
an end marker for formats that have one), then decoded completely, so a file that
would fail later in training is rejected here. ``ImageFile.LOAD_TRUNCATED_IMAGES`` is
never switched on: a truncated file is rejected, not padded with grey.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageCms, ImageFile

from ..errors import InvalidValueError
from .convert import to_rgb
from .resample import resample

logger = logging.getLogger(__name__)

# Pillow's own default for Image.MAX_IMAGE_PIXELS: 0.25 GiB of 24-bit pixels.
DEFAULT_MAX_PIXELS = 89_478_485
RESIZE_MODES = ("keep", "center_crop", "original")


@dataclass
class ValidationResult:
    """Outcome of validating one image; ``image`` is set only when ``status == "ok"``."""

    status: str
    reason: str | None = None
    detail: str | None = None
    format: str | None = None
    mode: str | None = None
    width: int | None = None
    height: int | None = None
    stored_width: int | None = None
    stored_height: int | None = None
    flags: list[str] = field(default_factory=list)
    image: Image.Image | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        """Return the fields other than ``image`` as a plain dict."""
        return {
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
            "format": self.format,
            "mode": self.mode,
            "width": self.width,
            "height": self.height,
            "stored_width": self.stored_width,
            "stored_height": self.stored_height,
            "flags": list(self.flags),
        }


def _rejected(reason: str, detail: str, **fields: Any) -> ValidationResult:
    return ValidationResult(status="rejected", reason=reason, detail=detail, **fields)


def sniff_format(data: bytes) -> str | None:
    """Return the image format named by the leading bytes, ``"HTML"`` for a web page, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[:2] == b"BM":
        return "BMP"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")) or b"<html" in head:
        return "HTML"
    return None


def find_truncation(data: bytes, fmt: str | None) -> str | None:
    """Return why the encoded data ends early, or None when its end marker is present.

    Pillow decodes a JPEG cut just before its end marker, a PNG without IEND and a GIF
    cut between frames without an error, so these structural checks run beside the
    full decode.
    """
    if fmt == "JPEG":
        # 0xFF bytes inside entropy-coded data are stuffed with 0x00, so the EOI found by
        # rfind is a real marker, and a scan starts after it only if an SOS follows it.
        # Both searches cover only the tail after the last EOI.
        last_eoi = data.rfind(b"\xff\xd9")
        if last_eoi < 0 or data.find(b"\xff\xda", last_eoi) >= 0:
            return "JPEG data has no end-of-image marker (FF D9) after its last scan"
    elif fmt == "PNG":
        offset = 8
        while True:
            if offset + 8 > len(data):
                return "PNG data ends before its IEND chunk"
            (length,) = struct.unpack(">I", data[offset : offset + 4])
            kind = data[offset + 4 : offset + 8]
            end = offset + 12 + length
            if end > len(data):
                return f"PNG chunk {kind.decode('latin-1')!r} is cut short"
            if kind == b"IEND":
                return None
            offset = end
    elif fmt == "GIF":
        if not data.rstrip(b"\x00").endswith(b";"):
            return "GIF data has no trailer byte (0x3B)"
    elif fmt == "WEBP":
        (riff_size,) = struct.unpack("<I", data[4:8])
        if len(data) < riff_size + 8:
            return f"WebP data holds {len(data)} bytes but its RIFF header declares {riff_size + 8}"
    return None


def _check_options(max_pixels: int, max_side: int, resize_mode: str) -> None:
    if resize_mode not in RESIZE_MODES:
        raise InvalidValueError(
            f"resize mode {resize_mode!r} is not one of {', '.join(RESIZE_MODES)}"
        )
    if int(max_side) < 1:
        raise InvalidValueError(f"max_side {max_side} must be a positive number of pixels")
    if int(max_pixels) < 1:
        raise InvalidValueError(f"max_pixels {max_pixels} must be a positive number of pixels")


def target_size(size: tuple[int, int], max_side: int, resize_mode: str, enlarge: bool) -> tuple[int, int]:
    """Return the size to resize to before any crop: the long side (``keep``) or the
    short side (``center_crop``) becomes ``max_side``, never larger than the source
    unless ``enlarge`` is set."""
    width, height = size
    if resize_mode == "original":
        return size
    side = max(width, height) if resize_mode == "keep" else min(width, height)
    scale = max_side / side
    if scale >= 1 and not enlarge:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def _frames_over_budget(im: Image.Image, max_pixels: int) -> tuple[int, int] | None:
    """Return the size of the first frame over the pixel budget, read from frame headers."""
    if im.width * im.height > max_pixels:
        return im.size
    # TIFF pages can each declare their own size; seeking reads only the page header.
    if im.format == "TIFF" and getattr(im, "n_frames", 1) > 1:
        for index in range(1, im.n_frames):
            im.seek(index)
            if im.width * im.height > max_pixels:
                size = im.size
                im.seek(0)
                return size
        im.seek(0)
    return None


def validate_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = 512,
    resize_mode: str = "keep",
    enlarge: bool = False,
) -> ValidationResult:
    """Validate encoded image bytes and convert them to an 8-bit RGB picture.

    Rejections are returned, never raised: ``empty``, ``html``, ``not_an_image``,
    ``too_many_pixels`` (declared width x height, from the header, above ``max_pixels``),
    ``truncated`` and ``decode_error``. Accepted images are decoded completely, with
    EXIF orientation applied, an embedded ICC profile converted to sRGB, transparency
    composited on white and high bit depths rescaled to 8 bits. ``resize_mode`` is
    ``keep`` (long side at most ``max_side``), ``center_crop`` (square of ``max_side``)
    or ``original`` (no resize). Raises :class:`InvalidValueError` for invalid options.
    """
    _check_options(max_pixels, max_side, resize_mode)
    if not data:
        return _rejected("empty", "the file or response body is empty")
    fmt = sniff_format(data)
    if fmt == "HTML":
        return _rejected("html", "the data is an HTML page, not an image", format="HTML")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        return _rejected("too_many_pixels", str(exc), format=fmt)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if fmt is None:
            return _rejected("not_an_image", f"no image format recognised; the data starts with {data[:8].hex(' ')}")
        # The leading bytes name an image format, so the header itself is damaged.
        truncation = find_truncation(data, fmt)
        if truncation is not None:
            return _rejected("truncated", truncation, format=fmt)
        return _rejected("decode_error", f"{fmt} header cannot be read: {exc}", format=fmt)

    fields: dict[str, Any] = {"format": im.format, "mode": im.mode, "width": im.width, "height": im.height}
    try:
        oversized = _frames_over_budget(im, int(max_pixels))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return _rejected("decode_error", f"frame headers cannot be read: {exc}", **fields)
    if oversized is not None:
        pixels = oversized[0] * oversized[1]
        return _rejected(
            "too_many_pixels",
            f"declared size {oversized[0]}x{oversized[1]} ({pixels} pixels) exceeds the budget of {max_pixels}",
            **fields,
        )

    truncation = find_truncation(data, im.format)
    if truncation is not None:
        return _rejected("truncated", truncation, **fields)

    flags: list[str] = []
    if getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1:
        flags.append("animated")
        im.seek(0)

    if im.format == "JPEG" and resize_mode != "original":
        wanted = target_size(im.size, max_side, resize_mode, enlarge)
        if wanted[0] < im.width:
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below the requested size.
            im.draft(None, wanted)
            if im.size != (fields["width"], fields["height"]):
                flags.append("jpeg_draft")

    try:
        im.load()
    except OSError as exc:
        reason = "truncated" if "truncated" in str(exc) else "decode_error"
        return _rejected(reason, f"decoding failed: {exc}", **fields)
    except (SyntaxError, ValueError, EOFError, struct.error) as exc:
        return _rejected("decode_error", f"decoding failed: {exc}", **fields)
    assert not ImageFile.LOAD_TRUNCATED_IMAGES, "truncated images must never be accepted"

    try:
        picture = _to_srgb(im, flags)
        picture = _apply_orientation(im, picture, flags)
        picture = _resize(picture, max_side, resize_mode, enlarge)
    except (OSError, ValueError, ImageCms.PyCMSError) as exc:
        return _rejected("decode_error", f"conversion to RGB failed: {exc}", **fields)

    return ValidationResult(
        status="ok",
        stored_width=picture.width,
        stored_height=picture.height,
        flags=flags,
        image=picture,
        **fields,
    )


def _to_srgb(im: Image.Image, flags: list[str]) -> Image.Image:
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                im, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            logger.debug("ICC profile not applied: %s", exc)
            flags.append("icc_failed")
        else:
            if converted is not None:
                flags.append("icc_converted")
                return converted
    return to_rgb(im, flags)


# EXIF orientation values 2-8 and the transpose that shows the picture upright.
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _apply_orientation(source: Image.Image, picture: Image.Image, flags: list[str]) -> Image.Image:
    orientation = source.getexif().get(0x0112, 1)
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    if method is None:
        return picture
    flags.append("exif_orientation")
    return picture.transpose(method)


def _resize(picture: Image.Image, max_side: int, resize_mode: str, enlarge: bool) -> Image.Image:
    if resize_mode == "original":
        return picture
    size = target_size(picture.size, max_side, resize_mode, enlarge)
    picture = resample(picture, size)
    if resize_mode == "center_crop":
        side = min(picture.size)
        left = (picture.width - side) // 2
        top = (picture.height - side) // 2
        picture = picture.crop((left, top, left + side, top + side))
    return picture
