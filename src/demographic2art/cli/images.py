"""`d2a images`: Download, validate and convert artwork images."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .common import DEFAULT, NotifyOption, WorkspaceOption, console, err_console, open_workspace

app = typer.Typer(help="Download, validate and convert artwork images.", no_args_is_help=True)

RESIZE_CHOICES = ("keep", "center-crop", "original")


@app.command("download")
def download(
    workspace: WorkspaceOption = DEFAULT,
    source: Annotated[Optional[str], typer.Option("--source", help="CSV or Parquet file with an image_url column; default: the workspace catalog.")] = None,
    url_column: Annotated[str, typer.Option("--url-column", help="Column of the source table that holds the image URLs.")] = "image_url",
    limit: Annotated[Optional[int], typer.Option("--limit", min=0, help="Maximum number of artworks to take from the table.")] = None,
    artist: Annotated[Optional[list[str]], typer.Option("--artist", help="Only this artist slug; repeat for several.")] = None,
    style: Annotated[Optional[list[str]], typer.Option("--style", help="Only this style name; repeat for several.")] = None,
    max_side: Annotated[int, typer.Option("--max-side", min=1, help="Longest side (keep) or square side (center-crop) of stored images, in pixels.")] = 512,
    resize: Annotated[str, typer.Option("--resize", help="keep (fit inside max side), center-crop (square) or original (no resize).")] = "keep",
    enlarge: Annotated[bool, typer.Option("--enlarge", help="Also enlarge images smaller than --max-side.")] = False,
    image_format: Annotated[str, typer.Option("--format", help="Format of stored images: jpeg, png or webp.")] = "jpeg",
    quality: Annotated[int, typer.Option("--quality", min=1, max=100, help="JPEG and WebP quality of stored images, 1-100.")] = 90,
    max_pixels: Annotated[Optional[int], typer.Option("--max-pixels", min=1, help="Largest declared width x height accepted, larger images are rejected as decompression bombs; default: Pillow's limit of 89,478,485.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Number of download threads.")] = 16,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Deadline for each request as a whole, in seconds.")] = 30.0,
    connect_timeout: Annotated[float, typer.Option("--connect-timeout", min=0.001, help="Time to open a connection, in seconds.")] = 10.0,
    read_timeout: Annotated[float, typer.Option("--read-timeout", min=0.001, help="Maximum wait for the next bytes of a response, in seconds.")] = 10.0,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Largest response body accepted, in bytes; larger ones fail as too_large.")] = 50 * 1024 * 1024,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan (keys, files, counts) without network access.")] = False,
    ignore_robots: Annotated[bool, typer.Option("--ignore-robots", help="Ignore robots.txt and X-Robots-Tag noai/noimageai.")] = False,
    original_size: Annotated[bool, typer.Option("--original-size", help="Request the original file instead of WikiArt's !Large.jpg copy.")] = False,
    deadline: Annotated[float, typer.Option("--deadline", min=0.001, help="Deadline for one image over all its attempts and backoffs, in seconds.")] = 120.0,
    per_host: Annotated[int, typer.Option("--per-host", min=1, help="Maximum open connections per host.")] = 8,
    rate_limit: Annotated[Optional[float], typer.Option("--rate-limit", min=0.001, help="Maximum requests per second to each host (token bucket); default: no limit.")] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Retries of a transient failure (5xx, 429, reset, timeout).")] = 3,
    retry_after_cap: Annotated[float, typer.Option("--retry-after-cap", min=0, help="Maximum Retry-After wait, in seconds; a longer one sends the URL back to the queue, and one still waiting when the rest is done ends as rate_limited for the next run.")] = 60.0,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Also retry rows that failed for good in earlier runs (404, rejected).")] = False,
    processes: Annotated[Optional[int], typer.Option("--processes", min=0, help="Worker processes, each downloading and decoding; 0 or 1 runs one event loop in this process; default: the number of cores.")] = None,
    shard_size: Annotated[int, typer.Option("--shard-size", min=1, help="Artworks per shard (one ledger part and one Ray task each).")] = 1000,
    engine: Annotated[str, typer.Option("--engine", help="local (threads and processes on this machine) or ray (one Ray task per shard).")] = "local",
    address: Annotated[Optional[str], typer.Option("--address", "--ray-address", help="Ray cluster address for --engine ray, such as auto or ray://head:10001; default: start a local cluster.")] = None,
    endpoint_url: Annotated[Optional[str], typer.Option("--endpoint-url", help="S3-compatible endpoint URL for an s3:// workspace.")] = None,
    ca_file: Annotated[Optional[str], typer.Option("--ca-file", help="PEM file of CA certificates that verify HTTPS image servers.")] = None,
    contact: Annotated[Optional[str], typer.Option("--contact", help="Contact (mail address or URL) added to the User-Agent header.")] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="Number of plan rows that --dry-run prints.")] = 20,
    notify: NotifyOption = None,
    progress: Annotated[Optional[bool], typer.Option("--progress/--no-progress", help="Draw a progress bar on standard error; default: when it is a terminal.")] = None,
    log_interval: Annotated[float, typer.Option("--log-interval", min=0.001, help="Seconds between two one-line progress summaries in the log (shown with -v or --verbose).")] = 30.0,
    webdataset: Annotated[bool, typer.Option("--webdataset", help="Also write WebDataset tar shards to images/webdataset/.")] = False,
    webdataset_shard_size: Annotated[Optional[int], typer.Option("--webdataset-shard-size", min=1, help="Samples per WebDataset tar; default: --shard-size.")] = None,
) -> None:
    """Download, validate and store the images of the artwork table."""
    from ..errors import InvalidValueError
    from ..images import download_images

    if resize not in RESIZE_CHOICES:
        raise InvalidValueError(f"--resize {resize!r} is not one of {', '.join(RESIZE_CHOICES)}")
    if endpoint_url:
        from ..workspace import Workspace

        ws = Workspace(workspace, endpoint_url=endpoint_url).create()
    else:
        ws = open_workspace(workspace)
    summary = download_images(
        ws,
        source=source,
        url_column=url_column,
        limit=limit,
        artists=artist or None,
        styles=style or None,
        max_side=max_side,
        resize_mode=resize.replace("-", "_"),
        enlarge=enlarge,
        image_format=image_format,
        quality=quality,
        concurrency=concurrency,
        timeout_s=timeout,
        connect_timeout_s=connect_timeout,
        read_timeout_s=read_timeout,
        max_bytes=max_bytes,
        retry_after_cap_s=retry_after_cap,
        dry_run=dry_run,
        respect_robots=not ignore_robots,
        original_size=original_size,
        deadline_s=deadline,
        per_host=per_host,
        rate_limit_per_host=rate_limit,
        retries=retries,
        retry_failed=retry_failed,
        decode_processes=processes,
        shard_size=shard_size,
        engine=engine,
        address=address,
        ca_file=ca_file,
        contact=contact,
        notify=notify,
        progress=progress,
        log_interval_s=log_interval,
        webdataset=webdataset,
        webdataset_shard_size=webdataset_shard_size,
        **({} if max_pixels is None else {"max_pixels": max_pixels}),
    )
    if dry_run:
        for row in summary.planned[:show]:
            console.print(f"{row['action']:<10} {row['key']} -> {row['file']}", markup=False)
        if len(summary.planned) > show:
            console.print(f"... and {len(summary.planned) - show} more rows", markup=False)
        console.print(f"{summary.shards} shards", markup=False)
    counts = ", ".join(f"{status} {count}" for status, count in sorted(summary.counts.items())) or "nothing to do"
    console.print(f"{summary.total} artworks: {counts} ({summary.duration_s:.1f} s)", markup=False)
    if summary.reasons:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(summary.reasons.items()))
        console.print(f"reasons: {reasons}", markup=False)
    if not dry_run:
        _print_stats(summary)
        console.print(f"manifest: {summary.manifest_path}", markup=False)
        console.print(f"run statistics: {summary.stats_path}", markup=False)
    if summary.interrupted:
        err_console.print(
            f"interrupted after {summary.finished} of {summary.total} images; rerun the same command to resume",
            markup=False,
        )
        raise typer.Exit(summary.exit_code)


def _print_stats(summary) -> None:
    """Print the final statistics table: each status and failure reason with its count, bytes and rate."""
    from rich.table import Table

    table = Table(title="download statistics", show_header=True, header_style="bold")
    table.add_column("item")
    table.add_column("value", justify="right")
    # The first row separates an interrupted run from a finished one, whose counts look alike.
    if summary.interrupted:
        table.add_row("state", f"interrupted after {summary.finished} of {summary.total} images")
    else:
        table.add_row("state", "finished")
    for status, count in sorted(summary.counts.items()):
        table.add_row(status, str(count))
    for reason, count in sorted(summary.reasons.items()):
        table.add_row(f"  {reason}", str(count))
    table.add_row("bytes received", f"{summary.bytes:,}")
    table.add_row("images/s", f"{summary.images_per_s:.1f}")
    table.add_row("wall seconds", f"{summary.duration_s:.1f}")
    if summary.metadata_lines:
        table.add_row("metadata.jsonl lines", str(summary.metadata_lines))
    if summary.webdataset_shards:
        table.add_row("webdataset tars written", str(len(summary.webdataset_shards)))
    console.print(table)


@app.command("check")
def check(
    paths: Annotated[list[str], typer.Argument(help="Image files or folders (searched recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per file.")] = False,
) -> None:
    """Validate local image files with the downloader's checks.

    Exit status: 0 when every file is ok, 1 when any file is rejected, 2 for bad
    input such as a missing path. A file whose extension does not match its format
    stays ok and is flagged extension_mismatch.
    """
    from ..images import check_images

    results = check_images(paths)
    for row in results:
        if as_json:
            record = {key: row[key] for key in ("path", "status", "reason", "detail", "format", "mode", "size", "stored_size", "flags")}
            console.print(json.dumps(record), markup=False, soft_wrap=True)
        else:
            note = row["reason"] or ("extension_mismatch" if "extension_mismatch" in row["flags"] else "")
            console.print(f"{row['status']:<9} {note:<18} {row['path']}", markup=False, soft_wrap=True)
    rejected = sum(1 for row in results if row["status"] != "ok")
    if not as_json:
        files = "file" if len(results) == 1 else "files"
        console.print(f"{len(results)} {files}: {len(results) - rejected} ok, {rejected} rejected", markup=False)
    if rejected:
        raise typer.Exit(1)
