"""Torch intra-op threads of generation: from the CPUs this process may use, or overridden."""

from __future__ import annotations

import os

import pytest

from demographic2art.errors import InvalidValueError
from demographic2art.generate.threads import THREADS_ENV, available_cpus, torch_threads


@pytest.fixture(autouse=True)
def _no_thread_env(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)


def test_default_is_affinity_size():
    assert torch_threads() == available_cpus()
    assert available_cpus() <= len(os.sched_getaffinity(0))


def test_affinity_mask_limits_default():
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(before)})
        assert available_cpus() == 1
    finally:
        os.sched_setaffinity(0, before)


def test_env_overrides_default(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    assert torch_threads() == 3


def test_explicit_value_overrides_env(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    assert torch_threads(5) == 5


@pytest.mark.parametrize("raw", ["0", "-2", "many", "1.5"])
def test_bad_env_value_rejected(monkeypatch, raw):
    monkeypatch.setenv(THREADS_ENV, raw)
    with pytest.raises(InvalidValueError, match=THREADS_ENV):
        torch_threads()


@pytest.mark.parametrize("value", [0, -1, True])
def test_bad_explicit_value_rejected(value):
    with pytest.raises(InvalidValueError, match="torch thread count"):
        torch_threads(value)


class _ThreadRecorder:
    """The real generator, recording torch's thread count in the thread that runs each job."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.lora_name = inner.lora_name
        self.pipeline = inner.pipeline
        self.seen: list[int] = []

    def generate(self, params, **options):
        import torch

        self.seen.append(torch.get_num_threads())
        return self.inner.generate(params, **options)


def test_worker_thread_uses_requested_threads(tiny_model, tmp_path):
    import time

    from demographic2art.generate import Generator
    from demographic2art.serve import create_app
    from demographic2art.workspace import Workspace

    recorder = _ThreadRecorder(Generator(str(tiny_model), device="cpu"))
    requested = 1 if available_cpus() > 1 else 2
    app = create_app(Workspace(tmp_path / "ws"), generator=recorder, threads=requested)
    queue = app.extensions["d2a_queue"]
    try:
        assert queue.wait_ready(60)
        client = app.test_client()
        job_id = client.post("/api/jobs", json={"prompt": "a harbour", "steps": 1, "width": 64, "height": 64}).get_json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/jobs/{job_id}").get_json()["state"] != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        queue.stop()
    assert recorder.seen == [requested]


def _wait_policy_in_subprocess(env_policy: str | None) -> list[str]:
    import subprocess
    import sys

    code = (
        "import os\nfrom demographic2art.generate.threads import prefer_passive_openmp\n"
        "applies = prefer_passive_openmp()\nimport torch\nprint(os.environ['OMP_WAIT_POLICY'], applies)"
    )
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    if env_policy is not None:
        env["OMP_WAIT_POLICY"] = env_policy
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    return result.stdout.split()


def test_passive_wait_policy_set_before_torch():
    assert _wait_policy_in_subprocess(None) == ["PASSIVE", "True"]


def test_wait_policy_from_environment_kept():
    assert _wait_policy_in_subprocess("ACTIVE") == ["ACTIVE", "True"]
