"""`d2a status`: what each stage of a workspace has produced so far."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console


def register(app: typer.Typer) -> None:
    """Add ``status`` to the top-level app."""

    @app.command("status")
    def status(workspace: WorkspaceOption = DEFAULT) -> None:
        """Show the outputs of each stage of a workspace and the settings recorded in d2a.toml."""
        from ..errors import MissingFileError
        from ..status import workspace_status
        from ..workspace import Workspace

        ws = Workspace(workspace)
        if not ws.storage.exists("d2a.toml"):
            raise MissingFileError(f"{ws.url} is not a workspace (no d2a.toml); run 'd2a demo' or a stage first")
        report = workspace_status(ws)
        if report.note:
            console.print(report.note, style="bold")
        for stage in report.stages:
            mark = "done" if stage.done else "----"
            console.print(f"[{mark}] {stage.name:<13} {stage.detail}", markup=False)
