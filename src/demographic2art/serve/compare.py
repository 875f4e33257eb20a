"""A/B comparisons in the studio: two attribute sets with the same seeds, plus controls.

A comparison renders group A, group B, the neutral prompt ("an artist") and, when a LoRA
is active, group A at LoRA weight 0, each with the same seeds and settings. Every image
is one job in the studio's queue. When the last job ends, the images are copied to
``portfolios/<name>/images/<group-slug>/<seed>.png`` with sidecars, and
``portfolios/<name>/manifest.json`` is written in the layout of
:func:`demographic2art.analysis.compare.compare_groups`, so the portfolio can be
analysed with ``d2a analyze --images-dir <workspace>/portfolios/<name>/images``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..analysis.compare import (
    LORA_OFF_SUFFIX,
    NEUTRAL_GROUP,
    STAND_IN_SIZE,
    file_sha256,
    group_attributes,
    group_label,
    package_versions,
)
from ..captions.templates import TEMPLATES, ArtistAttributes, ArtworkFields, compose_caption
from ..errors import InvalidValueError
from ..generate import GenerationParams
from .jobs import FINAL_STATES, GALLERY, Job, JobQueue

logger = logging.getLogger(__name__)

PORTFOLIOS = "portfolios"
PORTFOLIO_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_SEEDS = 16
DEFAULT_SEEDS = 4
MAX_KEPT = 50


def group_slug(label: str) -> str:
    """Return the folder name of a group label, as ``compare_groups`` names it."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "group"


@dataclass
class ComparisonRow:
    """One row of the grid: a group or control, its artist attributes and LoRA weight."""

    label: str
    kind: str
    attributes: ArtistAttributes
    lora_weight: float


@dataclass
class Comparison:
    """An A/B comparison: its rows, seeds, shared settings and the job of each cell."""

    id: str
    name: str
    rows: list[ComparisonRow]
    seeds: list[int]
    templates: int
    settings: dict[str, Any]
    artwork: dict[str, str]
    model: str
    lora: str | None
    lora_name: str | None
    stand_in: bool | None = None
    cells: dict[tuple[str, int], Job] = field(default_factory=dict)
    state: str = "running"
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def folder(self) -> str:
        return f"{PORTFOLIOS}/{self.name}"

    def to_record(self) -> dict[str, Any]:
        """Return the comparison as JSON: rows, seeds and per-cell job state and image URL."""
        grid = []
        for seed in self.seeds:
            cells = []
            for row in self.rows:
                job = self.cells[(row.label, seed)]
                cells.append(
                    {
                        "group": row.label,
                        "job": job.id,
                        "state": job.state,
                        "prompt": job.params.prompt,
                        "lora_weight": row.lora_weight,
                        "url": f"/{GALLERY}/{job.results[0]}" if job.results else None,
                    }
                )
            grid.append({"seed": seed, "cells": cells})
        done = sum(1 for job in self.cells.values() if job.state == "done")
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "groups": [row.label for row in self.rows if row.kind in ("a", "b")],
            "rows": [{"label": row.label, "kind": row.kind, "lora_weight": row.lora_weight} for row in self.rows],
            "seeds": self.seeds,
            "settings": self.settings,
            "lora": self.lora_name,
            "done": done,
            "total": len(self.cells),
            "grid": grid,
            "portfolio": f"{self.folder}/manifest.json" if self.state in ("done", "incomplete") else None,
            "url": f"/api/compare/{self.id}",
        }


