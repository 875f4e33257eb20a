"""A grid of training runs (learning rates x seeds, or any other settings), run one after another.

Each run trains from the same captions and writes its own ``runs/<sweep>/<run>/`` folder.
Runs are ranked by validation loss, computed at fixed noise and timesteps on held-out
images, so the ranking does not depend on each run's random draws. The best run is
recorded in ``runs/best.json``, which ``d2a generate`` and ``d2a serve`` use by default.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidValueError
from ..workspace import Workspace
from .config import TrainConfig
from .loop import train_lora

logger = logging.getLogger(__name__)

DEFAULT_LEARNING_RATES = (1e-4, 5e-4, 1e-3)
DEFAULT_SEEDS = (42, 43)


@dataclass
class SweepResult:
    name: str
    table: "pandas.DataFrame"  # noqa: F821
    best_run: str
    best_lora: str


def grid(axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Return every combination of the axis values, in a stable order."""
    if not axes:
        return [{}]
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[n] for n in names))]


def _run_name(settings: dict[str, Any]) -> str:
    short = {"learning_rate": "lr", "seed": "seed", "rank": "r", "alpha": "a"}
    return "-".join(f"{short.get(k, k)}{v:g}" if isinstance(v, float) else f"{short.get(k, k)}{v}" for k, v in settings.items())


def run_sweep(
    workspace: Workspace,
    base: TrainConfig,
    *,
    learning_rates: list[float] | tuple[float, ...] = DEFAULT_LEARNING_RATES,
    seeds: list[int] | tuple[int, ...] = DEFAULT_SEEDS,
    extra_axes: dict[str, list[Any]] | None = None,
    name: str = "sweep",
) -> SweepResult:
    """Train every grid point and write ``runs/<name>/results.csv``, ``loss_curves.png`` and ``runs/best.json``."""
    import pandas as pd

    axes: dict[str, list[Any]] = {"learning_rate": list(learning_rates), "seed": list(seeds)}
    for axis, values in (extra_axes or {}).items():
        if axis not in TrainConfig.model_fields:
            raise InvalidValueError(f"sweep axis {axis!r} is not a training setting; choose from {sorted(TrainConfig.model_fields)}")
        axes[axis] = list(values)
    points = grid(axes)
    rows, curves = [], {}
    for index, settings in enumerate(points, start=1):
        run_name = f"{name}/{_run_name(settings)}"
        config = base.model_copy(update={**settings, "run_name": run_name})
        config = TrainConfig.model_validate(config.model_dump())
        logger.info("sweep run %d/%d: %s", index, len(points), run_name)
        result = train_lora(workspace, config)
        curves[run_name] = result.losses
        rows.append(
            {
                "run": run_name,
                **settings,
                "final_loss": result.final_loss,
                "validation_loss": result.validation_loss,
                "seconds": round(result.seconds, 2),
                "lora": f"runs/{run_name}/lora/pytorch_lora_weights.safetensors",
            }
        )
    table = pd.DataFrame(rows).sort_values("validation_loss", kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    storage = workspace.storage
    storage.write_text(f"runs/{name}/results.csv", table.to_csv(index=False))
    storage.write_bytes(f"runs/{name}/loss_curves.png", _plot_curves(curves, name))
    best = table.iloc[0]
    record_best_run(workspace, best["run"], best["lora"], float(best["validation_loss"]))
    workspace.record_settings("sweep", {"name": name, **{k: [str(v) for v in vals] for k, vals in axes.items()}})
    return SweepResult(name, table, best["run"], best["lora"])


def record_best_run(workspace: Workspace, run: str, lora: str, validation_loss: float) -> None:
    workspace.storage.write_json("runs/best.json", {"run": run, "lora": lora, "validation_loss": validation_loss})


def _plot_curves(curves: dict[str, list[float]], title: str) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    for run, losses in curves.items():
        axes.plot(range(1, len(losses) + 1), losses, lw=1, label=run.split("/")[-1])
    axes.set_xlabel("step")
    axes.set_ylabel("training loss (MSE)")
    axes.set_title(f"Loss curves of sweep {title}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
