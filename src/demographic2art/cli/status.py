"""`d2a status`: what each stage of a workspace has produced so far."""

from __future__ import annotations

import typer

from .common import DEFAULT, WorkspaceOption, console


def register(app: typer.Typer) -> None:
    """Add ``status`` to the top-level app."""

    @app.command("status")
    def status(workspace: WorkspaceOption = DEFAULT) -> None:
        """Show the outputs of each stage and the last run of each long command (state, times, counts)."""
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
        if report.jobs:
            console.print("last run of each long command:", markup=False)
        for job in report.jobs:
            details = [f"{name} {count}" for name, count in sorted(job.counts.items())]
            if job.summary:
                details.append(job.summary)
            counts = ", ".join(details) or "no counts"
            ended = f"ended {job.finished}" if job.finished else "no end recorded"
            state = job.state
            if job.process_gone():
                # Killed (SIGKILL, a crash, the machine's power) before it could write its end.
                state, ended = "stopped", f"process {job.pid} is gone without an end record; rerun the command to resume"
            console.print(f"  {job.command:<22} {state:<11} started {job.started}, {ended}: {counts}", markup=False)
