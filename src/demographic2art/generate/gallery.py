"""Generate a set of prompts and seeds into the workspace gallery."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

from ..workspace import Workspace
from .params import GenerationParams
from .pipeline import Generator
from .pngmeta import save_generation

logger = logging.getLogger(__name__)


@dataclass
class GalleryItem:
    file: str
    prompt: str
    seed: int
    lora_weight: float


def best_lora(workspace: Workspace) -> str | None:
    """Return the local path of the workspace's best LoRA, or None when it has no run.

    ``runs/best.json`` (written by ``d2a sweep`` and ``d2a train``, keys ``run`` and
    ``lora``) decides when it exists. Otherwise the run whose ``summary.json`` has the
    lowest validation loss wins, or the lowest final training loss for runs without one.
    """
    storage = workspace.storage
    if storage.exists("runs/best.json"):
        best = storage.read_json("runs/best.json")
        lora = best.get("lora") or _summary_lora(storage, best.get("run"))
        if lora:
            return storage.local_path(lora)
    candidates = []
    for path in storage.glob("runs/**/summary.json"):
        try:
            summary = storage.read_json(path)
            score = float(summary.get("validation_loss", summary["final_loss"]))
            candidates.append((score, summary["lora"]))
        except (KeyError, TypeError, ValueError) as exc:
            logger.error("run summary %s is unusable: %s", path, exc)
    candidates = [c for c in candidates if not math.isnan(c[0])]
    if not candidates:
        return None
    return storage.local_path(min(candidates)[1])


def _summary_lora(storage, run: str | None) -> str | None:
    if not run:
        return None
    run = run if run.startswith("runs/") else f"runs/{run}"
    path = f"{run}/summary.json"
    return storage.read_json(path).get("lora") if storage.exists(path) else None


def image_name(params: GenerationParams, lora_name: str | None) -> str:
    """Return a file name that depends only on the parameters, so reruns overwrite, not duplicate."""
    digest = hashlib.sha256(f"{params.model_dump_json()}|{lora_name}".encode()).hexdigest()[:10]
    return f"seed{params.seed}-{digest}.png"


def generate_gallery(
    workspace: Workspace,
    prompts: list[str],
    *,
    model: str,
    lora: str | None = None,
    seeds: list[int] | tuple[int, ...] = (0, 1),
    steps: int = 20,
    guidance_scale: float = 7.5,
    lora_weight: float = 1.0,
    scheduler: str = "ddim",
    folder: str = "gallery",
    generator: Generator | None = None,
) -> list[GalleryItem]:
    """Generate every prompt with every seed and save PNGs with parameters and JSON sidecars."""
    generator = generator or Generator(model, lora)
    items = []
    for prompt in prompts:
        for seed in seeds:
            params = GenerationParams(
                prompt=prompt, seed=seed, steps=steps, guidance_scale=guidance_scale,
                lora_weight=lora_weight if generator.lora else 1.0, scheduler=scheduler,
            )
            image = generator.generate(params)[0]
            name = f"{folder}/{image_name(params, generator.lora_name)}"
            save_generation(workspace.storage, name, image, params, model=generator.model_name, lora=generator.lora_name)
            items.append(GalleryItem(name, prompt, seed, params.lora_weight))
    logger.info("generated %d images into %s", len(items), folder)
    return items
