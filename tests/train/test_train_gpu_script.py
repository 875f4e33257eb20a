"""The SD 1.5 GPU benchmark script, checked on the CPU through its --small --allow-cpu path."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_gpu_sd15.py"


@pytest.mark.slow
def test_gpu_script_small_cpu_run():
    command = [
        sys.executable, str(SCRIPT), "--small", "--allow-cpu", "--steps", "1", "--warmup", "0",
        "--batches", "1", "--precisions", "bf16", "--checkpointing", "off,on",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert [result["gradient_checkpointing"] for result in results] == [False, True]
    for result in results:
        assert math.isfinite(result["final_loss"]), result
        assert result["steps_per_second"] > 0, result


def test_gpu_script_without_cuda_exits():
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the script measures the GPU")
    completed = subprocess.run([sys.executable, str(SCRIPT), "--steps", "1"], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 1
    assert "no CUDA device" in completed.stderr
