"""Fixtures and helpers of the web-app tests: the tiny model, apps, live servers and polling.

They live in this module, not in a conftest.py, so that ``from conftest import load_case``
in the test modules still finds the suite's top-level conftest.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from demographic2art.serve import create_app
from demographic2art.workspace import Workspace

READY_TIMEOUT_S = 60
# Models come from local folders only; no test may reach the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Idle OpenMP threads sleep instead of spinning, which keeps jobs fast on a loaded machine.
# It applies when this module is imported before torch, as during test collection.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# Test modules import these fixtures, and each module gets its own session fixture
# definition, so the model and generator are cached here to be built once per run.
_SESSION_CACHE: dict[str, object] = {}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny randomly initialised SD 1.x pipeline saved once per session."""
    from demographic2art.model.tiny import save_tiny_model

    if "model" not in _SESSION_CACHE:
        _SESSION_CACHE["model"] = save_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny")
    return _SESSION_CACHE["model"]


@pytest.fixture(scope="session")
def generator(tiny_model):
    """One loaded generator, used by one app's worker thread at a time."""
    from demographic2art.generate import Generator

    if "generator" not in _SESSION_CACHE:
        _SESSION_CACHE["generator"] = Generator(str(tiny_model), device="cpu")
    return _SESSION_CACHE["generator"]


@pytest.fixture
def make_app(tmp_path):
    """Return a factory of studio apps on fresh workspaces; workers stop at teardown."""
    apps = []

    def build(generator, *, workspace: Workspace | None = None, **options):
        workspace = workspace or Workspace(tmp_path / f"ws{len(apps)}")
        app = create_app(workspace, generator=generator, **options)
        apps.append(app)
        assert app.extensions["d2a_queue"].wait_ready(READY_TIMEOUT_S)
        return app

    yield build
    for app in apps:
        app.extensions["d2a_queue"].stop()


class LiveServer:
    """A waitress server on 127.0.0.1 with an ephemeral port, run in a thread."""

    def __init__(self, app, **options) -> None:
        from waitress.server import create_server

        self.server = create_server(app, host="127.0.0.1", port=0, **options)
        self.port = self.server.effective_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def live_server():
    """Return a starter of live servers; each is closed at teardown."""
    servers = []

    def start(app, **options) -> LiveServer:
        server = LiveServer(app, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


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


def make_random_lora(tiny_model, folder: Path, seed: int) -> str:
    """Save a LoRA with random non-zero weights on the tiny UNet's attention layers.

    It is built with PEFT instead of trained, because the studio only needs adapters
    that change the images. The training stage has its own tests.
    """
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(tiny_model, subfolder="unet")
    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False)
    unet.add_adapter(config)
    folder.mkdir(parents=True, exist_ok=True)
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(str(folder), unet_lora_layers=layers, safe_serialization=True)
    return str(folder / "pytorch_lora_weights.safetensors")


@pytest.fixture(scope="session")
def studio_workspace_runs(tiny_model, tmp_path_factory) -> Path:
    """A workspace folder with two invented training runs, each with a random LoRA."""
    import json

    if "runs" not in _SESSION_CACHE:
        root = tmp_path_factory.mktemp("studio-runs")
        for index, (run, loss) in enumerate((("run-warm", 0.12), ("run-cool", 0.09))):
            make_random_lora(tiny_model, root / "runs" / run / "lora", seed=index + 1)
            summary = {"final_loss": loss, "validation_loss": loss, "lora": f"runs/{run}/lora/pytorch_lora_weights.safetensors"}
            (root / "runs" / run / "summary.json").write_text(json.dumps(summary))
        _SESSION_CACHE["runs"] = root
    return _SESSION_CACHE["runs"]


@pytest.fixture(scope="session")
def studio_generator(tiny_model, studio_workspace_runs):
    """A StudioGenerator with the two invented runs switchable and run-cool the default."""
    from demographic2art.serve.models import StudioGenerator

    if "studio_generator" not in _SESSION_CACHE:
        runs = studio_workspace_runs / "runs"
        loras = {name: str(runs / name / "lora" / "pytorch_lora_weights.safetensors") for name in ("run-warm", "run-cool")}
        _SESSION_CACHE["studio_generator"] = StudioGenerator(str(tiny_model), loras, default="run-cool", device="cpu")
    return _SESSION_CACHE["studio_generator"]
