"""Painting-like stand-in images drawn from a seeded random generator.

Each image layers a sky/ground gradient, textured noise, a few shapes and many brush
strokes. Colours come from a per-style :class:`Palette`, so styles differ measurably:
Impressionism is light and pastel, Baroque dark and warm with strong contrast,
Expressionism saturated. Nothing here reads files or the network.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..errors import InvalidValueError


@dataclass(frozen=True)
class Palette:
    """Colour ranges of one style in HSV, every component in [0, 1].

    ``hues`` are the centres the colours are drawn around (jittered by ``hue_jitter``).
    ``value_range`` bounds the brightness of the gradients and strokes, ``highlight``
    is the brightness of the few light accents (Baroque's lit faces) and ``contrast``
    scales the spread of values around the mean.
    """

    hues: tuple[float, ...]
    saturation_range: tuple[float, float]
    value_range: tuple[float, float]
    hue_jitter: float = 0.04
    highlight: float = 0.9
    contrast: float = 1.0
    stroke_count: int = 90
    noise: float = 10.0


PALETTES: dict[str, Palette] = {
    "impressionism": Palette(
        hues=(0.55, 0.15, 0.3, 0.9, 0.12),
        saturation_range=(0.15, 0.4),
        value_range=(0.72, 0.97),
        hue_jitter=0.05,
        highlight=1.0,
        contrast=0.8,
        stroke_count=160,
    ),
    "baroque": Palette(
        hues=(0.06, 0.09, 0.02, 0.12),
        saturation_range=(0.45, 0.8),
        value_range=(0.05, 0.38),
        hue_jitter=0.02,
        highlight=0.85,
        contrast=1.6,
        stroke_count=70,
        noise=8.0,
    ),
    "expressionism": Palette(
        hues=(0.0, 0.6, 0.15, 0.33, 0.8),
        saturation_range=(0.75, 1.0),
        value_range=(0.45, 0.9),
        hue_jitter=0.03,
        contrast=1.3,
        stroke_count=110,
        noise=14.0,
    ),
    "romanticism": Palette(
        hues=(0.58, 0.1, 0.08, 0.3),
        saturation_range=(0.25, 0.55),
        value_range=(0.25, 0.7),
        highlight=0.95,
        contrast=1.2,
    ),
    "symbolism": Palette(
        hues=(0.68, 0.75, 0.12, 0.5),
        saturation_range=(0.3, 0.6),
        value_range=(0.3, 0.65),
        highlight=0.85,
    ),
    "realism": Palette(
        hues=(0.08, 0.25, 0.1, 0.55),
        saturation_range=(0.2, 0.45),
        value_range=(0.3, 0.65),
        contrast=0.9,
    ),
    "post_impressionism": Palette(
        hues=(0.15, 0.6, 0.08, 0.35),
        saturation_range=(0.55, 0.85),
        value_range=(0.55, 0.92),
        stroke_count=150,
    ),
    "art_nouveau_modern": Palette(
        hues=(0.13, 0.3, 0.08, 0.45),
        saturation_range=(0.3, 0.55),
        value_range=(0.45, 0.8),
        stroke_count=60,
    ),
}


def style_slug(style: str) -> str:
    """Return the folder name of a style: ``"Art Nouveau (Modern)"`` -> ``"art_nouveau_modern"``."""
    return re.sub(r"[^a-z0-9]+", "_", style.lower()).strip("_")


def palette_for(style: str | Palette) -> Palette:
    """Return the palette of a style, matching names through :func:`style_slug`."""
    if isinstance(style, Palette):
        return style
    slug = style_slug(style)
    if slug not in PALETTES:
        raise InvalidValueError(
            f"style {style!r} has no stand-in palette; use one of {', '.join(sorted(PALETTES))}"
        )
    return PALETTES[slug]


def _colour(rng: np.random.Generator, palette: Palette, value: float | None = None) -> np.ndarray:
    """Draw one RGB colour (floats 0-255) from the palette."""
    hue = (rng.choice(palette.hues) + rng.normal(0.0, palette.hue_jitter)) % 1.0
    saturation = rng.uniform(*palette.saturation_range)
    if value is None:
        value = rng.uniform(*palette.value_range)
    return np.array(colorsys.hsv_to_rgb(hue, saturation, min(max(value, 0.0), 1.0))) * 255.0


def _gradient(rng: np.random.Generator, palette: Palette, width: int, height: int) -> np.ndarray:
    """Build the sky/ground background: two vertical gradients split at a wavy horizon."""
    low, high = palette.value_range
    sky_top = _colour(rng, palette, rng.uniform(low, high))
    sky_bottom = _colour(rng, palette, rng.uniform(low, high))
    ground_top = _colour(rng, palette, rng.uniform(low, high))
    ground_bottom = _colour(rng, palette, rng.uniform(low, (low + high) / 2))

    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    columns = np.linspace(0.0, 2 * np.pi, width, dtype=np.float32)[None, :]
    phase = rng.uniform(0, 2 * np.pi)
    horizon = rng.uniform(0.35, 0.7) + 0.05 * np.sin(columns * rng.uniform(0.5, 2.0) + phase)

    is_sky = rows < horizon
    t = np.where(is_sky, rows / horizon, (rows - horizon) / (1.0 - horizon))
    t = np.clip(t, 0.0, 1.0)[..., None]
    top = np.where(is_sky[..., None], sky_top.astype(np.float32), ground_top.astype(np.float32))
    bottom = np.where(
        is_sky[..., None], sky_bottom.astype(np.float32), ground_bottom.astype(np.float32)
    )
    return top + (bottom - top) * t


def _texture(rng: np.random.Generator, palette: Palette, width: int, height: int) -> np.ndarray:
    """Return additive noise: coarse blotches (upsampled) plus fine grain, shape (h, w, 3)."""
    coarse = rng.normal(0.0, palette.noise * 1.5, (max(height // 24, 2), max(width // 24, 2), 3))
    blotches = Image.fromarray(np.clip(coarse + 128, 0, 255).astype(np.uint8)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    grain = rng.normal(0.0, palette.noise, (height, width, 1)).astype(np.float32)
    return np.asarray(blotches, dtype=np.float32) - 128.0 + grain


def _bezier(points: np.ndarray, steps: int = 16) -> list[tuple[float, float]]:
    """Sample a cubic Bezier curve given its four control points, shape (4, 2)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    curve = (
        (1 - t) ** 3 * points[0]
        + 3 * (1 - t) ** 2 * t * points[1]
        + 3 * (1 - t) * t**2 * points[2]
        + t**3 * points[3]
    )
    return [(float(x), float(y)) for x, y in curve]


def _draw_shapes(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, palette: Palette, width: int, height: int
) -> None:
    """Draw a light source (sun or lit face) and a few solid masses (hills, trees, buildings)."""
    radius = rng.uniform(0.05, 0.12) * min(width, height)
    cx, cy = rng.uniform(0.15, 0.85) * width, rng.uniform(0.1, 0.45) * height
    light = tuple(int(c) for c in _colour(rng, palette, palette.highlight))
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=light)

    for _ in range(int(rng.integers(2, 5))):
        x0 = rng.uniform(-0.1, 0.9) * width
        y0 = rng.uniform(0.3, 0.8) * height
        x1 = x0 + rng.uniform(0.05, 0.3) * width
        y1 = y0 + rng.uniform(0.1, 0.4) * height
        value = rng.uniform(*palette.value_range) / max(palette.contrast, 1.0)
        fill = tuple(int(c) for c in _colour(rng, palette, value))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=fill)


