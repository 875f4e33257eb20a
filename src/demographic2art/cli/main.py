"""Entry point of the ``d2a`` command: assembles the command groups of each stage.

Library code raises :class:`~demographic2art.errors.UserError` for bad input; here it
becomes one line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys

import click
import typer

from ..errors import D2AError, UserError
from . import (
    analysis,
    bios,
    captions,
    catalog,
    demo,
    demographics,
    generate,
    images,
    model,
    serve,
    status,
    sweep,
    train,
)
from .common import err_console

# Help is rendered by rich. When it goes to a file or pipe, rich's default width of 80
# columns cuts long option names such as --webdataset-shard-size with an ellipsis. At
# 140 columns every option name of d2a shows whole, and TERMINAL_WIDTH still overrides it.
# typer reads TERMINAL_WIDTH when it first renders help or an error, so setting it here
# spares every command the import of typer's rich help module (about 60 ms).
# NOTE: a terminal narrower than 140 columns still shortens the longest names.
HELP_WIDTH = 140
if not os.environ.get("TERMINAL_WIDTH") and not err_console.is_terminal and not sys.stdout.isatty():
    os.environ["TERMINAL_WIDTH"] = str(HELP_WIDTH)

app = typer.Typer(
    name="d2a",
    help="demographic2art: how an artist's demographics show up in art, from catalog to analysis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _configure(
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        metavar="",
        show_default=False,
        help="Log more; repeat the flag: -v for INFO, -vv for DEBUG.",
    ),
) -> None:
    from ..logs import install_log_filters, quiet_progress_bars

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, handlers=[_log_handler()], force=True)
    install_log_filters()
    quiet_progress_bars()


def _log_handler() -> logging.Handler:
    """Return rich's log handler on a terminal, else a plain handler that writes each record on one line."""
    if err_console.is_terminal:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=err_console, show_path=False, show_time=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    return handler


app.add_typer(catalog.app, name="catalog")
app.add_typer(images.app, name="images")
app.add_typer(bios.app, name="bios")
app.add_typer(demographics.app, name="demographics")
app.add_typer(captions.app, name="captions")
app.add_typer(model.app, name="model")
for module in (train, sweep, generate, serve, analysis, status, demo):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Bad input ends with one line on standard error and status 2: the library's
    ``UserError``, usage errors, invalid values caught by pydantic, unreadable input
    tables, JSON files that do not parse and file-system paths that cannot be used. Other errors are bugs and keep
    their traceback.
    """
    from ..generate.threads import prefer_passive_openmp
    from ..logs import quiet_progress_bars
    from ..workspace import forget_new_workspaces, remove_new_skeletons

    # Before any command imports torch: idle OpenMP threads sleep instead of spinning.
    prefer_passive_openmp()
    # Before any command imports huggingface_hub, which reads its setting once.
    quiet_progress_bars()
    forget_new_workspaces()
    status = _run(argv)
    if status != 0:
        # A command that failed must not leave behind a workspace that it only just created.
        remove_new_skeletons()
    return status


def _run(argv: list[str] | None) -> int:
    """Run the app and turn the errors of bad input into one line and status 2."""
    from pydantic import ValidationError
    from typer._click import exceptions as typer_click

    try:
        result = app(args=_verbosity_first(sys.argv[1:] if argv is None else argv), standalone_mode=False)
    except UserError as exc:
        return _fail(str(exc))
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        err_console.print("aborted", markup=False)
        return 130
    except (click.exceptions.Exit, typer.Exit) as exc:
        return exc.exit_code
    except (click.ClickException, typer_click.ClickException) as exc:
        return _click_error(exc)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or exc.title
        return _fail(f"invalid value for {field}: {first['msg']} (got {first.get('input')!r})")
    except (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        return _fail(f"cannot use {exc.filename}: {exc.strerror}; choose another path")
    except D2AError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        return 1
    except json.JSONDecodeError as exc:
        # Library code names the file where it reads one; this catches readers that do not.
        return _fail(f"an input file is not valid JSON ({exc}); check or recreate the workspace's JSON files")
    except BrokenPipeError:
        # The reader closed standard output early (`d2a ... | head -1`). The command's work is
        # done, so the rest of its report is dropped quietly with SIGPIPE's usual status.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except Exception as exc:
        if _is_unreadable_table(exc):
            return _fail(f"could not read an input table ({exc.__class__.__name__}: {exc}); check the file")
        raise
    return result if isinstance(result, int) else 0


def _verbosity_first(argv: list[str]) -> list[str]:
    """Return ``argv`` with ``-v``, ``-vv`` and ``--verbose`` moved before the command.

    The flag belongs to ``d2a`` itself, so click accepts it only before the command
    name. Moving it lets ``d2a images download ... -v`` work as well. Arguments after
    ``--`` are left alone. An option value that reads ``-v`` must be written with an
    equals sign (``--contact=-v``), or it is taken for the flag.
    """
    end = argv.index("--") if "--" in argv else len(argv)
    flags = {i for i, arg in enumerate(argv[:end]) if arg == "--verbose" or re.fullmatch(r"-v+", arg)}
    return [argv[i] for i in sorted(flags)] + [arg for i, arg in enumerate(argv) if i not in flags]


def _click_error(exc) -> int:
    """Print a usage error of click (an unknown option, a value out of range) on one line and return its status."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        # A command group called without a command prints its help.
        exc.show()
        return exc.exit_code
    message = " ".join(exc.format_message().split())
    context = getattr(exc, "ctx", None)
    if context is not None:
        message = f"{message.rstrip('.')}; see '{context.command_path} --help'"
    err_console.print(f"error: {message}", markup=False, soft_wrap=True)
    return exc.exit_code


def _fail(message: str) -> int:
    err_console.print(f"error: {message}", markup=False, soft_wrap=True)
    return 2


def _is_unreadable_table(exc: Exception) -> bool:
    """Return whether ``exc`` is pandas' or pyarrow's error for an empty or corrupt input file."""
    module = type(exc).__module__
    return module.startswith(("pandas.errors", "pyarrow")) or type(exc).__name__ in ("EmptyDataError", "ParserError", "ArrowInvalid")


if __name__ == "__main__":
    sys.exit(main())
