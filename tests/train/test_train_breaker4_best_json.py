"""Hand-edited runs/best.json records as read by `d2a status`."""

from __future__ import annotations

import json

import pytest

from conftest import tiny_lora_bytes
from demographic2art.cli.main import main
from demographic2art.errors import InvalidValueError
from demographic2art.status import workspace_status
from demographic2art.train.best import update_best_run
from demographic2art.workspace import Workspace

LORA = "lora/pytorch_lora_weights.safetensors"


@pytest.fixture
def workspace(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    storage = workspace.storage
    summary = {"model": "models/tiny", "validation_loss": 0.25, "lora": f"runs/alpha/{LORA}"}
    storage.write_json("runs/alpha/summary.json", summary)
    storage.write_bytes(f"runs/alpha/{LORA}", tiny_lora_bytes())
    return workspace


def _train_detail(workspace) -> str:
    return [stage for stage in workspace_status(workspace).stages if stage.name == "train"][0].detail


@pytest.mark.parametrize("record", [{"run": "alpha"}, {"run": "alpha", "validation_loss": "NaN"}, {"run": "alpha", "validation_loss": None}])
def test_status_best_without_numeric_loss(workspace, record):
    workspace.storage.write_json("runs/best.json", record)
    assert _train_detail(workspace) == "1 runs, best alpha (validation loss unknown)"


def test_status_best_nan_loss(workspace):
    with open(workspace.storage.path("runs/best.json"), "w") as handle:
        handle.write('{"run": "alpha", "validation_loss": NaN, "candidates": 1}')
    assert _train_detail(workspace) == "1 runs, best alpha (validation loss unknown, lowest of 1 comparable runs)"


@pytest.mark.parametrize("text", ["[1, 2]", '"alpha"', '{"validation_loss": 0.25}', '{"run": 3}'])
def test_status_best_not_a_record(workspace, text):
    with open(workspace.storage.path("runs/best.json"), "w") as handle:
        handle.write(text)
    with pytest.raises(InvalidValueError, match="runs/best.json"):
        workspace_status(workspace)


def test_status_cli_best_list_exit_2(workspace, capsys):
    with open(workspace.storage.path("runs/best.json"), "w") as handle:
        json.dump([1, 2], handle)
    status = main(["status", "-w", workspace.storage.root])
    captured = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in captured.err
    assert "runs/best.json" in captured.err


def _write_summary(workspace, run: str, text: str) -> None:
    workspace.storage.makedirs(f"runs/{run}")
    with open(workspace.storage.path(f"runs/{run}/summary.json"), "w") as handle:
        handle.write(text)


def test_best_run_skips_lora_outside(workspace):
    _write_summary(workspace, "beta", '{"model": "models/tiny", "validation_loss": 0.01, "lora": "/etc/hosts"}')
    record = update_best_run(workspace)
    assert record["run"] == "alpha"
    assert {"run": "beta", "reason": "LoRA path '/etc/hosts' is outside the workspace"} in record["left_out"]


def test_best_run_skips_boolean_loss(workspace):
    _write_summary(workspace, "beta", f'{{"model": "models/tiny", "validation_loss": true, "lora": "runs/alpha/{LORA}"}}')
    record = update_best_run(workspace)
    assert record["run"] == "alpha"
    assert {"run": "beta", "reason": "no finite validation loss"} in record["left_out"]


def test_best_run_skips_deleted_lora(workspace):
    _write_summary(workspace, "beta", f'{{"model": "models/tiny", "validation_loss": 0.01, "lora": "runs/beta/{LORA}"}}')
    record = update_best_run(workspace)
    assert record["run"] == "alpha"
    assert {"run": "beta", "reason": f"LoRA file 'runs/beta/{LORA}' is missing"} in record["left_out"]
