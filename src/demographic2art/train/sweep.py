"""A grid of training runs (learning rates x seeds, or any other training setting).

Each run trains from the same captions and writes its own ``runs/<sweep>/<run>/`` folder.
An engine runs the grid: ``local`` (one run after another, or one process per worker or
visible GPU) or ``ray`` (Ray Tune, see :mod:`.engines.ray_tune`). Runs are ranked by
validation loss, computed at fixed noise and timesteps on held-out images, so the ranking
does not depend on each run's random draws. The sweep writes ``results.csv`` (the ranked
table), ``loss_curves.png`` (training and validation losses of every run) and
``samples.png`` (runs x prompts) under ``runs/<sweep>/``. It then updates ``runs/best.json``,
the workspace's best run over every comparable finished run, earlier ones included (see
:mod:`.best`), which ``d2a generate`` and ``d2a serve`` use by default.
"""

from __future__ import annotations

import itertools
import logging
import math
import typing
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError, InvalidValueError
from ..workspace import Workspace
from .config import TrainConfig

logger = logging.getLogger(__name__)

DEFAULT_LEARNING_RATES = (1e-4, 5e-4, 1e-3)
DEFAULT_SEEDS = (42, 43)
ENGINES = ("local", "ray")
# Settings that cannot be an axis: every run of a sweep trains the same model, and the
# sweep names each run's folder itself.
FIXED_SETTINGS = ("model", "run_name")
AXIS_ALIASES = {"lr": "learning_rate", "text_encoder_lr": "text_encoder_learning_rate"}
SHORT_NAMES = {"learning_rate": "lr", "seed": "seed", "rank": "r", "alpha": "a"}
DEFAULT_SAMPLE_SEEDS = (0,)
DEFAULT_SAMPLE_STEPS = 10


@dataclass
class SweepResult:
    """The ranked table of a sweep, its best run and the workspace's best run after it.

    ``best_run`` and ``best_lora`` are the sweep's own best. ``workspace_best`` is the
    record written to ``runs/best.json``, which names an earlier run when that one is better.
    """

    name: str
    table: "pandas.DataFrame"  # noqa: F821
    best_run: str
    best_lora: str
    files: dict[str, str] = field(default_factory=dict)
    workspace_best: dict[str, Any] | None = None


