"""The Ray engine: one Ray task per shard, each running the local engine on its items.

Inside each task, the shard's downloads run on an asyncio event loop with an async
HTTP client (the same fetcher, retry, Retry-After, deadline, redirect, robots, size
and per-host rules as the local engine), and bodies are decoded on a thread pool of
the task's process.

A task writes its image files and then its own ledger part, so a task that Ray runs
again after a worker died rewrites the same files and the same part: shard outputs
are idempotent. The driver streams the plan, keeps at most ``2 x cluster CPUs``
shards in flight, and merges the parts when all tasks are done. Ray is an optional
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
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..cluster import ray_session
from ..workspace import Workspace
from .engine import EngineSettings, EngineStats, run_items
from .plan import PlannedImage

logger = logging.getLogger(__name__)

TASK_RETRIES = 3


def run_shard(root: str, storage_options: dict[str, Any], shard: int, items: list[PlannedImage], settings: EngineSettings) -> EngineStats:
    """Run one shard in this process and write its ledger part; the body of each Ray task."""
    workspace = Workspace(root, **storage_options)
    return run_items(workspace, ((shard, item) for item in items), settings)


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
) -> EngineStats:
    """Run each shard of ``items`` as a Ray task; connects to ``address`` or starts a local cluster.

    A local cluster this function started is shut down at the end; a cluster that was
    already initialised in this process, or named by ``address``, keeps running.
    """
    with ray_session(address) as ray:
        return _run_shards(ray, workspace, items, settings)


def _run_shards(ray: Any, workspace: Workspace, items: Iterable[tuple[int, PlannedImage]], settings: EngineSettings) -> EngineStats:
    storage = workspace.storage
    root = storage.url
    storage_options = dict(getattr(storage.fs, "storage_options", {}) or {})
    # Ray runs one task per CPU, so each task runs one event loop with its decode threads.
    task_settings = replace(settings, decode_processes=0)
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(run_shard)
    window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    stats = EngineStats()
    pending: list[Any] = []
    for shard, batch in _shards(items):
        pending.append(task.remote(root, storage_options, shard, batch, task_settings))
        if len(pending) >= window:
            done, pending = ray.wait(pending, num_returns=1)
            for result in ray.get(done):
                stats.update(result)
    for result in ray.get(pending):
        stats.update(result)
    logger.info("ray: %s", dict(stats.counts))
    return stats
