"""Training options whose effect shows in the values: LoRA dropout, learning rates, clipping,
the learning-rate schedule, image limits, W&B project, and resume with text-encoder LoRA and
gradient accumulation."""

from __future__ import annotations

import csv
import io
import sys
import types

import pytest
import torch

from conftest import write_training_workspace
from demographic2art.train import TrainConfig, train_lora
from train_helpers import StopAt


def _lora_unet(model, dropout: float):
    """Return the tiny UNet with LoRA adapters at ``dropout`` and every lora_B weight set to 0.1."""
    from demographic2art.train.loop import _add_adapters, load_pipeline_for_training

    pipeline = load_pipeline_for_training(str(model))
    torch.manual_seed(0)
    _add_adapters(TrainConfig(model="m", lora_dropout=dropout), pipeline.unet, pipeline.text_encoder)
    # lora_B starts at zero, which would make the LoRA output (and so its dropout) invisible.
    with torch.no_grad():
        for name, parameter in pipeline.unet.named_parameters():
            if ".lora_B." in name:
                parameter.fill_(0.1)
    return pipeline.unet


def _unet_inputs(unet):
    generator = torch.Generator().manual_seed(1)
    size = unet.config.sample_size
    latents = torch.randn((1, unet.config.in_channels, size, size), generator=generator)
    embeddings = torch.randn((1, 77, unet.config.cross_attention_dim), generator=generator)
    return latents, torch.tensor([500]), embeddings


def test_lora_dropout_train_and_eval_mode(tiny_model):
    with_dropout = _lora_unet(tiny_model, 0.5)
    without_dropout = _lora_unet(tiny_model, 0.0)
    inputs = _unet_inputs(with_dropout)
    with torch.no_grad():
        with_dropout.train()
        first = with_dropout(*inputs).sample
        second = with_dropout(*inputs).sample
        with_dropout.eval()
        without_dropout.eval()
        evaluated = with_dropout(*inputs).sample
        reference = without_dropout(*inputs).sample

    # In train mode each pass drops other LoRA inputs, so two passes differ.
    assert (first - second).abs().max().item() > 1e-4
    # In eval mode dropout is the identity: the output equals the same weights without dropout.
    assert torch.equal(evaluated, reference)


def _checkpoint_weights(workspace, run: str, step: int) -> dict:
    from safetensors.torch import load

    return load(workspace.storage.read_bytes(f"runs/{run}/checkpoints/step-{step:08d}/lora.safetensors"))


def _checkpoint_state(workspace, run: str, step: int) -> dict:
    return torch.load(
        io.BytesIO(workspace.storage.read_bytes(f"runs/{run}/checkpoints/step-{step:08d}/training_state.pt")),
        weights_only=False,
    )


def _lora_b_max(weights: dict, prefix: str) -> float:
    return max(value.abs().max().item() for name, value in weights.items() if name.startswith(prefix) and ".lora_B." in name)


@pytest.mark.slow
def test_lora_dropout_changes_trained_weights(tiny_model, tmp_path):
    from safetensors.torch import load_file

    workspace = write_training_workspace(tmp_path / "ws")
    common = {"model": str(tiny_model), "steps": 2, "learning_rate": 1e-2, "report_to": ()}
    plain = train_lora(workspace, TrainConfig(run_name="plain", **common))
    dropped = train_lora(workspace, TrainConfig(run_name="dropped", lora_dropout=0.5, **common))
    plain_weights, dropped_weights = load_file(plain.lora_file), load_file(dropped.lora_file)
    assert set(plain_weights) == set(dropped_weights)
    largest = max((plain_weights[name] - dropped_weights[name]).abs().max().item() for name in plain_weights)
    assert largest > 1e-4


@pytest.fixture(scope="module")
def schedule_run(tiny_model, tmp_path_factory):
    """Three steps with text-encoder LoRA at its own rate, a linear schedule and two images."""
    workspace = write_training_workspace(tmp_path_factory.mktemp("options") / "ws", n_images=5)
    config = TrainConfig(
        model=str(tiny_model), steps=3, learning_rate=1e-3, text_encoder_learning_rate=4e-3, train_text_encoder=True,
        lr_scheduler="linear", max_images=2, checkpointing_steps=1, run_name="schedule", report_to=(),
    )
    return workspace, train_lora(workspace, config)


@pytest.mark.slow
def test_learning_rates_per_component(schedule_run):
    # AdamW's first update is lr * g / (|g| + eps), about lr for each weight with a gradient,
    # and lora_B starts at zero, so after one step its largest entry equals the component's rate.
    workspace, _ = schedule_run
    weights = _checkpoint_weights(workspace, "schedule", 1)
    assert _lora_b_max(weights, "unet.") == pytest.approx(1e-3, rel=1e-3)
    assert _lora_b_max(weights, "text_encoder.") == pytest.approx(4e-3, rel=1e-3)


@pytest.mark.slow
def test_linear_schedule_in_loss_log(schedule_run):
    workspace, _ = schedule_run
    rows = list(csv.DictReader(io.StringIO(workspace.storage.read_text("runs/schedule/loss.csv"))))
    # The rate after step k of 3 with no warm-up is lr * (3 - k) / 3.
    assert [float(row["lr"]) for row in rows] == pytest.approx([1e-3 * 2 / 3, 1e-3 / 3, 0.0])


