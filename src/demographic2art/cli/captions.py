"""`d2a captions`: build training captions from artwork metadata and demographics."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace

app = typer.Typer(help="Build training captions from artwork metadata and demographics.", no_args_is_help=True)


@app.command("build")
def build(
    workspace: WorkspaceOption = DEFAULT,
    model: Annotated[str, typer.Option(help="Model folder or hub id whose tokenizer counts tokens.")] = "",
    seed: Annotated[int, typer.Option(help="Seed of the attribute dropout.")] = 0,
    attribute_dropout: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Probability of dropping each demographic attribute.")
    ] = 0.0,
    validation_fraction: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of artworks held out for validation.")
    ] = 0.1,
) -> None:
    """Caption every downloaded artwork (within CLIP's 75 caption tokens) and write the table."""
    from ..captions.build import build_captions
    from .train import default_model

    ws = open_workspace(workspace)
    summary = build_captions(
        ws,
        model=model or default_model(ws),
        seed=seed,
        attribute_dropout=attribute_dropout,
        validation_fraction=validation_fraction,
    )
    console.print(
        f"{summary.captions} captions ({summary.train} train, {summary.validation} validation); "
        f"{summary.shortened} shortened, {summary.truncated} cut -> {ws.url}/{summary.table}"
    )
