"""The local download engine: I/O threads, a decode process pool and per-shard ledger parts.

:func:`run_items` takes planned images tagged with their shard number, keeps at most
``2 x concurrency`` of them in flight (the input is never held whole), and writes each
shard's part of the ledger once all its rows are final. The Ray engine runs the same
function once per shard inside each task.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..workspace import Workspace
from .client import build_client
from .decode import DecodePool, EncodeOptions
from .fetch import FetchConfig, Fetcher, FetchResult
from .ledger import part_path, write_part
from .plan import QUARANTINE_DIR, PlannedImage

logger = logging.getLogger(__name__)

# A URL sent back to the queue by Retry-After is tried at most this many more times.
MAX_REQUEUES = 3
PART_FLUSH_S = 10.0
PROGRESS_LOG_S = 30.0


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
    """Worker body: fetch, validate and store one planned image."""

    def __init__(self, workspace: Workspace, fetcher: Fetcher, decoder: DecodePool, options: EncodeOptions) -> None:
        self.storage = workspace.storage
        self.fetcher = fetcher
        self.decoder = decoder
        self.options = options

    def run(self, item: PlannedImage) -> tuple[dict[str, Any], FetchResult | None]:
        started = time.monotonic()
        row = base_row(item)
        try:
            result = self.fetcher.fetch(item.request_url)
            row.update(final_url=result.final_url, http_status=result.http_status)
            if result.status != "ok":
                row.update(status=result.status, reason=result.reason)
                logger.info("%s: %s/%s %s", item.key, result.status, result.reason, result.detail or "")
            else:
                self._store(item, row, result.body or b"")
        except Exception:  # noqa: BLE001 - a per-row failure must never stop the batch
            logger.exception("%s: fetching or storing %s failed unexpectedly", item.key, item.request_url)
            row.update(status="failed", reason="internal_error", duration_s=time.monotonic() - started)
            return row, None
        row["duration_s"] = round(time.monotonic() - started, 4)
        return row, result

    def _store(self, item: PlannedImage, row: dict[str, Any], body: bytes) -> None:
        processed = self.decoder.process(body, self.options)
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


def run_items(workspace: Workspace, items: Iterable[tuple[int, PlannedImage]], settings: EngineSettings) -> EngineStats:
    """Fetch and store ``(shard, item)`` pairs; write each shard's ledger part after its files.

    Items with a ``problem`` get their final row without a request. A URL whose
    Retry-After exceeds the cap goes back to the queue until its wait has passed,
    while other URLs go on; URLs still waiting when everything else is done end as
    ``rate_limited``.
    """
    stats = EngineStats()
    shards = _Shards(workspace, settings.run_id)
    with (
        build_client(user_agent=settings.fetch.user_agent, concurrency=settings.concurrency, ca_file=settings.ca_file) as client,
        DecodePool(settings.decode_processes) as decoder,
    ):
        job = _Job(workspace, Fetcher(client, settings.fetch), decoder, settings.encode)
        for shard, row in _run_queue(job, iter(items), settings.concurrency, shards):
            stats.add(row)
            shards.add(shard, row)
    shards.finish()
    return stats


def _run_queue(job: _Job, items: Iterator[tuple[int, PlannedImage]], concurrency: int, shards: _Shards):
    """Run the jobs on a thread pool with a bounded window and yield ``(shard, final row)``."""
    requeues: Counter[str] = Counter()
    deferred: list[tuple[float, int, PlannedImage, dict[str, Any]]] = []
    window = max(2 * concurrency, 4)
    last_flush = last_log = time.monotonic()
    done_count = 0
    exhausted = False
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="d2a-images") as pool:
        futures: dict[Future, tuple[int, PlannedImage]] = {}
        while True:
            while not exhausted and len(futures) < window:
                entry = next(items, None)
                if entry is None:
                    exhausted = True
                    break
                shard, item = entry
                shards.start(shard)
                if item.problem is not None:
                    done_count += 1
                    yield shard, problem_row(item)
                    continue
                shards.outstanding[shard] += 1
                futures[pool.submit(job.run, item)] = (shard, item)
            if exhausted:
                shards.start(-1)
            now = time.monotonic()
            for entry in [e for e in deferred if e[0] <= now]:
                deferred.remove(entry)
                futures[pool.submit(job.run, entry[2])] = (entry[1], entry[2])
            if not futures:
                if not exhausted:
                    continue
                # Nothing else runs, so URLs still waiting end the run as rate_limited.
                for _, shard, _item, row in deferred:
                    shards.outstanding[shard] -= 1
                    yield shard, row
                return
            next_ready = min((e[0] for e in deferred), default=None)
            timeout = None if next_ready is None else max(0.0, next_ready - now)
            done, _ = wait(list(futures), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                shard, item = futures.pop(future)
                row, result = future.result()
                if result is not None and result.deferred and requeues[item.key] < MAX_REQUEUES:
                    requeues[item.key] += 1
                    logger.info("%s: Retry-After beyond the cap, requeued for later in this run", item.key)
                    deferred.append((result.retry_at, shard, item, row))
                    continue
                shards.outstanding[shard] -= 1
                done_count += 1
                yield shard, row
            now = time.monotonic()
            if now - last_flush > PART_FLUSH_S:
                shards.flush()
                last_flush = now
            if now - last_log > PROGRESS_LOG_S:
                logger.info("images: %d done, %d in flight, %d waiting for Retry-After", done_count, len(futures), len(deferred))
                last_log = now
