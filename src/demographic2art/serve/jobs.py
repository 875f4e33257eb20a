"""Generation jobs: a bounded queue and one worker thread that owns the generator.

Requests only enqueue. The worker takes one job at a time, so two generations never
share the diffusers pipeline, its scheduler, the active LoRA weight or the random
generators. Job records are written as JSON to ``jobs/<id>.json`` at each
state change, and at most ``history_size`` records stay in memory. Result images are
written to ``gallery/`` at once and never kept in memory.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import QueueFullError
from ..generate import GenerationCancelled, GenerationParams, save_generation

logger = logging.getLogger(__name__)

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("done", "failed", "cancelled", "interrupted")
JOB_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
GALLERY = "gallery"
JOBS = "jobs"


class ServiceUnavailableError(QueueFullError):
    """Raised when the worker cannot take jobs: model loading, worker stopped or shutting down.

    ``code`` is the machine-readable reason the API returns (``queue_full``,
    ``model_loading``, ``worker_stopped``, ``shutting_down``).
    """

    def __init__(self, message: str, code: str, retry_after_s: int = 5) -> None:
        super().__init__(message, retry_after_s)
        self.code = code


class JobFinishedError(Exception):
    """Raised when a job to cancel has already reached a final state; ``job`` is left unchanged."""

    def __init__(self, job_id: str, state: str) -> None:
        super().__init__(f"job {job_id} already ended in state {state}; only queued or running jobs can be cancelled")
        self.job_id = job_id
        self.state = state


@dataclass
class Job:
    """One generation request and its progress; ``results`` are gallery file names."""

    id: str
    params: GenerationParams
    attributes: dict[str, Any] = field(default_factory=dict)
    state: str = "queued"
    step: int = 0
    total_steps: int = 0
    results: list[str] = field(default_factory=list)
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    lora: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_record(self) -> dict[str, Any]:
        """Return the JSON record of the job, as stored in ``jobs/`` (no queue position)."""
        return {
            "id": self.id,
            "state": self.state,
            "step": self.step,
            "total_steps": self.total_steps,
            "parameters": self.params.model_dump(),
            "attributes": self.attributes,
            "lora": self.lora,
            "tags": self.tags,
            "results": list(self.results),
            "error": self.error,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
        }


class JobQueue:
    """A bounded queue of generation jobs served by one worker thread.

    ``load_generator`` is called once, in the worker thread, and returns an object with
    the :class:`~demographic2art.generate.Generator` interface (``generate``, ``model_name``,
    ``lora_name``). ``queue_size`` bounds the jobs waiting (the running job not counted);
    ``history_size`` bounds the job records kept in memory. Each callable in
    ``listeners`` is called with a job once it reaches a final state, outside the queue's
    lock (from the worker thread, or from the thread that cancelled a queued job).

    A job's ``lora`` names one of the generator's adapters; generators with a
    ``select_lora(name)`` method switch to it before the job runs. A job submitted
    without a LoRA records the generator's default one, so its record names the LoRA used.
    """

    def __init__(
        self,
        storage,
        load_generator: Callable[[], Any],
        *,
        queue_size: int = 16,
        history_size: int = 50,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        if history_size < 1:
            raise ValueError(f"history_size must be at least 1, got {history_size}")
        self.storage = storage
        self.queue_size = queue_size
        self.history_size = history_size
        self._load_generator = load_generator
        self.generator = None
        self.load_error: str | None = None
        self.load_exception: BaseException | None = None
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: deque[Job] = deque()
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._stopping = False
        self._ready = threading.Event()
        self._job_seconds = 5.0
        self._thread = threading.Thread(target=self._run, name="d2a-generation-worker", daemon=True)
        self.listeners: list[Callable[[Job], None]] = []
        self.interrupted = mark_interrupted(storage)

    # Life cycle ---------------------------------------------------------------

    def start(self) -> "JobQueue":
        """Start the worker thread, which loads the generator first."""
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Cancel the running job, drop waiting ones as cancelled and join the worker."""
        with self._lock:
            self._stopping = True
            while self._waiting:
                job = self._waiting.popleft()
                self._finish(job, "cancelled", error="server shut down")
            for job in self._jobs.values():
                job.cancel_event.set()
            self._wakeup.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the generator is loaded (or failed to load); return True when loaded."""
        self._ready.wait(timeout)
        return self.generator is not None

    @property
    def ready(self) -> bool:
        return self.generator is not None

    # Requests -----------------------------------------------------------------

    def submit(
        self,
        params: GenerationParams,
        attributes: dict[str, Any] | None = None,
        *,
        lora: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> Job:
        """Add a job and return it; raise :class:`ServiceUnavailableError` when it cannot wait."""
        return self.submit_many([(params, attributes, lora, tags)])[0]

    def submit_many(self, requests: list[tuple[GenerationParams, dict | None, str | None, dict | None]]) -> list[Job]:
        """Add several jobs at once, or none of them when the queue has no room for all.

        Each request is ``(params, attributes, lora, tags)``. Raise
        :class:`ServiceUnavailableError` when the queue cannot take every job.
        """
        jobs = []
        with self._lock:
            self._check_accepting(len(requests))
            default_lora = self._default_lora()
            for params, attributes, lora, tags in requests:
                lora = lora if lora is not None else default_lora
                job = Job(
                    id=uuid.uuid4().hex, params=params, attributes=dict(attributes or {}), lora=lora, tags=dict(tags or {})
                )
                job.total_steps = params.steps
                self._waiting.append(job)
                self._jobs[job.id] = job
                jobs.append(job)
            self._evict()
            self._wakeup.notify_all()
        for job in jobs:
            self._save(job)
            logger.info("job %s queued: %s (LoRA %s)", job.id, job.params.model_dump(), job.lora)
        return jobs

    def _check_accepting(self, count: int = 1) -> None:
        retry = self._retry_after()
        if self._stopping:
            raise ServiceUnavailableError("the server is shutting down; retry later", "shutting_down", retry)
        if not self._ready.is_set():
            raise ServiceUnavailableError("the model is still loading; retry in a few seconds", "model_loading", retry)
        if not self._thread.is_alive():
            code = "model_failed" if self.load_error else "worker_stopped"
            raise ServiceUnavailableError("the generation worker is not running; restart the server", code, retry)
        if len(self._waiting) + count > self.queue_size:
            raise ServiceUnavailableError(
                f"the job queue has no room for {count} job(s) ({len(self._waiting)} of {self.queue_size} waiting); "
                f"retry after {retry} s",
                "queue_full",
                retry,
            )

    def _default_lora(self) -> str | None:
        """Return the name of the LoRA a job without one runs with (None: the base model)."""
        if hasattr(self.generator, "select_lora"):
            return getattr(self.generator, "default_lora", None)
        return getattr(self.generator, "lora_name", None)

    def _retry_after(self) -> int:
        """Estimate seconds until a slot frees: one job's duration, at least 1 s."""
        return max(1, int(round(self._job_seconds)))

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; return the job, or None when it is not in memory.

        Raise :class:`JobFinishedError` when the job has already reached a final state,
        in memory or in its ``jobs/`` record; the job is then left unchanged.
        """
        cancelled_queued = False
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                record = self._stored_record(job_id)
                if record is not None and record.get("state") in FINAL_STATES:
                    raise JobFinishedError(job_id, record["state"])
                return None
            if job.state in FINAL_STATES:
                raise JobFinishedError(job.id, job.state)
            if job.state == "queued":
                self._waiting.remove(job)
                self._finish(job, "cancelled")
                cancelled_queued = True
            elif job.state == "running":
                job.cancel_event.set()
        if cancelled_queued:
            self._notify(job)
        return job

    def _notify(self, job: Job) -> None:
        for listener in list(self.listeners):
            try:
                listener(job)
            except Exception as exc:  # a failing listener must not stop the worker
                logger.error("job %s: listener %r failed: %s: %s", job.id, listener, type(exc).__name__, exc)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """Return the job's record with its queue position, from memory or ``jobs/``."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                record = job.to_record()
                record["queue_position"] = self._position(job)
                return record
        record = self._stored_record(job_id)
        if record is None:
            return None
        record["queue_position"] = None
        return record

    def _stored_record(self, job_id: str) -> dict[str, Any] | None:
        """Return the ``jobs/<id>.json`` record, or None when the id is malformed or has none."""
        if not JOB_ID_PATTERN.match(job_id):
            return None
        path = f"{JOBS}/{job_id}.json"
        if not self.storage.exists(path):
            return None
        record = self.storage.read_json(path)
        return record if isinstance(record, dict) else None

    def history(self) -> list[dict[str, Any]]:
        """Return the records held in memory, newest first."""
        with self._lock:
            records = []
            for job in reversed(self._jobs.values()):
                record = job.to_record()
                record["queue_position"] = self._position(job)
                records.append(record)
            return records

    def held_jobs(self) -> int:
        """Return the number of job records held in memory."""
        with self._lock:
            return len(self._jobs)

    def _position(self, job: Job) -> int | None:
        """Return the 1-based place of a queued job among the waiting jobs."""
        if job.state != "queued":
            return None
        for index, waiting in enumerate(self._waiting):
            if waiting is job:
                return index + 1
        return None

    def _evict(self) -> None:
        """Drop the oldest finished records until at most ``history_size`` are held."""
        excess = len(self._jobs) - self.history_size
        if excess <= 0:
            return
        for job_id in [j.id for j in self._jobs.values() if j.state in FINAL_STATES][:excess]:
            del self._jobs[job_id]

    # Worker -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.generator = self._load_generator()
        except Exception as exc:  # any load failure must leave the server returning 503
            self.load_exception = exc
            self.load_error = f"{type(exc).__name__}: {exc}"
            logger.error("loading the generator failed: %s", self.load_error)
            self._ready.set()
            return
        if self.generator is None:
            self.load_error = "the generator loader returned None"
            logger.error("loading the generator failed: %s", self.load_error)
            self._ready.set()
            return
        self._ready.set()
        logger.info("generation worker ready (model %s, LoRA %s)", self.generator.model_name, self.generator.lora_name)
        while True:
            with self._lock:
                while not self._waiting and not self._stopping:
                    self._wakeup.wait()
                if self._stopping:
                    return
                job = self._waiting.popleft()
                job.state = "running"
                job.started = time.time()
            self._save(job)
            self._execute(job)
            self._notify(job)

    def _execute(self, job: Job) -> None:
        logger.info("job %s running", job.id)

        def on_step(step: int, total: int) -> None:
            job.step = step
            job.total_steps = total

        try:
            select_lora = getattr(self.generator, "select_lora", None)
            if select_lora is not None:
                select_lora(job.lora)
            elif job.lora != getattr(self.generator, "lora_name", None):
                raise ValueError(f"this generator has no adapter {job.lora!r}")
            images = self.generator.generate(job.params, progress=on_step, cancel=job.cancel_event)
            names = []
            for index, image in enumerate(images):
                name = f"{job.id}-{index}.png"
                save_generation(
                    self.storage,
                    f"{GALLERY}/{name}",
                    image,
                    job.params.for_image(index),
                    model=self.generator.model_name,
                    lora=self.generator.lora_name,
                    extra={"job": job.id, "created": job.created, "started": job.started, "finished": time.time()},
                )
                names.append(name)
            del images
        except GenerationCancelled:
            with self._lock:
                self._finish(job, "cancelled")
            logger.info("job %s cancelled", job.id)
            return
        except Exception as exc:  # a failed job is recorded; the worker goes on with the next one
            logger.error("job %s failed: %s: %s", job.id, type(exc).__name__, exc)
            with self._lock:
                self._finish(job, "failed", error=f"{type(exc).__name__}: {exc}")
            return
        with self._lock:
            job.results = names
            self._finish(job, "done")
            if job.started is not None:
                self._job_seconds = job.finished - job.started
        logger.info("job %s done in %.2f s", job.id, job.finished - (job.started or job.finished))

    def _finish(self, job: Job, state: str, *, error: str | None = None) -> None:
        """Set a final state; the caller holds the lock."""
        job.state = state
        job.error = error
        job.finished = time.time()
        self._save(job)
        self._evict()

    def _save(self, job: Job) -> None:
        try:
            self.storage.write_json(f"{JOBS}/{job.id}.json", job.to_record())
        except OSError as exc:
            logger.error("writing the record of job %s failed: %s", job.id, exc)


def mark_interrupted(storage) -> list[str]:
    """Mark job records left queued or running by an earlier server as ``interrupted``.

    Return the ids changed. Unreadable records are skipped and logged.
    """
    changed = []
    for name in storage.listdir(JOBS):
        if not name.endswith(".json"):
            continue
        path = f"{JOBS}/{name}"
        try:
            record = storage.read_json(path)
        except (OSError, ValueError) as exc:
            logger.error("job record %s is unreadable: %s", name, exc)
            continue
        if isinstance(record, dict) and record.get("state") in ACTIVE_STATES:
            record["state"] = "interrupted"
            record["error"] = "the server stopped before the job finished"
            storage.write_json(path, record)
            changed.append(str(record.get("id", name[:-5])))
    if changed:
        logger.info("marked %d job(s) interrupted: %s", len(changed), ", ".join(changed))
    return changed
