"""The local download engine: event loops with async HTTP, in-process decoding and per-shard ledger parts.

:func:`run_items` takes planned images tagged with their shard number, keeps at most
``2 x concurrency`` of them in flight (the input is never held whole), and writes each
shard's part of the ledger once all its rows are final. Each download runs on an
asyncio event loop with one async HTTP transport (aiohttp, else httpx). Its body is
decoded, resized, encoded and written on a small thread pool of the same process, so
bodies never travel between processes. With several processes, each worker process
runs its own loop, transport and decode threads (see :mod:`.workers`). The Ray engine runs the same
function once per shard inside each task.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ..workspace import Workspace
from .client import build_async_transport
from .decode import EncodeOptions, process_body
from .fetch import AsyncFetcher, FetchConfig, FetchResult
from .ledger import part_path, write_part
from .plan import QUARANTINE_DIR, PlannedImage
from .resample import use_caller_threads

logger = logging.getLogger(__name__)

# A URL sent back to the queue by Retry-After is tried at most this many more times.
MAX_REQUEUES = 3
PART_FLUSH_S = 10.0
PROGRESS_LOG_S = 30.0
# Decode threads per event loop: one decodes while the other's body is still arriving.
DECODE_THREADS = 2
# After a stop request, in-flight items get this long to finish before they are abandoned.
STOP_GRACE_S = 2.0


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def base_row(item: PlannedImage) -> dict[str, Any]:
    """Return a manifest row for ``item`` with every result column empty."""
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
        "updated": now_iso(),
    }


def problem_row(item: PlannedImage) -> dict[str, Any]:
    """Return the final row of an item that cannot be fetched (no URL or an invalid one)."""
    row = base_row(item)
    row.update(status="skipped" if item.problem == "no_image_url" else "failed", reason=item.problem)
    return row


@dataclass
class EngineSettings:
    """Everything a shard needs besides its items; picklable, so Ray tasks receive it."""

    fetch: FetchConfig
    encode: EncodeOptions
    concurrency: int = 16
    decode_processes: int = 0
    ca_file: str | None = None
    run_id: str = "run"


@dataclass
class EngineStats:
    """Counts of final statuses and reasons."""

    counts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)

    def add(self, row: dict[str, Any]) -> None:
        self.counts[row["status"]] += 1
        if row["reason"]:
            self.reasons[row["reason"]] += 1

    def update(self, other: "EngineStats") -> None:
        self.counts.update(other.counts)
        self.reasons.update(other.reasons)


class _Job:
    """Worker body: fetch, validate and store one planned image on an event loop.

    The body is decoded, resized, encoded and written on ``decoder`` (a thread pool of
    this process), where it arrived: Pillow releases the GIL while it decodes,
    resizes and encodes, so the event loop keeps serving the other downloads.
    """

    def __init__(self, workspace: Workspace, fetcher: AsyncFetcher, decoder: ThreadPoolExecutor, options: EncodeOptions) -> None:
        self.storage = workspace.storage
        self.fetcher = fetcher
        self.decoder = decoder
        self.options = options

    async def run(self, item: PlannedImage) -> tuple[dict[str, Any], FetchResult | None]:
        started = time.monotonic()
        row = base_row(item)
        try:
            result = await self.fetcher.fetch(item.request_url)
            row.update(final_url=result.final_url, http_status=result.http_status)
            if result.status != "ok":
                row.update(status=result.status, reason=result.reason)
                logger.info("%s: %s/%s %s", item.key, result.status, result.reason, result.detail or "")
            else:
                body, result.body = result.body or b"", None
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self.decoder, self._store, item, row, body)
        except Exception:  # noqa: BLE001 - a per-row failure must never stop the batch
            logger.exception("%s: fetching or storing %s failed unexpectedly", item.key, item.request_url)
            row.update(status="failed", reason="internal_error", duration_s=time.monotonic() - started)
            return row, None
        row["duration_s"] = round(time.monotonic() - started, 4)
        return row, result

    def _store(self, item: PlannedImage, row: dict[str, Any], body: bytes) -> None:
        processed = process_body(body, self.options)
        row.update(processed.fields)
        if processed.encoded is None:
            row.update(status="rejected", reason=processed.reason)
            self._quarantine(item, body, processed)
            return
        self.storage.write_bytes(item.file, processed.encoded)
        row.update(status="ok", file=item.file)

    def _quarantine(self, item: PlannedImage, body: bytes, processed) -> None:
        stem = f"{QUARANTINE_DIR}/{item.key}"
        self.storage.write_bytes(f"{stem}.{(processed.sniffed or 'bin').lower()}", body)
        self.storage.write_json(
            f"{stem}.json",
            {
                "key": item.key,
                "image_url": item.image_url,
                "reason": processed.reason,
                "detail": processed.detail,
                "time": now_iso(),
            },
        )


class _Shards:
    """Rows of the shards in progress; writes a shard's part when its last row is final."""

    def __init__(self, workspace: Workspace, run_id: str) -> None:
        self.storage = workspace.storage
        self.run_id = run_id
        self.rows: dict[int, list[dict[str, Any]]] = {}
        self.outstanding: Counter[int] = Counter()
        self.open_shard: int | None = None
        self.dirty: set[int] = set()
        self.written = 0

    def start(self, shard: int) -> None:
        """Note that ``shard`` has items; the shard before it receives no more."""
        if shard != self.open_shard:
            previous, self.open_shard = self.open_shard, shard
            self.rows.setdefault(shard, [])
            if previous is not None:
                self._maybe_close(previous)

    def add(self, shard: int, row: dict[str, Any]) -> None:
        self.rows.setdefault(shard, []).append(row)
        self.dirty.add(shard)
        self._maybe_close(shard)

    def _maybe_close(self, shard: int) -> None:
        if shard == self.open_shard or self.outstanding[shard] > 0 or shard not in self.rows:
            return
        self._write(shard)
        del self.rows[shard]

    def _write(self, shard: int) -> None:
        rows = self.rows.get(shard)
        if rows:
            write_part(self.storage, part_path(self.run_id, shard), rows)
            self.written += 1
        self.dirty.discard(shard)

    def flush(self) -> None:
        """Rewrite the parts of shards with new rows; only rows whose files exist are in them."""
        for shard in sorted(self.dirty):
            self._write(shard)

    def finish(self) -> None:
        self.open_shard = None
        for shard in sorted(self.rows):
            self._write(shard)
        self.rows.clear()


