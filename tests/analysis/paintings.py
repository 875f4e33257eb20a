"""Painting-like test images made with NumPy: a sky-to-ground gradient, soft colour
blobs, brush-stroke noise and optional black letterbox bars.

The seed fixes the gradient and the main blobs, as a diffusion seed fixes the
composition. ``variant`` adds blobs and noise of its own, as a different prompt would.
"""

from __future__ import annotations

import numpy as np


def _add_blobs(image: np.ndarray, rng: np.random.Generator, count: int, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    for _ in range(count):
        cy, cx = rng.uniform(0, 1, 2)
        radius = rng.uniform(0.05, 0.25)
        colour = rng.uniform(0, 1, 3)
        weight = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * radius**2))[..., None]
        image = image * (1 - weight) + colour[None, None, :] * weight
    return image


def painting_like(seed: int, size: int = 96, *, variant: int = 0, warm_shift: float = 0.0, bars: int = 0) -> np.ndarray:
    """Return a uint8 RGB image; ``warm_shift`` (in /255 units) adds to red and takes from blue."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    top = rng.uniform(0.3, 0.8, 3)
    bottom = rng.uniform(0.1, 0.6, 3)
    image = top[None, None, :] * (1 - y[..., None]) + bottom[None, None, :] * y[..., None]
    image = _add_blobs(image, rng, int(rng.integers(3, 6)), y, x)
    variant_rng = np.random.default_rng([seed, variant + 1])
    image = _add_blobs(image, variant_rng, 2, y, x)
    image = image + variant_rng.normal(0, 0.03, image.shape)
    image = np.clip(image * 255.0, 0, 255)
    image[..., 0] += warm_shift
    image[..., 2] -= warm_shift
    image = np.clip(image, 0, 255).round().astype(np.uint8)
    if bars:
        image[:bars] = 0
        image[-bars:] = 0
    return image
