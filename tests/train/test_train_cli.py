"""`d2a train` options: checkpoints, resume and samples through the command line."""

from __future__ import annotations

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