class ComparisonBoard:
    """The studio's comparisons: plans them, queues their jobs and writes finished portfolios."""

    def __init__(self, storage, queue: JobQueue, *, max_kept: int = MAX_KEPT) -> None:
        self.storage = storage
        self.queue = queue
        self.max_kept = max_kept
        self._comparisons: OrderedDict[str, Comparison] = OrderedDict()
        self._lock = threading.Lock()
        queue.listeners.append(self._on_job_final)

    def submit(
        self,
        group_a: dict[str, Any],
        group_b: dict[str, Any],
        *,
        artwork: dict[str, str] | None = None,
        seeds: list[int],
        templates: int = 1,
        lora: str | None = None,
        name: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Comparison:
        """Queue every cell of an A/B comparison and return it.

        ``group_a`` and ``group_b`` are artist attributes (gender, nationality,
        birth_decade, movement). ``settings`` are shared :class:`GenerationParams` fields
        (negative prompt, steps, guidance scale, size, scheduler). Raise
        :class:`InvalidValueError` for bad input and the queue's
        :class:`~demographic2art.serve.jobs.ServiceUnavailableError` when the queue has no
        room for all the jobs.
        """
        settings = dict(settings or {})
        rows = self._plan_rows(group_a, group_b, lora_active=self._lora_path(lora) is not None)
        seeds = _check_seeds(seeds)
        if not 1 <= templates <= len(TEMPLATES):
            raise InvalidValueError(f"templates {templates} is invalid; use 1 to {len(TEMPLATES)}")
        artwork = {key: value for key, value in (artwork or {}).items() if value}
        artwork_fields = ArtworkFields(style=artwork.get("style"), genre=artwork.get("genre"))
        comparison_id = uuid.uuid4().hex
        name = name or f"studio-{group_slug('-vs-'.join(row.label for row in rows[:2]))[:60]}-{comparison_id[:8]}"
        self._check_name(name)
        requests = []
        for row in rows:
            for index, seed in enumerate(seeds):
                prompt = compose_caption(artwork_fields, row.attributes, template=index % templates, include_year=False)
                try:
                    params = GenerationParams(
                        **settings, prompt=prompt, seed=seed, lora_weight=row.lora_weight, batch_size=1
                    )
                except ValueError as exc:
                    raise InvalidValueError(f"comparison settings are invalid: {exc}") from None
                tags = {"comparison": comparison_id, "group": row.label, "template": index % templates}
                requests.append((params, {}, lora, tags))
        generator = self.queue.generator
        comparison = Comparison(
            id=comparison_id,
            name=name,
            rows=rows,
            seeds=seeds,
            templates=templates,
            settings={key: value for key, value in requests[0][0].model_dump().items() if key not in ("prompt", "seed", "lora_weight", "batch_size")},
            artwork=artwork,
            model=getattr(generator, "model", None) or getattr(generator, "model_name", ""),
            lora=self._lora_path(lora),
            lora_name=lora or getattr(generator, "lora_name", None),
            stand_in=_stand_in(generator),
        )
        with self._lock:
            # Registered before queueing, so the listener finds the comparison of every job.
            self._comparisons[comparison_id] = comparison
            try:
                jobs = self.queue.submit_many(requests)
            except Exception:
                del self._comparisons[comparison_id]
                raise
            for job in jobs:
                comparison.cells[(job.tags["group"], job.params.seed)] = job
            self._evict()
        logger.info("comparison %s queued: %d rows x %d seeds as %s", comparison_id, len(rows), len(seeds), name)
        # A job may have ended before its cell was registered above.
        self._complete_if_final(comparison)
        return comparison

    def get(self, comparison_id: str) -> dict[str, Any] | None:
        """Return the record of a comparison held in memory, or None."""
        with self._lock:
            comparison = self._comparisons.get(comparison_id)
            return comparison.to_record() if comparison is not None else None

    def _lora_path(self, lora: str | None) -> str | None:
        generator = self.queue.generator
        loras = getattr(generator, "loras", None)
        if lora is not None and loras is not None:
            return loras.get(lora)
        return getattr(generator, "lora", None)

    @staticmethod
    def _plan_rows(group_a: dict[str, Any], group_b: dict[str, Any], *, lora_active: bool) -> list[ComparisonRow]:
        groups = []
        for side, group in (("a", group_a), ("b", group_b)):
            cleaned = {key: str(value) for key, value in (group or {}).items() if value not in (None, "")}
            if not cleaned:
                raise InvalidValueError(f"group {side} has no attributes; pick at least one, e.g. gender=female")
            groups.append((side, cleaned, group_attributes(cleaned)))
        label_a, label_b = group_label(groups[0][1]), group_label(groups[1][1])
        if label_a == label_b:
            raise InvalidValueError(f"groups a and b are both {label_a}; pick different attributes")
        rows = [
            ComparisonRow(label_a, "a", groups[0][2], 1.0),
            ComparisonRow(label_b, "b", groups[1][2], 1.0),
            ComparisonRow(NEUTRAL_GROUP, "neutral", ArtistAttributes(), 1.0),
        ]
        if lora_active:
            rows.append(ComparisonRow(label_a + LORA_OFF_SUFFIX, "lora_off", groups[0][2], 0.0))
        return rows

    def _check_name(self, name: str) -> None:
        if not PORTFOLIO_NAME.match(name):
            raise InvalidValueError(
                f"portfolio name {name!r} is invalid; use 1 to 80 lower-case letters, digits and hyphens"
            )
        name_in_use = self.storage.exists(f"{PORTFOLIOS}/{name}") or any(c.name == name for c in self._comparisons.values())
        if name_in_use:
            raise InvalidValueError(f"portfolio {name} already exists; choose another name")

    def _evict(self) -> None:
        finished = [key for key, c in self._comparisons.items() if c.state != "running"]
        for key in finished[: max(0, len(self._comparisons) - self.max_kept)]:
            del self._comparisons[key]

    def _on_job_final(self, job: Job) -> None:
        comparison_id = job.tags.get("comparison")
        if comparison_id is None:
            return
        with self._lock:
            comparison = self._comparisons.get(comparison_id)
        if comparison is not None:
            self._complete_if_final(comparison)

    def _complete_if_final(self, comparison: Comparison) -> None:
        with self._lock:
            expected = len(comparison.rows) * len(comparison.seeds)
            if comparison.state != "running" or len(comparison.cells) < expected:
                return
            if any(job.state not in FINAL_STATES for job in comparison.cells.values()):
                return
            comparison.state = "writing"
        try:
            complete = write_portfolio(self.storage, comparison)
            comparison.state = "done" if complete else "incomplete"
        except OSError as exc:
            logger.error("writing portfolio %s failed: %s", comparison.name, exc)
            comparison.state = "failed"
        comparison.finished = time.time()
        logger.info("comparison %s %s", comparison.id, comparison.state)


def _stand_in(generator) -> bool | None:
    try:
        return bool(generator.native_size <= STAND_IN_SIZE)
    except (AttributeError, TypeError):
        return None


def _check_seeds(seeds: list[int]) -> list[int]:
    if not isinstance(seeds, list) or not seeds:
        raise InvalidValueError("seeds must be a non-empty list of integers")
    if len(seeds) > MAX_SEEDS:
        raise InvalidValueError(f"got {len(seeds)} seeds; a studio comparison takes at most {MAX_SEEDS}")
    checked = []
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2**32 - 1:
            raise InvalidValueError(f"seed {seed!r} is invalid; use integers from 0 to 4294967295")
        checked.append(seed)
    if len(set(checked)) != len(checked):
        raise InvalidValueError("seeds repeat; pass distinct seeds")
    return checked


def write_portfolio(storage, comparison: Comparison) -> bool:
    """Copy a comparison's images into its portfolio folder and write ``manifest.json``.

    Return True when every cell produced an image. Cells that failed or were cancelled
    are listed under ``missing`` in the manifest and have no image.
    """
    folder = comparison.folder
    records = []
    missing = []
    for row in comparison.rows:
        for seed in comparison.seeds:
            job = comparison.cells[(row.label, seed)]
            if job.state != "done" or not job.results:
                missing.append({"group": row.label, "seed": seed, "state": job.state})
                continue
            source = f"{GALLERY}/{job.results[0]}"
            relpath = f"{folder}/images/{group_slug(row.label)}/{seed}.png"
            storage.write_bytes(relpath, storage.read_bytes(source))
            sidecar = storage.read_json(source.rsplit(".", 1)[0] + ".json")
            sidecar.update({"file": f"{seed}.png", "group": row.label, "template": job.tags["template"]})
            storage.write_text(relpath.rsplit(".", 1)[0] + ".json", json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
            records.append(
                {
                    "group": row.label,
                    "seed": seed,
                    "template": job.tags["template"],
                    "prompt": job.params.prompt,
                    "lora_weight": row.lora_weight,
                    "file": relpath,
                    "job": job.id,
                }
            )
    settings = comparison.settings
    manifest = {
        "name": comparison.name,
        "groups": [row.label for row in comparison.rows if row.kind in ("a", "b")],
        "controls": [row.label for row in comparison.rows if row.kind not in ("a", "b")],
        "model": comparison.model,
        "stand_in_model": comparison.stand_in,
        "lora": comparison.lora,
        "lora_sha256": file_sha256(comparison.lora) if comparison.lora else None,
        "settings": {
            "n_images": len(comparison.seeds),
            "steps": settings.get("steps"),
            "guidance_scale": settings.get("guidance_scale"),
            "templates": comparison.templates,
            "scheduler": settings.get("scheduler"),
            "negative_prompt": settings.get("negative_prompt"),
            "width": settings.get("width"),
            "height": settings.get("height"),
            "artwork": comparison.artwork,
        },
        "seeds": comparison.seeds,
        "images": records,
        "missing": missing,
        "source": "studio",
        "comparison": comparison.id,
        "packages": package_versions(),
    }
    storage.write_json(f"{folder}/manifest.json", manifest)
    logger.info("portfolio %s written: %d images, %d missing", folder, len(records), len(missing))
    return not missing
