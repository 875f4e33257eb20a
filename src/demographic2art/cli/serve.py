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
        typer.Option(
            "--model",
            help="Base model folder or hub id (a hub id must be cached, or reachable when online); "
            "default: the model recorded by training in d2a.toml, else models/tiny.",
        ),
    ] = None,
    lora: Annotated[
        str | None,
        typer.Option("--lora", help="LoRA .safetensors file or folder, which must exist; default: the best run in runs/."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on (1-65535; 0 picks a free port and prints it).")] = 8000,
    queue_size: Annotated[
        int, typer.Option("--queue-size", help="Maximum jobs waiting for the generator (jobs); more get HTTP 503.")
    ] = 16,
    device: Annotated[str | None, typer.Option("--device", help="Torch device such as cpu or cuda; default: best available.")] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            help="Torch intra-op threads of the generation worker (count) "
            "\\[default: $D2A_TORCH_THREADS, else the CPUs this process may use].",
        ),
    ] = None,
) -> None:
    """Serve the generation studio (web page and JSON API) with waitress.

    The model loads before the server listens; a missing or corrupt model or LoRA ends
    the command with one line and exit status 2.
    """
    from ..generate.threads import prefer_passive_openmp

    prefer_passive_openmp()  # before torch is imported, see demographic2art.generate.threads
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
        threads=threads,
        on_ready=announce,
    )
