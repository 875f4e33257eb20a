"""`d2a demographics`: Extract, evaluate and compare artist demographics."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Extract, evaluate and compare artist demographics.", no_args_is_help=True)
