"""`d2a images`: Download, validate and convert artwork images."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Download, validate and convert artwork images.", no_args_is_help=True)