def grid(axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Return every combination of the axis values, in a stable order (last axis fastest)."""
    if not axes:
        return [{}]
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[n] for n in names))]


def axis_name(name: str) -> str:
    """Return the ``TrainConfig`` field an axis names (``learning-rate``, ``lr`` -> ``learning_rate``)."""
    clean = name.strip().replace("-", "_")
    clean = AXIS_ALIASES.get(clean, clean)
    if clean in FIXED_SETTINGS:
        raise InvalidValueError(f"{name!r} cannot be a sweep axis because every run of a sweep shares it; set it once")
    if clean not in TrainConfig.model_fields:
        raise InvalidValueError(f"sweep axis {name!r} is not a training setting; choose from {sorted(_axis_fields())}")
    return clean


def _axis_fields() -> list[str]:
    return [name for name in TrainConfig.model_fields if name not in FIXED_SETTINGS]


def parse_axis_value(name: str, text: str) -> Any:
    """Convert one axis value from text to the type of the training setting ``name``.

    ``none`` gives ``None`` where the setting accepts it. Tuple settings (such as
    ``unet_targets``) take their items joined by ``+`` (``to_q+to_v``).
    """
    from pydantic import TypeAdapter, ValidationError

    annotation = TrainConfig.model_fields[name].annotation
    raw: Any = text.strip()
    if raw.lower() in ("none", "null") and _allows_none(annotation):
        return None
    if typing.get_origin(annotation) is tuple:
        raw = tuple(part.strip() for part in raw.split("+") if part.strip())
    try:
        return TypeAdapter(annotation).validate_python(raw)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise InvalidValueError(f"sweep axis {name}: value {text!r} is invalid ({reason}); give values like those of 'd2a train'") from None


def _allows_none(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def parse_axis(spec: str) -> tuple[str, list[Any]]:
    """Parse ``name=v1,v2,...`` (the ``--axis`` option) into a setting name and typed values."""
    if "=" not in spec:
        raise InvalidValueError(f"sweep axis {spec!r} has no '='; write it as name=value1,value2 (e.g. rank=4,8)")
    name, _, values_text = spec.partition("=")
    name = axis_name(name)
    values = [parse_axis_value(name, text) for text in values_text.split(",") if text.strip()]
    if not values:
        raise InvalidValueError(f"sweep axis {spec!r} has no values; write it as name=value1,value2")
    return name, values


def sweep_axes(
    learning_rates: list[float] | tuple[float, ...] | None = None,
    seeds: list[int] | tuple[int, ...] | None = None,
    extra_axes: dict[str, list[Any]] | None = None,
) -> dict[str, list[Any]]:
    """Return the axes of a sweep: learning rates and seeds (defaults 1e-4, 5e-4, 1e-3 x 42, 43) plus any others.

    An extra axis named ``learning_rate`` or ``seed`` replaces that default axis.
    """
    axes: dict[str, list[Any]] = {
        "learning_rate": list(learning_rates or DEFAULT_LEARNING_RATES),
        "seed": list(seeds or DEFAULT_SEEDS),
    }
    for name, values in (extra_axes or {}).items():
        name = axis_name(name)
        values = [parse_axis_value(name, v) if isinstance(v, str) else v for v in values]
        if not values:
            raise InvalidValueError(f"sweep axis {name!r} has no values; give at least one")
        axes[name] = values
    return axes


def run_name(settings: dict[str, Any]) -> str:
    """Return a run's folder name from its axis values, e.g. ``lr0.001-seed42``."""
    parts = []
    for key, value in settings.items():
        short = SHORT_NAMES.get(key, key)
        if isinstance(value, float):
            text = f"{value:g}"
        elif isinstance(value, tuple):
            text = "+".join(value)
        else:
            text = str(value)
        parts.append(f"{short}{text}")
    return "-".join(parts) or "run"


def plan_sweep(base: TrainConfig, axes: dict[str, list[Any]], name: str = "sweep") -> list[TrainConfig]:
    """Return one validated training config per grid point, each with run name ``<name>/<axis values>``."""
    from pydantic import ValidationError

    configs = []
    for settings in grid(axes):
        values = {**base.model_dump(), **settings, "run_name": f"{name}/{run_name(settings)}"}
        # alpha and the text-encoder learning rate default to the rank and the learning
        # rate; keep them following those axes unless the base set them explicitly.
        for derived, source in (("alpha", "rank"), ("text_encoder_learning_rate", "learning_rate")):
            if derived not in settings and getattr(base, derived) == getattr(base, source):
                values[derived] = None
        try:
            configs.append(TrainConfig.model_validate(values))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidValueError(
                f"sweep run {run_name(settings)}: invalid setting {'.'.join(map(str, first['loc']))} ({first['msg']})"
            ) from None
    names = [c.run_name for c in configs]
    if len(set(names)) != len(names):
        raise InvalidValueError("sweep axes repeat a value, which would give two runs the same folder; remove the repeat")
    return configs


def run_sweep(
    workspace: Workspace,
    base: TrainConfig,
    *,
    learning_rates: list[float] | tuple[float, ...] | None = None,
    seeds: list[int] | tuple[int, ...] | None = None,
    extra_axes: dict[str, list[Any]] | None = None,
    name: str = "sweep",
    engine: str = "local",
    workers: int = 1,
    devices: list[str] | None = None,
    ray_address: str | None = None,
    storage_path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    max_failures: int = 1,
    sample_prompts: list[str] | None = None,
    sample_seeds: list[int] | tuple[int, ...] = DEFAULT_SAMPLE_SEEDS,
    sample_steps: int = DEFAULT_SAMPLE_STEPS,
    samples: bool = True,
    guard=None,
) -> SweepResult:
    """Train every grid point, rank the runs by validation loss and record the best one.

    ``engine`` is ``local`` (``workers`` processes on the CPU, or one process per entry of
    ``devices``, the GPU ids) or ``ray`` (Ray Tune on the cluster at ``ray_address``,
    default a new local one, storing the experiment under ``storage_path``, a folder or
    an ``s3://`` URL, with ``storage_options`` for its file system; a failed trial is
    retried up to ``max_failures`` times). ``guard`` is the
    :class:`~demographic2art.train.LossGuard` each run uses.

    Writes ``runs/<name>/results.csv``, ``loss_curves.png``, ``samples.png`` (unless
    ``samples`` is false) and ``runs/best.json``. A run that fails is listed with status
    ``failed`` and its error, and the others are still ranked; when every run fails this
    raises :class:`~demographic2art.errors.DataError`.
    """
    if engine not in ENGINES:
        raise InvalidValueError(f"sweep engine {engine!r} is unknown; use one of {', '.join(ENGINES)}")
    if "/" in name or not name.strip():
        raise InvalidValueError(f"sweep name {name!r} must be one folder name without '/'")
    axes = sweep_axes(learning_rates, seeds, extra_axes)
    configs = plan_sweep(base, axes, name)
    logger.info("sweep %s: %d runs on engine %s", name, len(configs), engine)
    if engine == "local":
        from .engines.local import run_local

        outcomes = run_local(workspace, configs, workers=workers, devices=devices, guard=guard)
    else:
        from .engines.ray_tune import run_ray

        outcomes = run_ray(
            workspace, configs, name=name, ray_address=ray_address, storage_path=storage_path,
            storage_options=storage_options, max_failures=max_failures, guard=guard,
        )
    table = results_table(workspace, configs, axes, outcomes)
    storage = workspace.storage
    files = {"results": f"runs/{name}/results.csv", "loss_curves": f"runs/{name}/loss_curves.png"}
    storage.write_text(files["results"], table.to_csv(index=False))
    succeeded = table[table["status"] == "ok"]
    curves = {run: read_curves(workspace, run) for run in succeeded["run"]}
    storage.write_bytes(files["loss_curves"], plot_sweep_curves(curves, name))
    workspace.record_settings(
        "sweep", {"name": name, "engine": engine, **{k: [str(v) for v in values] for k, values in axes.items()}}
    )
    if succeeded.empty:
        reasons = "; ".join(f"{r.run}: {r.error}" for r in table.itertuples())
        raise DataError(f"every run of sweep {name} failed, so no best run was recorded: {reasons}")
    best = succeeded.iloc[0]
    workspace_best = record_best_run(workspace, best["run"], best["lora"], float(best["validation_loss"]))
    if samples:
        files["samples"] = f"runs/{name}/samples.png"
        write_sample_grid(
            workspace, base.model, list(succeeded["run"]), list(succeeded["lora"]), files["samples"],
            prompts=sample_prompts, seeds=list(sample_seeds), steps=sample_steps,
        )
    return SweepResult(name, table, best["run"], best["lora"], files, workspace_best)


def results_table(workspace: Workspace, configs: list[TrainConfig], axes: dict[str, list[Any]], outcomes: list[dict]):
    """Return the sweep table: one row per run, succeeded runs first by validation loss, then failed ones.

    Losses come from each run's ``summary.json``, so every engine is read the same way.
    """
    import pandas as pd

    by_run = {outcome["run"]: outcome for outcome in outcomes}
    rows = []
    for config in configs:
        outcome = by_run.get(config.run_name, {"status": "failed", "error": "the engine returned no result"})
        row: dict[str, Any] = {"run": config.run_name}
        for axis in axes:
            value = getattr(config, axis)
            row[axis] = "+".join(value) if isinstance(value, tuple) else value
        row.update(
            {
                "status": outcome["status"],
                "validation_loss": math.nan,
                "final_loss": math.nan,
                "seconds": math.nan,
                "attempts": outcome.get("attempts", 1),
                "worker": outcome.get("worker", ""),
                "lora": "",
                "error": outcome.get("error", ""),
            }
        )
        summary_path = f"runs/{config.run_name}/summary.json"
        if outcome["status"] == "ok" and workspace.storage.exists(summary_path):
            summary = workspace.storage.read_json(summary_path)
            row["validation_loss"] = summary["validation_loss"]
            row["final_loss"] = summary["final_loss"]
            row["seconds"] = summary["seconds"]
            row["lora"] = summary["lora"]
        elif outcome["status"] == "ok":
            row["status"] = "failed"
            row["error"] = f"{summary_path} is missing after the run"
        rows.append(row)
    table = pd.DataFrame(rows)
    table["_failed"] = table["status"] != "ok"
    table = table.sort_values(["_failed", "validation_loss"], kind="stable").drop(columns="_failed").reset_index(drop=True)
    table.insert(0, "rank", [i + 1 if status == "ok" else None for i, status in enumerate(table["status"])])
    table["rank"] = table["rank"].astype("Int64")
    return table


def read_curves(workspace: Workspace, run: str) -> dict[str, list[tuple[int, float]]]:
    """Return a run's training losses per step and its validation losses per step.

    Validation points come from ``validation.csv`` (columns ``step`` and ``loss``) where the
    trainer writes one, else the final validation loss of ``summary.json`` at the last step.
    """
    import io

    import pandas as pd

    storage = workspace.storage
    losses = pd.read_csv(io.BytesIO(storage.read_bytes(f"runs/{run}/loss.csv")))
    training = list(zip(losses["step"].astype(int), losses["loss"].astype(float)))
    validation: list[tuple[int, float]] = []
    if storage.exists(f"runs/{run}/validation.csv"):
        table = pd.read_csv(io.BytesIO(storage.read_bytes(f"runs/{run}/validation.csv")))
        if {"step", "loss"} <= set(table.columns):
            validation = list(zip(table["step"].astype(int), table["loss"].astype(float)))
    if not validation and storage.exists(f"runs/{run}/summary.json"):
        final = storage.read_json(f"runs/{run}/summary.json")["validation_loss"]
        validation = [(int(losses["step"].iloc[-1]), float(final))]
    return {"training": training, "validation": validation}


def record_best_run(workspace: Workspace, run: str, lora: str, validation_loss: float) -> dict[str, Any] | None:
    """Recompute ``runs/best.json`` after ``run`` finished and return the record written.

    The best run is the lowest validation loss among the finished runs whose validation
    settings equal those of ``run`` (see :func:`.best.update_best_run`), so it may be an
    earlier run. ``lora`` and ``validation_loss`` are the finished run's values, used
    only for the log line.
    """
    from .best import update_best_run

    logger.info("run %s finished (LoRA %s, validation loss %.5f); updating the best run", run, lora, validation_loss)
    return update_best_run(workspace, reference=run)


def plot_sweep_curves(curves: dict[str, dict[str, list[tuple[int, float]]]], title: str) -> bytes:
    """Return a PNG with every run's training loss (lines) and validation loss (markers), one colour per run."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (train_axes, valid_axes) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (run, curve) in enumerate(curves.items()):
        colour = colours[index % len(colours)]
        label = run.split("/")[-1]
        steps, losses = zip(*curve["training"]) if curve["training"] else ((), ())
        train_axes.plot(steps, losses, lw=1, color=colour, label=label)
        if curve["validation"]:
            v_steps, v_losses = zip(*curve["validation"])
            valid_axes.plot(v_steps, v_losses, "o-", lw=1, color=colour, label=label)
    for axes, ylabel in ((train_axes, "training loss (MSE)"), (valid_axes, "validation loss (MSE, fixed noise)")):
        axes.set_xlabel("step")
        axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3)
        if curves:
            axes.legend(fontsize=7)
    figure.suptitle(f"Loss curves of sweep {title}")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def default_sample_prompts(workspace: Workspace, count: int = 2) -> list[str]:
    """Return the first ``count`` distinct captions of the validation split (else of all captions)."""
    table = workspace.storage.read_parquet("captions/captions.parquet")
    if "split" in table.columns and (table["split"] == "validation").any():
        table = table[table["split"] == "validation"]
    return list(dict.fromkeys(table["caption"].astype(str)))[:count]


def write_sample_grid(
    workspace: Workspace,
    model: str,
    runs: list[str],
    loras: list[str],
    path: str,
    *,
    prompts: list[str] | None = None,
    seeds: list[int] | tuple[int, ...] = DEFAULT_SAMPLE_SEEDS,
    steps: int = DEFAULT_SAMPLE_STEPS,
) -> bytes:
    """Generate every prompt and seed with each run's LoRA and write one labelled PNG grid to ``path``.

    Rows are runs (in the given order), columns are prompt x seed pairs. Every run uses
    the same base pipeline, prompts and seeds, so the cells differ only by the LoRA.
    """
    import io
    import tempfile
    from pathlib import Path

    from ..generate import Generator
    from ..generate.params import GenerationParams

    prompts = prompts or default_sample_prompts(workspace)
    if not prompts:
        raise InvalidValueError("no sample prompts were given and the workspace has no captions; pass sample_prompts")
    columns = [(prompt, seed) for prompt in prompts for seed in seeds]
    generator = Generator(model)
    cells: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run, lora in zip(runs, loras):
            if workspace.storage.is_local:
                lora_path = workspace.storage.local_path(lora)
            else:
                lora_path = str(Path(tmp) / run.replace("/", "_") / "lora" / Path(lora).name)
                Path(lora_path).parent.mkdir(parents=True)
                Path(lora_path).write_bytes(workspace.storage.read_bytes(lora))
            generator.load_lora(lora_path)
            row = []
            for prompt, seed in columns:
                params = GenerationParams(prompt=prompt, seed=seed, steps=steps)
                row.append(generator.generate(params)[0])
            cells.append(row)
            logger.info("sample grid: generated %d images for %s", len(columns), run)
    image = _compose_grid(cells, [run.split("/")[-1] for run in runs], [f"{p[:40]} (seed {s})" for p, s in columns])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    workspace.storage.write_bytes(path, buffer.getvalue())
    return buffer.getvalue()


def _compose_grid(cells: list[list[Any]], row_labels: list[str], column_labels: list[str]):
    """Return one image with ``cells[row][column]`` laid out in a labelled grid."""
    from PIL import Image, ImageDraw

    cell_width = max(image.width for row in cells for image in row)
    cell_height = max(image.height for row in cells for image in row)
    # Cells of the tiny model are 64 px; scale them up so the labels stay readable.
    scale = max(1, 128 // cell_width)
    cell_width, cell_height = cell_width * scale, cell_height * scale
    label_width, label_height, pad = 140, 28, 4
    canvas = Image.new(
        "RGB",
        (label_width + len(column_labels) * (cell_width + pad), label_height + len(row_labels) * (cell_height + pad)),
        "white",
    )
    draw = ImageDraw.Draw(canvas)
    for column, text in enumerate(column_labels):
        draw.text((label_width + column * (cell_width + pad), 2), _wrap(text, cell_width // 6), fill="black")
    for row, text in enumerate(row_labels):
        top = label_height + row * (cell_height + pad)
        draw.text((2, top + cell_height // 2 - 6), _wrap(text, label_width // 6), fill="black")
        for column, image in enumerate(cells[row]):
            resized = image.resize((cell_width, cell_height), Image.NEAREST) if scale > 1 else image
            canvas.paste(resized, (label_width + column * (cell_width + pad), top))
    return canvas


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, max(8, width))[:2])
