"""`d2a catalog`: Build the cleaned WikiArt catalog: artists, artworks, dates and keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InvalidValueError
from ..reporting import record_counts, reported_command
from .common import DEFAULT, NotifyOption, WorkspaceOption, console, open_workspace

app = typer.Typer(help="Build the cleaned WikiArt catalog: artists, artworks, dates and keys.", no_args_is_help=True)


@app.command("build")
@reported_command("catalog build")
def build(
    artists_csv: Annotated[
        Optional[Path],
        typer.Option("--artists-csv", help="WikiArt artists table (CSV file path)."),
    ] = None,
    artworks_csv: Annotated[
        Optional[Path],
        typer.Option("--artworks-csv", help="WikiArt artworks table (CSV or .csv.gz file path)."),
    ] = None,
    data: Annotated[
        Optional[Path],
        typer.Option(
            "--data",
            help="Data folder holding wikiart/artists.csv and wikiart/artworks.csv.gz "
            "(or .csv); used for the tables not given by path.",
        ),
    ] = None,
    artist: Annotated[
        Optional[list[str]],
        typer.Option("--artist", help="Keep only this artist slug (url_name); repeat for more."),
    ] = None,
    limit: Annotated[
        Optional[int],
        typer.Option("--limit", min=1, help="Maximum number of artworks kept per artist."),
    ] = None,
    workspace: WorkspaceOption = DEFAULT,
    notify: NotifyOption = None,
) -> None:
    """Clean and join the artists and artworks tables into catalog/*.parquet."""
    from ..catalog.build import build_catalog

    artists_csv, artworks_csv = _table_paths(artists_csv, artworks_csv, data)
    summary = build_catalog(
        open_workspace(workspace), artists_csv, artworks_csv, artists=artist, limit=limit
    )
    dropped = summary.artwork_rows_read - summary.artworks
    kinds = ", ".join(f"{count} {kind}" for kind, count in summary.dropped.items() if count)
    console.print(
        f"catalog: {summary.artists} artists, {summary.artworks} artworks from {summary.artwork_rows_read} rows "
        f"({dropped} rows dropped: {kinds or 'none'})"
    )
    console.print(
        f"{summary.unmatched_slugs} artist slugs in {summary.unmatched_artworks} artworks unmatched, "
        f"{summary.ambiguous_centuries} dates with an ambiguous century"
    )
    record_counts({"artists": summary.artists, "artworks": summary.artworks, "rows read": summary.artwork_rows_read}
                  | {f"dropped {kind}": count for kind, count in summary.dropped.items()})
    console.print(f"wrote {summary.paths['artists']}, {summary.paths['artworks']}")
    console.print(f"problems: {summary.paths['problems']}")


def _table_paths(
    artists_csv: Path | None, artworks_csv: Path | None, data: Path | None
) -> tuple[Path, Path]:
    if data is not None:
        if artists_csv is None:
            artists_csv = data / "wikiart" / "artists.csv"
        if artworks_csv is None:
            compressed = data / "wikiart" / "artworks.csv.gz"
            plain = data / "wikiart" / "artworks.csv"
            artworks_csv = plain if plain.exists() and not compressed.exists() else compressed
    if artists_csv is None or artworks_csv is None:
        raise InvalidValueError(
            "the artists or artworks table is missing; give --artists-csv and --artworks-csv, "
            "or --data with a folder holding wikiart/artists.csv and wikiart/artworks.csv.gz"
        )
    return artists_csv, artworks_csv
