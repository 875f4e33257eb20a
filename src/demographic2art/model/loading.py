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
PATH_PREFIXES = ("./", "../", "~", "/")
LORA_WEIGHTS_NAME = "pytorch_lora_weights.safetensors"


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


def looks_like_path(value: str) -> bool:
    """Return whether ``value`` names a local path rather than a hub id.

    Absolute paths, ``./``, ``../`` and ``~`` prefixes, ``.`` and ``..``, and names
    ending in ``.safetensors`` are paths; anything else is read as a hub id.
    """
    return (
        os.path.isabs(value)
        or value in (".", "..")
        or value.startswith(PATH_PREFIXES)
        or value.endswith(".safetensors")
    )


def hub_offline() -> bool:
    """Return whether ``HF_HUB_OFFLINE`` is set to a true value now."""
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return flag in ("1", "true", "yes", "on") or bool(constants.HF_HUB_OFFLINE)


def resolve_model_reference(model: str) -> str:
    """Return ``model`` as a loadable reference, or raise a clear error before any loading.

    A value that looks like a path (see :func:`looks_like_path`) or that exists locally
    must be a diffusers pipeline folder (with ``model_index.json``); ``~`` is expanded.
    Anything else is a hub id: it must be in the local Hugging Face cache, or, unless
    ``HF_HUB_OFFLINE`` is set, the hub must confirm it exists. Raise
    :class:`MissingFileError` for a missing folder or an unavailable hub id and
    :class:`InvalidValueError` for a folder that is not a pipeline or a malformed id.
    """
    if not model or not model.strip():
        raise InvalidValueError("the model is empty; pass a diffusers folder or a hub id such as " + DEFAULT_MODEL)
    expanded = os.path.expanduser(model)
    if looks_like_path(model) or os.path.exists(expanded):
        path = Path(expanded)
        if not path.exists():
            raise MissingFileError(f"model folder {model} does not exist; build one with 'd2a model tiny --out {model}'")
        if not path.is_dir():
            raise InvalidValueError(f"model {model} is a file; pass a diffusers pipeline folder (with model_index.json)")
        if not (path / "model_index.json").is_file():
            raise InvalidValueError(f"{model} has no model_index.json, so it is not a diffusers pipeline folder")
        return expanded
    _check_hub_model(model)
    return model


def check_model_reference(model: str) -> None:
    """Raise a clear error unless ``model`` is a pipeline folder or an available hub id."""
    resolve_model_reference(model)


def _check_hub_model(repo_id: str) -> None:
    """Raise unless the hub id ``repo_id`` is cached locally or, when online, exists on the hub."""
    from huggingface_hub import file_exists, try_to_load_from_cache
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise InvalidValueError(
            f"model {repo_id!r} is neither an existing folder nor a valid hub id; "
            "pass a diffusers folder or an id such as " + DEFAULT_MODEL
        ) from None
    if isinstance(try_to_load_from_cache(repo_id, "model_index.json"), str):
        return
    if hub_offline():
        raise MissingFileError(
            f"model {repo_id!r} is not a local folder and not in the local Hugging Face cache, and HF_HUB_OFFLINE is set; "
            "pass a local diffusers folder, or download the model while online"
        )
    try:
        found = file_exists(repo_id, "model_index.json")
    except Exception as exc:  # any network or hub error means the model cannot be loaded now
        raise MissingFileError(
            f"model {repo_id!r} is not in the local Hugging Face cache and the hub could not be reached "
            f"({exc.__class__.__name__}); pass a local diffusers folder or retry when online"
        ) from None
    if not found:
        raise MissingFileError(f"model {repo_id!r} was not found on the hub; check the id or pass a local diffusers folder")


def resolve_lora_file(lora: str) -> str:
    """Return the local path of a LoRA file or folder after checking it can be loaded.

    A folder must contain ``pytorch_lora_weights.safetensors`` or exactly one
    ``.safetensors`` file. The file must be a complete safetensors file whose tensor
    names contain ``lora`` (diffusers, PEFT and kohya layouts all do). Raise
    :class:`MissingFileError` when the path does not exist and
    :class:`InvalidValueError` when the file is empty, corrupt or not a LoRA.
    """
    if not lora or not lora.strip():
        raise InvalidValueError("the LoRA is empty; pass a .safetensors file or a folder that contains one")
    path = Path(os.path.expanduser(lora))
    if not path.exists():
        raise MissingFileError(
            f"LoRA {lora} does not exist; train one with 'd2a train' or pass a .safetensors file or folder"
        )
    weights = _lora_weights_file(path, lora)
    _check_safetensors_lora(weights, lora)
    return str(path)


def _lora_weights_file(path: Path, lora: str) -> Path:
    if path.is_file():
        if path.suffix != ".safetensors":
            raise InvalidValueError(f"LoRA {lora} is not a .safetensors file; pass the LoRA in safetensors format")
        return path
    default = path / LORA_WEIGHTS_NAME
    if default.is_file():
        return default
    candidates = sorted(path.glob("*.safetensors"))
    if len(candidates) != 1:
        raise InvalidValueError(
            f"LoRA folder {lora} contains {len(candidates)} .safetensors files and no {LORA_WEIGHTS_NAME}; pass the file itself"
        )
    return candidates[0]


def _check_safetensors_lora(weights: Path, lora: str) -> None:
    from safetensors import safe_open

    if weights.stat().st_size == 0:
        raise InvalidValueError(f"LoRA file {weights} is empty; train the LoRA again or pass another file")
    try:
        with safe_open(str(weights), framework="pt") as handle:
            names = list(handle.keys())
    except Exception as exc:  # safetensors raises its own SafetensorError and OSError subclasses
        raise InvalidValueError(
            f"LoRA file {weights} is not a valid safetensors file ({exc}); train the LoRA again or pass another file"
        ) from None
    if not any("lora" in name.lower() for name in names):
        raise InvalidValueError(
            f"LoRA file {weights} contains {len(names)} tensors and none is a LoRA weight; pass a LoRA trained with 'd2a train'"
        )


def load_pipeline(model: str, *, device: str | None = None, dtype: str = "float32"):
    """Return the diffusers pipeline of ``model`` on ``device`` (default: best present)."""
    import torch
    from diffusers import DiffusionPipeline

    model = resolve_model_reference(model)
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
