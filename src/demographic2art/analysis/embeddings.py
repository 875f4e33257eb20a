"""Embedding back-ends: the vectors that the whole-set statistics compare.

``features`` (the default) returns the hand-made colour, composition and texture
features, which need no model weights. ``clip`` returns CLIP image embeddings from a
local weights folder through transformers (a ``CLIPModel`` folder, or a
``CLIPVisionModel``/``CLIPVisionModelWithProjection`` folder) with its image processor.
Every statistic takes whatever columns a back-end returns, so a new back-end only has
to return one row of numbers per image.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidValueError, MissingFileError
from .features import TESTED_FEATURES
from .report import as_uint8

logger = logging.getLogger(__name__)

CLIP_BATCH = 16
CLIP_PREFIX = "clip_"


@dataclass
class FeatureBackend:
    """The hand-made features, computed by :func:`~demographic2art.analysis.features.extract_features`."""

    name: str = "features"
    columns: list[str] = field(default_factory=lambda: list(TESTED_FEATURES))

    def embed(self, features, images: Sequence[Any]):
        """Return the feature columns already extracted for ``images``."""
        return features[self.columns].reset_index(drop=True)


class ClipBackend:
    """CLIP image embeddings (L2-normalised) from a local transformers weights folder."""

    name = "clip"

    def __init__(self, folder: str, *, device: str = "cpu"):
        import torch
        import transformers

        path = Path(folder)
        config_path = path / "config.json"
        if not config_path.is_file():
            raise MissingFileError(f"CLIP folder {folder} has no config.json; pass a folder saved with save_pretrained")
        config = json.loads(config_path.read_text())
        model_type = config.get("model_type")
        architectures = config.get("architectures") or []
        if model_type == "clip":
            model_class = transformers.CLIPModel
        elif model_type == "clip_vision_model":
            with_projection = "CLIPVisionModelWithProjection" in architectures
            model_class = transformers.CLIPVisionModelWithProjection if with_projection else transformers.CLIPVisionModel
        else:
            raise InvalidValueError(f"CLIP folder {folder} contains a {model_type!r} model, not CLIP; pass a CLIPModel or CLIPVisionModel folder")
        self.model = model_class.from_pretrained(str(path), local_files_only=True).to(device).eval()
        # transformers 5 has a PIL processor that needs no torchvision, which does not import here.
        processor_class = getattr(transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor)
        self.processor = processor_class.from_pretrained(str(path), local_files_only=True)
        self.device = device
        self.folder = str(path)
        self._torch = torch
        self.columns: list[str] = []

    def _vectors(self, pixel_values):
        model = self.model
        if hasattr(model, "get_image_features"):
            output = model.get_image_features(pixel_values=pixel_values)
            # transformers 5 may return a model output instead of a tensor.
            return output if isinstance(output, self._torch.Tensor) else output.pooler_output
        output = model(pixel_values=pixel_values)
        return output.image_embeds if hasattr(output, "image_embeds") else output.pooler_output

    def embed(self, features, images: Sequence[Any]):
        """Return one row of CLIP embedding columns ``clip_000`` ... per image."""
        import pandas as pd
        from PIL import Image

        rows = []
        with self._torch.inference_mode():
            for start in range(0, len(images), CLIP_BATCH):
                batch = [Image.fromarray(as_uint8(image)).convert("RGB") for image in images[start : start + CLIP_BATCH]]
                inputs = self.processor(images=batch, return_tensors="pt")
                vectors = self._vectors(inputs["pixel_values"].to(self.device)).float()
                vectors = vectors / vectors.norm(dim=-1, keepdim=True).clamp_min(1e-12)
                rows.append(vectors.cpu().numpy())
        matrix = np.vstack(rows) if rows else np.zeros((0, 0))
        self.columns = [f"{CLIP_PREFIX}{i:03d}" for i in range(matrix.shape[1])]
        return pd.DataFrame(matrix, columns=self.columns)


def load_backend(embedding: str | None = None, *, device: str = "cpu"):
    """Return the back-end for ``embedding``: None or ``'features'``, or a local CLIP weights folder."""
    if embedding in (None, "", "features"):
        return FeatureBackend()
    path = Path(embedding)
    if not path.is_dir():
        raise MissingFileError(f"embedding {embedding!r} is neither 'features' nor a local CLIP weights folder; pass a folder with config.json")
    return ClipBackend(str(path), device=device)
