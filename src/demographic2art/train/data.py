"""Training examples: images as normalised tensors and captions as CLIP token ids."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from ..errors import DataError, MissingFileError
from ..workspace import Workspace

logger = logging.getLogger(__name__)


@dataclass
class TrainingSet:
    """Pixels in [-1, 1] (N, 3, H, W), token ids (N, 77), and the keys and captions behind them."""

    pixels: "torch.Tensor"  # noqa: F821
    input_ids: "torch.Tensor"  # noqa: F821
    keys: list[str]
    captions: list[str]
    cut_captions: list[dict]


def image_to_tensor(image, resolution: int):
    """Resize the shorter side to ``resolution``, centre-crop a square and scale to [-1, 1]."""
    import numpy as np
    import torch
    from PIL import Image

    image = image.convert("RGB")
    scale = resolution / min(image.size)
    size = (max(resolution, round(image.width * scale)), max(resolution, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left = (image.width - resolution) // 2
    top = (image.height - resolution) // 2
    image = image.crop((left, top, left + resolution, top + resolution))
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def tokenize(tokenizer, captions: list[str]):
    return tokenizer(
        captions, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids


def load_training_set(
    workspace: Workspace, tokenizer, resolution: int, *, split: str = "train", max_images: int | None = None
) -> TrainingSet:
    """Read the captions table and the images it names from the workspace."""
    import torch
    from PIL import Image

    storage = workspace.storage
    if not storage.exists("captions/captions.parquet"):
        raise MissingFileError(f"{storage.url}/captions/captions.parquet does not exist; run 'd2a captions build' first")
    table = storage.read_parquet("captions/captions.parquet")
    if split == "validation":
        table = table[table["split"] == "validation"]
    elif split != "all":
        chosen = table[table["split"] == split]
        table = chosen if len(chosen) else table
    table = table.sort_values("key")
    if max_images:
        table = table.head(max_images)
    if table.empty:
        raise DataError(f"{storage.url}/captions/captions.parquet has no captions to train on")
    pixels = []
    for file_name in table["file_name"]:
        with Image.open(io.BytesIO(storage.read_bytes(f"images/files/{file_name}"))) as image:
            pixels.append(image_to_tensor(image, resolution))
    captions = table["caption"].tolist()
    keys = table["key"].tolist()
    logger.info("loaded %d training images at %d px", len(pixels), resolution)
    return TrainingSet(torch.stack(pixels), tokenize(tokenizer, captions), keys, captions, caption_report(tokenizer, keys, captions))


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


def load_validation_set(workspace: Workspace, tokenizer, resolution: int) -> TrainingSet | None:
    """Return the held-out validation images, or None when the captions table has none."""
    table = workspace.storage.read_parquet("captions/captions.parquet", columns=["split"])
    if not (table["split"] == "validation").any():
        return None
    return load_training_set(workspace, tokenizer, resolution, split="validation")
