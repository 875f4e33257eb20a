"""Training checkpoints: the LoRA weights, optimizer, LR scheduler and random-number state.

A checkpoint is a folder ``runs/<run>/checkpoints/step-<NNNNNNNN>/`` with

    lora.safetensors       the trainable LoRA parameters, named ``unet.<name>`` and ``text_encoder.<name>``
    training_state.pt      optimizer and LR-scheduler state dicts, RNG states, the pending batch
                           order and the loss rows so far
    checkpoint.json        step, run name and the settings that fix the parameter shapes

The frozen UNet, VAE and text encoder are never stored: they come from the base model again.
Restoring all of this continues a run exactly, so 5 + 5 steps give the weights of 10.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from ..errors import InvalidValueError, MissingFileError
from ..lora import assert_finite_state_dict

logger = logging.getLogger(__name__)

CHECKPOINT_FOLDER = "checkpoints"
_STEP_NAME = re.compile(r"^step-(\d+)$")
# Settings that change the set or shape of trainable parameters; a checkpoint only resumes a
# run whose values match.
SHAPE_SETTINGS = ("rank", "unet_targets", "train_text_encoder")


@dataclass
class TrainingState:
    """Optimizer, scheduler and random state a checkpoint restores besides the weights."""

    step: int
    optimizer: dict
    lr_scheduler: dict
    generator: "torch.Tensor"  # noqa: F821
    torch_rng: "torch.Tensor"  # noqa: F821
    cuda_rng: list | None
    pending_batches: list
    rows: list[dict]
    validation_rows: list[dict]


def trainable_state(unet, text_encoder) -> dict:
    """Return the trainable parameters of both models, prefixed by model, detached on the CPU."""
    state = {f"unet.{name}": p.detach().cpu().contiguous() for name, p in unet.named_parameters() if p.requires_grad}
    state.update(
        {f"text_encoder.{name}": p.detach().cpu().contiguous() for name, p in text_encoder.named_parameters() if p.requires_grad}
    )
    return state


def _finite_optimizer_tensors(optimizer_state: dict) -> dict:
    tensors = {}
    for index, values in optimizer_state.get("state", {}).items():
        for name, value in values.items():
            if hasattr(value, "is_floating_point") and value.is_floating_point():
                tensors[f"optimizer.{index}.{name}"] = value
    return tensors


def checkpoint_folders(storage, run: str) -> list[tuple[int, str]]:
    """Return (step, folder) of a run's checkpoints, oldest first."""
    found = []
    for name in storage.listdir(f"{run}/{CHECKPOINT_FOLDER}"):
        match = _STEP_NAME.match(name)
        if match and storage.exists(f"{run}/{CHECKPOINT_FOLDER}/{name}/checkpoint.json"):
            found.append((int(match.group(1)), f"{run}/{CHECKPOINT_FOLDER}/{name}"))
    return sorted(found)


def save_checkpoint(storage, run: str, config, state: TrainingState, weights: dict, *, keep: int | None = None) -> str:
    """Write a checkpoint folder and delete the oldest beyond ``keep``; return the folder.

    Raises :class:`~demographic2art.errors.NonFiniteError` and writes nothing when a weight
    or optimizer moment contains NaN or Inf.
    """
    import torch
    from safetensors.torch import save

    assert_finite_state_dict(weights, f"checkpoint at step {state.step}")
    assert_finite_state_dict(_finite_optimizer_tensors(state.optimizer), f"optimizer state at step {state.step}")
    folder = f"{run}/{CHECKPOINT_FOLDER}/step-{state.step:08d}"
    buffer = io.BytesIO()
    torch.save(state.__dict__, buffer)
    storage.write_bytes(f"{folder}/lora.safetensors", save(weights))
    storage.write_bytes(f"{folder}/training_state.pt", buffer.getvalue())
    settings = {name: getattr(config, name) for name in SHAPE_SETTINGS}
    # checkpoint.json is written last: a folder without it is incomplete and is ignored.
    storage.write_json(f"{folder}/checkpoint.json", {"step": state.step, "run_name": config.run_name, **settings})
    logger.info("saved checkpoint %s", folder)
    if keep is not None:
        folders = checkpoint_folders(storage, run)
        for _, old in folders[: max(0, len(folders) - keep)]:
            storage.remove(old)
            logger.info("removed checkpoint %s (keeping %d)", old, keep)
    return folder


def resolve_checkpoint(storage, run: str, resume: str) -> str:
    """Return the checkpoint folder that ``resume`` names: ``latest`` of the run, or a folder path.

    A path is taken relative to the workspace; an absolute path must lie inside it.
    """
    if resume == "latest":
        folders = checkpoint_folders(storage, run)
        if not folders:
            raise MissingFileError(
                f"run {run} has no checkpoints to resume from; train with --checkpointing-steps first or drop --resume"
            )
        return folders[-1][1]
    relative = resume
    root = storage.root.rstrip("/") + "/"
    if resume.startswith(root):
        relative = resume[len(root) :]
    relative = relative.rstrip("/")
    if not storage.exists(f"{relative}/checkpoint.json"):
        raise MissingFileError(
            f"checkpoint {resume!r} does not exist (no checkpoint.json); pass 'latest' or a folder runs/<run>/checkpoints/step-<n>"
        )
    return relative


def load_checkpoint(storage, folder: str, config) -> tuple[dict, TrainingState]:
    """Return the weights and training state of a checkpoint folder, checking it fits ``config``."""
    import torch
    from safetensors.torch import load

    meta = storage.read_json(f"{folder}/checkpoint.json")
    for name in SHAPE_SETTINGS:
        saved, current = meta.get(name), getattr(config, name)
        if isinstance(current, tuple):
            saved = tuple(saved or ())
        if saved != current:
            raise InvalidValueError(
                f"checkpoint {folder} was trained with {name}={saved!r} but this run sets {current!r}; use the same value to resume"
            )
    weights = load(storage.read_bytes(f"{folder}/lora.safetensors"))
    values = torch.load(io.BytesIO(storage.read_bytes(f"{folder}/training_state.pt")), weights_only=False)
    return weights, TrainingState(**values)


def restore_weights(unet, text_encoder, weights: dict) -> None:
    """Copy checkpoint weights into the trainable parameters, exactly; names must match one to one."""
    import torch

    targets = {f"unet.{name}": p for name, p in unet.named_parameters() if p.requires_grad}
    targets.update({f"text_encoder.{name}": p for name, p in text_encoder.named_parameters() if p.requires_grad})
    if set(targets) != set(weights):
        missing = sorted(set(targets) - set(weights))[:3]
        extra = sorted(set(weights) - set(targets))[:3]
        raise InvalidValueError(
            f"checkpoint weights do not match this model's LoRA parameters (missing {missing}, unexpected {extra}); "
            "resume with the same model and LoRA settings"
        )
    with torch.no_grad():
        for name, parameter in targets.items():
            parameter.copy_(weights[name].to(parameter.device, parameter.dtype))
