"""`d2a bios`: Collect artist biographies (Wikipedia pages)."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Collect artist biographies (Wikipedia pages).", no_args_is_help=True)
