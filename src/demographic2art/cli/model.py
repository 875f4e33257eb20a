"""`d2a model`: Build or inspect base models (the tiny offline model)."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Build or inspect base models (the tiny offline model).", no_args_is_help=True)
