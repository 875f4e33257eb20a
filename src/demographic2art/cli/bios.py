"""`d2a bios`: Collect artist biographies (Wikipedia pages)."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Collect artist biographies (Wikipedia pages).", no_args_is_help=True)


@app.command("import")
def import_command(
    source: str = typer.Argument(..., help="Folder of <slug>.html pages, or an html.tar.xz archive of them."),
    workspace: WorkspaceOption = DEFAULT,
    artist: list[str] = typer.Option(None, "--artist", "-a", help="Artist slug to import (repeatable); default: all pages."),
) -> None:
    """Copy saved pages into the workspace and triage each one (biography, disambiguation, ...)."""
    from ..bios.importer import import_pages

    summary = import_pages(open_workspace(workspace), source, artists=artist or None)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.kinds.items()))
    console.print(f"imported {summary.imported} pages ({kinds}); missing {len(summary.missing)}")