def _draw_strokes(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, palette: Palette, width: int, height: int
) -> None:
    """Draw the brush strokes: Bezier curves and short ellipse dabs of varied colour and width."""
    scale = min(width, height)
    mean_value = sum(palette.value_range) / 2
    for _ in range(palette.stroke_count):
        value = mean_value + palette.contrast * rng.uniform(-0.5, 0.5) * (
            palette.value_range[1] - palette.value_range[0]
        )
        colour = tuple(int(c) for c in _colour(rng, palette, value))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        if rng.random() < 0.6:
            length = rng.uniform(0.05, 0.25) * scale
            angle = rng.uniform(0, np.pi)
            direction = np.array([np.cos(angle), np.sin(angle)]) * length
            start = np.array([x, y])
            controls = np.stack(
                [
                    start,
                    start + direction / 3 + rng.normal(0, length / 4, 2),
                    start + 2 * direction / 3 + rng.normal(0, length / 4, 2),
                    start + direction,
                ]
            )
            stroke_width = max(1, int(rng.uniform(0.005, 0.03) * scale))
            draw.line(_bezier(controls), fill=colour, width=stroke_width, joint="curve")
        else:
            rx = rng.uniform(0.005, 0.03) * scale
            ry = rx * rng.uniform(0.3, 1.0)
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)


def paint(
    rng: np.random.Generator, width: int, height: int, style: str | Palette = "impressionism"
) -> Image.Image:
    """Paint a painting-like RGB image of ``width`` x ``height`` pixels in a style's palette.

    ``style`` is a style name such as ``"Baroque"`` or ``"Art Nouveau (Modern)"`` or a
    :class:`Palette`. The same generator state gives the same pixels.
    """
    if width < 8 or height < 8:
        raise InvalidValueError(
            f"painting size {width}x{height} is too small; use at least 8x8 pixels"
        )
    palette = palette_for(style)

    background = _gradient(rng, palette, width, height)
    canvas = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(canvas)
    _draw_shapes(draw, rng, palette, width, height)
    _draw_strokes(draw, rng, palette, width, height)

    # A slight blur merges strokes into the ground like wet paint, then the texture
    # noise goes on top so that no region stays a flat colour.
    canvas = canvas.filter(ImageFilter.SMOOTH)
    pixels = np.asarray(canvas, dtype=np.float32) + _texture(rng, palette, width, height)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
