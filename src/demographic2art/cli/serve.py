"""The ``d2a serve`` command: the generation studio in a browser."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.command("serve")(serve_command)


def serve_command(
    workspace: WorkspaceOption = DEFAULT,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Base model folder or Hub id; default: the model recorded by training in d2a.toml, else models/tiny."),
    ] = None,
    lora: Annotated[
        str | None,
        typer.Option("--lora", help="LoRA .safetensors file or folder; default: the best run in runs/."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 8000,
    queue_size: Annotated[
        int, typer.Option("--queue-size", help="Maximum jobs waiting for the generator (jobs); more get HTTP 503.")
    ] = 16,
    device: Annotated[str | None, typer.Option("--device", help="Torch device such as cpu or cuda; default: best available.")] = None,
) -> None:
    """Serve the generation studio (web page and JSON API) with waitress."""
    from ..serve import serve

    def announce(settings) -> None:
        console.print(f"model {settings.model}, LoRA {settings.lora or 'none'}")
        console.print(f"studio at {settings.url} (Ctrl+C to stop)")

    serve(
        open_workspace(workspace),
        model=model,
        lora=lora,
        host=host,
        port=port,
        queue_size=queue_size,
        device=device,
        on_ready=announce,
    )
