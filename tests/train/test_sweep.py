"""The training grid: axes, run plans, the results table and a full 6-run sweep on the tiny model."""

from __future__ import annotations

import io
import math

import pytest

from conftest import write_training_workspace
from demographic2art.errors import DataError, InvalidValueError
from demographic2art.train import TrainConfig
from demographic2art.train.sweep import (
    grid,
    parse_axis,
    plan_sweep,
    results_table,
    run_sweep,
    sweep_axes,
)
from demographic2art.workspace import Workspace


def test_grid_is_full_product_in_order():
    points = grid({"learning_rate": [1e-4, 1e-3], "seed": [42, 43]})
    assert points == [
        {"learning_rate": 1e-4, "seed": 42},
        {"learning_rate": 1e-4, "seed": 43},
        {"learning_rate": 1e-3, "seed": 42},
        {"learning_rate": 1e-3, "seed": 43},
    ]


def test_default_axes_are_three_rates_two_seeds():
    axes = sweep_axes()
    assert axes["learning_rate"] == [1e-4, 5e-4, 1e-3]
    assert axes["seed"] == [42, 43]
    assert len(grid(axes)) == 6


@pytest.mark.parametrize(
    ("spec", "name", "values"),
    [
        ("rank=4,8", "rank", [4, 8]),
        ("lr=1e-4,2e-3", "learning_rate", [1e-4, 2e-3]),
        ("min-snr-gamma=none,5", "min_snr_gamma", [None, 5.0]),
        ("train_text_encoder=true,false", "train_text_encoder", [True, False]),
        ("lr_scheduler=constant,cosine", "lr_scheduler", ["constant", "cosine"]),
        ("unet_targets=to_q+to_v,to_q+to_k+to_v", "unet_targets", [("to_q", "to_v"), ("to_q", "to_k", "to_v")]),
    ],
)
def test_parse_axis_types_values(spec, name, values):
    assert parse_axis(spec) == (name, values)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("colour=1,2", "not a training setting"),
        ("model=a,b", "cannot be a sweep axis"),
        ("rank=four", "value 'four' is invalid"),
        ("lr_scheduler=sawtooth", "value 'sawtooth' is invalid"),
        ("rank", "has no '='"),
        ("rank=", "has no values"),
    ],
)
def test_parse_axis_rejects_bad_spec(spec, message):
    with pytest.raises(InvalidValueError, match=message):
        parse_axis(spec)


def test_plan_names_runs_and_derives_alpha():
    base = TrainConfig(model="m", steps=3)
    configs = plan_sweep(base, {"learning_rate": [1e-4], "seed": [42], "rank": [4, 8]}, "grid")
    assert [c.run_name for c in configs] == ["grid/lr0.0001-seed42-r4", "grid/lr0.0001-seed42-r8"]
    assert [c.alpha for c in configs] == [4.0, 8.0]
    assert [c.steps for c in configs] == [3, 3]


def test_plan_keeps_explicit_alpha():
    configs = plan_sweep(TrainConfig(model="m", alpha=1.0), {"rank": [4, 8]}, "grid")
    assert [c.alpha for c in configs] == [1.0, 1.0]


def test_plan_text_encoder_rate_follows_rate():
    configs = plan_sweep(TrainConfig(model="m"), {"learning_rate": [1e-4, 1e-3]}, "grid")
    assert [c.text_encoder_learning_rate for c in configs] == [1e-4, 1e-3]


def test_plan_rejects_repeated_value():
    with pytest.raises(InvalidValueError, match="repeat"):
        plan_sweep(TrainConfig(model="m"), {"seed": [42, 42]}, "grid")


def test_plan_rejects_invalid_grid_point():
    with pytest.raises(InvalidValueError, match="invalid setting rank"):
        plan_sweep(TrainConfig(model="m"), {"rank": [0]}, "grid")


def _write_summary(workspace: Workspace, run: str, validation_loss: float) -> None:
    workspace.storage.write_json(
        f"runs/{run}/summary.json",
        {"validation_loss": validation_loss, "final_loss": 1.0, "seconds": 2.0, "lora": f"runs/{run}/lora/x.safetensors"},
    )


