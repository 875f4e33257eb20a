"""`d2a sweep`: a grid of LoRA training runs ranked by validation loss."""

from __future__ import annotations

from typing import Annotated

import typer

from ..reporting import record_counts, reported_command
from .common import DEFAULT, NotifyOption, WorkspaceOption, console, open_workspace
from .train import ModelOption, training_config


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to the top-level app."""

    @app.command("sweep")
    @reported_command("sweep")
    def sweep(
        workspace: WorkspaceOption = DEFAULT,
        model: ModelOption = "",
        learning_rate: Annotated[list[float] | None, typer.Option("--lr", help="Learning rates (repeat the option) \\[default: 1e-4, 5e-4, 1e-3].")] = None,
        seed: Annotated[list[int] | None, typer.Option("--seed", help="Seeds (repeat the option) \\[default: 42, 43].")] = None,
        rank: Annotated[list[int] | None, typer.Option("--rank", help="LoRA ranks as one more axis (repeat).")] = None,
        axis: Annotated[
            list[str] | None,
            typer.Option(
                "--axis",
                help="Any training setting as an axis, name=v1,v2 (e.g. rank=4,8 or min_snr_gamma=none,5); repeat for more axes.",
            ),
        ] = None,
        steps: Annotated[int, typer.Option(help="Optimizer steps per run.")] = 200,
        batch_size: Annotated[int, typer.Option(help="Images per step.")] = 1,
        name: Annotated[str, typer.Option(help="Sweep folder under runs/.")] = "sweep",
        engine: Annotated[str, typer.Option(help="local (this machine) or ray (Ray Tune).")] = "local",
        workers: Annotated[int, typer.Option(help="Local engine: runs at once on the CPU, one torch thread each.")] = 1,
        gpus: Annotated[
            str | None,
            typer.Option(help="Local engine: comma-separated GPU ids, one worker process each \\[default: every visible GPU]."),
        ] = None,
        ray_address: Annotated[
            str | None,
            typer.Option(
                "--ray-address",
                "--address",
                help="Ray engine: cluster address, e.g. auto \\[default: start a local cluster on 127.0.0.1].",
            ),
        ] = None,
        storage_path: Annotated[
            str | None,
            typer.Option(help="Ray engine: folder or s3:// URL for the Tune experiment \\[default: runs/<name>/ray]."),
        ] = None,
        max_failures: Annotated[int, typer.Option(help="Ray engine: retries of a failed trial.")] = 1,
        sample_prompt: Annotated[
            list[str] | None,
            typer.Option(help="Prompt of the sample grid (repeat) \\[default: the first two validation captions]."),
        ] = None,
        sample_seed: Annotated[list[int] | None, typer.Option(help="Seeds of the sample grid (repeat) \\[default: 0].")] = None,
        sample_steps: Annotated[int, typer.Option(help="Denoising steps of each sample image.")] = 10,
        samples: Annotated[bool, typer.Option(help="Generate the runs x prompts sample grid.")] = True,
        notify: NotifyOption = None,
    ) -> None:
        """Train a grid of runs (default 1e-4, 5e-4, 1e-3 x seeds 42, 43) and rank them by validation loss."""
        from ..train.sweep import DEFAULT_SAMPLE_SEEDS, parse_axis, run_sweep

        ws = open_workspace(workspace)
        base = training_config(ws, model, steps=steps, batch_size=batch_size)
        extra_axes = {"rank": rank} if rank else {}
        for spec in axis or []:
            axis_name, values = parse_axis(spec)
            extra_axes[axis_name] = values
        devices = [d.strip() for d in gpus.split(",") if d.strip()] if gpus is not None else None
        result = run_sweep(
            ws, base, learning_rates=learning_rate, seeds=seed, extra_axes=extra_axes, name=name,
            engine=engine, workers=workers, devices=devices, ray_address=ray_address,
            storage_path=storage_path, max_failures=max_failures, sample_prompts=sample_prompt,
            sample_seeds=sample_seed or DEFAULT_SAMPLE_SEEDS, sample_steps=sample_steps, samples=samples,
        )
        ws.record_settings("train", base.model_dump(mode="json"))
        record_counts({"runs": len(result.table)}, summary=f"best run {result.best_run}")
        columns = [c for c in result.table.columns if c not in ("lora", "worker")]
        console.print(result.table[columns].to_string(index=False))
        for label, path in result.files.items():
            console.print(f"{label}: {ws.url}/{path}")
        console.print(f"best run of this sweep: {result.best_run}")
        if result.workspace_best:
            console.print(f"best run of the workspace: {result.workspace_best['run']} (recorded in {ws.url}/runs/best.json)")
