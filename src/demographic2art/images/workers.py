"""Worker processes of the local download engine.

With two or more processes, :func:`run_processes` sends planned items to worker
processes through queues. Each worker runs its own event loop, HTTP transport and
decode threads (see :func:`.engine._serve`), so a body is decoded where it arrived. This
process reads the plan, keeps the ledger parts, fetches robots.txt once per host, shares
Retry-After pauses between workers and requeues deferred URLs.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..workspace import Workspace
from .client import load_aiohttp, ssl_context
from .engine import MAX_REQUEUES, STOP_GRACE_S, EngineSettings, EngineStats, _next_fetchable, _serve, _Shards, _Ticker
from .plan import PlannedImage
from .robots import fetch_robots
from .urls import url_origin

logger = logging.getLogger(__name__)

# Messages a worker takes from its inbox at once when several are queued.
DRAIN_BATCH = 64


def _share(settings: EngineSettings, processes: int) -> EngineSettings:
    """Return the settings of one of ``processes`` workers: the connection and rate limits split between them."""
    fetch = replace(
        settings.fetch,
        per_host=max(1, settings.fetch.per_host // processes),
        rate_limit_per_host=(settings.fetch.rate_limit_per_host / processes if settings.fetch.rate_limit_per_host else None),
    )
    return replace(settings, fetch=fetch, concurrency=max(1, settings.concurrency // processes))


def _worker_main(index: int, root: str, storage_options: dict[str, Any], settings: EngineSettings, inbox, outbox,
                 parent: int) -> None:
    """Run worker process ``index``: take messages from ``inbox`` and put results on ``outbox``.

    Results are ``("row", index, shard, row, None, None)``, ``("deferred", index, shard,
    row, item, retry_at)``, ``("pause", index, (host, until))`` and ``("done", index, None)``.

    Messages are ``("item", shard, item)``, ``("robots", origin, parser)`` (a robots.txt
    the engine process already fetched), ``("pause", host, until)`` (another worker got
    a Retry-After from ``host``) and None (no more items).
    """
    # The objects inherited from the engine process live as long as this process, so the
    # garbage collector stops scanning them.
    gc.freeze()
    workspace = Workspace(root, **storage_options)
    robots: list[tuple[str, Any]] = []
    pauses: list[tuple[str, float]] = []

    waiting: deque = deque()

    async def next_message():
        if waiting:
            return waiting.popleft()
        loop = asyncio.get_running_loop()
        while True:
            try:
                message = await loop.run_in_executor(None, inbox.get, True, 1.0)
            except queue.Empty:
                if os.getppid() != parent:
                    # The engine process is gone (killed); stop taking work.
                    return None
                continue
            # Take what else is queued without another thread hand-off per message.
            try:
                while len(waiting) < DRAIN_BATCH:
                    waiting.append(inbox.get_nowait())
            except queue.Empty:
                pass
            return message

    async def pull() -> tuple[int, PlannedImage] | None:
        while True:
            message = await next_message()
            if message is None:
                return None
            if message[0] == "robots":
                robots.append((message[1], message[2]))
                continue
            if message[0] == "pause":
                pauses.append((message[1], message[2]))
                continue
            return message[1], message[2]

    def emit(shard: int, row: dict[str, Any]) -> None:
        outbox.put(("row", index, shard, row, None, None))

    def defer(shard: int, item: PlannedImage, row: dict[str, Any], retry_at: float) -> None:
        outbox.put(("deferred", index, shard, row, item, retry_at))

    def paused(host: str, until: float) -> None:
        # CLOCK_MONOTONIC is one clock for every process of the machine.
        outbox.put(("pause", index, (host, until)))

    asyncio.run(_serve(workspace, settings, settings.concurrency, pull, emit, robots=robots, pauses=pauses,
                       on_pause=paused, on_defer=defer))
    outbox.put(("done", index, None))


def run_processes(workspace: Workspace, items: Iterator[tuple[int, PlannedImage]], settings: EngineSettings,
                   processes: int, shards: _Shards, stats: EngineStats, stop: threading.Event | None) -> None:
    """Hand the items to ``processes`` worker processes and keep the ledger in this one.

    Each worker has its own inbox and gets the next item while it has the fewest in
    flight. robots.txt of each origin is fetched once, here, and sent to every worker
    before the first item of that origin.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    inboxes = [context.Queue() for _ in range(processes)]
    outbox = context.Queue()
    storage = workspace.storage
    storage_options = dict(getattr(storage.fs, "storage_options", {}) or {})
    worker_settings = _share(settings, processes)
    workers = [
        context.Process(target=_worker_main,
                        args=(n, storage.url, storage_options, worker_settings, inboxes[n], outbox, os.getpid()),
                        name=f"d2a-images-{n}", daemon=True)
        for n in range(processes)
    ]
    # Built and imported before the fork, so every worker reuses this process's TLS
    # context and HTTP client modules instead of parsing the trust store and importing again.
    ssl_context(settings.ca_file)
    load_aiohttp()
    for worker in workers:
        worker.start()
    sent_origins: set[str] = set()
    loads = [0] * processes

    def close_inboxes() -> None:
        for inbox in inboxes:
            inbox.put(None)

    def send(shard: int, item: PlannedImage) -> None:
        if settings.fetch.respect_robots:
            origin = url_origin(item.request_url)
            if origin not in sent_origins:
                sent_origins.add(origin)
                parser = fetch_robots(origin, user_agent=settings.fetch.user_agent, ca_file=settings.ca_file,
                                      timeout_s=min(settings.fetch.timeout_s, 10.0))
                for inbox in inboxes:
                    inbox.put(("robots", origin, parser))
        target = loads.index(min(loads))
        loads[target] += 1
        inboxes[target].put(("item", shard, item))

    ticker = _Ticker(shards)
    window = max(2 * settings.concurrency, 4)
    requeues: Counter[str] = Counter()
    deferred: list[tuple[float, int, PlannedImage, dict[str, Any]]] = []
    in_flight = 0
    exhausted = closed = False
    finished = 0
    stopped_at: float | None = None

    def record(shard: int, row: dict[str, Any]) -> None:
        shards.outstanding[shard] -= 1
        stats.add(row)
        shards.add(shard, row)
        ticker.tick()

    try:
        while finished < processes:
            if stop is not None and stop.is_set() and stopped_at is None:
                stopped_at = time.monotonic()
                exhausted = True
                deferred.clear()
            if stopped_at is not None and time.monotonic() - stopped_at > STOP_GRACE_S:
                logger.info("images: stopped with %d items in flight; the next run fetches them", in_flight)
                break
            while not exhausted and in_flight < window:
                entry = _next_fetchable(items, shards, stats)
                if entry is None:
                    exhausted = True
                    break
                send(*entry)
                in_flight += 1
            now = time.monotonic()
            for entry in [e for e in deferred if e[0] <= now]:
                deferred.remove(entry)
                send(entry[1], entry[2])
                in_flight += 1
            if exhausted and in_flight == 0 and not closed:
                # Nothing else runs, so URLs still waiting end the run as rate_limited.
                for _, shard, _item, row in deferred:
                    record(shard, row)
                deferred.clear()
                close_inboxes()
                closed = True
            next_ready = min((e[0] for e in deferred), default=now + 1.0)
            try:
                message = outbox.get(timeout=min(1.0, max(0.01, next_ready - now), 0.2 if stopped_at else 1.0))
            except queue.Empty:
                dead = [w for w in workers if w.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"image worker process {dead[0].name} exited with status {dead[0].exitcode}")
                continue
            kind = message[0]
            if kind == "done":
                finished += 1
                continue
            if kind == "pause":
                for n, inbox in enumerate(inboxes):
                    if n != message[1]:
                        inbox.put(("pause", *message[2]))
                continue
            _, worker_index, shard, row, item, retry_at = message
            loads[worker_index] -= 1
            in_flight -= 1
            if kind == "deferred" and requeues[item.key] < MAX_REQUEUES and stopped_at is None:
                requeues[item.key] += 1
                logger.info("%s: Retry-After beyond the cap, requeued for later in this run", item.key)
                deferred.append((retry_at, shard, item, row))
                continue
            record(shard, row)
    finally:
        for worker in workers:
            worker.join(timeout=0.1 if stopped_at is not None else 5.0)
            if worker.is_alive():
                worker.kill()
                worker.join()
