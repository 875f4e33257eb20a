"""Download of artwork images into the workspace, with validation and a merged manifest.

Images go to ``images/files/<artist>/<painting>.jpg``, rejected downloads to
``images/quarantine/`` beside a JSON file naming the reason, and one row per artwork
to ``images/manifest.parquet``. The input is streamed and cut into shards of
``shard_size`` artworks; each shard writes its ledger part after its files (see
:mod:`.ledger`), and the parts are merged into the manifest at the end. The local
engine runs worker processes, each with an event loop and decode threads (see
:mod:`.engine` and :mod:`.workers`); ``engine="ray"`` runs one Ray task per shard.

Each run also writes ``images/files/metadata.jsonl`` (see :mod:`.imagefolder`),
optionally WebDataset tar shards (see :mod:`.webdataset`), and its run record with
the final statistics to ``images/runs/<run_id>.json`` (see :mod:`..reporting`).
SIGINT and SIGTERM stop the run cleanly: no new request starts, finished rows are
written, and the summary is marked ``interrupted``. A rerun resumes.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..errors import InvalidValueError
from ..reporting import DEFAULT_LOG_INTERVAL_S, ProgressTracker, job_report, new_run_id
from ..workspace import Workspace
from .decode import EncodeOptions, default_decode_processes
from .engine import EngineSettings, run_items
from .fetch import FetchConfig
from .imagefolder import write_imagefolder_metadata
from .ledger import is_transient, load_ledger, merge_parts
from .manifest import MANIFEST_PATH
from .plan import PlannedImage, iter_planned
from .validate import DEFAULT_MAX_PIXELS, RESIZE_MODES
from .webdataset import write_webdataset

logger = logging.getLogger(__name__)

ENGINES = ("local", "ray")


@dataclass
class DownloadSummary:
    """Counts of one download run; ``planned`` lists the plan rows of a dry run.

    ``total`` counts the artworks of the input after filters, ``finished`` those with
    a final row (skipped ones included). ``bytes`` is the sum of the bodies received
    this run. An interrupted run has ``interrupted`` set and ``exit_code`` 128 plus
    the signal number (130 for SIGINT, 143 for SIGTERM; 130 for a ``stop`` event).
    """

    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    manifest_path: str | None = None
    duration_s: float = 0.0
    dry_run: bool = False
    shards: int = 0
    planned: list[dict[str, Any]] = field(default_factory=list)
    run_id: str | None = None
    stats_path: str | None = None
    bytes: int = 0
    images_per_s: float = 0.0
    interrupted: bool = False
    exit_code: int = 0
    metadata_lines: int = 0
    webdataset_shards: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def finished(self) -> int:
        return sum(self.counts.values())


def default_user_agent(contact: str | None = None) -> str:
    """Return ``demographic2art/<version>``, followed by ``(+contact)`` when one is given."""
    agent = f"demographic2art/{__version__}"
    return f"{agent} (+{contact})" if contact else agent


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


def _settled(previous: tuple[str | None, str | None, str | None] | None, storage, retry_failed: bool) -> bool:
    """Return True when the ledger row needs no new request."""
    if previous is None:
        return False
    status, reason, file = previous
    if status == "ok":
        return bool(file) and storage.exists(file)
    if is_transient(status, reason):
        return False
    return not retry_failed


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
    deadline_s: float = 120.0,
    max_bytes: int = 50 * 1024 * 1024,
    retries: int = 3,
    retry_after_cap_s: float = 60.0,
    backoff_base_s: float = 0.5,
    max_redirects: int = 10,
    rate_limit_per_host: float | None = None,
    rate_burst: int = 1,
    user_agent: str | None = None,
    contact: str | None = None,
    respect_robots: bool = True,
    retry_failed: bool = False,
    decode_processes: int | None = None,
    shard_size: int = 1000,
    engine: str = "local",
    address: str | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    notify: Sequence[str] | None = None,
    progress: bool | None = None,
    log_interval_s: float = DEFAULT_LOG_INTERVAL_S,
    webdataset: bool = False,
    webdataset_shard_size: int | None = None,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
) -> DownloadSummary:
    """Download, validate and store the images of the artwork table.

    ``source`` is a CSV or Parquet file with a ``url_column`` of image URLs; by default
    the workspace's ``catalog/artworks.parquet``. It is read in batches, never whole.
    Keys come from a ``key`` column, else from the artwork page ``url`` column, else
    from the image URL path. A rerun skips rows already ``ok`` with their file present
    and rows that failed for good (``retry_failed`` retries those too); it fetches keys
    with no row yet and rows that failed transiently.

    Times are seconds: ``timeout_s`` bounds each request attempt as a whole (redirects,
    headers and body), ``deadline_s`` bounds one image over all its attempts and
    backoffs, and ``retry_after_cap_s`` is the longest Retry-After wait a worker sleeps
    through before the URL goes back to the queue. ``rate_limit_per_host`` is in
    requests per second with bursts of ``rate_burst``; ``per_host`` caps open
    connections per host. ``decode_processes`` (default: the usable cores) is the
    number of worker processes, each downloading and decoding on its own event loop;
    0 or 1 runs one event loop in this process. ``engine="ray"`` runs one Ray
    task per shard on the cluster at ``address`` (default: a new local one).
    ``ca_file`` names the CA bundle that verifies HTTPS servers. ``dry_run`` returns the
    plan without any network access or writes.

    Reporting: ``notify`` lists apprise URLs that receive one message when the run
    ends (finished, interrupted or failed). ``progress`` draws a progress bar on
    standard error (default: when it is a terminal), and one summary line is logged
    every ``log_interval_s`` seconds. The final statistics go to
    ``images/runs/<run_id>.json``. ``webdataset`` also writes tar shards of
    ``webdataset_shard_size`` samples (default ``shard_size``).

    Interruption: setting ``stop``, or SIGINT/SIGTERM when ``handle_signals`` is true
    and this is the main thread, stops starting requests, lets in-flight images finish
    for a couple of seconds, writes every finished row and returns a summary with
    ``interrupted`` set. A second signal aborts at once with ``KeyboardInterrupt``.

    Raises :class:`InvalidValueError` and :class:`MissingFileError` for invalid options
    or a missing source.
    """
    started = time.monotonic()
    workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    _check_options(concurrency, per_host, timeout_s, retries, quality, resize_mode)
    if engine not in ENGINES:
        raise InvalidValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    if int(shard_size) < 1:
        raise InvalidValueError(f"shard_size {shard_size} must be at least 1 artwork")
    if not float(deadline_s) > 0:
        raise InvalidValueError(f"deadline {deadline_s} must be a positive number of seconds")
    if rate_limit_per_host is not None and not float(rate_limit_per_host) > 0:
        raise InvalidValueError(f"rate limit {rate_limit_per_host} must be a positive number of requests per second")
    if ca_file is not None and not os.path.isfile(ca_file):
        raise InvalidValueError(f"CA file {ca_file} does not exist; pass a PEM file of CA certificates")
    if not float(log_interval_s) > 0:
        raise InvalidValueError(f"log interval {log_interval_s} must be a positive number of seconds")
    if webdataset_shard_size is not None and int(webdataset_shard_size) < 1:
        raise InvalidValueError(f"webdataset shard size {webdataset_shard_size} must be at least 1 sample")
    run_id = new_run_id()
    with ExitStack() as stack:
        # A dry run leaves no record; a real run is recorded and announced even when its input is invalid.
        record = None if dry_run else stack.enter_context(job_report(workspace, "images download", notify, run_id=run_id))
        storage = workspace.storage
        planned = iter_planned(
            workspace,
            source=source,
            url_column=url_column,
            limit=limit,
            artists=artists,
            styles=styles,
            image_format=image_format,
            original_size=original_size,
        )
        # Reading the first row now raises a missing or invalid source before any work starts.
        first = next(planned, None)
        planned = itertools.chain([first], planned) if first is not None else iter(())
        if not dry_run:
            merge_parts(storage)
        ledger = load_ledger(storage)
        _check_stored_encoding(
            workspace,
            ledger,
            {"max_side": max_side, "resize_mode": resize_mode, "image_format": image_format,
             "quality": quality, "original_size": original_size},
        )
        summary = DownloadSummary(dry_run=dry_run, manifest_path=f"{workspace.url}/{MANIFEST_PATH}")
        skipped: Counter[str] = Counter()
        shard_size = int(shard_size)

        def work() -> Iterator[tuple[int, PlannedImage]]:
            index = 0
            for item in planned:
                summary.total += 1
                if _settled(ledger.get(item.key), storage, retry_failed):
                    skipped["skipped"] += 1
                    if dry_run:
                        summary.planned.append(_plan_row(item, "skip"))
                    continue
                if dry_run:
                    summary.planned.append(_plan_row(item, item.problem or "download"))
                yield index // shard_size, item
                index += 1
            summary.shards = (index + shard_size - 1) // shard_size

        if dry_run:
            statuses: Counter[str] = Counter()
            reasons: Counter[str] = Counter()
            for _, item in work():
                if item.problem is None:
                    statuses["planned"] += 1
                else:
                    statuses["skipped" if item.problem == "no_image_url" else "failed"] += 1
                    reasons[item.problem] += 1
            # work() counts the rows a rerun would skip while it runs, so they are added after it.
            statuses.update(skipped)
            summary.counts, summary.reasons = dict(statuses), dict(reasons)
            summary.duration_s = time.monotonic() - started
            return summary

        user_agent = user_agent or default_user_agent(contact)
        settings = EngineSettings(
            fetch=FetchConfig(
                timeout_s=float(timeout_s),
                connect_timeout_s=float(connect_timeout_s),
                read_timeout_s=float(read_timeout_s),
                deadline_s=float(deadline_s),
                max_bytes=int(max_bytes),
                retries=int(retries),
                retry_after_cap_s=float(retry_after_cap_s),
                backoff_base_s=float(backoff_base_s),
                max_redirects=int(max_redirects),
                rate_limit_per_host=float(rate_limit_per_host) if rate_limit_per_host else None,
                rate_burst=int(rate_burst),
                per_host=int(per_host),
                user_agent=user_agent,
                respect_robots=respect_robots,
            ),
            encode=EncodeOptions(
                max_pixels=int(max_pixels),
                max_side=int(max_side),
                resize_mode=resize_mode,
                enlarge=enlarge,
                image_format=image_format,
                quality=int(quality),
            ),
            concurrency=int(concurrency),
            decode_processes=default_decode_processes() if decode_processes is None else int(decode_processes),
            ca_file=os.fspath(ca_file) if ca_file is not None else None,
            run_id=run_id,
        )
        summary.run_id = settings.run_id
        with _stop_on_signals(stop, handle_signals) as (stop_event, received):
            summary.stats_path = f"{workspace.url}/{record.record_path()}"
            tracker = ProgressTracker(
                "images",
                log_interval_s=float(log_interval_s),
                show_bar=sys.stderr.isatty() if progress is None else bool(progress),
            )

            def counted() -> Iterator[tuple[int, PlannedImage]]:
                for entry in work():
                    tracker.add_planned()
                    yield entry
                    if stop_event.is_set():
                        return

            def on_row(row: dict[str, Any]) -> None:
                tracker.add(row["status"], row["reason"], row["bytes"])

            try:
                if engine == "ray":
                    from .ray_engine import run_on_ray

                    stats = run_on_ray(workspace, counted(), settings, address=address, progress=on_row, stop=stop_event)
                else:
                    stats = run_items(workspace, counted(), settings, progress=on_row, stop=stop_event)
            except BaseException:
                # The rows recorded before the failure are merged and counted in the run record,
                # so `d2a status` shows them beside the error.
                record.counts, record.reasons = dict(tracker.counts), dict(tracker.reasons)
                _merge_quietly(storage)
                raise
            finally:
                tracker.close()
            merge_parts(storage)
            summary.interrupted = stop_event.is_set()
            if summary.interrupted:
                summary.exit_code = 128 + (received[0] if received else signal.SIGINT)
                # The input after the stop is counted, not fetched, so the summary can report "N of M".
                summary.total += sum(1 for _ in planned)
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
                    "deadline_s": deadline_s,
                    "retries": retries,
                    "user_agent": user_agent,
                    "respect_robots": respect_robots,
                    "original_size": original_size,
                    "engine": engine,
                    "shard_size": shard_size,
                },
            )
            counts = Counter(skipped)
            counts.update(stats.counts)
            summary.counts = dict(counts)
            summary.reasons = dict(stats.reasons)
            summary.bytes = tracker.bytes
            summary.metadata_lines = write_imagefolder_metadata(workspace, source=source, url_column=url_column)
            if webdataset:
                summary.webdataset_shards = write_webdataset(
                    workspace,
                    shard_size=int(webdataset_shard_size or shard_size),
                    source=source,
                    url_column=url_column,
                )
            summary.duration_s = time.monotonic() - started
            summary.images_per_s = tracker.done / summary.duration_s if summary.duration_s > 0 else 0.0
            _fill_record(record, summary)
    logger.info("images: %s in %.1f s", summary.counts, summary.duration_s)
    return summary


# Option names of the command line for the encoding settings a resumed run must keep.
ENCODING_OPTIONS = {"max_side": "--max-side", "resize_mode": "--resize", "image_format": "--format",
                    "quality": "--quality", "original_size": "--original-size"}


def _check_stored_encoding(workspace: Workspace, ledger, requested: dict[str, Any]) -> None:
    """Raise :class:`InvalidValueError` when stored images were encoded with other settings than ``requested``.

    A rerun skips the images already stored, so changing an encoding setting halfway
    would leave a folder of mixed sizes or formats.
    """
    if not any(status == "ok" for status, _reason, _file in ledger.values()):
        return
    previous = workspace.settings().get("images", {})
    for name, value in requested.items():
        if name not in previous or previous[name] == value:
            continue
        option = ENCODING_OPTIONS[name]
        if name == "resize_mode":
            previous[name], value = previous[name].replace("_", "-"), value.replace("_", "-")
        raise InvalidValueError(
            f"the stored images of {workspace.url} were made with {option} {previous[name]!r}, not {value!r}; "
            f"pass {option} {previous[name]!r} to resume, or use a new workspace (-w) for the new setting"
        )


def _merge_quietly(storage) -> None:
    """Merge the ledger parts into the manifest during a failure, logging instead of raising."""
    try:
        merge_parts(storage)
    except Exception as exc:  # noqa: BLE001 - the run's own error must not be hidden
        logger.warning("ledger parts were not merged (%s: %s); the next run merges them", type(exc).__name__, exc)


def _fill_record(record, summary: DownloadSummary) -> None:
    """Copy the final statistics of ``summary`` into the run record."""
    record.total = summary.total
    record.counts = dict(summary.counts)
    record.reasons = dict(summary.reasons)
    record.bytes = summary.bytes
    record.items_per_s = round(summary.images_per_s, 3)
    record.summary = f"{summary.finished} of {summary.total} artworks have a final row"
    if summary.interrupted:
        record.state = "interrupted"
        record.error = f"stopped by signal {summary.exit_code - 128}; rerun the same command to resume"


@contextmanager
def _stop_on_signals(stop: threading.Event | None, handle_signals: bool):
    """Yield ``(stop event, signals received)``; SIGINT and SIGTERM set the event.

    Handlers are installed only in the main thread and restored afterwards. Forked
    worker processes inherit them but ignore the signal, so only this process reacts
    and they finish their work without tracebacks. A second signal raises
    ``KeyboardInterrupt`` to abort at once.
    """
    event = stop if stop is not None else threading.Event()
    received: list[int] = []
    if not handle_signals or threading.current_thread() is not threading.main_thread():
        yield event, received
        return
    owner = os.getpid()

    def handler(signum, frame) -> None:
        if os.getpid() != owner:
            return
        if event.is_set():
            raise KeyboardInterrupt
        received.append(signum)
        event.set()
        logger.warning("%s received: finishing the images in flight; send it again to abort at once", signal.Signals(signum).name)

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield event, received
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _plan_row(item: PlannedImage, action: str) -> dict[str, Any]:
    return {"key": item.key, "image_url": item.request_url or item.image_url, "file": item.file, "action": action}
