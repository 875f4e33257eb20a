"""Options and output helpers shared by every command group."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..workspace import DEFAULT_WORKSPACE

# Width of output that goes to a file or pipe: wide enough that tables such as the
# sweep's results keep one row per line. Text lines are never wrapped there
# (soft_wrap), so printed paths stay whole and can be pasted.
NON_TERMINAL_WIDTH = 200


class CommandConsole(Console):
    """A rich console that leaves a closed pipe to the command line's error handling."""

    def on_broken_pipe(self) -> None:
        # rich exits with status 1 here. The command line instead ends quietly with
        # SIGPIPE's status, as other tools whose reader stopped early (`| head -1`) do.
        self.quiet = True
        raise BrokenPipeError("standard output was closed by its reader")


def make_console(*, stderr: bool = False) -> Console:
    """Return a rich console that wraps only on a terminal.

    On a terminal the console wraps at the terminal's width. When the stream is a
    file or a pipe, lines are written whole and tables may use up to
    ``NON_TERMINAL_WIDTH`` columns.
    """
    stream = sys.stderr if stderr else sys.stdout
    if _is_terminal(stream):
        return CommandConsole(stderr=stderr, highlight=False)
    return CommandConsole(stderr=stderr, highlight=False, soft_wrap=True, width=NON_TERMINAL_WIDTH)


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:
        # A closed stream.
        return False


console = make_console()
err_console = make_console(stderr=True)

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


def workspace_given() -> bool:
    """Return whether the running command got ``--workspace`` or ``D2A_WORKSPACE`` rather than the default."""
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context

    context = get_current_context(silent=True)
    if context is None:
        return True
    return context.get_parameter_source("workspace") not in (None, ParameterSource.DEFAULT)


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
