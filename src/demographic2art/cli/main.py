"""Entry point of the ``d2a`` command: assembles the command groups of each stage.

Library code raises :class:`~demographic2art.errors.UserError` for bad input; here it
becomes one line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

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
    """Run the command line and return its exit status."""
    try:
        result = app(args=argv, standalone_mode=False)
    except UserError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        return 2
    except click.exceptions.Abort:
        err_console.print("aborted", markup=False)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except D2AError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
