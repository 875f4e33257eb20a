"""Entry point of the ``d2a`` command: assembles the command groups of each stage.

Library code raises :class:`~demographic2art.errors.UserError` for bad input; here it
becomes one line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import logging
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

app = typer.Typer(
    name="d2a",
    help="demographic2art: how an artist's demographics show up in art, from catalog to analysis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _configure(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="Log more: -v for INFO, -vv for DEBUG."),
) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    from rich.logging import RichHandler

    logging.basicConfig(
        level=level,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)],
        force=True,
    )


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
    from pydantic import ValidationError
    from typer._click import exceptions as typer_click

    from ..generate.threads import prefer_passive_openmp

    # Before any command imports torch: idle OpenMP threads sleep instead of spinning.
    prefer_passive_openmp()
    try:
        result = app(args=argv, standalone_mode=False)
    except UserError as exc:
        return _fail(str(exc))
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        err_console.print("aborted", markup=False)
        return 130
    except (click.exceptions.Exit, typer.Exit) as exc:
        return exc.exit_code
    except (click.ClickException, typer_click.ClickException) as exc:
        exc.show()
        return exc.exit_code
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
    except Exception as exc:
        if _is_unreadable_table(exc):
            return _fail(f"could not read an input table ({exc.__class__.__name__}: {exc}); check the file")
        raise
    return result if isinstance(result, int) else 0


def _fail(message: str) -> int:
    err_console.print(f"error: {message}", markup=False, soft_wrap=True)
    return 2


def _is_unreadable_table(exc: Exception) -> bool:
    """Return whether ``exc`` is pandas' or pyarrow's error for an empty or corrupt input file."""
    module = type(exc).__module__
    return module.startswith(("pandas.errors", "pyarrow")) or type(exc).__name__ in ("EmptyDataError", "ParserError", "ArrowInvalid")


if __name__ == "__main__":
    sys.exit(main())
