"""`d2a catalog`: Build the cleaned WikiArt catalog: artists, artworks, dates and keys."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Build the cleaned WikiArt catalog: artists, artworks, dates and keys.", no_args_is_help=True)
