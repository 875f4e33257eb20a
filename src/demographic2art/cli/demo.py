"""Commands registered on the top-level `d2a` app."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
