"""`d2a generate`: images for prompts and seeds from the base model plus the trained LoRA."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace
from .train import ModelOption


def register(app: typer.Typer) -> None:
    """Add ``generate`` to the top-level app."""

    @app.command("generate")
    def generate(
        prompt: Annotated[list[str], typer.Argument(help="Prompts to generate (quote each one).")],
        workspace: WorkspaceOption = DEFAULT,
        model: ModelOption = "",
        lora: Annotated[
            str | None, typer.Option(help="LoRA .safetensors file or folder; it must exist \\[default: the workspace's best run].")
        ] = None,
        no_lora: Annotated[bool, typer.Option("--no-lora", help="Generate with the base model alone.")] = False,
        seed: Annotated[list[int] | None, typer.Option("--seed", help="Seeds (repeat the option) \\[default: 0 1].")] = None,
        steps: Annotated[int, typer.Option(min=1, max=150, help="Denoising steps.")] = 20,
        guidance_scale: Annotated[float, typer.Option(min=0.0, max=30.0, help="Classifier-free guidance scale.")] = 7.5,
        lora_weight: Annotated[float, typer.Option(min=0.0, max=2.0, help="LoRA adapter weight (0 = base model).")] = 1.0,
        scheduler: Annotated[str, typer.Option(help="ddim, pndm, euler, euler_a, dpmpp_2m or ddpm.")] = "ddim",
        threads: Annotated[
            int | None,
            typer.Option(
                "--threads",
                help="Torch intra-op threads (count) \\[default: $D2A_TORCH_THREADS, else the CPUs this process may use].",
            ),
        ] = None,
    ) -> None:
        """Generate PNGs (parameters in a text chunk and a JSON sidecar) into the gallery."""
        from ..generate.threads import prefer_passive_openmp

        prefer_passive_openmp()  # before torch is imported, see demographic2art.generate.threads
        from ..errors import InvalidValueError
        from ..generate import SCHEDULERS
        from ..generate.gallery import best_lora, generate_gallery
        from .train import default_model

        if scheduler not in SCHEDULERS:
            raise InvalidValueError(f"scheduler {scheduler!r} is unknown; choose one of {', '.join(SCHEDULERS)}")
        ws = open_workspace(workspace)
        chosen = None if no_lora else (lora or best_lora(ws))
        items = generate_gallery(
            ws, prompt, model=model or default_model(ws), lora=chosen, seeds=seed or [0, 1], steps=steps,
            guidance_scale=guidance_scale, lora_weight=lora_weight, scheduler=scheduler, threads=threads,
        )
        for item in items:
            console.print(f"{ws.url}/{item.file}  seed {item.seed}  {item.prompt!r}")
