"""Download of artwork images into the workspace, with validation and a merged manifest.

Images go to ``images/files/<artist>/<painting>.jpg``, rejected downloads to
``images/quarantine/`` beside a JSON file naming the reason, and one row per artwork
to ``images/manifest.parquet``. Worker threads share one pooled ``httpx.Client``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import __version__
from ..errors import InvalidValueError
from ..workspace import Workspace
from .fetch import FetchConfig, Fetcher, FetchResult
from .manifest import MANIFEST_PATH, read_manifest, write_manifest
from .plan import QUARANTINE_DIR, PlannedImage, plan_downloads
from .validate import DEFAULT_MAX_PIXELS, RESIZE_MODES, sniff_format, validate_image

logger = logging.getLogger(__name__)

# A URL sent back to the queue by Retry-After is tried at most this many more times.
MAX_REQUEUES = 3
MANIFEST_FLUSH_S = 30.0
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


@dataclass
class DownloadSummary:
    """Counts and planned rows of one download run."""

    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    manifest_path: str | None = None
    duration_s: float = 0.0
    dry_run: bool = False
    planned: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)


def default_user_agent(contact: str | None = None) -> str:
    """Return ``demographic2art/<version>``, followed by ``(+contact)`` when one is given."""
    agent = f"demographic2art/{__version__}"
    return f"{agent} (+{contact})" if contact else agent


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _base_row(item: PlannedImage) -> dict[str, Any]:
    return {
        "key": item.key,
        "url": item.url,
        "image_url": item.image_url,
        "final_url": None,
        "status": None,
        "reason": None,
        "http_status": None,
        "bytes": None,
        "sha256": None,
        "width": None,
        "height": None,
        "stored_width": None,
        "stored_height": None,
        "duration_s": None,
        "flags": None,
        "file": None,
        "updated": _now(),
    }


class _Job:
    """Worker body: fetch, validate and store one planned image."""

    def __init__(self, workspace: Workspace, fetcher: Fetcher, options: dict[str, Any]) -> None:
        self.storage = workspace.storage
        self.fetcher = fetcher
        self.options = options

    def run(self, item: PlannedImage) -> tuple[dict[str, Any], FetchResult | None]:
        started = time.monotonic()
        row = _base_row(item)
        try:
            result = self.fetcher.fetch(item.request_url)
        except Exception as exc:  # noqa: BLE001 - a per-row failure must never stop the batch
            logger.exception("%s: fetching %s failed unexpectedly", item.key, item.request_url)
            row.update(status="failed", reason="internal_error", duration_s=time.monotonic() - started)
            return row, None
        row.update(final_url=result.final_url, http_status=result.http_status)
        if result.status != "ok":
            row.update(status=result.status, reason=result.reason)
            logger.info("%s: %s/%s %s", item.key, result.status, result.reason, result.detail or "")
        else:
            self._store(item, row, result.body or b"")
        row["duration_s"] = round(time.monotonic() - started, 4)
        return row, result

    def _store(self, item: PlannedImage, row: dict[str, Any], body: bytes) -> None:
        options = self.options
        row["bytes"] = len(body)
        row["sha256"] = hashlib.sha256(body).hexdigest()
        outcome = validate_image(
            body,
            max_pixels=options["max_pixels"],
            max_side=options["max_side"],
            resize_mode=options["resize_mode"],
            enlarge=options["enlarge"],
        )
        row.update(width=outcome.width, height=outcome.height, flags=",".join(outcome.flags) or None)
        if not outcome.ok:
            row.update(status="rejected", reason=outcome.reason)
            self._quarantine(item, body, outcome.reason, outcome.detail)
            return
        buffer = io.BytesIO()
        save_options: dict[str, Any] = {}
        if options["image_format"] in ("jpeg", "webp"):
            save_options["quality"] = options["quality"]
        outcome.image.save(buffer, format=_PILLOW_FORMATS[options["image_format"]], **save_options)
        self.storage.write_bytes(item.file, buffer.getvalue())
        row.update(
            status="ok",
            stored_width=outcome.stored_width,
            stored_height=outcome.stored_height,
            file=item.file,
        )

    def _quarantine(self, item: PlannedImage, body: bytes, reason: str | None, detail: str | None) -> None:
        fmt = sniff_format(body) or "bin"
        stem = f"{QUARANTINE_DIR}/{item.key}"
        self.storage.write_bytes(f"{stem}.{fmt.lower()}", body)
        self.storage.write_json(
            f"{stem}.json",
            {"key": item.key, "image_url": item.image_url, "reason": reason, "detail": detail, "time": _now()},
        )


def _check_options(concurrency: int, per_host: int, timeout_s: float, retries: int, quality: int, resize_mode: str) -> None:
    if int(concurrency) < 1:
        raise InvalidValueError(f"concurrency {concurrency} must be at least 1 worker")
    if int(per_host) < 1:
        raise InvalidValueError(f"per_host {per_host} must be at least 1 connection")
    if not float(timeout_s) > 0:
        raise InvalidValueError(f"timeout {timeout_s} must be a positive number of seconds")
    if int(retries) < 0:
        raise InvalidValueError(f"retries {retries} must be zero or more")
    if not 1 <= int(quality) <= 100:
        raise InvalidValueError(f"quality {quality} must be between 1 and 100")
    if resize_mode not in RESIZE_MODES:
        raise InvalidValueError(f"resize mode {resize_mode!r} is not one of {', '.join(RESIZE_MODES)}")


def download_images(
    workspace: Workspace | str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | None = None,
    url_column: str = "image_url",
    limit: int | None = None,
    artists: list[str] | None = None,
    styles: list[str] | None = None,
    max_side: int = 512,
    resize_mode: str = "keep",
    enlarge: bool = False,
    original_size: bool = False,
    image_format: str = "jpeg",
    quality: int = 90,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    concurrency: int = 16,
    per_host: int = 8,
    timeout_s: float = 30.0,
    connect_timeout_s: float = 10.0,
    read_timeout_s: float = 10.0,
    max_bytes: int = 50 * 1024 * 1024,
    retries: int = 3,
    retry_after_cap_s: float = 60.0,
    backoff_base_s: float = 0.5,
    max_redirects: int = 10,
    rate_limit_per_host: float | None = None,
    user_agent: str | None = None,
    contact: str | None = None,
    respect_robots: bool = True,
    dry_run: bool = False,
) -> DownloadSummary:
    """Download, validate and store the images of the artwork table.

    ``source`` is a CSV or Parquet file with a ``url_column`` of image URLs; by default
    the workspace's ``catalog/artworks.parquet``. Keys come from a ``key`` column, else
    from the artwork page ``url`` column, else from the image URL path. Rows already
    ``ok`` with their file present are skipped; failed, rejected and rate-limited rows
    are tried again. ``timeout_s`` bounds each request attempt as a whole (redirects,
    headers and body); ``retry_after_cap_s`` is the longest Retry-After wait a worker
    sleeps through before the URL is put back in the queue. ``dry_run`` returns the plan
    without any network access or writes. Raises :class:`InvalidValueError` and
    :class:`MissingFileError` for invalid options or a missing source.
    """
    import httpx

    started = time.monotonic()
    workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    _check_options(concurrency, per_host, timeout_s, retries, quality, resize_mode)
    planned = plan_downloads(
        workspace,
        source=source,
        url_column=url_column,
        limit=limit,
        artists=artists,
        styles=styles,
        image_format=image_format,
        original_size=original_size,
    )
    storage = workspace.storage
    manifest = read_manifest(storage)
    summary = DownloadSummary(total=len(planned), dry_run=dry_run, manifest_path=f"{workspace.url}/{MANIFEST_PATH}")
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()

    to_fetch: list[PlannedImage] = []
    for item in planned:
        previous = manifest.get(item.key)
        if previous and previous.get("status") == "ok" and previous.get("file") and storage.exists(previous["file"]):
            action = "skip"
            statuses["skipped"] += 1
        elif item.problem is not None:
            action = item.problem
            row = _base_row(item)
            row.update(status="skipped" if item.problem == "no_image_url" else "failed", reason=item.problem)
            statuses[row["status"]] += 1
            reasons[item.problem] += 1
            if not dry_run:
                manifest[item.key] = row
        else:
            action = "download"
            to_fetch.append(item)
        summary.planned.append({"key": item.key, "image_url": item.request_url or item.image_url, "file": item.file, "action": action})

    if dry_run:
        statuses["planned"] = len(to_fetch)
        summary.counts = dict(statuses)
        summary.reasons = dict(reasons)
        summary.duration_s = time.monotonic() - started
        return summary

    config = FetchConfig(
        timeout_s=float(timeout_s),
        connect_timeout_s=float(connect_timeout_s),
        read_timeout_s=float(read_timeout_s),
        max_bytes=int(max_bytes),
        retries=int(retries),
        retry_after_cap_s=float(retry_after_cap_s),
        backoff_base_s=float(backoff_base_s),
        max_redirects=int(max_redirects),
        rate_limit_per_host=rate_limit_per_host,
        per_host=int(per_host),
        user_agent=user_agent or default_user_agent(contact),
        respect_robots=respect_robots,
    )
    options = {
        "max_pixels": int(max_pixels),
        "max_side": int(max_side),
        "resize_mode": resize_mode,
        "enlarge": enlarge,
        "image_format": image_format,
        "quality": int(quality),
    }
    limits = httpx.Limits(max_connections=int(concurrency) + 4, max_keepalive_connections=int(concurrency))
    with httpx.Client(
        headers={"User-Agent": config.user_agent, "Accept": "image/*,*/*;q=0.5"},
        limits=limits,
        follow_redirects=False,
        trust_env=False,
    ) as client:
        job = _Job(workspace, Fetcher(client, config), options)
        for row in _run_queue(job, to_fetch, int(concurrency), manifest, storage):
            statuses[row["status"]] += 1
            if row["reason"]:
                reasons[row["reason"]] += 1

    write_manifest(storage, manifest)
    workspace.record_settings(
        "images",
        {
            "source": source,
            "url_column": url_column,
            "max_side": max_side,
            "resize_mode": resize_mode,
            "image_format": image_format,
            "quality": quality,
            "timeout_s": timeout_s,
            "retries": retries,
            "user_agent": config.user_agent,
            "respect_robots": respect_robots,
            "original_size": original_size,
        },
    )
    summary.counts = dict(statuses)
    summary.reasons = dict(reasons)
    summary.duration_s = time.monotonic() - started
    logger.info("images: %s in %.1f s", summary.counts, summary.duration_s)
    return summary


def _run_queue(job: _Job, items: list[PlannedImage], concurrency: int, manifest: dict, storage):
    """Run the jobs on a thread pool and yield each final row.

    A URL whose Retry-After exceeds the cap returns deferred; it is submitted again
    once its wait has passed, while other URLs go on. Deferred URLs whose wait has not
    passed when all other work is done end as ``rate_limited``.
    """
    requeues: Counter[str] = Counter()
    deferred: list[tuple[float, PlannedImage, dict[str, Any]]] = []
    last_flush = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="d2a-images") as pool:
        futures: dict[Future, PlannedImage] = {pool.submit(job.run, item): item for item in items}
        while futures or deferred:
            now = time.monotonic()
            ready = [entry for entry in deferred if entry[0] <= now]
            for entry in ready:
                deferred.remove(entry)
                futures[pool.submit(job.run, entry[1])] = entry[1]
            if not futures:
                # Nothing else runs, so URLs still waiting end the run as rate_limited.
                for _, item, row in deferred:
                    manifest[item.key] = row
                    yield row
                break
            next_ready = min((entry[0] for entry in deferred), default=None)
            wait_s = None if next_ready is None else max(0.0, next_ready - now)
            done, _ = wait(list(futures), timeout=wait_s, return_when=FIRST_COMPLETED)
            for future in done:
                item = futures.pop(future)
                row, result = future.result()
                if result is not None and result.deferred and requeues[item.key] < MAX_REQUEUES:
                    requeues[item.key] += 1
                    logger.info("%s: Retry-After beyond the cap, requeued for later in this run", item.key)
                    deferred.append((result.retry_at, item, row))
                    continue
                manifest[item.key] = row
                yield row
            if time.monotonic() - last_flush > MANIFEST_FLUSH_S:
                write_manifest(storage, manifest)
                last_flush = time.monotonic()
