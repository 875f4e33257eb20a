"""The workspace's best training run: the lowest validation loss among comparable runs.

Validation losses compare only when they are measured the same way: same base model,
same held-out split and image count, same training resolution and bucketing. Each run's
``summary.json`` and ``config.json`` record these settings. The best run is chosen among
the finished runs that share the settings of a reference run, which is the run or sweep
that just finished. ``runs/best.json`` records the choice, the number of candidates and
the runs left out with the reason. ``d2a generate``, ``d2a serve`` and ``d2a compare`` use that
run's LoRA by default.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidValueError
from ..workspace import Workspace

logger = logging.getLogger(__name__)

BEST_RUN_FILE = "runs/best.json"
CHOSEN_BY = "lowest validation loss among finished runs with the same validation settings"
# Summary fields and config fields that decide how a validation loss is measured.
SUMMARY_SETTINGS = ("model", "validation_split", "validation_images")
CONFIG_SETTINGS = ("resolution", "aspect_buckets")


@dataclass
class FinishedRun:
    """A run with a summary, a LoRA file and a finite validation loss."""

    run: str
    lora: str
    validation_loss: float
    validation: dict[str, Any]


def validation_settings(summary: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Return the settings that make two runs' validation losses comparable."""
    settings = {key: summary.get(key) for key in SUMMARY_SETTINGS}
    settings.update({key: config.get(key) for key in CONFIG_SETTINGS})
    return settings


def finished_runs(workspace: Workspace) -> tuple[list[FinishedRun], list[dict[str, str]]]:
    """Return the finished runs of ``runs/`` and the runs left out, each with a reason.

    A run is finished when its ``summary.json`` is readable, names a LoRA file that
    exists and loads as a LoRA (checked from its header on local storage), and has a
    finite ``validation_loss``.
    """
    storage = workspace.storage
    runs: list[FinishedRun] = []
    left_out: list[dict[str, str]] = []
    for path in sorted(storage.glob("runs/**/summary.json")):
        run = path.removeprefix("runs/").removesuffix("/summary.json")
        try:
            summary = storage.read_json(path)
            config_path = f"runs/{run}/config.json"
            config = storage.read_json(config_path) if storage.exists(config_path) else {}
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            left_out.append({"run": run, "reason": f"unreadable summary or config ({exc})"})
            continue
        if not isinstance(summary, dict) or not isinstance(config, dict):
            left_out.append({"run": run, "reason": "summary or config is not a JSON object"})
            continue
        loss = _finite(summary.get("validation_loss"))
        lora = summary.get("lora")
        if loss is None:
            left_out.append({"run": run, "reason": "no finite validation loss"})
        elif isinstance(lora, str) and not _inside(storage, lora):
            left_out.append({"run": run, "reason": f"LoRA path {lora!r} is outside the workspace"})
        elif not isinstance(lora, str) or not storage.exists(lora):
            left_out.append({"run": run, "reason": f"LoRA file {lora!r} is missing"})
        elif (problem := _lora_problem(storage, lora)) is not None:
            left_out.append({"run": run, "reason": problem})
        else:
            runs.append(FinishedRun(run, lora, loss, validation_settings(summary, config)))
    return runs, left_out


def _lora_problem(storage, lora: str) -> str | None:
    """Return why the LoRA file ``lora`` cannot be loaded, or None when it can.

    Only the safetensors header is read. Files on object storage are not opened here,
    so a damaged one there is found when it is loaded.
    """
    if not storage.is_local:
        return None
    from ..errors import MissingFileError
    from ..model.loading import resolve_lora_file

    try:
        resolve_lora_file(storage.local_path(lora))
    except (InvalidValueError, MissingFileError) as exc:
        return f"LoRA file {lora!r} cannot be loaded: {exc}"
    return None


def choose_best_run(workspace: Workspace, reference: str | None = None) -> dict[str, Any] | None:
    """Return the best-run record for the workspace, or None when no run has finished.

    Candidates are the finished runs whose validation settings equal those of the run
    ``reference`` (a run name such as ``small/lr0.001-seed1``). Without a reference, or
    when the reference has not finished, the settings of the run in ``runs/best.json``
    are used, else those shared by the most runs. The record contains ``run``, ``lora``,
    ``validation_loss``, ``chosen_by``, ``candidates`` (how many runs were compared),
    ``validation`` (the shared settings) and ``left_out`` (run and reason).
    """
    runs, left_out = finished_runs(workspace)
    if not runs:
        return None
    settings = _reference_settings(workspace, runs, reference)
    candidates = [run for run in runs if run.validation == settings]
    for run in runs:
        if run.validation != settings:
            left_out.append({"run": run.run, "reason": f"other validation settings ({_difference(run.validation, settings)})"})
    best = min(candidates, key=lambda run: (run.validation_loss, run.run))
    return {
        "run": best.run,
        "lora": best.lora,
        "validation_loss": best.validation_loss,
        "chosen_by": CHOSEN_BY,
        "candidates": len(candidates),
        "validation": settings,
        "left_out": left_out,
    }


def update_best_run(workspace: Workspace, reference: str | None = None) -> dict[str, Any] | None:
    """Choose the best run (see :func:`choose_best_run`), write ``runs/best.json`` and return the record.

    Call it whenever a run or a sweep finishes. Nothing is written when no run has finished.
    """
    record = choose_best_run(workspace, reference)
    if record is None:
        logger.info("no finished run has a validation loss, so %s is unchanged", BEST_RUN_FILE)
        return None
    workspace.storage.write_json(BEST_RUN_FILE, record)
    logger.info(
        "best run %s (validation loss %.5f, lowest of %d comparable runs, %d left out)",
        record["run"], record["validation_loss"], record["candidates"], len(record["left_out"]),
    )
    return record


def _reference_settings(workspace: Workspace, runs: list[FinishedRun], reference: str | None) -> dict[str, Any]:
    by_name = {run.run: run for run in runs}
    if reference is not None:
        name = reference.removeprefix("runs/").strip("/")
        if name in by_name:
            return by_name[name].validation
        logger.warning("reference run %s has no finished summary, so the validation settings come from the recorded best run or the largest group", name)
    storage = workspace.storage
    if storage.exists(BEST_RUN_FILE):
        try:
            previous = storage.read_json(BEST_RUN_FILE)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            logger.warning("%s is unreadable (%s), so the largest group of comparable runs is used", BEST_RUN_FILE, exc)
            previous = None
        name = previous.get("run") if isinstance(previous, dict) else None
        if isinstance(name, str) and name in by_name:
            return by_name[name].validation
    groups: dict[str, list[FinishedRun]] = {}
    for run in runs:
        groups.setdefault(repr(sorted(run.validation.items())), []).append(run)
    largest = max(groups.values(), key=lambda group: (len(group), -min(run.validation_loss for run in group)))
    return largest[0].validation


def _difference(settings: dict[str, Any], reference: dict[str, Any]) -> str:
    return ", ".join(f"{key} {settings.get(key)!r}, not {value!r}" for key, value in reference.items() if settings.get(key) != value)


def _inside(storage, path: str) -> bool:
    """Return whether ``path`` stays inside the workspace (Storage raises for one that leaves it)."""
    try:
        storage.path(path)
    except InvalidValueError:
        return False
    return True


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number
