"""The Ray Tune sweep engine on a real local Ray cluster (2 CPUs, no dashboard, 127.0.0.1 only)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from conftest import write_training_workspace
from demographic2art.train import LossGuard, TrainConfig
from demographic2art.train.sweep import run_sweep

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ray = pytest.importorskip("ray")


# Trials unpickle FailOnceGuard, and Ray's workers cannot import this test module by name.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
pytestmark = pytest.mark.ray


class FailOnceGuard(LossGuard):
    """Raises once at ``fail_step``, as a crashed trial would, then checks losses as usual."""

    def __init__(self, marker: str, fail_step: int) -> None:
        self.marker = marker
        self.fail_step = fail_step

    def check(self, step: int, loss: float) -> None:
        super().check(step, loss)
        if step == self.fail_step and not Path(self.marker).exists():
            Path(self.marker).write_text(f"failed at step {step}\n")
            raise RuntimeError(f"injected failure at step {step}")


@pytest.mark.slow
def test_ray_trial_retries_from_checkpoint(ray_cluster, tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    base = TrainConfig(model=str(tiny_model), steps=3, batch_size=2, checkpointing_steps=1)
    guard = FailOnceGuard(str(tmp_path / "failed-once"), fail_step=2)
    result = run_sweep(
        workspace, base, learning_rates=[1e-3], seeds=[42], name="grid", engine="ray",
        max_failures=1, samples=False, guard=guard,
    )
    assert (tmp_path / "failed-once").read_text() == "failed at step 2\n"
    assert list(result.table["status"]) == ["ok"]
    assert result.table.loc[0, "attempts"] == 2
    summary = workspace.storage.read_json("runs/grid/lr0.001-seed42/summary.json")
    assert summary["resumed_at_step"] == 1
    assert summary["steps"] == 3
    assert workspace.storage.read_json("runs/best.json")["run"] == "grid/lr0.001-seed42"
    experiment = Path(workspace.local_path("runs/grid/ray/grid"))
    assert list(experiment.glob("experiment_state-*.json"))
    assert (experiment / "lr0.001-seed42").is_dir()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch):
    """moto's S3 server on 127.0.0.1 with one bucket, ``sweeps``."""
    import boto3
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket="sweeps")
    yield url
    server.stop()


@pytest.mark.slow
def test_ray_experiment_stored_on_s3(ray_cluster, tiny_model, tmp_path, s3_endpoint):
    import boto3

    workspace = write_training_workspace(tmp_path / "ws")
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing", "client_kwargs": {"region_name": "us-east-1"}}
    result = run_sweep(
        workspace, TrainConfig(model=str(tiny_model), steps=1, batch_size=2), learning_rates=[1e-4, 1e-3], seeds=[42],
        name="s3grid", engine="ray", storage_path="s3://sweeps/experiments", storage_options=options, samples=False,
    )
    assert list(result.table["status"]) == ["ok", "ok"]
    assert list(result.table["validation_loss"]) == sorted(result.table["validation_loss"])
    assert workspace.storage.read_json("runs/best.json")["run"] == result.table.iloc[0]["run"]
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    keys = [item["Key"] for item in client.list_objects_v2(Bucket="sweeps", Prefix="experiments/s3grid/")["Contents"]]
    assert any(key.split("/")[-1].startswith("experiment_state-") for key in keys)
    assert any(key.startswith("experiments/s3grid/lr0.001-seed42/") for key in keys)
    assert any(key.startswith("experiments/s3grid/lr0.0001-seed42/") for key in keys)
