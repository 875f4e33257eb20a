"""The Ray engine: one Ray task per shard, each running the local engine on its items.

Inside each task, the shard's downloads run on an asyncio event loop with an async
HTTP client (the same fetcher, retry, Retry-After, deadline, redirect, robots, size
and per-host rules as the local engine), and bodies are decoded on a thread pool of
the task's process.

A task writes its image files and then its own ledger part, so a task that Ray runs
again after a worker died rewrites the same files and the same part: shard outputs
are idempotent. The driver streams the plan, keeps at most ``2 x cluster CPUs``
shards in flight, and merges the parts when all tasks are done. Each task returns
the status, reason and byte count of its rows, which the driver passes to the
progress callback when the task ends, so bytes, rates and the progress bar count
whole shards. Once the stop event is set, no new shard is submitted. Ray is an optional
dependency (``pip install demographic2art[ray]``); the local engine never imports it.

Running on a cluster. Every node needs the same Python environment with d2a and
Ray installed, and the workspace must be storage that every node reaches, such as
``s3://bucket/study`` (a local folder works only on a one-node cluster).

* AWS: describe the head and worker nodes in a cluster YAML (``setup_commands``
  installing ``demographic2art[ray]``), start it with ``ray up cluster.yaml``, then
  run ``ray submit cluster.yaml job.py`` or, on the head node,
  ``d2a images download -w s3://bucket/study --engine ray --address auto``.
* SLURM: inside an allocation, start the head on the first node with
  ``ray start --head --port=6379 --num-cpus=$SLURM_CPUS_PER_TASK`` and the others with
  ``srun --nodes=$((SLURM_JOB_NUM_NODES-1)) --exclude=$(hostname) ray start
  --address=$HEAD:6379 --block &``, then run the same ``d2a`` command with
  ``--address auto`` on the head node, and ``ray stop`` at the end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..cluster import ray_session
from ..workspace import Workspace
from .engine import EngineSettings, EngineStats, run_items
from .plan import PlannedImage

logger = logging.getLogger(__name__)

TASK_RETRIES = 3
# The driver wakes this often while it waits for tasks, so SIGINT handlers run promptly.
WAIT_POLL_S = 1.0
ROW_FIELDS = ("status", "reason", "bytes")


def run_shard(root: str, storage_options: dict[str, Any], shard: int, items: list[PlannedImage], settings: EngineSettings) -> list[dict[str, Any]]:
    """Run one shard in this process and write its ledger part; the body of each Ray task.

    Returns the ``status``, ``reason`` and ``bytes`` of each final row, in the order the rows ended.
    """
    workspace = Workspace(root, **storage_options)
    rows: list[dict[str, Any]] = []

    def keep(row: dict[str, Any]) -> None:
        rows.append({name: row.get(name) for name in ROW_FIELDS})

    run_items(workspace, ((shard, item) for item in items), settings, progress=keep)
    return rows


def _shards(items: Iterable[tuple[int, PlannedImage]]):
    current: int | None = None
    batch: list[PlannedImage] = []
    for shard, item in items:
        if shard != current and batch:
            yield current, batch
            batch = []
        current = shard
        batch.append(item)
    if batch:
        yield current, batch


def run_on_ray(
    workspace: Workspace,
    items: Iterable[tuple[int, PlannedImage]],
    settings: EngineSettings,
    *,
    address: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> EngineStats:
    """Run each shard of ``items`` as a Ray task; connects to ``address`` or starts a local cluster.

    ``progress(row)`` is called in this thread with the ``status``, ``reason`` and
    ``bytes`` of each final row, shard by shard as the tasks end. Once ``stop`` is set,
    no new shard is submitted and the shards in flight run to their end.

    A local cluster this function started is shut down at the end. A cluster that was
    already initialised in this process, or named by ``address``, keeps running.
    """
    with ray_session(address) as ray:
        return _run_shards(ray, workspace, items, settings, progress, stop)


def _run_shards(
    ray: Any,
    workspace: Workspace,
    items: Iterable[tuple[int, PlannedImage]],
    settings: EngineSettings,
    progress: Callable[[dict[str, Any]], None] | None,
    stop: threading.Event | None,
) -> EngineStats:
    storage = workspace.storage
    root = storage.url
    storage_options = dict(getattr(storage.fs, "storage_options", {}) or {})
    # Ray runs one task per CPU, so each task runs one event loop with its decode threads.
    task_settings = replace(settings, decode_processes=0)
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(run_shard)
    window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    stats = EngineStats()
    pending: list[Any] = []

    def collect(ready: list[Any]) -> None:
        for rows in ray.get(ready):
            for row in rows:
                stats.add(row)
                _report(progress, row)

    for shard, batch in _shards(items):
        # The plan stops at the first item after a stop, so this batch may be partial.
        if stop is not None and stop.is_set():
            break
        pending.append(task.remote(root, storage_options, shard, batch, task_settings))
        while len(pending) >= window:
            ready, pending = ray.wait(pending, num_returns=1, timeout=WAIT_POLL_S)
            collect(ready)
    if stop is not None and stop.is_set() and pending:
        # NOTE: running tasks are not cancelled, so a stop waits for the shards in flight to end.
        logger.warning("ray: stop requested; no new shards, waiting for %d in flight", len(pending))
    while pending:
        ready, pending = ray.wait(pending, num_returns=len(pending), timeout=WAIT_POLL_S)
        collect(ready)
    logger.info("ray: %s", dict(stats.counts))
    return stats


def _report(progress: Callable[[dict[str, Any]], None] | None, row: dict[str, Any]) -> None:
    if progress is None:
        return
    try:
        progress(row)
    except Exception:  # noqa: BLE001 - a broken progress display must not stop the batch
        logger.exception("the progress callback failed")
