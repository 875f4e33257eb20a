"""Helpers of the web-app tests: a slowed generator and job polling."""

from __future__ import annotations

import time


class SlowGenerator:
    """The real generator with a pause before each job, for jobs of a known minimum length.

    Only the duration is artificial: the images are the real generator's output.
    """

    def __init__(self, inner, job_seconds: float) -> None:
        self.inner = inner
        self.job_seconds = job_seconds
        self.model_name = inner.model_name
        self.lora_name = inner.lora_name
        self.pipeline = inner.pipeline

    def generate(self, params, *, progress=None, cancel=None):
        deadline = time.monotonic() + self.job_seconds
        while time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                break
            time.sleep(0.05)
        return self.inner.generate(params, progress=progress, cancel=cancel)


def wait_for_state(client_get, job_id: str, states: tuple[str, ...], timeout_s: float, interval_s: float = 0.1) -> dict:
    """Poll a job until its state is one of ``states``; return the last record."""
    deadline = time.monotonic() + timeout_s
    record = {}
    while time.monotonic() < deadline:
        record = client_get(f"/api/jobs/{job_id}")
        if record.get("state") in states:
            return record
        time.sleep(interval_s)
    raise AssertionError(f"job {job_id} did not reach {states} within {timeout_s} s; last record {record}")
