"""Resizing by integer box reduction plus linear interpolation, against Pillow's antialiased filters."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from demographic2art.images.resample import resample
from demographic2art.images.validate import validate_image


def _smooth(width: int, height: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width]
    red = 255 * x / (width - 1)
    green = 255 * y / (height - 1)
    blue = 127 + 100 * np.sin(x / 40.0) * np.cos(y / 55.0)
    return Image.fromarray(np.stack([red, green, blue], axis=-1).round().astype(np.uint8))


@pytest.mark.parametrize("source, size", [((1600, 1200), (512, 384)), ((1000, 700), (512, 358)),
                                          ((700, 500), (512, 366)), ((300, 200), (600, 400))])
def test_resample_exact_requested_size(source, size):
    picture = resample(_smooth(*source), size)

    assert picture.size == size
    assert picture.mode == "RGB"


def test_resample_fourfold_shrink_averages_all_pixels():
    # Uniform noise has a standard deviation of about 74. The mean of 4 x 4 independent
    # pixels has a quarter of it (18.5), while linear interpolation alone, which reads two
    # neighbours per axis, keeps about 37.
    noise = np.random.default_rng(0).integers(0, 256, size=(400, 2048, 3), dtype=np.uint8)

    values = np.asarray(resample(Image.fromarray(noise), (512, 100))).astype(float)

    assert values.std() < 21
    assert abs(values.mean() - 127.5) < 1.0


def test_resample_small_factor_matches_pillow():
    source = _smooth(900, 640)
    size = (512, 364)

    ours = np.asarray(resample(source, size)).astype(int)
    pillow = np.asarray(source.resize(size, Image.Resampling.BILINEAR)).astype(int)

    assert np.abs(ours - pillow).mean() < 1.0
    assert np.abs(ours - pillow).max() <= 6


def test_resample_keeps_greyscale():
    picture = resample(_smooth(800, 600).convert("L"), (400, 300))

    assert picture.mode == "L"
    assert picture.size == (400, 300)


def test_resample_same_size_is_identity():
    source = _smooth(64, 48)

    assert resample(source, (64, 48)) is source


def test_resample_jpeg_scaled_decode_near_lanczos():
    # A 1600 px JPEG is decoded at half scale by libjpeg, then interpolated to 512 px.
    source = _smooth(1600, 1100)
    buffer = io.BytesIO()
    source.save(buffer, format="JPEG", quality=92)

    outcome = validate_image(buffer.getvalue(), max_side=512)

    assert outcome.ok
    assert "jpeg_draft" in outcome.flags
    assert outcome.image.size == (512, 352)
    reference = np.asarray(source.resize((512, 352), Image.Resampling.LANCZOS)).astype(int)
    assert np.abs(np.asarray(outcome.image).astype(int) - reference).mean() < 2.0


def test_resample_picture_in_several_memory_blocks():
    # 3000 x 2000 RGB takes 24 MB, more than Pillow's 16 MB block, so Pillow cannot
    # export it as one Arrow array and the resize reads a copy instead.
    source = _smooth(3000, 2000)
    size = (2000, 1333)

    ours = np.asarray(resample(source, size)).astype(int)
    pillow = np.asarray(source.resize(size, Image.Resampling.BILINEAR)).astype(int)

    assert ours.shape == (1333, 2000, 3)
    assert np.abs(ours - pillow).mean() < 1.0
