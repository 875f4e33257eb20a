"""Generate a set of prompts and seeds into the workspace gallery."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

from ..errors import InvalidValueError
from ..model.loading import resolve_lora_file, resolve_model_reference
from ..workspace import Workspace
from .params import GenerationParams
from .pipeline import Generator
from .pngmeta import save_generation
from .threads import set_torch_threads

logger = logging.getLogger(__name__)

BEST_RUN_FILE = "runs/best.json"
BEST_RUN_FIX = "fix or delete it, or run 'd2a sweep' to write it again"


@dataclass
class GalleryItem:
    file: str
    prompt: str
    seed: int
    lora_weight: float


def best_lora(workspace: Workspace) -> str | None:
    """Return the local path of the workspace's best LoRA, or None when it has no run.

    ``runs/best.json`` (written by ``d2a sweep`` and ``d2a train``, keys ``run`` and
    ``lora``) decides when it exists. Otherwise the best run is chosen as
    :func:`demographic2art.train.best.choose_best_run` does (lowest validation loss among
    comparable finished runs). Where no run has a validation loss and a LoRA file, the
    lowest final training loss of the summaries wins.
    Raise :class:`InvalidValueError` when ``runs/best.json`` is not a JSON object naming
    a run. The LoRA file itself is checked where it is loaded.
    """
    storage = workspace.storage
    best = read_best_run(storage)
    if best is not None:
        lora = best.get("lora") or _summary_lora(storage, best.get("run"))
        if lora:
            if not isinstance(lora, str):
                raise InvalidValueError(f"{storage.url}/{BEST_RUN_FILE} has lora {lora!r}, which is not a path; {BEST_RUN_FIX}")
            return storage.local_path(lora)
    from ..train.best import choose_best_run

    chosen = choose_best_run(workspace)
    if chosen is not None:
        return storage.local_path(chosen["lora"])
    candidates = []
    for path in storage.glob("runs/**/summary.json"):
        try:
            summary = storage.read_json(path)
            score = float(summary.get("validation_loss", summary["final_loss"]))
            candidates.append((score, summary["lora"]))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            logger.error("run summary %s is unusable: %s", path, exc)
    candidates = [c for c in candidates if not math.isnan(c[0])]
    if not candidates:
        return None
    return storage.local_path(min(candidates)[1])


def read_best_run(storage) -> dict | None:
    """Return ``runs/best.json`` as a dict, or None when the file does not exist.

    Raise :class:`InvalidValueError` naming the file when it is not a JSON object.
    """
    if not storage.exists(BEST_RUN_FILE):
        return None
    try:
        best = storage.read_json(BEST_RUN_FILE)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidValueError(f"{storage.url}/{BEST_RUN_FILE} is not valid JSON ({exc}); {BEST_RUN_FIX}") from None
    if not isinstance(best, dict):
        raise InvalidValueError(f"{storage.url}/{BEST_RUN_FILE} is not a JSON object with 'run' and 'lora' keys; {BEST_RUN_FIX}")
    return best


def _summary_lora(storage, run: str | None) -> str | None:
    if not run:
        return None
    if not isinstance(run, str):
        raise InvalidValueError(f"{storage.url}/{BEST_RUN_FILE} has run {run!r}, which is not a run name; {BEST_RUN_FIX}")
    run = run if run.startswith("runs/") else f"runs/{run}"
    path = f"{run}/summary.json"
    if not storage.exists(path):
        return None
    try:
        summary = storage.read_json(path)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidValueError(f"{storage.url}/{path} is not valid JSON ({exc}); fix it or train the run again") from None
    return summary.get("lora") if isinstance(summary, dict) else None


def lora_run_name(workspace: Workspace, lora: str | None) -> str | None:
    """Return the run name of a LoRA file or folder inside the workspace's ``runs/``, else None.

    The name keeps the sweep folder (``small/lr0.001-seed1``), so runs of two sweeps
    never share a name.
    """
    import os

    if not lora or not workspace.storage.is_local:
        return None
    runs = os.path.realpath(workspace.storage.local_path("runs"))
    path = os.path.realpath(lora)
    if os.path.isfile(path):
        path = os.path.dirname(path)
    if os.path.basename(path) != "lora":
        return None
    run = os.path.dirname(path)
    if os.path.commonpath([runs, run]) != runs or run == runs:
        return None
    return os.path.relpath(run, runs).replace(os.sep, "/")


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
    threads: int | None = None,
) -> list[GalleryItem]:
    """Generate every prompt with every seed and save PNGs with parameters and JSON sidecars.

    ``threads`` sets torch's intra-op threads (default: ``D2A_TORCH_THREADS``, else the
    CPUs this process may use; see :mod:`demographic2art.generate.threads`).
    """
    if generator is None:
        # Check both references before the slow model load, so bad input fails at once.
        model = resolve_model_reference(model)
        lora = resolve_lora_file(lora) if lora else None
    set_torch_threads(threads)
    generator = generator or Generator(model, lora)
    # A workspace run is named with its sweep folder, so sidecars of two sweeps differ.
    lora_name = lora_run_name(workspace, getattr(generator, "lora", None)) or generator.lora_name
    items = []
    for prompt in prompts:
        for seed in seeds:
            params = GenerationParams(
                prompt=prompt, seed=seed, steps=steps, guidance_scale=guidance_scale,
                lora_weight=lora_weight if generator.lora else 1.0, scheduler=scheduler,
            )
            image = generator.generate(params)[0]
            name = f"{folder}/{image_name(params, lora_name)}"
            save_generation(workspace.storage, name, image, params, model=generator.model_name, lora=lora_name)
            items.append(GalleryItem(name, prompt, seed, params.lora_weight))
    logger.info("generated %d images into %s", len(items), folder)
    return items
