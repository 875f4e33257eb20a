"""`d2a model`: build the tiny offline model and check or export LoRA files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console

app = typer.Typer(help="Build or inspect base models and LoRA files.", no_args_is_help=True)


@app.command("tiny")
def tiny(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the diffusers pipeline to.")] = Path(
        "d2a-workspace/models/tiny"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the random weights.")] = 0,
) -> None:
    """Build a tiny Stable-Diffusion-shaped pipeline (random weights, real CLIP vocabulary)."""
    from ..model.tiny import save_tiny_model

    path = save_tiny_model(out, seed=seed)
    console.print(f"tiny model written to {path}")


@app.command("export-kohya")
def export_kohya_command(
    lora: Annotated[Path, typer.Argument(help="Diffusers or PEFT LoRA .safetensors file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Kohya-format .safetensors file to write.")],
) -> None:
    """Convert a LoRA to the kohya format that AUTOMATIC1111 and ComfyUI load (checks for NaN/Inf first)."""
    from ..lora import export_kohya

    path = export_kohya(lora, out)
    console.print(f"kohya LoRA written to {path}")


@app.command("check-lora")
def check_lora(lora: Annotated[Path, typer.Argument(help="LoRA .safetensors file to validate.")]) -> None:
    """Check that every tensor of a LoRA file is finite; exit status 2 names the bad tensors."""
    from safetensors.torch import load_file

    from ..errors import MissingFileError
    from ..lora import assert_finite_state_dict

    if not lora.is_file():
        raise MissingFileError(f"LoRA file {lora} does not exist")
    state = load_file(str(lora))
    assert_finite_state_dict(state, f"LoRA file {lora}")
    console.print(f"{lora}: {len(state)} tensors, all finite")
