"""A summary of what each stage of a workspace has produced."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import InvalidValueError
from .reporting import JobRecord, latest_records
from .workspace import Workspace


@dataclass
class StageStatus:
    name: str
    done: bool
    detail: str


@dataclass
class WorkspaceStatus:
    note: str | None
    stages: list[StageStatus] = field(default_factory=list)
    jobs: list[JobRecord] = field(default_factory=list)


def _rows(workspace: Workspace, table: str) -> int | None:
    if not workspace.storage.exists(table):
        return None
    import pyarrow.parquet as pq

    with workspace.storage.open(table) as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def _best_text(best: dict) -> str:
    """Return the best run, its loss and how many comparable runs it was chosen from."""
    loss = best.get("validation_loss")
    if isinstance(loss, (int, float)) and not isinstance(loss, bool) and math.isfinite(loss):
        text = f"{best['run']} (validation loss {loss:.4f}"
    else:
        # A hand-written record may name only the run and its LoRA.
        text = f"{best['run']} (validation loss unknown"
    if isinstance(best.get("candidates"), int):
        text += f", lowest of {best['candidates']} comparable runs"
        left_out = best.get("left_out") or []
        if left_out:
            text += f"; {len(left_out)} runs left out, see runs/best.json"
    return text + ")"


def _read_best(workspace: Workspace) -> dict | None:
    """Return ``runs/best.json``, or None when it does not exist.

    Raise :class:`InvalidValueError` when it is not a JSON object with a string ``run``.
    """
    storage = workspace.storage
    if not storage.exists("runs/best.json"):
        return None
    best = storage.read_json("runs/best.json")
    if not isinstance(best, dict) or not isinstance(best.get("run"), str):
        raise InvalidValueError(
            f"{storage.url}/runs/best.json is not a JSON object with a 'run' name; "
            "fix or delete it, or run 'd2a sweep' or 'd2a train' to write it again"
        )
    return best


def workspace_status(workspace: Workspace) -> WorkspaceStatus:
    """Return, for each stage, whether its main output exists and how big it is.

    ``jobs`` contains the last run record of each long command (see :mod:`.reporting`).
    """
    storage = workspace.storage
    note = workspace.settings().get("demo", {}).get("note")
    report = WorkspaceStatus(note)
    for name, table, unit in (
        ("catalog", "catalog/artworks.parquet", "artworks"),
        ("images", "images/manifest.parquet", "manifest rows"),
        ("bios", "bios/triage.parquet", "pages"),
        ("demographics", "demographics/demographics.parquet", "artists"),
        ("captions", "captions/captions.parquet", "captions"),
    ):
        rows = _rows(workspace, table)
        report.stages.append(StageStatus(name, rows is not None, f"{rows} {unit} in {table}" if rows is not None else "not run"))
    runs = storage.glob("runs/**/summary.json")
    best = _read_best(workspace)
    detail = f"{len(runs)} runs" + (f", best {_best_text(best)}" if best else "")
    report.stages.append(StageStatus("train", bool(runs), detail if runs else "not run"))
    images = [n for n in storage.listdir("gallery") if n.endswith(".png")]
    report.stages.append(StageStatus("generate", bool(images), f"{len(images)} images in gallery/" if images else "not run"))
    report.jobs = sorted(latest_records(workspace).values(), key=lambda record: record.command)
    return report
