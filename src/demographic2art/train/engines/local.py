"""The local sweep engine: runs in this process one after another, or in worker processes.

With one worker the runs train in this process, one after another, with torch's usual
thread count. With several workers on the CPU each worker is a separate process that
uses one torch thread, so the workers do not compete for cores. With GPUs each worker
owns one device: the process gets ``CUDA_VISIBLE_DEVICES`` set to that device's id
before torch is imported, so inside it the GPU is ``cuda:0``.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from ...errors import InvalidValueError
from ...workspace import Workspace
from ..config import TrainConfig

logger = logging.getLogger(__name__)


def visible_gpus() -> list[str]:
    """Return the ids of the GPUs this process may use: ``CUDA_VISIBLE_DEVICES``, else every CUDA device."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip() and d.strip() != "-1"]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def run_local(
    workspace: Workspace,
    configs: list[TrainConfig],
    *,
    workers: int = 1,
    devices: list[str] | None = None,
    guard=None,
) -> list[dict[str, Any]]:
    """Train every config and return one outcome per run (see :mod:`..engines`).

    ``devices`` lists GPU ids, one worker process each; ``None`` uses every visible GPU
    when ``workers`` is 1 and there are several, and ``[]`` forces the CPU. On the CPU
    ``workers`` processes run at once, with one torch thread each.
    """
    if workers < 1:
        raise InvalidValueError(f"workers must be at least 1, not {workers}")
    if devices is None:
        gpus = visible_gpus() if workers == 1 else []
        devices = gpus if len(gpus) > 1 else []
    if devices:
        return _run_in_processes(workspace, configs, [str(d) for d in devices], threads=None, guard=guard)
    if workers > 1:
        return _run_in_processes(workspace, configs, [None] * workers, threads=1, guard=guard)
    return [train_trial(workspace, config, guard=guard) for config in configs]


def train_trial(workspace: Workspace, config: TrainConfig, *, guard=None) -> dict[str, Any]:
    """Train one run and return its outcome; an exception becomes a ``failed`` outcome with the error."""
    from ..loop import train_lora

    worker = _worker_label()
    started = time.perf_counter()
    try:
        train_lora(workspace, config, guard=guard)
    except Exception as exc:  # a failed run is a row of the sweep table, not the end of the sweep
        logger.error("sweep run %s failed on %s: %s: %s", config.run_name, worker, type(exc).__name__, exc)
        return {"run": config.run_name, "status": "failed", "error": f"{type(exc).__name__}: {exc}", "worker": worker, "attempts": 1}
    logger.info("sweep run %s finished on %s in %.1f s", config.run_name, worker, time.perf_counter() - started)
    return {"run": config.run_name, "status": "ok", "error": "", "worker": worker, "attempts": 1}


def _worker_label() -> str:
    import torch

    device = os.environ.get("CUDA_VISIBLE_DEVICES")
    label = f"pid {os.getpid()}, {torch.get_num_threads()} torch thread(s)"
    return f"{label}, CUDA_VISIBLE_DEVICES={device}" if device is not None else label


def _run_in_processes(workspace, configs, slots: list[str | None], *, threads: int | None, guard) -> list[dict[str, Any]]:
    """Run the configs in one spawned process per slot; a slot is a GPU id or ``None`` for the CPU."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked child would inherit this process's torch and CUDA state.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    for slot in slots:
        queue.put(slot)
    logger.info("sweep: %d runs in %d worker processes (%s)", len(configs), len(slots), ", ".join(str(s) for s in slots))
    with ProcessPoolExecutor(
        max_workers=len(slots), mp_context=context, initializer=_init_worker, initargs=(queue, threads)
    ) as pool:
        futures = [pool.submit(train_trial, workspace, config, guard=guard) for config in configs]
        outcomes = []
        for config, future in zip(configs, futures):
            try:
                outcomes.append(future.result())
            except Exception as exc:  # the worker process died (out of memory, killed)
                logger.error("sweep run %s lost its worker process: %s", config.run_name, exc)
                outcomes.append({"run": config.run_name, "status": "failed", "error": f"worker process failed: {exc}", "attempts": 1})
    return outcomes


def _init_worker(queue, threads: int | None) -> None:
    """Claim one slot for this worker process; runs before torch is imported in it."""
    slot = queue.get()
    if slot is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = slot
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        os.environ["MKL_NUM_THREADS"] = str(threads)
        import torch

        torch.set_num_threads(threads)
