"""The local sweep engine's worker processes, run on the CPU.

No GPU is present here, so the one-process-per-GPU path runs with made-up device ids:
each worker still gets its own ``CUDA_VISIBLE_DEVICES`` and, with a CPU build of torch,
trains on the CPU.
"""

from __future__ import annotations

import os
import re

import pytest

from conftest import write_training_workspace
from demographic2art.train import TrainConfig
from demographic2art.train.engines.local import run_local, visible_gpus
from demographic2art.train.sweep import plan_sweep


def test_visible_gpus_reads_environment(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert visible_gpus() == ["2", "5"]


def test_visible_gpus_hidden_is_empty(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert visible_gpus() == []


@pytest.mark.slow
def test_one_process_per_device(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    configs = plan_sweep(TrainConfig(model=str(tiny_model), steps=1, batch_size=2), {"seed": [42, 43]}, "grid")
    outcomes = run_local(workspace, configs, devices=["0", "1"])
    assert [o["status"] for o in outcomes] == ["ok", "ok"]
    devices_by_pid = {}
    for outcome in outcomes:
        match = re.search(r"pid (\d+), .*CUDA_VISIBLE_DEVICES=(\S+)", outcome["worker"])
        assert match is not None, outcome["worker"]
        pid, device = int(match.group(1)), match.group(2)
        assert pid != os.getpid()
        assert device in {"0", "1"}
        assert devices_by_pid.setdefault(pid, device) == device
    assert workspace.storage.exists("runs/grid/seed42/lora/pytorch_lora_weights.safetensors")
    assert workspace.storage.exists("runs/grid/seed43/lora/pytorch_lora_weights.safetensors")


@pytest.mark.slow
def test_cpu_workers_use_one_thread(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    configs = plan_sweep(TrainConfig(model=str(tiny_model), steps=1, batch_size=2), {"seed": [42, 43]}, "grid")
    outcomes = run_local(workspace, configs, workers=2, devices=[])
    assert [o["status"] for o in outcomes] == ["ok", "ok"]
    for outcome in outcomes:
        assert ", 1 torch thread(s)" in outcome["worker"]
        assert "CUDA_VISIBLE_DEVICES" not in outcome["worker"]
        assert f"pid {os.getpid()}," not in outcome["worker"]
