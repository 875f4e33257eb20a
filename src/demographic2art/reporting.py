"""Reporting of long jobs: run records, progress, periodic log summaries and notifications.

Every long command runs inside :func:`job_report`, which writes a run record (JSON)
when the job starts and again when it ends as ``finished``, ``failed`` or
``interrupted``, then sends the ``--notify`` message. ``d2a status`` reads the
records. Records of ``images download`` live in ``images/runs/<run_id>.json``, those
of other commands in ``jobs/commands/<run_id>.json``; each is written atomically
through ``Workspace.storage``.

:class:`ProgressTracker` counts finished items for a batch: a rich progress bar on
a terminal and one INFO log line every ``log_interval_s`` seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from .notify import check_notify_urls, send_notification
from .workspace import Workspace

logger = logging.getLogger(__name__)

IMAGES_RUNS_DIR = "images/runs"
COMMAND_RUNS_DIR = "jobs/commands"
RECORD_DIRS = {"images download": IMAGES_RUNS_DIR}
STATES = ("running", "finished", "failed", "interrupted")
DEFAULT_LOG_INTERVAL_S = 30.0

# The record of the command that runs inside :func:`reported_command`, for record_counts.
_current_record: ContextVar["JobRecord | None"] = ContextVar("current_record", default=None)


class JobInterrupted(Exception):
    """Raised inside :func:`job_report` for a job stopped by SIGINT or SIGTERM.

    ``exit_code`` is 128 plus the signal number (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def new_run_id() -> str:
    """Return a run id that sorts by start time: ``YYYYmmddTHHMMSS-<6 hex digits>``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class JobRecord:
    """State and figures of one run of a long command, as stored in its JSON record."""

    command: str
    run_id: str
    state: str = "running"
    started: str = field(default_factory=_now)
    finished: str | None = None
    wall_s: float | None = None
    total: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    bytes: int | None = None
    items_per_s: float | None = None
    summary: str | None = None
    error: str | None = None
    workspace: str | None = None
    # Start time in nanoseconds since the epoch: orders runs that start within the same second.
    started_ns: int = field(default_factory=time.time_ns)
    # The machine and process that run the command; None in records written before they were stored.
    host: str | None = None
    pid: int | None = None

    def process_gone(self) -> bool:
        """Return whether this record's state is ``running`` while its process no longer runs on this machine.

        Only a record written on this machine can be checked. A record from another
        machine, or one without a process id, is never reported as gone.
        """
        if self.state != "running" or self.pid is None or self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            # The process exists but belongs to another user.
            return False
        return False

    def record_path(self) -> str:
        """Return the workspace path of this record."""
        folder = RECORD_DIRS.get(self.command, COMMAND_RUNS_DIR)
        return f"{folder}/{self.run_id}.json"

    def message(self) -> str:
        """Return the notification body: command, state, counts and the error if any."""
        lines = [f"command: d2a {self.command}", f"status: {self.state}"]
        if self.workspace:
            lines.append(f"workspace: {self.workspace}")
        if self.counts:
            lines.append("counts: " + ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items())))
        if self.reasons:
            lines.append("reasons: " + ", ".join(f"{name} {count}" for name, count in sorted(self.reasons.items())))
        if self.summary:
            lines.append(self.summary)
        if self.wall_s is not None:
            lines.append(f"wall time: {self.wall_s:.1f} s")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)


def write_record(workspace: Workspace, record: JobRecord) -> None:
    """Write ``record`` atomically to its path in the workspace."""
    workspace.storage.write_json(record.record_path(), asdict(record))


def read_records(workspace: Workspace) -> list[JobRecord]:
    """Return every run record of the workspace, oldest first; unreadable files are skipped."""
    storage = workspace.storage
    records = []
    for folder in sorted({IMAGES_RUNS_DIR, COMMAND_RUNS_DIR}):
        for path in storage.glob(f"{folder}/*.json"):
            try:
                records.append(_parse_record(storage.read_json(path)))
            except (ValueError, TypeError) as exc:
                logger.warning("run record %s skipped: %s", path, exc)
    return sorted(records, key=lambda r: (r.started, r.started_ns or 0, r.run_id))


def _parse_record(values: Any) -> JobRecord:
    """Return the :class:`JobRecord` of a parsed JSON record; raise ValueError for any other shape."""
    if not isinstance(values, dict):
        raise ValueError(f"a run record is a JSON object, not {type(values).__name__}")
    for name in ("command", "run_id", "started", "state"):
        if name in values and not isinstance(values[name], str):
            raise ValueError(f"field {name} is {values[name]!r}, not a string")
    if not isinstance(values.get("counts", {}), dict):
        raise ValueError(f"field counts is {values['counts']!r}, not an object")
    if not isinstance(values.get("started_ns", 0), int):
        raise ValueError(f"field started_ns is {values['started_ns']!r}, not an integer")
    known = {k: v for k, v in values.items() if k in JobRecord.__dataclass_fields__}
    # Records written before started_ns existed sort by their start second only.
    known.setdefault("started_ns", 0)
    return JobRecord(**known)


def latest_records(workspace: Workspace) -> dict[str, JobRecord]:
    """Return the last run record of each command, by command name."""
    latest: dict[str, JobRecord] = {}
    for record in read_records(workspace):
        latest[record.command] = record
    return latest


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


@contextmanager
def job_report(
    workspace: Workspace,
    command: str,
    notify: Sequence[str] | None = None,
    *,
    run_id: str | None = None,
    write: bool = True,
) -> Iterator[JobRecord]:
    """Record and announce one run of ``command`` around the ``with`` block.

    The block receives the :class:`JobRecord` and fills in ``counts``, ``reasons``,
    ``total``, ``bytes`` or ``summary``. When the block ends the record is written
    with state ``finished``, unless the block set ``state`` itself: a job that stops
    early on request sets ``interrupted`` and returns normally. An exception marks the record
    ``failed`` with the error on one line (``interrupted`` for :class:`JobInterrupted` and
    ``KeyboardInterrupt``) and is re-raised unchanged. Then one notification goes to each ``notify`` URL. Invalid
    URLs or a missing apprise raise before the block runs; a failure to write the
    record or to send the message is logged as a warning and never raised. With
    ``write=False`` no record is written and only the notification is sent.
    """
    urls = check_notify_urls(notify)
    record = JobRecord(command=command, run_id=run_id or new_run_id(), workspace=workspace.url,
                       host=socket.gethostname(), pid=os.getpid())
    started = time.monotonic()
    if write:
        _write_quietly(workspace, record)
    try:
        yield record
    except (JobInterrupted, KeyboardInterrupt) as exc:
        record.state = "interrupted"
        record.error = _one_line(exc) if isinstance(exc, JobInterrupted) else "interrupted by the user"
        raise
    except BaseException as exc:
        record.state = "failed"
        record.error = _one_line(exc)
        raise
    else:
        if record.state == "running":
            record.state = "finished"
    finally:
        record.finished = _now()
        record.wall_s = round(time.monotonic() - started, 3)
        if record.items_per_s is None and record.counts and record.wall_s > 0:
            record.items_per_s = round(sum(record.counts.values()) / record.wall_s, 3)
        if write:
            _write_quietly(workspace, record)
        if urls:
            title = f"d2a {command} {record.state}"
            send_notification(urls, title, record.message(), failed=record.state != "finished")


def _write_quietly(workspace: Workspace, record: JobRecord) -> None:
    try:
        write_record(workspace, record)
    except Exception as exc:  # noqa: BLE001 - the record must not hide the job's own result
        logger.warning("run record %s was not written: %s: %s", record.record_path(), type(exc).__name__, exc)


class ProgressTracker:
    """Counts of finished items with a rate, a progress bar and periodic log lines.

    ``add`` is called once per finished item, from any thread. A rich progress bar
    is drawn on ``console`` (default: standard error) when ``show_bar`` is true. Every ``log_interval_s``
    seconds one INFO line ``<label>: N done (ok X, failed Y), R items/s`` goes to
    the log. ``total`` may grow while the input is streamed (``add_planned``).
    """

    def __init__(
        self,
        label: str = "images",
        *,
        total: int | None = None,
        log_interval_s: float = DEFAULT_LOG_INTERVAL_S,
        show_bar: bool = False,
        console=None,
    ) -> None:
        self.label = label
        self.total = total
        self.log_interval_s = float(log_interval_s)
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.bytes = 0
        self.done = 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last_log = self._started
        self._logged_done = 0
        self._bar = None
        self._task = None
        if show_bar:
            self._start_bar(console)

    def _start_bar(self, console) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.1f} images/s"),
            TextColumn("ok {task.fields[ok]}, failures {task.fields[failures]}"),
            TimeElapsedColumn(),
            console=console if console is not None else Console(stderr=True),
            transient=False,
        )
        self._task = self._bar.add_task(self.label, total=self.total, rate=0.0, ok=0, failures=0)
        self._bar.start()

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._started

    @property
    def rate(self) -> float:
        """Finished items per second since the tracker started."""
        elapsed = self.elapsed_s
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def failures(self) -> int:
        return self.done - self.counts.get("ok", 0)

    def add_planned(self, count: int = 1) -> None:
        """Raise the expected total by ``count`` items."""
        with self._lock:
            self.total = (self.total or 0) + count
            if self._bar is not None:
                self._bar.update(self._task, total=self.total)

    def add(self, status: str, reason: str | None = None, size: int | None = None) -> None:
        """Count one finished item and log or redraw when due."""
        with self._lock:
            self.done += 1
            self.counts[status] += 1
            if reason:
                self.reasons[reason] += 1
            if size:
                self.bytes += int(size)
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done, rate=self.rate, ok=self.counts.get("ok", 0), failures=self.failures)
            now = time.monotonic()
            due = now - self._last_log >= self.log_interval_s
            if due:
                self._last_log = now
        if due:
            self.log_summary()

    def summary_line(self) -> str:
        """Return ``<label>: N done [of T] (status counts), R images/s``."""
        of_total = f" of {self.total}" if self.total else ""
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items())) or "nothing yet"
        return f"{self.label}: {self.done}{of_total} done ({counts}), {self.rate:.1f} items/s"

    def log_summary(self) -> None:
        self._logged_done = self.done
        logger.info("%s", self.summary_line())

    def close(self) -> None:
        """Log the final summary line unless it was the last one logged, and stop the progress bar."""
        # Items that end within log_interval_s of the last line would otherwise never reach the log.
        if self.done != self._logged_done:
            self.log_summary()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def record_counts(counts: Mapping[str, int], *, summary: str | None = None) -> None:
    """Add ``counts`` (and a one-line ``summary``) to the run record of the running command.

    Commands decorated with :func:`reported_command` call it with the figures their
    library function returned. Outside such a command it does nothing, so library
    code and notebooks may call it freely.
    """
    record = _current_record.get()
    if record is None:
        return
    record.counts.update({str(name): int(count) for name, count in counts.items()})
    if summary is not None:
        record.summary = summary


def reported_command(command: str, *, record_when: Callable[[dict[str, Any]], bool] | None = None):
    """Decorate a typer command so that each call runs inside :func:`job_report`.

    The command must declare ``workspace`` and ``notify`` parameters; the wrapper
    reads them to place the run record and send the ``--notify`` message. Typer
    reads the command's own signature through ``functools.wraps``. When
    ``record_when`` returns false for the call's keyword arguments, no run record is
    written (the notification is still sent). A workspace that does not exist yet is
    noted, so that the command line can remove it again when the command fails.
    """
    import functools

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            workspace = Workspace(kwargs["workspace"])
            write = record_when is None or record_when(kwargs)
            if write:
                workspace.note_if_new()
            with job_report(workspace, command, kwargs.get("notify"), write=write) as record:
                token = _current_record.set(record)
                try:
                    return function(*args, **kwargs)
                finally:
                    _current_record.reset(token)

        return wrapper

    return decorate