def test_results_rank_ok_runs_before_failed(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    configs = plan_sweep(TrainConfig(model="m"), {"seed": [1, 2, 3]}, "grid")
    _write_summary(workspace, "grid/seed1", 0.5)
    _write_summary(workspace, "grid/seed3", 0.2)
    outcomes = [
        {"run": "grid/seed1", "status": "ok"},
        {"run": "grid/seed2", "status": "failed", "error": "RuntimeError: out of memory"},
        {"run": "grid/seed3", "status": "ok"},
    ]
    table = results_table(workspace, configs, {"seed": [1, 2, 3]}, outcomes)
    assert list(table["run"]) == ["grid/seed3", "grid/seed1", "grid/seed2"]
    assert list(table["rank"].astype("object").fillna(0)) == [1, 2, 0]
    assert list(table["status"]) == ["ok", "ok", "failed"]
    assert table.loc[2, "error"] == "RuntimeError: out of memory"
    assert math.isnan(table.loc[2, "validation_loss"])


def test_results_missing_summary_is_failure(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    configs = plan_sweep(TrainConfig(model="m"), {"seed": [1]}, "grid")
    table = results_table(workspace, configs, {"seed": [1]}, [{"run": "grid/seed1", "status": "ok"}])
    assert table.loc[0, "status"] == "failed"
    assert "summary.json is missing" in table.loc[0, "error"]


def test_sweep_rejects_unknown_axis(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    with pytest.raises(InvalidValueError, match="not a training setting"):
        run_sweep(workspace, TrainConfig(model=str(tiny_model)), extra_axes={"colour": [1]})


def test_sweep_rejects_unknown_engine(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    with pytest.raises(InvalidValueError, match="engine 'slurm' is unknown"):
        run_sweep(workspace, TrainConfig(model="m"), engine="slurm")


def test_sweep_all_failed_raises(tiny_model, tmp_path):
    workspace = Workspace(tmp_path / "ws").create()  # no captions, so every run fails
    with pytest.raises(DataError, match="every run of sweep grid failed"):
        run_sweep(workspace, TrainConfig(model=str(tiny_model), steps=1), learning_rates=[1e-4], seeds=[42], name="grid")
    assert not workspace.storage.exists("runs/best.json")
    assert "failed" in workspace.storage.read_text("runs/grid/results.csv")


def test_cli_sweep_rejects_bad_axis(tmp_path, capsys):
    from demographic2art.cli.main import main

    status = main(["sweep", "-w", str(tmp_path / "ws"), "--axis", "colour=red"])
    assert status == 2
    assert "not a training setting" in capsys.readouterr().err


@pytest.mark.slow
def test_six_run_grid_picks_lowest_validation(tiny_model, tmp_path):
    from PIL import Image

    workspace = write_training_workspace(tmp_path / "ws")
    base = TrainConfig(model=str(tiny_model), steps=1, batch_size=2)
    result = run_sweep(workspace, base, name="grid", sample_steps=2)
    storage = workspace.storage
    table = result.table
    assert len(table) == 6
    assert set(table["status"]) == {"ok"}
    assert list(table["rank"]) == [1, 2, 3, 4, 5, 6]
    assert list(table["validation_loss"]) == sorted(table["validation_loss"])

    # The best run is the one whose own summary has the lowest validation loss.
    summaries = {path.split("/")[2]: storage.read_json(path) for path in storage.glob("runs/grid/*/summary.json")}
    assert len(summaries) == 6
    lowest = min(summaries, key=lambda run: summaries[run]["validation_loss"])
    best = storage.read_json("runs/best.json")
    assert best["run"] == f"grid/{lowest}"
    assert best["validation_loss"] == summaries[lowest]["validation_loss"]
    assert best["lora"] == f"runs/grid/{lowest}/lora/pytorch_lora_weights.safetensors"
    assert storage.exists(best["lora"])
    assert result.best_run == best["run"]

    assert storage.read_bytes("runs/grid/loss_curves.png")[:4] == b"\x89PNG"
    written = storage.read_text("runs/grid/results.csv").splitlines()
    assert written[1].split(",")[1] == best["run"]
    grid_image = Image.open(io.BytesIO(storage.read_bytes("runs/grid/samples.png")))
    # Six rows of 128 px cells (64 px samples scaled up) under a 28 px label band, 4 px apart.
    assert grid_image.height == 28 + 6 * (128 + 4)
    assert grid_image.width == 140 + 1 * (128 + 4)
