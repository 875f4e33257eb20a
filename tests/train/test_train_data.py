"""Training data: RGB loading, aspect-ratio buckets, crops, flips and batch order."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from demographic2art.train.data import (
    bucket_sizes,
    fit_image,
    load_rgb,
    load_training_set,
    nearest_bucket,
)
from demographic2art.train.loop import epoch_batches, random_offsets
from demographic2art.workspace import Workspace


def _png(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


class FakeTokenizer:
    """Stand-in for the CLIP tokenizer: these tests need token ids only as placeholders."""

    model_max_length = 77

    def __call__(self, captions, **_):
        class Out:
            input_ids = torch.zeros((len(captions), 77), dtype=torch.long)

        return Out()


def test_load_rgb_greyscale_to_rgb():
    image, _ = load_rgb(_png(Image.new("L", (4, 4), 100)))
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == (100, 100, 100)


def test_load_rgb_alpha_on_white():
    image, flags = load_rgb(_png(Image.new("RGBA", (4, 4), (0, 0, 0, 0))))
    assert image.getpixel((1, 1)) == (255, 255, 255)
    assert "transparency_flattened" in flags


def test_load_rgb_sixteen_bit_rescaled():
    values = np.full((4, 4), 257 * 100, dtype=np.uint16)
    image, flags = load_rgb(_png(Image.fromarray(values)))
    assert image.getpixel((0, 0)) == (100, 100, 100)
    assert "high_bit_depth" in flags


def test_load_rgb_palette_and_cmyk():
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([10, 20, 30] + [0, 0, 0] * 255)
    image, _ = load_rgb(_png(palette))
    assert image.getpixel((0, 0)) == (10, 20, 30)
    buffer = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 0, 0, 0)).save(buffer, format="JPEG", quality=95)
    cmyk, flags = load_rgb(buffer.getvalue())
    assert cmyk.mode == "RGB"
    assert min(cmyk.getpixel((3, 3))) >= 250
    assert "cmyk" in flags


def test_bucket_sizes_multiples_within_area():
    sizes = bucket_sizes(128, 64)
    assert (128, 128) in sizes
    assert (64, 256) in sizes
    assert (256, 64) in sizes
    for width, height in sizes:
        assert width % 64 == 0
        assert height % 64 == 0
        assert width * height <= 128 * 128


def test_nearest_bucket_by_aspect():
    sizes = bucket_sizes(128, 64)
    assert nearest_bucket((300, 100), sizes) == (192, 64)
    assert nearest_bucket((100, 400), sizes) == (64, 256)
    assert nearest_bucket((500, 490), sizes) == (128, 128)


def test_fit_image_flip_mirrors_pixels():
    array = np.zeros((8, 8, 3), dtype=np.uint8)
    array[:, :2] = 255
    image = Image.fromarray(array)
    plain = fit_image(image, 8, 8)
    flipped = fit_image(image, 8, 8, flip=True)
    assert torch.equal(flipped, plain.flip(-1))
    assert plain[0, 0, 0].item() == 1.0
    assert flipped[0, 0, 0].item() == -1.0


def _bucket_workspace(root, crop="center"):
    workspace = Workspace(root).create()
    sizes = {"wide": (300, 100), "tall": (100, 400), "square": (200, 200)}
    rows = []
    rng = np.random.default_rng(0)
    for name, (width, height) in sizes.items():
        pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        workspace.storage.write_bytes(f"images/files/{name}.jpg", _jpeg(Image.fromarray(pixels)))
        rows.append({"key": name, "file_name": f"{name}.jpg", "caption": f"a {name} painting", "split": "train", "gender": "female"})
    workspace.storage.write_parquet("captions/captions.parquet", pd.DataFrame(rows))
    return workspace


def test_training_set_buckets_by_aspect(tmp_path):
    workspace = _bucket_workspace(tmp_path / "ws")
    data = load_training_set(workspace, FakeTokenizer(), 128, buckets=bucket_sizes(128, 64))
    sizes = dict(zip(data.keys, data.sizes))
    assert sizes == {"square": (128, 128), "tall": (64, 256), "wide": (192, 64)}
    assert [image.size for image in data.images] == [data.sizes[i] for i in range(3)]
    assert data.attributes == {"gender": {"female": 3}}
    assert set(data.buckets) == {(128, 128), (64, 256), (192, 64)}


def test_random_crop_keeps_margin_and_moves(tmp_path):
    workspace = _bucket_workspace(tmp_path / "ws")
    data = load_training_set(workspace, FakeTokenizer(), 64, crop="random")
    wide = data.keys.index("wide")
    assert data.images[wide].size == (192, 64)
    assert data.sizes[wide] == (64, 64)
    generator = torch.Generator().manual_seed(0)
    offsets = {random_offsets(data, [wide], generator)[0] for _ in range(20)}
    assert len(offsets) > 1
    assert all(0 <= left <= 128 and top == 0 for left, top in offsets)
    first, second = sorted(offsets)[:2]
    assert not torch.equal(data.pixels_of([wide], offsets=[first]), data.pixels_of([wide], offsets=[second]))


def test_epoch_batches_one_size_each(tmp_path):
    buckets = {(64, 64): [0, 1, 2, 3, 4], (128, 64): [5, 6]}
    batches = epoch_batches(buckets, 2, torch.Generator().manual_seed(1))
    assert sorted(i for batch in batches for i in batch) == list(range(7))
    for batch in batches:
        assert set(batch) <= set(buckets[(64, 64)]) or set(batch) <= set(buckets[(128, 64)])
    assert sorted(len(batch) for batch in batches) == [1, 2, 2, 2]


def test_bucket_sizes_rejects_small_resolution():
    from demographic2art.errors import DataError

    with pytest.raises(DataError, match="smaller than"):
        bucket_sizes(32, 64)
