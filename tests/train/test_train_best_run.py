"""The workspace's best run: lowest validation loss among comparable finished runs."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import tiny_lora_bytes, write_training_workspace
from demographic2art.status import workspace_status
from demographic2art.train import TrainConfig, train_lora
from demographic2art.train.best import choose_best_run, update_best_run
from demographic2art.train.sweep import record_best_run, run_sweep
from demographic2art.workspace import Workspace

LORA = "lora/pytorch_lora_weights.safetensors"


def _write_run(workspace, run: str, loss: float, *, images: int = 1, resolution=None, lora: bool = True) -> None:
    """Write an invented finished run: summary, config and a minimal LoRA file."""
    storage = workspace.storage
    summary = {
        "run_name": run,
        "model": "models/tiny",
        "validation_loss": loss,
        "final_loss": loss,
        "validation_images": images,
        "validation_split": "validation",
        "lora": f"runs/{run}/{LORA}",
    }
    storage.write_json(f"runs/{run}/summary.json", summary)
    storage.write_json(f"runs/{run}/config.json", {"model": "models/tiny", "resolution": resolution, "aspect_buckets": False})
    if lora:
        storage.write_bytes(f"runs/{run}/{LORA}", tiny_lora_bytes())


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path / "ws").create()


def test_best_lowest_loss_over_sweeps(workspace):
    _write_run(workspace, "demo", 1.0743)
    _write_run(workspace, "small/lr0.001-seed1", 1.1111)
    _write_run(workspace, "small/lr0.0005-seed1", 1.2)
    record = update_best_run(workspace, reference="small/lr0.001-seed1")
    assert record["run"] == "demo"
    assert record["validation_loss"] == 1.0743
    assert record["lora"] == f"runs/demo/{LORA}"
    assert record["candidates"] == 3
    assert record["left_out"] == []
    assert workspace.storage.read_json("runs/best.json") == record


def test_best_later_better_run_replaces(workspace):
    _write_run(workspace, "demo", 1.0743)
    update_best_run(workspace, reference="demo")
    _write_run(workspace, "better", 0.9)
    record_best_run(workspace, "better", f"runs/better/{LORA}", 0.9)
    best = workspace.storage.read_json("runs/best.json")
    assert best["run"] == "better"
    assert best["candidates"] == 2


def test_best_other_validation_settings_left_out(workspace):
    _write_run(workspace, "old", 0.5, images=3)
    _write_run(workspace, "new-a", 1.0, images=5)
    _write_run(workspace, "new-b", 0.8, images=5)
    record = update_best_run(workspace, reference="new-a")
    assert record["run"] == "new-b"
    assert record["candidates"] == 2
    assert record["validation"]["validation_images"] == 5
    assert [entry["run"] for entry in record["left_out"]] == ["old"]
    assert "validation_images 3, not 5" in record["left_out"][0]["reason"]


def test_best_resolution_differs_left_out(workspace):
    _write_run(workspace, "at-64", 0.5, resolution=64)
    _write_run(workspace, "default", 1.0)
    record = update_best_run(workspace, reference="default")
    assert record["run"] == "default"
    assert record["left_out"][0]["run"] == "at-64"


def test_best_skips_runs_without_lora_or_loss(workspace):
    _write_run(workspace, "no-file", 0.1, lora=False)
    _write_run(workspace, "nan", float("nan"))
    _write_run(workspace, "kept", 2.0)
    record = choose_best_run(workspace)
    assert record["run"] == "kept"
    reasons = {entry["run"]: entry["reason"] for entry in record["left_out"]}
    assert "is missing" in reasons["no-file"]
    assert reasons["nan"] == "no finite validation loss"


@pytest.mark.parametrize("content, reason", [
    (b"placeholder", "not a valid safetensors file"),
    (b"", "is empty"),
])
def test_best_skips_lora_files_that_do_not_load(workspace, content, reason):
    _write_run(workspace, "broken", 0.1)
    workspace.storage.write_bytes(f"runs/broken/{LORA}", content)
    _write_run(workspace, "kept", 2.0)

    record = choose_best_run(workspace)

    assert record["run"] == "kept"
    reasons = {entry["run"]: entry["reason"] for entry in record["left_out"]}
    assert reason in reasons["broken"]


def test_best_skips_safetensors_without_lora_weights(workspace):
    from safetensors.numpy import save

    _write_run(workspace, "full-model", 0.1)
    workspace.storage.write_bytes(f"runs/full-model/{LORA}", save({"unet.conv_in.weight": np.zeros((2, 2), np.float32)}))
    _write_run(workspace, "kept", 2.0)

    record = choose_best_run(workspace)

    assert record["run"] == "kept"
    reasons = {entry["run"]: entry["reason"] for entry in record["left_out"]}
    assert "none is a LoRA weight" in reasons["full-model"]


def test_best_without_reference_keeps_previous_group(workspace):
    _write_run(workspace, "a", 1.0, images=5)
    update_best_run(workspace, reference="a")
    _write_run(workspace, "b", 0.5, images=3)
    _write_run(workspace, "c", 0.6, images=3)
    # The largest group is the one with 3 images, but the recorded best decides the settings.
    assert choose_best_run(workspace)["run"] == "a"


def test_best_none_without_finished_runs(workspace):
    assert update_best_run(workspace) is None
    assert not workspace.storage.exists("runs/best.json")


def test_status_names_comparable_count(workspace):
    _write_run(workspace, "old", 0.5, images=3)
    _write_run(workspace, "new", 1.0, images=5)
    update_best_run(workspace, reference="new")
    train = [stage for stage in workspace_status(workspace).stages if stage.name == "train"][0]
    assert train.detail == "2 runs, best new (validation loss 1.0000, lowest of 1 comparable runs; 1 runs left out, see runs/best.json)"


def test_sweep_keeps_better_earlier_run(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    base = TrainConfig(model=str(tiny_model), steps=1, batch_size=2)
    train_lora(workspace, base.model_copy(update={"run_name": "solo"}))
    storage = workspace.storage
    # Lower the solo run's recorded loss so it is better than any run the sweep trains.
    summary = storage.read_json("runs/solo/summary.json")
    summary["validation_loss"] = 1e-3
    storage.write_json("runs/solo/summary.json", summary)
    record_best_run(workspace, "solo", summary["lora"], 1e-3)

    result = run_sweep(workspace, base, learning_rates=[1e-3], seeds=[1], name="small", samples=False)
    best = storage.read_json("runs/best.json")
    assert result.best_run == "small/lr0.001-seed1"
    assert best["run"] == "solo"
    assert best["candidates"] == 2
    assert result.workspace_best == best

    # A later run with a lower loss replaces it.
    train_lora(workspace, base.model_copy(update={"run_name": "later"}))
    later = storage.read_json("runs/later/summary.json")
    later["validation_loss"] = 1e-6
    storage.write_json("runs/later/summary.json", later)
    record_best_run(workspace, "later", later["lora"], 1e-6)
    assert storage.read_json("runs/best.json")["run"] == "later"
