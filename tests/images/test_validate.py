"""Validation tests: the img failure cases and generated images of every kind."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from PIL import Image, ImageFile

from conftest import load_case
from demographic2art.errors import InvalidValueError
from demographic2art.images import validate_image
from demographic2art.images.validate import find_truncation


def _encode(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_img_16bit_png(shared_cases):
    case = load_case(shared_cases, "img-16bit-png")
    result = validate_image((case["dir"] / case["input"]).read_bytes(), resize_mode="original")
    pixels = np.asarray(result.image).astype(int)
    assert result.status == "ok"
    assert pixels.shape == (16, 256, 3)
    columns = np.arange(256)
    for channel in range(3):
        assert np.abs(pixels[:, :, channel] - columns[None, :]).max() <= 1
    assert tuple(pixels[0, 10]) == (10, 10, 10)
    assert tuple(pixels[0, 128]) == (128, 128, 128)
    assert tuple(pixels[0, 255]) == (255, 255, 255)
    assert abs(pixels.mean() - 127.5) <= 1


def test_img_cmyk_jpeg(shared_cases):
    case = load_case(shared_cases, "img-cmyk-jpeg")
    result = validate_image((case["dir"] / case["input"]).read_bytes())
    assert result.status == "ok"
    assert result.image.mode == "RGB"
    assert result.image.size == (64, 64)
    assert len(result.image.getbands()) == 3
    assert np.abs(np.subtract(result.image.getpixel((16, 32)), (0, 255, 255))).max() <= 12
    assert np.abs(np.subtract(result.image.getpixel((48, 32)), (255, 0, 0))).max() <= 12


def test_img_decompression_bomb(shared_cases, monkeypatch):
    case = load_case(shared_cases, "img-decompression-bomb")
    data = (case["dir"] / case["input"]).read_bytes()
    assert len(data) == 23859
    loads = []
    original_load = ImageFile.ImageFile.load

    def counting_load(self):
        loads.append(self.size)
        return original_load(self)

    # A spy that records pixel decoding and still runs Pillow's real decoder.
    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    for limit in (Image.MAX_IMAGE_PIXELS, None, 10**10):
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
        started = time.monotonic()
        result = validate_image(data)
        elapsed = time.monotonic() - started
        assert result.status == "rejected"
        assert result.reason == "too_many_pixels"
        assert elapsed < 6.0  # 2 s bound with a 3x margin for a loaded machine
    assert loads == []


def test_bomb_peak_memory_below_64_mib(shared_cases):
    case = load_case(shared_cases, "img-decompression-bomb")
    script = textwrap.dedent(
        f"""
        import resource
        from PIL import Image
        from demographic2art.images import validate_image
        data = open({str(case["dir"] / case["input"])!r}, "rb").read()
        validate_image(b"\\x89PNG")  # import lazily loaded modules first
        Image.MAX_IMAGE_PIXELS = None
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = validate_image(data)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(result.reason, after - before)
        """
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    reason, growth_kib = output.stdout.split()
    assert reason == "too_many_pixels"
    assert int(growth_kib) < 64 * 1024


def test_img_truncated_jpeg(shared_cases):
    case = load_case(shared_cases, "img-truncated-jpeg")
    data = (case["dir"] / case["input"]).read_bytes()
    assert len(data) == 10888
    result = validate_image(data)
    assert result.status == "rejected"
    assert result.reason == "truncated"
    assert result.image is None
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.fixture(scope="module")
def gradient() -> Image.Image:
    x = np.linspace(0, 255, 96, dtype=np.uint8)
    rgb = np.stack([np.tile(x, (64, 1)), np.tile(x[::-1], (64, 1)), np.full((64, 96), 100, np.uint8)], axis=2)
    return Image.fromarray(rgb, "RGB")


@pytest.mark.parametrize(
    "fmt, cut",
    [("JPEG", 0.6), ("JPEG", 0.999), ("PNG", 0.5), ("PNG", 0.99), ("GIF", 0.7), ("WEBP", 0.7)],
)
def test_truncated_formats_rejected(gradient, fmt, cut):
    options = {"progressive": True} if fmt == "JPEG" and cut > 0.9 else {}
    data = _encode(gradient, fmt, **options)
    result = validate_image(data[: int(len(data) * cut)] if cut < 0.99 else data[:-2])
    assert result.status == "rejected"
    assert result.reason in {"truncated", "decode_error"}


def _with_embedded_thumbnail(data: bytes, thumbnail: bytes) -> bytes:
    """Return JPEG ``data`` with ``thumbnail`` (a whole JPEG, end marker included) in an APP1 segment."""
    segment = b"Exif\x00\x00" + thumbnail
    return data[:2] + b"\xff\xe1" + (len(segment) + 2).to_bytes(2, "big") + segment + data[2:]


def test_find_truncation_sees_past_a_thumbnail_end_marker(gradient):
    noise = np.random.default_rng(0).integers(0, 256, size=(128, 128, 3), dtype=np.uint8)
    thumbnail = _encode(gradient.resize((24, 16)), "JPEG")
    data = _with_embedded_thumbnail(_encode(Image.fromarray(noise), "JPEG"), thumbnail)
    # The noise makes the scan data most of the file, so the cut lands inside it.
    cut = data[: int(len(data) * 0.8)]

    assert find_truncation(data, "JPEG") is None
    assert find_truncation(cut, "JPEG") is not None
    assert validate_image(cut).reason == "truncated"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"])
def test_complete_formats_accepted(gradient, fmt):
    result = validate_image(_encode(gradient, fmt))
    assert result.status == "ok"
    assert result.format == fmt
    assert result.image.mode == "RGB"
    assert result.image.size == (96, 64)


def test_bomb_budget_applies_to_jpeg_and_gif():
    small = Image.new("L", (300, 200))
    for fmt in ("JPEG", "GIF", "WEBP", "TIFF"):
        result = validate_image(_encode(small, fmt), max_pixels=50_000)
        assert result.reason == "too_many_pixels", fmt


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "html"),
        (b"\n  <html><head></head></html>", "html"),
        (b"plain text, not a picture", "not_an_image"),
    ],
)
def test_non_images_rejected(data, reason):
    result = validate_image(data)
    assert result.status == "rejected"
    assert result.reason == reason


def test_sixteen_bit_rgb_png_rescaled():
    values = (np.arange(64, dtype=np.uint16) * 1040).reshape(8, 8)
    rgb16 = np.stack([values, values, values], axis=2)
    data = _encode(Image.fromarray(rgb16.astype(">u2").view(np.uint8).reshape(8, 8, 6)[:, :, ::2], "RGB"), "PNG")
    result = validate_image(data)
    assert result.status == "ok"


def test_high_depth_grey_modes_rescaled():
    ramp = np.linspace(0, 65535, 256).astype(np.uint16).reshape(16, 16)
    sixteen_bit = Image.fromarray(ramp)
    for label, data in (
        ("I;16 PNG", _encode(sixteen_bit, "PNG")),
        ("I;16 TIFF", _encode(sixteen_bit, "TIFF")),
    ):
        result = validate_image(data)
        pixels = np.asarray(result.image)[:, :, 0].astype(int)
        assert result.status == "ok", label
        assert abs(pixels.max() - 255) <= 1, label
        assert abs(pixels.mean() - 127.5) <= 2, label


def test_float_image_rescaled():
    ramp = np.linspace(0.0, 1.0, 256, dtype=np.float32).reshape(16, 16)
    result = validate_image(_encode(Image.fromarray(ramp, mode="F"), "TIFF"))
    pixels = np.asarray(result.image)[:, :, 0].astype(int)
    assert result.status == "ok"
    assert pixels.max() == 255
    assert pixels.min() == 0


def test_transparency_flattened_on_white():
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    la = Image.new("LA", (8, 8), (0, 0))
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([0, 0, 0] * 256)
    for data in (_encode(rgba, "PNG"), _encode(la, "PNG"), _encode(palette, "PNG", transparency=0)):
        result = validate_image(data)
        assert result.image.getpixel((0, 0)) == (255, 255, 255)
        assert "transparency_flattened" in result.flags


def test_partial_transparency_blends_with_white():
    # Black at 50 % over white is mid grey. Red at 25 % over white keeps its red channel at 255.
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 128))
    rgba.paste((255, 0, 0, 64), (0, 0, 4, 8))

    result = validate_image(_encode(rgba, "PNG"))

    assert result.image.getpixel((6, 0)) == (127, 127, 127)
    assert result.image.getpixel((0, 0)) == (255, 191, 191)


def test_cmyk_without_adobe_marker_and_one_bit():
    cmyk = validate_image(_encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "TIFF"))
    bilevel = validate_image(_encode(Image.new("1", (8, 8), 1), "PNG"))
    assert np.abs(np.subtract(cmyk.image.getpixel((0, 0)), (255, 0, 0))).max() <= 12
    assert bilevel.image.getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_applied(gradient):
    exif = Image.Exif()
    exif[0x0112] = 6
    result = validate_image(_encode(gradient, "JPEG", exif=exif.tobytes()))
    assert result.image.size == (64, 96)
    assert "exif_orientation" in result.flags


def test_icc_profile_converted_to_srgb(gradient):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = validate_image(_encode(gradient, "PNG", icc_profile=profile))
    assert "icc_converted" in result.flags
    assert result.image.mode == "RGB"


def test_animated_gif_first_frame_flagged():
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    result = validate_image(buffer.getvalue())
    assert "animated" in result.flags
    assert result.image.getpixel((0, 0)) == (255, 0, 0)


def test_resize_modes():
    big = Image.new("RGB", (2000, 1000), (10, 20, 30))
    data = _encode(big, "JPEG")
    keep = validate_image(data, max_side=512)
    crop = validate_image(data, max_side=512, resize_mode="center_crop")
    original = validate_image(data, resize_mode="original")
    small = validate_image(_encode(Image.new("RGB", (100, 50)), "PNG"), max_side=512)
    enlarged = validate_image(_encode(Image.new("RGB", (100, 50)), "PNG"), max_side=200, enlarge=True)
    assert (keep.stored_width, keep.stored_height) == (512, 256)
    assert (keep.width, keep.height) == (2000, 1000)
    assert "jpeg_draft" in keep.flags
    assert (crop.stored_width, crop.stored_height) == (512, 512)
    assert (original.stored_width, original.stored_height) == (2000, 1000)
    assert (small.stored_width, small.stored_height) == (100, 50)
    assert (enlarged.stored_width, enlarged.stored_height) == (200, 100)


def test_invalid_options_raise():
    with pytest.raises(InvalidValueError, match="resize mode"):
        validate_image(b"x", resize_mode="stretch")
    with pytest.raises(InvalidValueError, match="max_side"):
        validate_image(b"x", max_side=0)
