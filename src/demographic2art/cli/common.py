"""Options and output helpers shared by every command group."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console

from ..workspace import DEFAULT_WORKSPACE

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

WorkspaceOption = Annotated[
    str,
    typer.Option(
        "--workspace",
        "-w",
        help="Study folder: a local path or an fsspec URL such as s3://bucket/study.",
        envvar="D2A_WORKSPACE",
    ),
]
DEFAULT = DEFAULT_WORKSPACE


def open_workspace(root: str):
    """Return the workspace at ``root``, creating its folders on first use."""
    from ..workspace import Workspace

    return Workspace(root).create()

NotifyOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--notify",
        help="apprise URL that receives one message when the job ends or fails (json://host:port/path, "
        "mailto://..., slack://...); repeat for several. Needs the apprise package.",
        envvar="D2A_NOTIFY",
    ),
]
