"""Training examples: RGB images fitted to their training size, and captions as CLIP token ids.

Images are decoded once, converted to 8-bit RGB by :func:`demographic2art.images.convert.to_rgb`
(greyscale, CMYK, palette, alpha composited on white, 16-bit rescaled) and resized so they cover
their training size. Without aspect-ratio buckets every image trains at ``resolution`` x
``resolution``. With buckets each image goes to the bucket whose aspect ratio is nearest its own,
and every bucket has about ``resolution**2`` pixels.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections import Counter
from dataclasses import dataclass, field

from ..errors import DataError, MissingFileError
from ..workspace import Workspace

logger = logging.getLogger(__name__)

ATTRIBUTE_COLUMNS = ("gender", "nationality", "birth_decade", "movement", "style", "genre")


@dataclass
class TrainingSet:
    """The images of one split, fitted to their bucket sizes, with token ids and captions.

    ``images`` are RGB images already resized to cover ``sizes[i]`` (width, height). Centre
    crops are already applied, and random crops are taken per step. ``buckets`` maps each
    (width, height) to the indices of its images.
    """

    images: list
    sizes: list[tuple[int, int]]
    input_ids: "torch.Tensor"  # noqa: F821
    keys: list[str]
    captions: list[str]
    cut_captions: list[dict]
    image_sha256: list[str] = field(default_factory=list)
    conversions: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def buckets(self) -> dict[tuple[int, int], list[int]]:
        grouped: dict[tuple[int, int], list[int]] = {}
        for index, size in enumerate(self.sizes):
            grouped.setdefault(size, []).append(index)
        return dict(sorted(grouped.items()))

    @property
    def pixels(self):
        """All images as one (N, 3, H, W) tensor in [-1, 1]; only when every image has one size."""
        import torch

        if len(set(self.sizes)) != 1:
            raise DataError("images have several bucket sizes; read them per bucket with pixels_of()")
        return torch.stack([fit_image(image, *size) for image, size in zip(self.images, self.sizes)])

    def pixels_of(self, indices: list[int], *, flips: list[bool] | None = None, offsets: list[tuple[int, int]] | None = None):
        """Return the images ``indices`` (one size) as a tensor in [-1, 1], with the given flips and crop offsets."""
        import torch

        tensors = []
        for n, index in enumerate(indices):
            tensors.append(
                fit_image(
                    self.images[index], *self.sizes[index],
                    flip=bool(flips[n]) if flips is not None else False,
                    offset=offsets[n] if offsets is not None else None,
                )
            )
        return torch.stack(tensors)


def load_rgb(data: bytes):
    """Decode image bytes to an 8-bit RGB Pillow image, returning it and the conversion flags."""
    from PIL import Image, ImageOps

    from ..images.convert import to_rgb

    flags: list[str] = []
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        upright = ImageOps.exif_transpose(opened) or opened
        image = to_rgb(upright, flags)
        if image is upright:
            image = image.copy()
    return image, flags


def bucket_sizes(resolution: int, step: int, *, min_side: int | None = None, max_side: int | None = None) -> list[tuple[int, int]]:
    """Return (width, height) buckets, multiples of ``step``, of at most ``resolution**2`` pixels.

    For each width from ``min_side`` to ``max_side`` the height is the largest multiple of
    ``step`` that keeps the area within ``resolution**2`` (the scheme of kohya's sd-scripts).
    """
    if resolution < step:
        raise DataError(f"resolution {resolution} px is smaller than the model's size step of {step} px")
    max_area = resolution * resolution
    low = max(step, (min_side or resolution // 2) // step * step)
    high = max(low, (max_side or resolution * 2) // step * step)
    sizes = set()
    for width in range(low, high + 1, step):
        height = min(high, max_area // width // step * step)
        if height >= low:
            sizes.add((width, height))
            sizes.add((height, width))
    base = resolution // step * step
    sizes.add((base, base))
    return sorted(sizes)


def nearest_bucket(size: tuple[int, int], buckets: list[tuple[int, int]]) -> tuple[int, int]:
    """Return the bucket whose aspect ratio (as a log ratio) is nearest the image's."""
    aspect = math.log(size[0] / size[1])
    return min(buckets, key=lambda bucket: (abs(math.log(bucket[0] / bucket[1]) - aspect), -bucket[0] * bucket[1]))


def cover_resize(image, width: int, height: int):
    """Resize so the image covers ``width`` x ``height``, keeping its aspect ratio (bicubic)."""
    from PIL import Image

    scale = max(width / image.width, height / image.height)
    size = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC)


def centre_offset(image, width: int, height: int) -> tuple[int, int]:
    return (image.width - width) // 2, (image.height - height) // 2


