"""The local training grid and the choice of the best run."""

from __future__ import annotations

import pytest

from conftest import write_training_workspace
from demographic2art.errors import InvalidValueError
from demographic2art.train import TrainConfig
from demographic2art.train.sweep import grid, run_sweep


def test_grid_is_full_product_in_order():
    points = grid({"learning_rate": [1e-4, 1e-3], "seed": [42, 43]})
    assert points == [
        {"learning_rate": 1e-4, "seed": 42},
        {"learning_rate": 1e-4, "seed": 43},
        {"learning_rate": 1e-3, "seed": 42},
        {"learning_rate": 1e-3, "seed": 43},
    ]


@pytest.mark.slow
def test_sweep_ranks_by_validation_loss(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    base = TrainConfig(model=str(tiny_model), steps=3, batch_size=2)
    result = run_sweep(workspace, base, learning_rates=[1e-4, 1e-2], seeds=[42], name="grid")
    table = result.table
    assert len(table) == 2
    assert list(table["validation_loss"]) == sorted(table["validation_loss"])
    assert result.best_run == table.iloc[0]["run"]
    best = workspace.storage.read_json("runs/best.json")
    assert best["run"] == result.best_run
    assert workspace.storage.exists(best["lora"])
    assert workspace.storage.read_bytes("runs/grid/loss_curves.png")[:4] == b"\x89PNG"
    assert {"runs/grid/lr0.0001-seed42/summary.json", "runs/grid/lr0.01-seed42/summary.json"} <= set(
        workspace.storage.glob("runs/grid/*/summary.json")
    )


def test_sweep_rejects_unknown_axis(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    with pytest.raises(InvalidValueError, match="not a training setting"):
        run_sweep(workspace, TrainConfig(model=str(tiny_model)), extra_axes={"colour": [1]})
