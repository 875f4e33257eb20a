"""The workspace's LoRAs and a generator that keeps several of them loaded as adapters.

Each LoRA is loaded into the pipeline once, under its own adapter name, the first time a
job asks for it. Later jobs switch between the loaded adapters with
``set_adapters(name, weight)``, so switching costs no file reads. Weight 0 on any
adapter gives the base model's output, which the studio uses as a control.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

from ..generate import GenerationParams, Generator
from ..generate.pipeline import load_lora_adapter
from ..model.loading import resolve_lora_file

logger = logging.getLogger(__name__)

LORA_FILE = "lora/pytorch_lora_weights.safetensors"
# A run name is one folder, or a sweep folder and a run folder (``small/lr0.001-seed1``).
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})*$")


def list_models(workspace) -> list[dict[str, Any]]:
    """List the training runs of ``runs/`` that have a LoRA file, best first, sweep runs included.

    Each entry has ``name`` (the run folder under ``runs/``, with its sweep folder, such as
    ``small/lr0.001-seed1``), ``lora`` (local path), ``final_loss``,
    ``validation_loss`` (None where the summary lacks them) and ``best`` (True for the
    run named by ``runs/best.json``, else for the lowest validation or final loss).
    """
    storage = workspace.storage
    runs = []
    for path in sorted(storage.glob("runs/**/" + LORA_FILE)):
        name = path.removeprefix("runs/").removesuffix("/" + LORA_FILE)
        if "/checkpoints/" in f"/{name}/":
            continue
        if not MODEL_NAME.match(name):
            logger.error("run folder %r has an unusable name; it is left out of the model list", name)
            continue
        summary: dict[str, Any] = {}
        summary_path = f"runs/{name}/summary.json"
        if storage.exists(summary_path):
            try:
                summary = storage.read_json(summary_path)
            except (OSError, ValueError) as exc:
                logger.error("run summary %s is unreadable: %s", summary_path, exc)
            if not isinstance(summary, dict):
                logger.error("run summary %s is not a JSON object; its losses are left out", summary_path)
                summary = {}
        runs.append(
            {
                "name": name,
                "lora": storage.local_path(f"runs/{name}/{LORA_FILE}"),
                "final_loss": _number(summary.get("final_loss")),
                "validation_loss": _number(summary.get("validation_loss")),
                "best": False,
            }
        )
    best_name = _best_run_name(workspace, runs)
    for run in runs:
        run["best"] = run["name"] == best_name
    runs.sort(key=lambda run: (not run["best"], _score(run), run["name"]))
    return runs


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    # Infinity is not valid JSON for browsers, so the model list gives None instead.
    return number if math.isfinite(number) else None


def _score(run: dict[str, Any]) -> float:
    for key in ("validation_loss", "final_loss"):
        if run[key] is not None:
            return run[key]
    return math.inf


def _best_run_name(workspace, runs: list[dict[str, Any]]) -> str | None:
    """Return the run named by ``runs/best.json``, else the best run as the trainer chooses it."""
    storage = workspace.storage
    if storage.exists("runs/best.json"):
        try:
            best = storage.read_json("runs/best.json")
        except (OSError, ValueError) as exc:
            logger.error("runs/best.json is unreadable: %s", exc)
            best = {}
        if not isinstance(best, dict):
            logger.error("runs/best.json is not a JSON object; choosing the best run from the summaries")
            best = {}
        run = str(best.get("run") or "").removeprefix("runs/").strip("/")
        lora = str(best.get("lora") or "")
        for entry in runs:
            if entry["name"] == run or (lora and lora.startswith(f"runs/{entry['name']}/lora/")):
                return entry["name"]
    from ..train.best import choose_best_run

    chosen = choose_best_run(workspace)
    if chosen is not None and any(entry["name"] == chosen["run"] for entry in runs):
        return chosen["run"]
    scored = [run for run in runs if _score(run) < math.inf]
    return min(scored, key=_score)["name"] if scored else None


def adapter_name(name: str) -> str:
    """Return a PEFT adapter name for a model name (letters, digits and underscores).

    Names with other characters get a digest suffix, so ``small/lr0.001`` and
    ``small_lr0_001`` give different adapters.
    """
    import hashlib

    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if clean == name:
        return "lora_" + clean
    return f"lora_{clean}_{hashlib.sha256(name.encode()).hexdigest()[:8]}"


class StudioGenerator(Generator):
    """A :class:`Generator` that keeps several LoRAs loaded and switches between them.

    ``loras`` maps model names (run folder names) to LoRA files or folders; ``default``
    names the one used when a job names none. Use it from one thread at a time, like
    :class:`Generator`.
    """

    def __init__(
        self,
        model: str,
        loras: dict[str, str] | None = None,
        *,
        default: str | None = None,
        device: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(model, None, device=device, dtype=dtype)
        self.loras = dict(loras or {})
        if default is not None and default not in self.loras:
            raise ValueError(f"default LoRA {default!r} is not among {sorted(self.loras)}")
        self.default_lora = default
        self.loaded: list[str] = []
        self.active: str | None = None
        if default is not None:
            self.select_lora(default)

    def select_lora(self, name: str | None) -> None:
        """Make ``name`` the active LoRA (None: the default), loading it on first use."""
        name = name if name is not None else self.default_lora
        if name is None:
            self.active = None
            self.lora = None
            self.lora_name = None
            return
        if name not in self.loras:
            raise ValueError(f"LoRA {name!r} is not loaded; choose one of {sorted(self.loras)}")
        if name not in self.loaded:
            path = Path(resolve_lora_file(self.loras[name]))
            load_lora_adapter(self.pipeline, path, adapter_name(name), model=self.model_name)
            self.loaded.append(name)
            logger.info("loaded LoRA %s as adapter %s", path, adapter_name(name))
        self.active = name
        self.lora = self.loras[name]
        self.lora_name = name

    def generate(self, params: GenerationParams, **options):
        """Generate with the active adapter at ``params.lora_weight``; see :meth:`Generator.generate`."""
        if self.active is None:
            if self.loaded:
                # Adapters stay in the UNet once loaded; weight 0 on all of them is the base model.
                names = [adapter_name(name) for name in self.loaded]
                self.pipeline.set_adapters(names, adapter_weights=[0.0] * len(names))
            return super().generate(params, **options)
        self.pipeline.set_adapters([adapter_name(self.active)], adapter_weights=[params.lora_weight])
        # Generator.generate would activate its own single adapter name, so it runs with
        # `lora` cleared and the adapter set above left active. The weight only reaches
        # the pipeline through set_adapters, so the copy at weight 1 changes nothing else.
        active_lora = self.lora
        self.lora = None
        try:
            return super().generate(params.model_copy(update={"lora_weight": 1.0}), **options)
        finally:
            self.lora = active_lora
