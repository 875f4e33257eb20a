"""Worker processes of the local download engine.

With two or more processes, :func:`run_processes` sends planned items to worker
processes, each through its own pipe. Each worker runs its own event loop, HTTP
transport and decode threads (see :func:`.engine._serve`), so a body is decoded where
it arrived, and sends each final row back through the same pipe. This process reads
the plan, keeps the ledger parts, fetches robots.txt once per host, shares Retry-After
pauses between workers and requeues deferred URLs.

Pipes are written and read directly by the threads that use them: the worker's event
loop watches its pipe like a socket, so no message needs a feeder thread or a thread
hand-off, as ``multiprocessing.Queue`` would.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..errors import WorkerError
from ..workspace import Workspace
from .client import load_aiohttp, ssl_context
from .engine import MAX_REQUEUES, STOP_GRACE_S, EngineSettings, EngineStats, _next_fetchable, _serve, _Shards, _Ticker
from .plan import PlannedImage
from .robots import fetch_robots
from .urls import url_origin

logger = logging.getLogger(__name__)


def _share(settings: EngineSettings, processes: int) -> EngineSettings:
    """Return the settings of one of ``processes`` workers: the connection and rate limits split between them."""
    fetch = replace(
        settings.fetch,
        per_host=max(1, settings.fetch.per_host // processes),
        rate_limit_per_host=(settings.fetch.rate_limit_per_host / processes if settings.fetch.rate_limit_per_host else None),
    )
    return replace(settings, fetch=fetch, concurrency=max(1, settings.concurrency // processes))


class _Inbox:
    """The messages a worker's event loop receives from its pipe, read when the pipe is readable.

    A closed pipe (the engine process is gone) reads as None, the end of the items.
    """

    def __init__(self, connection) -> None:
        self.connection = connection
        self.waiting: deque = deque()
        self.arrived = asyncio.Event()
        self.closed = False
        asyncio.get_running_loop().add_reader(connection.fileno(), self._read)

    def _read(self) -> None:
        try:
            while self.connection.poll():
                self.waiting.append(self.connection.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self.connection.fileno())
            self.closed = True
        self.arrived.set()

    async def get(self):
        while not self.waiting:
            if self.closed:
                return None
            self.arrived.clear()
            await self.arrived.wait()
        return self.waiting.popleft()


def _worker_main(index: int, root: str, storage_options: dict[str, Any], settings: EngineSettings, connection,
                 other_ends: list) -> None:
    """Run worker process ``index``: take messages from ``connection`` and send results back on it.

    Results are ``("row", index, shard, row, None, None)``, ``("deferred", index, shard,
    row, item, retry_at)``, ``("pause", index, (host, until))`` and ``("done", index, None)``.

    Messages are ``("item", shard, item)``, ``("robots", origin, parser)`` (a robots.txt
    the engine process already fetched), ``("pause", host, until)`` (another worker got
    a Retry-After from ``host``) and None (no more items).
    """
    # The objects inherited from the engine process live as long as this process, so the
    # garbage collector stops scanning them.
    gc.freeze()
    # The copies of the engine process's pipe ends that the fork left here are closed,
    # so the pipe reads as closed once the engine process is gone.
    for end in other_ends:
        end.close()
    workspace = Workspace(root, **storage_options)
    robots: list[tuple[str, Any]] = []
    pauses: list[tuple[str, float]] = []
    # Every message is sent from this process's main thread, which runs the event loop.
    engine_gone = False

    def send(message: tuple) -> None:
        nonlocal engine_gone
        if engine_gone:
            return
        try:
            connection.send(message)
        except OSError:
            # Nothing records this row once the engine process is gone, so the next run fetches the image again.
            engine_gone = True

    async def serve() -> None:
        inbox = _Inbox(connection)

        async def pull() -> tuple[int, PlannedImage] | None:
            while True:
                message = await inbox.get()
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
            send(("row", index, shard, row, None, None))

        def defer(shard: int, item: PlannedImage, row: dict[str, Any], retry_at: float) -> None:
            send(("deferred", index, shard, row, item, retry_at))

        def paused(host: str, until: float) -> None:
            # CLOCK_MONOTONIC is one clock for every process of the machine.
            send(("pause", index, (host, until)))

        await _serve(workspace, settings, settings.concurrency, pull, emit, robots=robots, pauses=pauses,
                     on_pause=paused, on_defer=defer)

    asyncio.run(serve())
    send(("done", index, None))
    connection.close()


def run_processes(workspace: Workspace, items: Iterator[tuple[int, PlannedImage]], settings: EngineSettings,
                  processes: int, shards: _Shards, stats: EngineStats, stop: threading.Event | None) -> None:
    """Hand the items to ``processes`` worker processes and keep the ledger in this one.

    Each worker has its own pipe and gets the next item while it has the fewest in
    flight. robots.txt of each origin is fetched once, here, and sent to every worker
    before the first item of that origin.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pipes = [context.Pipe() for _ in range(processes)]
    ends = [engine_end for engine_end, _ in pipes]
    storage = workspace.storage
    storage_options = dict(getattr(storage.fs, "storage_options", {}) or {})
    worker_settings = _share(settings, processes)
    workers = []
    for n, (_, worker_end) in enumerate(pipes):
        others = ends + [other for m, (_, other) in enumerate(pipes) if m != n]
        workers.append(context.Process(target=_worker_main,
                                       args=(n, storage.url, storage_options, worker_settings, worker_end, others),
                                       name=f"d2a-images-{n}", daemon=True))
    # Built and imported before the fork, so every worker reuses this process's TLS
    # context and HTTP client modules instead of parsing the trust store and importing again.
    ssl_context(settings.ca_file)
    load_aiohttp()
    for worker in workers:
        worker.start()
    for _, worker_end in pipes:
        # Only the worker has its end open now, so the pipe reads as closed when the worker is gone.
        worker_end.close()
    open_ends = dict(zip(ends, range(processes)))
    done: set[int] = set()
    # Workers whose pipe closed before they reported that they were done.
    lost: list[int] = []
    sent_origins: set[str] = set()
    loads = [0] * processes

    def post(n: int, message: tuple | None) -> None:
        try:
            ends[n].send(message)
        except OSError as exc:
            # The worker is gone. Reading its pipe reports how it ended.
            logger.debug("image worker process %s no longer reads its pipe: %s", workers[n].name, exc)

    def receive(timeout: float) -> list[tuple]:
        """Return the messages that arrive within ``timeout`` seconds, noting workers whose pipe closed."""
        received = []
        for end in multiprocessing.connection.wait(list(open_ends), timeout):
            try:
                while end.poll():
                    received.append(end.recv())
            except (EOFError, OSError):
                n = open_ends.pop(end)
                if n not in done and not any(m[0] == "done" and m[1] == n for m in received):
                    lost.append(n)
        return received

    def close_inboxes() -> None:
        for n in range(processes):
            post(n, None)

    def send(shard: int, item: PlannedImage) -> None:
        if settings.fetch.respect_robots:
            origin = url_origin(item.request_url)
            if origin not in sent_origins:
                sent_origins.add(origin)
                parser = fetch_robots(origin, user_agent=settings.fetch.user_agent, ca_file=settings.ca_file,
                                      timeout_s=min(settings.fetch.timeout_s, 10.0))
                for n in range(processes):
                    post(n, ("robots", origin, parser))
        target = loads.index(min(loads))
        loads[target] += 1
        post(target, ("item", shard, item))

    ticker = _Ticker(shards)
    window = max(2 * settings.concurrency, 4)
    requeues: Counter[str] = Counter()
    deferred: list[tuple[float, int, PlannedImage, dict[str, Any]]] = []
    in_flight = 0
    exhausted = closed = False
    stopped_at: float | None = None

    def record(shard: int, row: dict[str, Any]) -> None:
        shards.outstanding[shard] -= 1
        stats.add(row)
        shards.add(shard, row)
        ticker.tick()

    def handle(message: tuple) -> None:
        nonlocal in_flight
        kind = message[0]
        if kind == "done":
            done.add(message[1])
            return
        if kind == "pause":
            for n in range(processes):
                if n != message[1]:
                    post(n, ("pause", *message[2]))
            return
        _, worker_index, shard, row, item, retry_at = message
        loads[worker_index] -= 1
        in_flight -= 1
        if kind == "deferred" and requeues[item.key] < MAX_REQUEUES and stopped_at is None:
            requeues[item.key] += 1
            logger.info("%s: Retry-After beyond the cap, requeued for later in this run", item.key)
            deferred.append((retry_at, shard, item, row))
            return
        record(shard, row)

    def drain() -> None:
        """Take no new items and record the rows the workers still send, for up to ``STOP_GRACE_S``."""
        close_inboxes()
        deadline = time.monotonic() + STOP_GRACE_S
        while open_ends and len(done) + len(lost) < processes and time.monotonic() < deadline:
            for message in receive(max(0.01, deadline - time.monotonic())):
                handle(message)

    try:
        while len(done) < processes:
            if lost:
                drain()
                worker = workers[lost[0]]
                worker.join(timeout=1.0)
                raise WorkerError(
                    f"image worker process {worker.name} exited with status {worker.exitcode} before it finished; "
                    "the rows of finished images are kept, so rerun the same command to resume (if the system "
                    "stopped it for lack of memory, lower --processes or --concurrency)"
                )
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
            for message in receive(min(1.0, max(0.01, next_ready - now), 0.2 if stopped_at else 1.0)):
                handle(message)
    except Exception:
        # The plan or the ledger failed (a bad row further down the source, say): the images
        # the workers already stored get their rows before the error goes on.
        if not lost:
            drain()
        raise
    finally:
        for worker in workers:
            worker.join(timeout=0.1 if stopped_at is not None else 5.0)
            if worker.is_alive():
                worker.kill()
                worker.join()
        for end in ends:
            end.close()