@pytest.mark.slow
def test_max_images_limits_training_set(schedule_run):
    workspace, _ = schedule_run
    summary = workspace.storage.read_json("runs/schedule/summary.json")
    assert summary["data"]["images"] == 2
    assert summary["validation_images"] == 1


@pytest.mark.slow
def test_max_grad_norm_clips_first_update(tiny_model, tmp_path):
    # With the gradient norm clipped to 1e-9 every gradient entry is far below AdamW's eps (1e-8),
    # so the first update lr * g / (|g| + eps) shrinks to a small part of lr.
    workspace = write_training_workspace(tmp_path / "ws")
    common = {"model": str(tiny_model), "steps": 1, "learning_rate": 1e-3, "checkpointing_steps": 1, "report_to": ()}
    train_lora(workspace, TrainConfig(run_name="unclipped", max_grad_norm=None, **common))
    train_lora(workspace, TrainConfig(run_name="clipped", max_grad_norm=1e-9, **common))
    assert _lora_b_max(_checkpoint_weights(workspace, "unclipped", 1), "unet.") == pytest.approx(1e-3, rel=1e-3)
    assert _lora_b_max(_checkpoint_weights(workspace, "clipped", 1), "unet.") < 2e-4


def test_wandb_project_reaches_init(tmp_path, monkeypatch):
    # A stand-in wandb module records the call: the real package is not installed here and
    # would need an account and a network.
    from demographic2art.train.tracking import Trackers
    from demographic2art.workspace import Workspace

    calls = []
    fake = types.ModuleType("wandb")
    fake.init = lambda **kwargs: calls.append(kwargs) or types.SimpleNamespace(log=lambda *a, **k: None, finish=lambda: None)
    monkeypatch.setitem(sys.modules, "wandb", fake)
    storage = Workspace(tmp_path / "ws").create().storage
    trackers = Trackers(storage, "runs/r1", ("wandb",), {"seed": 42}, wandb_project="portraits")
    trackers.close()
    assert calls == [{"project": "portraits", "name": "r1", "config": {"seed": 42}}]


def _accumulation_config(model, run_name, **values):
    return TrainConfig(
        model=str(model), steps=10, learning_rate=5e-3, run_name=run_name, checkpointing_steps=5,
        train_text_encoder=True, gradient_accumulation_steps=2, lora_dropout=0.1, report_to=(), **values,
    )


def _assert_tensors_equal(actual, expected, label: str) -> None:
    if isinstance(expected, dict):
        assert set(actual) == set(expected), label
        for key in expected:
            _assert_tensors_equal(actual[key], expected[key], f"{label}.{key}")
    elif isinstance(expected, torch.Tensor):
        assert (actual - expected).abs().max().item() <= 1e-6, label
    else:
        assert actual == expected, label


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_resume_text_encoder_with_accumulation(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    train_lora(workspace, _accumulation_config(tiny_model, "straight"))
    with pytest.raises(KeyboardInterrupt):
        train_lora(workspace, _accumulation_config(tiny_model, "resumed"), guard=StopAt(7))
    train_lora(workspace, _accumulation_config(tiny_model, "resumed", resume_from="latest"))

    # checkpointing_steps counts optimizer steps, so a checkpoint always ends an accumulation
    # cycle: at step 5, AdamW has stepped 5 times on 10 batches (3 images of batch 1 per epoch).
    middle = _checkpoint_state(workspace, "straight", 5)
    assert {state["step"].item() for state in middle["optimizer"]["state"].values()} == {5.0}
    assert len(middle["pending_batches"]) == 2

    expected_weights = _checkpoint_weights(workspace, "straight", 10)
    actual_weights = _checkpoint_weights(workspace, "resumed", 10)
    assert any(name.startswith("text_encoder.") for name in expected_weights)
    assert any(name.startswith("unet.") for name in expected_weights)
    _assert_tensors_equal(actual_weights, expected_weights, "weights")
    expected_state = _checkpoint_state(workspace, "straight", 10)
    actual_state = _checkpoint_state(workspace, "resumed", 10)
    _assert_tensors_equal(actual_state["optimizer"], expected_state["optimizer"], "optimizer")
    assert actual_state["lr_scheduler"]["last_epoch"] == expected_state["lr_scheduler"]["last_epoch"]


@pytest.mark.slow
def test_warmup_and_split_all(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    config = TrainConfig(
        model=str(tiny_model), steps=3, learning_rate=1e-3, lr_scheduler="constant_with_warmup", lr_warmup_steps=2,
        split="all", run_name="warmup", report_to=(),
    )
    train_lora(workspace, config)
    rows = list(csv.DictReader(io.StringIO(workspace.storage.read_text("runs/warmup/loss.csv"))))
    # The rate rises linearly over the 2 warm-up steps, then stays at lr.
    assert [float(row["lr"]) for row in rows] == pytest.approx([5e-4, 1e-3, 1e-3])
    summary = workspace.storage.read_json("runs/warmup/summary.json")
    # split="all" trains on the held-out image too (4 images, 1 of them in the validation split).
    assert summary["data"]["images"] == 4
