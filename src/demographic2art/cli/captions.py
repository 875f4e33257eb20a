"""`d2a captions`: Build training captions from artwork metadata and demographics."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Build training captions from artwork metadata and demographics.", no_args_is_help=True)
