"""`d2a train` options: checkpoints, resume and samples through the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import write_training_workspace
from demographic2art.cli.main import app


def _train(workspace, model, *options):
    return CliRunner().invoke(app, ["train", "-w", str(workspace), "--model", str(model), *options])


@pytest.mark.slow
def test_cli_checkpoint_then_resume(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    first = _train(
        tmp_path / "ws", tiny_model, "--steps", "2", "--checkpointing-steps", "2", "--run-name", "cli",
        "--sample-prompt", "a baroque painting", "--sample-seed", "5", "--sample-inference-steps", "2",
        "--validation-steps", "1", "--random-flip",
    )
    assert first.exit_code == 0, first.output
    assert workspace.storage.listdir("runs/cli/checkpoints") == ["step-00000002"]
    assert workspace.storage.listdir("runs/cli/samples") == ["step-00000002-prompt0-seed5.png"]
    second = _train(
        tmp_path / "ws", tiny_model, "--steps", "3", "--resume", "latest", "--run-name", "cli", "--random-flip",
    )
    assert second.exit_code == 0, second.output
    summary = workspace.storage.read_json("runs/cli/summary.json")
    assert summary["resumed_at_step"] == 2
    assert summary["steps"] == 3
    config = workspace.storage.read_json("runs/cli/config.json")
    assert config["random_flip"] is True
    assert config["resume_from"] == "latest"


def test_cli_rejects_unknown_crop(tiny_model, tmp_path, capsys):
    from demographic2art.cli.main import main

    write_training_workspace(tmp_path / "ws")
    status = main(["train", "-w", str(tmp_path / "ws"), "--model", str(tiny_model), "--crop", "diagonal"])
    assert status == 2
    assert "invalid training setting crop" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_options_reach_config(tiny_model, tmp_path):
    write_training_workspace(tmp_path / "ws")
    result = _train(
        tmp_path / "ws", tiny_model, "--steps", "1", "--lr", "0.002", "--rank", "2", "--alpha", "3", "--seed", "7",
        "--batch-size", "2", "--gradient-accumulation-steps", "2", "--resolution", "64", "--train-text-encoder",
        "--text-encoder-lr", "0.003", "--lr-scheduler", "linear", "--lr-warmup-steps", "1", "--min-snr-gamma", "5",
        "--noise-offset", "0.05", "--run-name", "options", "--lora-dropout", "0.2", "--max-grad-norm", "0.5",
        "--adam-weight-decay", "0", "--gradient-checkpointing", "--crop", "random", "--random-flip",
        "--no-cache-latents", "--max-images", "3", "--checkpointing-steps", "1", "--checkpoints-total-limit", "1",
        "--validation-steps", "1", "--sample-prompt", "a baroque painting", "--sample-seed", "9", "--sample-steps", "1",
        "--sample-inference-steps", "2", "--report-to", "tensorboard",
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "ws" / "runs" / "options" / "config.json").read_text())
    expected = {
        "steps": 1, "learning_rate": 0.002, "rank": 2, "alpha": 3.0, "seed": 7, "batch_size": 2,
        "gradient_accumulation_steps": 2, "resolution": 64, "train_text_encoder": True,
        "text_encoder_learning_rate": 0.003, "lr_scheduler": "linear", "lr_warmup_steps": 1, "min_snr_gamma": 5.0,
        "noise_offset": 0.05, "run_name": "options", "lora_dropout": 0.2, "max_grad_norm": 0.5,
        "adam_weight_decay": 0.0, "gradient_checkpointing": True, "crop": "random", "random_flip": True,
        "cache_latents": False, "max_images": 3, "checkpointing_steps": 1, "checkpoints_total_limit": 1,
        "validation_steps": 1, "sample_prompts": ["a baroque painting"], "sample_seeds": [9], "sample_steps": 1,
        "sample_inference_steps": 2, "report_to": ["tensorboard"],
    }
    for name, value in expected.items():
        assert saved[name] == value, name


@pytest.mark.slow
def test_cli_train_records_workspace_best(tiny_model, tmp_path):
    """Each `d2a train` recomputes runs/best.json over every comparable run, not only the first."""
    workspace = write_training_workspace(tmp_path / "ws")
    losses = {}
    for run, learning_rate in (("first", "1e-6"), ("second", "1e-2")):
        result = _train(tmp_path / "ws", tiny_model, "--steps", "3", "--run-name", run, "--learning-rate", learning_rate)
        assert result.exit_code == 0, result.output
        losses[run] = workspace.storage.read_json(f"runs/{run}/summary.json")["validation_loss"]
    best = workspace.storage.read_json("runs/best.json")
    assert best["run"] == min(losses, key=losses.get)
    assert best["candidates"] == 2
    assert f"best run of the workspace: {best['run']}" in result.output