def run_items(
    workspace: Workspace,
    items: Iterable[tuple[int, PlannedImage]],
    settings: EngineSettings,
    *,
    progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> EngineStats:
    """Fetch and store ``(shard, item)`` pairs; write each shard's ledger part after its files.

    Items with a ``problem`` get their final row without a request. A URL whose
    Retry-After exceeds the cap goes back to the queue until its wait has passed,
    while other URLs go on; URLs still waiting when everything else is done end as
    ``rate_limited``.

    With ``settings.decode_processes`` of 2 or more, that many worker processes each
    run their own event loop, HTTP transport and decode threads, and this process only
    reads the plan and writes the ledger parts. Otherwise one event loop runs here.

    ``progress(row)`` is called in this thread with each final row. Once ``stop`` is
    set, no new item starts; items in flight get ``STOP_GRACE_S`` seconds to finish,
    and those that do not are left without a row, so the next run fetches them.
    """
    stats = EngineStats()
    shards = _Shards(workspace, settings.run_id)
    # Each process keeps its own per-host connection limit, so there are never more
    # processes than connections allowed in all or to one host.
    processes = min(int(settings.decode_processes), settings.concurrency, settings.fetch.per_host)
    if progress is not None:
        stats = _ReportingStats(progress)
    try:
        if processes >= 2:
            from .workers import run_processes

            run_processes(workspace, iter(items), settings, processes, shards, stats, stop)
        else:
            asyncio.run(_run_here(workspace, iter(items), settings, shards, stats, stop))
    finally:
        # Also on an abort (a second Ctrl-C), so the rows of finished items are kept.
        shards.finish()
    return EngineStats(stats.counts, stats.reasons)


class _ReportingStats(EngineStats):
    """Engine statistics that also pass each final row to a progress callback."""

    def __init__(self, progress: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self.progress = progress

    def add(self, row: dict[str, Any]) -> None:
        super().add(row)
        try:
            self.progress(row)
        except Exception:  # noqa: BLE001 - a broken progress display must not stop the batch
            logger.exception("the progress callback failed")


async def _run_here(workspace: Workspace, items: Iterator[tuple[int, PlannedImage]], settings: EngineSettings,
                    shards: _Shards, stats: EngineStats, stop: threading.Event | None) -> None:
    """Run every item on this thread's event loop, keeping the ledger here too."""
    ticker = _Ticker(shards)

    def emit(shard: int, row: dict[str, Any]) -> None:
        shards.outstanding[shard] -= 1
        stats.add(row)
        shards.add(shard, row)
        ticker.tick()

    async def pull() -> tuple[int, PlannedImage] | None:
        if stop is not None and stop.is_set():
            shards.start(-1)
            return None
        return _next_fetchable(items, shards, stats)

    await _serve(workspace, settings, settings.concurrency, pull, emit, stop)


def _next_fetchable(items: Iterator[tuple[int, PlannedImage]], shards: _Shards, stats: EngineStats) -> tuple[int, PlannedImage] | None:
    """Return the next ``(shard, item)`` to fetch, or None at the end of ``items``.

    Items with a ``problem`` get their final row on the way, without a request.
    """
    for shard, item in items:
        shards.start(shard)
        if item.problem is not None:
            stats.add(problem_row(item))
            shards.add(shard, problem_row(item))
            continue
        shards.outstanding[shard] += 1
        return shard, item
    shards.start(-1)
    return None


class _Ticker:
    """Rewrites the parts of open shards every ``PART_FLUSH_S`` and logs progress every ``PROGRESS_LOG_S``."""

    def __init__(self, shards: _Shards) -> None:
        self.shards = shards
        self.done = 0
        self.last_flush = self.last_log = time.monotonic()

    def tick(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last_flush > PART_FLUSH_S:
            self.shards.flush()
            self.last_flush = now
        if now - self.last_log > PROGRESS_LOG_S:
            logger.info("images: %d done", self.done)
            self.last_log = now


async def _serve(workspace: Workspace, settings: EngineSettings, concurrency: int, pull, emit,
                 stop: threading.Event | None = None, robots: list[tuple[str, Any]] | None = None,
                 pauses: list[tuple[str, float]] | None = None,
                 on_pause: Callable[[str, float], None] | None = None, on_defer=None) -> None:
    """Fetch and store the items ``pull()`` returns (None ends), ``concurrency`` at a time.

    ``emit(shard, row)`` receives each final row as soon as it is final, so rows flow
    back while more items are still being pulled. A URL deferred by Retry-After frees
    its slot while it waits. When nothing else is running or left to pull, the URLs
    still waiting end with their ``rate_limited`` row. ``on_defer`` (worker processes)
    hands a deferred URL to the engine process instead of waiting here.
    """
    slots = asyncio.Semaphore(max(1, int(concurrency)))
    requeues: Counter[str] = Counter()
    tasks: set[asyncio.Task] = set()
    state = {"active": 0, "exhausted": False}
    idle = asyncio.Event()

    def check_idle() -> None:
        if state["exhausted"] and state["active"] == 0:
            idle.set()

    use_caller_threads()
    transport = build_async_transport(user_agent=settings.fetch.user_agent, concurrency=concurrency,
                                      ca_file=settings.ca_file)
    try:
        with ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="d2a-decode") as decoder:
            fetcher = AsyncFetcher(transport, settings.fetch, on_pause=on_pause)
            job = _Job(workspace, fetcher, decoder, settings.encode)

            async def one(shard: int, item: PlannedImage) -> None:
                try:
                    while True:
                        row, result = await job.run(item)
                        if result is None or not result.deferred:
                            break
                        if on_defer is not None:
                            # The engine process keeps the URL until its wait has passed.
                            state["active"] -= 1
                            slots.release()
                            on_defer(shard, item, row, result.retry_at)
                            check_idle()
                            return
                        if requeues[item.key] >= MAX_REQUEUES:
                            break
                        requeues[item.key] += 1
                        logger.info("%s: Retry-After beyond the cap, requeued for later in this run", item.key)
                        state["active"] -= 1
                        slots.release()
                        check_idle()
                        wait = max(0.0, (result.retry_at or 0.0) - time.monotonic())
                        try:
                            await asyncio.wait_for(idle.wait(), timeout=wait)
                        except TimeoutError:
                            pass
                        else:
                            # Nothing else runs, so the URL ends the run as rate_limited.
                            emit(shard, row)
                            return
                        await slots.acquire()
                        state["active"] += 1
                    state["active"] -= 1
                    slots.release()
                    emit(shard, row)
                    check_idle()
                except Exception:
                    logger.exception("%s: the download task failed unexpectedly", item.key)
                    raise

            try:
                while True:
                    await slots.acquire()
                    entry = await pull()
                    while robots:
                        fetcher.robots.seed(*robots.pop(0))
                    while pauses:
                        fetcher.gate.pause(*pauses.pop(0))
                    if entry is None:
                        slots.release()
                        break
                    state["active"] += 1
                    task = asyncio.create_task(one(*entry))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            except Exception:
                # Reading the plan failed (a bad row further down the source, say). The downloads
                # in flight finish and emit their rows before the error goes on.
                await asyncio.gather(*list(tasks), return_exceptions=True)
                raise
            state["exhausted"] = True
            check_idle()
            if stop is not None and stop.is_set() and tasks:
                _, late = await asyncio.wait(list(tasks), timeout=STOP_GRACE_S)
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
            while tasks:
                await asyncio.gather(*list(tasks))
    finally:
        await transport.aclose()
