"""`d2a sweep`: a grid of LoRA training runs ranked by validation loss."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace
from .train import ModelOption, training_config


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to the top-level app."""

    @app.command("sweep")
    def sweep(
        workspace: WorkspaceOption = DEFAULT,
        model: ModelOption = "",
        learning_rate: Annotated[list[float] | None, typer.Option("--lr", help="Learning rates (repeat the option).")] = None,
        seed: Annotated[list[int] | None, typer.Option("--seed", help="Seeds (repeat the option).")] = None,
        rank: Annotated[list[int] | None, typer.Option("--rank", help="LoRA ranks as one more axis (repeat).")] = None,
        steps: Annotated[int, typer.Option(help="Optimizer steps per run.")] = 200,
        batch_size: Annotated[int, typer.Option(help="Images per step.")] = 1,
        name: Annotated[str, typer.Option(help="Sweep folder under runs/.")] = "sweep",
    ) -> None:
        """Train a grid of runs (default 1e-4, 5e-4, 1e-3 x seeds 42, 43) and rank them by validation loss."""
        from ..train.sweep import DEFAULT_LEARNING_RATES, DEFAULT_SEEDS, run_sweep

        ws = open_workspace(workspace)
        base = training_config(ws, model, steps=steps, batch_size=batch_size)
        result = run_sweep(
            ws, base, learning_rates=learning_rate or DEFAULT_LEARNING_RATES, seeds=seed or DEFAULT_SEEDS,
            extra_axes={"rank": rank} if rank else None, name=name,
        )
        ws.record_settings("train", base.model_dump(mode="json"))
        console.print(result.table.to_string(index=False))
        console.print(f"best run: {result.best_run} (recorded in {ws.url}/runs/best.json)")
