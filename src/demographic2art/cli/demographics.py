"""`d2a demographics`: Extract, evaluate and compare artist demographics."""

from __future__ import annotations

import json

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Extract, evaluate and compare artist demographics.", no_args_is_help=True)


@app.command("extract")
def extract_command(
    workspace: WorkspaceOption = DEFAULT,
    artist: list[str] = typer.Option(None, "--artist", "-a", help="Artist slug to extract (repeatable); default: all imported pages."),
) -> None:
    """Extract demographics from the imported pages into demographics/demographics.parquet."""
    from ..demographics.workspace_io import extract_workspace

    summary = extract_workspace(open_workspace(workspace), artists=artist or None)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.kinds.items()))
    console.print(f"extracted {summary.extracted} pages ({kinds}); {summary.needs_review} need review")


@app.command("evaluate")
def evaluate_command(
    pages: str = typer.Option(..., "--pages", help="Folder of saved <slug>.html pages."),
    reference: str = typer.Option(..., "--reference", help="Reference TSV: slug, birth_year, death_year, gender, nationality, birth_country."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    limit: int = typer.Option(None, "--limit", min=1, help="Evaluate only the first N reference rows (slug order)."),
) -> None:
    """Compare offline extraction with a reference table, field by field."""
    from ..demographics.evaluate import evaluate

    report = evaluate(pages, reference, limit=limit)
    if as_json:
        console.print_json(json.dumps(report, ensure_ascii=False, default=str))
        return
    console.print(f"rows {report['rows']}; triage {report['triage']}")
    for field, values in report["fields"].items():
        console.print(
            f"{field:14} agreement {_percent(values['agreement'])}  recall {_percent(values['recall'])}  "
            f"coverage {_percent(values['coverage'])}  (both {values['both']})"
        )
    console.print(f"disagreements {len(report['disagreements'])} (see --json)")


def _percent(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"
