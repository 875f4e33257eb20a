"""`d2a demo`: the whole study, small, on the built-in stand-in or on a real data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the top-level app."""

    @app.command("demo")
    def demo(
        workspace: WorkspaceOption = DEFAULT,
        data: Annotated[
            Path | None,
            typer.Option(help="Real data folder (wikiart/, wikipedia/, images/) \\[default: generate a stand-in study]."),
        ] = None,
        seed: Annotated[int, typer.Option(help="Seed of the stand-in data, the artist sample and training.")] = 0,
        artists: Annotated[int, typer.Option(min=2, help="Artists sampled from real data.")] = 40,
        works_per_artist: Annotated[int, typer.Option(min=1, help="Artworks kept per artist.")] = 3,
        steps: Annotated[int, typer.Option(min=1, help="LoRA training steps.")] = 60,
    ) -> None:
        """Run catalog, images, demographics, captions, tiny model, LoRA training and generation."""
        from ..demo.run import run_demo

        ws = open_workspace(workspace)
        result = run_demo(
            ws, data_dir=data, seed=seed, n_artists=artists, works_per_artist=works_per_artist, steps=steps
        )
        console.print(f"\n{result.note}\n", style="bold")
        console.print(
            f"{result.artists} artists, {result.artworks} artworks, {result.images_ok} images downloaded; "
            f"stage times (s): {result.timings}"
        )
        for name, where in result.outputs.items():
            console.print(f"  {name:<13} {where}")
        console.print(
            f"\nOpen the web app:  .venv/bin/d2a serve -w {workspace}   (then visit http://127.0.0.1:8000)"
        )
