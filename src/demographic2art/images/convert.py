"""Conversion of any Pillow image mode to 8-bit RGB.

High bit depths are rescaled by their full range (a 16-bit value ``v`` becomes
``round(v / 257)``), never clipped at 255, and transparency is composited on white.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _bits_per_sample(im: Image.Image) -> int | None:
    """Return the bit depth a TIFF declares (tag 258), or None where there is no such tag."""
    tags = getattr(im, "tag_v2", None)
    if not tags or 258 not in tags:
        return None
    value = tags[258]
    return int(value[0] if isinstance(value, tuple) else value)


def _scale_to_uint8(values: np.ndarray, maximum: float) -> np.ndarray:
    scaled = np.rint(values.astype(np.float64) * (255.0 / maximum))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _grey_high_depth_to_l(im: Image.Image, flags: list[str]) -> Image.Image:
    """Rescale a 16-bit, 32-bit integer or float greyscale image to mode L."""
    values = np.asarray(im)
    if im.mode in _SIXTEEN_BIT_MODES:
        flags.append("high_bit_depth")
        return Image.fromarray(_scale_to_uint8(values, 65535.0), mode="L")
    if im.mode == "I":
        # Pillow opens 16-bit PNG and TIFF greyscale in mode I too; the file's
        # declared depth decides the range, 16 bits when none is declared.
        bits = _bits_per_sample(im) or 16
        if bits == 8:
            return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
        flags.append("high_bit_depth")
        return Image.fromarray(_scale_to_uint8(np.clip(values, 0, None), float(2**bits - 1)), mode="L")
    # Mode F: floats are taken as 0.0-1.0 intensities. Values outside that range are
    # mapped by their own minimum and maximum and flagged.
    flags.append("high_bit_depth")
    finite = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(finite.min()), float(finite.max())
    if low >= 0.0 and high <= 1.0:
        return Image.fromarray(_scale_to_uint8(finite, 1.0), mode="L")
    flags.append("float_range_rescaled")
    span = high - low or 1.0
    return Image.fromarray(_scale_to_uint8(finite - low, span), mode="L")


def _flatten_alpha(rgba: Image.Image) -> Image.Image:
    # Pasting through the alpha band onto opaque white is the same blend as compositing
    # on a white layer, in one pass and without an RGBA copy of the picture.
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba)
    return background


def to_rgb(im: Image.Image, flags: list[str]) -> Image.Image:
    """Return a loaded image of any mode as 8-bit RGB, appending what changed to ``flags``."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return _grey_high_depth_to_l(im, flags).convert("RGB")
    if mode == "P":
        has_alpha = "transparency" in im.info or im.palette.mode == "RGBA"
        if has_alpha:
            flags.append("transparency_flattened")
            return _flatten_alpha(im.convert("RGBA"))
        return im.convert("RGB")
    if mode in _ALPHA_MODES:
        flags.append("transparency_flattened")
        if mode in ("RGBa", "La"):
            im = im.convert("RGBA")
        return _flatten_alpha(im.convert("RGBA"))
    if mode in ("L", "1") and "transparency" in im.info:
        flags.append("transparency_flattened")
        return _flatten_alpha(im.convert("RGBA"))
    if mode == "RGB" and "transparency" in im.info:
        flags.append("transparency_flattened")
        return _flatten_alpha(im.convert("RGBA"))
    if mode == "CMYK":
        # Pillow already undoes the inversion of Adobe APP14 CMYK JPEGs when it decodes.
        flags.append("cmyk")
    return im.convert("RGB")
