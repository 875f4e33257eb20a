"""Loading Stable Diffusion pipelines from a local diffusers folder or a hub id.

Real users pass ``stable-diffusion-v1-5/stable-diffusion-v1-5`` or a folder; tests and
the demo pass the tiny model built by :mod:`demographic2art.model.tiny`. Without a
network, a hub id loads only when it is already in the local Hugging Face cache.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import InvalidValueError, MissingFileError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def pick_device(device: str | None = None) -> str:
    """Return ``device`` or the best one present: CUDA, then Apple MPS, then the CPU."""
    import torch

    if device:
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def check_model_reference(model: str) -> None:
    """Raise a clear error for a path that looks local but is not a diffusers folder."""
    path = Path(model)
    looks_local = model.startswith((".", "/", "~")) or os.sep in model and path.exists()
    if looks_local or path.exists():
        if not path.is_dir():
            raise MissingFileError(f"model folder {model} does not exist; build one with 'd2a model tiny --out {model}'")
        if not (path / "model_index.json").is_file():
            raise InvalidValueError(f"{model} has no model_index.json, so it is not a diffusers pipeline folder")


def load_pipeline(model: str, *, device: str | None = None, dtype: str = "float32"):
    """Return the diffusers pipeline of ``model`` on ``device`` (default: best present)."""
    import torch
    from diffusers import DiffusionPipeline

    check_model_reference(model)
    torch_dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
    try:
        pipeline = DiffusionPipeline.from_pretrained(model, dtype=torch_dtype, safety_checker=None)
    except OSError as exc:
        raise MissingFileError(
            f"model {model!r} could not be loaded ({exc.__class__.__name__}); pass a local diffusers folder, "
            "or a hub id that is in the local Hugging Face cache when offline"
        ) from exc
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(pick_device(device))


def workspace_model(workspace) -> str:
    """Return a workspace's base model: the one training recorded, its tiny model, or SD 1.5.

    The order is ``[train] model`` in ``d2a.toml``, then ``models/tiny`` when that folder
    holds a pipeline, then the Stable Diffusion 1.5 hub id.
    """
    recorded = workspace.settings().get("train", {}).get("model")
    if recorded:
        return str(recorded)
    if workspace.storage.is_local and workspace.storage.exists("models/tiny/model_index.json"):
        return workspace.local_path("models/tiny")
    return DEFAULT_MODEL
