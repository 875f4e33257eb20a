"""`d2a images`: Download, validate and convert artwork images."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .common import DEFAULT, WorkspaceOption, console, open_workspace

app = typer.Typer(help="Download, validate and convert artwork images.", no_args_is_help=True)

RESIZE_CHOICES = ("keep", "center-crop", "original")


@app.command("download")
def download(
    workspace: WorkspaceOption = DEFAULT,
    source: Annotated[Optional[str], typer.Option("--source", help="CSV or Parquet file with an image_url column; default: the workspace catalog.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=0, help="Maximum number of artworks to take from the table.")] = None,
    artist: Annotated[Optional[list[str]], typer.Option("--artist", help="Only this artist slug; repeat for several.")] = None,
    style: Annotated[Optional[list[str]], typer.Option("--style", help="Only this style name; repeat for several.")] = None,
    max_side: Annotated[int, typer.Option("--max-side", min=1, help="Longest side (keep) or square side (center-crop) of stored images, in pixels.")] = 512,
    resize: Annotated[str, typer.Option("--resize", help="keep (fit inside max side), center-crop (square) or original (no resize).")] = "keep",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Number of download threads.")] = 16,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Deadline for each request as a whole, in seconds.")] = 30.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan (keys, files, counts) without network access.")] = False,
    ignore_robots: Annotated[bool, typer.Option("--ignore-robots", help="Ignore robots.txt and X-Robots-Tag noai/noimageai.")] = False,
    original_size: Annotated[bool, typer.Option("--original-size", help="Request the original file instead of WikiArt's !Large.jpg copy.")] = False,
) -> None:
    """Download, validate and store the images of the artwork table."""
    from ..errors import InvalidValueError
    from ..images import download_images

    if resize not in RESIZE_CHOICES:
        raise InvalidValueError(f"--resize {resize!r} is not one of {', '.join(RESIZE_CHOICES)}")
    ws = open_workspace(workspace)
    summary = download_images(
        ws,
        source=source,
        limit=limit,
        artists=artist or None,
        styles=style or None,
        max_side=max_side,
        resize_mode=resize.replace("-", "_"),
        concurrency=concurrency,
        timeout_s=timeout,
        dry_run=dry_run,
        respect_robots=not ignore_robots,
        original_size=original_size,
    )
    if dry_run:
        for row in summary.planned:
            console.print(f"{row['action']:<10} {row['key']} -> {row['file']}", markup=False)
    counts = ", ".join(f"{status} {count}" for status, count in sorted(summary.counts.items())) or "nothing to do"
    console.print(f"{summary.total} artworks: {counts} ({summary.duration_s:.1f} s)", markup=False)
    if summary.reasons:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(summary.reasons.items()))
        console.print(f"reasons: {reasons}", markup=False)
    if not dry_run:
        console.print(f"manifest: {summary.manifest_path}", markup=False)


@app.command("check")
def check(
    paths: Annotated[list[str], typer.Argument(help="Image files or folders (searched recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per file.")] = False,
) -> None:
    """Validate local image files with the downloader's checks."""
    from ..images import check_images

    results = check_images(paths)
    for row in results:
        if as_json:
            record = {key: row[key] for key in ("path", "status", "reason", "format", "mode", "size", "flags")}
            console.print(json.dumps(record), markup=False, soft_wrap=True)
        else:
            console.print(f"{row['status']:<9} {row['reason'] or '':<16} {row['path']}", markup=False, soft_wrap=True)
    if not as_json:
        rejected = sum(1 for row in results if row["status"] != "ok")
        console.print(f"{len(results)} files: {len(results) - rejected} ok, {rejected} rejected", markup=False)