def fit_image(image, width: int, height: int, *, flip: bool = False, offset: tuple[int, int] | None = None):
    """Crop ``image`` (already covering the size) at ``offset`` (default centre), flip it, scale to [-1, 1]."""
    import numpy as np
    import torch
    from PIL import Image

    image = cover_resize(image, width, height)
    left, top = offset if offset is not None else centre_offset(image, width, height)
    image = image.crop((left, top, left + width, top + height))
    if flip:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def image_to_tensor(image, resolution: int):
    """Resize the shorter side to ``resolution``, centre-crop a square and scale to [-1, 1]."""
    return fit_image(image.convert("RGB"), resolution, resolution)


def tokenize(tokenizer, captions: list[str]):
    return tokenizer(
        captions, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids


def read_caption_rows(storage) -> list[dict]:
    """Return the rows of ``captions/captions.parquet`` as dicts, read with pyarrow.

    The table is read without pandas (``pq.read_table`` would import it to apply the pandas
    index metadata) because importing pandas adds about 60 MB to the resident memory of a
    training process (measured with torch 2.14.1, pandas 3.1.1, pyarrow 26.0.1).
    """
    import pyarrow.parquet as pq

    table = pq.ParquetFile(io.BytesIO(storage.read_bytes("captions/captions.parquet"))).read(use_pandas_metadata=False)
    return table.to_pylist()


def _attribute_label(value) -> str:
    """Return the label an attribute value is counted under: ``unknown`` for a null or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def load_training_set(
    workspace: Workspace,
    tokenizer,
    resolution: int,
    *,
    split: str = "train",
    max_images: int | None = None,
    buckets: list[tuple[int, int]] | None = None,
    crop: str = "center",
) -> TrainingSet:
    """Read the captions table and the images it names from the workspace.

    ``buckets``, when given, are the (width, height) sizes images are assigned to by aspect
    ratio; otherwise every image trains at ``resolution`` square. With ``crop="center"`` the
    stored images are already cropped; with ``"random"`` they keep the resized margin.
    """
    storage = workspace.storage
    if not storage.exists("captions/captions.parquet"):
        raise MissingFileError(f"{storage.url}/captions/captions.parquet does not exist; run 'd2a captions build' first")
    rows = read_caption_rows(storage)
    if split == "validation":
        rows = [row for row in rows if row.get("split") == "validation"]
    elif split != "all":
        chosen = [row for row in rows if row.get("split") == split]
        rows = chosen or rows
    rows.sort(key=lambda row: row["key"])
    if max_images:
        rows = rows[:max_images]
    if not rows:
        raise DataError(f"{storage.url}/captions/captions.parquet has no captions to train on")
    images, sizes, hashes = [], [], []
    conversions: Counter[str] = Counter()
    for row in rows:
        data = storage.read_bytes(f"images/files/{row['file_name']}")
        image, flags = load_rgb(data)
        conversions.update(flags)
        size = nearest_bucket(image.size, buckets) if buckets else (resolution, resolution)
        image = cover_resize(image, *size)
        if crop == "center":
            left, top = centre_offset(image, *size)
            image = image.crop((left, top, left + size[0], top + size[1]))
        images.append(image)
        sizes.append(size)
        hashes.append(hashlib.sha256(data).hexdigest())
    captions = [row["caption"] for row in rows]
    keys = [row["key"] for row in rows]
    attributes = {
        column: dict(Counter(_attribute_label(row[column]) for row in rows).most_common())
        for column in ATTRIBUTE_COLUMNS
        if column in rows[0]
    }
    logger.info("loaded %d %s images in %d size(s)", len(images), split, len(set(sizes)))
    return TrainingSet(
        images=images,
        sizes=sizes,
        input_ids=tokenize(tokenizer, captions),
        keys=keys,
        captions=captions,
        cut_captions=caption_report(tokenizer, keys, captions),
        image_sha256=hashes,
        conversions=dict(conversions),
        attributes=attributes,
    )


def caption_report(tokenizer, keys: list[str], captions: list[str]) -> list[dict]:
    """Return one entry per caption longer than the text encoder reads, with the text it loses.

    The tokenizer keeps the first 75 caption tokens (77 with the start and end markers);
    the report says which captions lose text and what, so nothing is cut silently.
    """
    from ..captions.tokens import fit_caption

    limit = tokenizer.model_max_length - 2
    report = []
    for key, caption in zip(keys, captions):
        fit = fit_caption(tokenizer, caption, limit)
        if fit.truncated:
            report.append(
                {"key": key, "tokens": fit.original_tokens, "dropped_tokens": fit.dropped_tokens, "dropped_text": fit.dropped_text}
            )
    if report:
        logger.warning("%d captions exceed %d tokens and are cut; see caption_report.json", len(report), limit)
    return report


def load_validation_set(
    workspace: Workspace, tokenizer, resolution: int, *, buckets: list[tuple[int, int]] | None = None
) -> TrainingSet | None:
    """Return the held-out validation images (centre-cropped), or None when the captions table has none."""
    if not any(row.get("split") == "validation" for row in read_caption_rows(workspace.storage)):
        return None
    return load_training_set(workspace, tokenizer, resolution, split="validation", buckets=buckets)
