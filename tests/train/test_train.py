"""LoRA training: the overfit check, saved outputs, reloading and the options' effects."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
import torch

from conftest import write_training_workspace
from demographic2art.errors import InvalidValueError, NonFiniteError
from demographic2art.generate import GenerationParams, Generator
from demographic2art.train import LossGuard, TrainConfig, train_lora


@pytest.fixture(scope="module")
def overfit_run(tiny_model, tmp_path_factory):
    """Rank 16 at lr 1e-2 with fixed noise and timesteps on one batch of 4 images, 50 steps."""
    workspace = write_training_workspace(tmp_path_factory.mktemp("overfit") / "ws")
    config = TrainConfig(
        model=str(tiny_model), steps=50, learning_rate=1e-2, rank=16, fixed_noise=True,
        batch_size=4, split="all", run_name="overfit",
    )
    return workspace, train_lora(workspace, config)


@pytest.mark.slow
def test_overfit_loss_halves_within_50_steps(overfit_run):
    _, result = overfit_run
    assert len(result.losses) == 50
    assert min(result.losses) < 0.5 * result.losses[0]


@pytest.mark.slow
def test_run_outputs_written(overfit_run):
    workspace, result = overfit_run
    storage = workspace.storage
    rows = list(csv.DictReader(io.StringIO(storage.read_text("runs/overfit/loss.csv"))))
    assert [int(r["step"]) for r in rows] == list(range(1, 51))
    assert all(math.isfinite(float(r["loss"])) for r in rows)
    assert storage.read_bytes("runs/overfit/loss.png")[:8] == b"\x89PNG\r\n\x1a\n"
    summary = storage.read_json("runs/overfit/summary.json")
    assert summary["steps"] == 50
    assert summary["final_loss"] == pytest.approx(result.losses[-1])
    assert math.isfinite(summary["validation_loss"])
    assert storage.read_json("runs/overfit/config.json")["rank"] == 16


@pytest.mark.slow
def test_kohya_file_keys_and_alpha(overfit_run):
    from safetensors.torch import load_file

    _, result = overfit_run
    state = load_file(result.kohya_file)
    modules = {key.rsplit(".", 2)[0] if key.endswith(".weight") else key.rsplit(".", 1)[0] for key in state}
    assert all(name.startswith("lora_unet_") for name in modules)
    assert "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q" in modules
    for name in modules:
        assert set(k for k in state if k.startswith(name + ".")) == {
            f"{name}.lora_down.weight", f"{name}.lora_up.weight", f"{name}.alpha"
        }
        assert state[f"{name}.alpha"].item() == 16.0


@pytest.mark.slow
def test_lora_reload_changes_image_and_weight_zero_is_base(overfit_run, tiny_model):
    _, result = overfit_run
    params = GenerationParams(prompt="a impressionism landscape painting by a female artist", seed=7, steps=8)
    base = Generator(str(tiny_model)).generate(params, output_type="np")[0]
    tuned = Generator(str(tiny_model), result.lora_file)
    with_lora = tuned.generate(params, output_type="np")[0]
    zero = tuned.generate(params.model_copy(update={"lora_weight": 0.0}), output_type="np")[0]
    # The tuned adapter moves pixels by more than 1/255 on average: a visible change.
    assert np.abs(with_lora - base).mean() > 1 / 255
    assert np.abs(zero - base).max() <= 1e-6


@pytest.mark.slow
def test_kohya_file_reproduces_diffusers_image(overfit_run, tiny_model):
    _, result = overfit_run
    params = GenerationParams(prompt="a baroque landscape painting", seed=3, steps=6)
    from_diffusers = Generator(str(tiny_model), result.lora_file).generate(params, output_type="np")[0]
    from_kohya = Generator(str(tiny_model), result.kohya_file).generate(params, output_type="np")[0]
    assert np.abs(from_kohya - from_diffusers).max() <= 1e-5


def test_text_encoder_lora_changes_embeddings(tiny_model, tmp_path):
    from transformers import CLIPTextModel, CLIPTokenizer

    workspace = write_training_workspace(tmp_path / "ws")
    result = train_lora(
        workspace,
        TrainConfig(model=str(tiny_model), steps=3, learning_rate=5e-2, rank=4, train_text_encoder=True, run_name="te"),
    )
    from safetensors.torch import load_file

    state = load_file(result.kohya_file)
    assert any(key.startswith("lora_te_text_model_encoder_layers_0_self_attn_q_proj.") for key in state)
    tokenizer = CLIPTokenizer.from_pretrained(tiny_model, subfolder="tokenizer")
    ids = tokenizer(["a landscape painting"], padding="max_length", max_length=77, return_tensors="pt").input_ids
    base_encoder = CLIPTextModel.from_pretrained(tiny_model, subfolder="text_encoder")
    tuned = Generator(str(tiny_model), result.lora_file)
    with torch.no_grad():
        before = base_encoder(ids)[0]
        after = tuned.pipeline.text_encoder(ids)[0]
    assert (after - before).abs().max().item() > 1e-4


def test_loss_guard_stops_at_first_nonfinite_step(shared_cases):
    """lora-fp16-nan: a loop fed these losses stops at step 4, naming it."""
    rows = list(csv.DictReader((shared_cases / "lora-fp16-nan" / "loss_log.csv").open()))
    guard = LossGuard()
    checked = []
    with pytest.raises(NonFiniteError, match="at step 4"):
        for row in rows:
            guard.check(int(row["step"]), float(row["loss"]))
            checked.append(int(row["step"]))
    assert checked == [1, 2, 3]


def test_training_nan_saves_no_weights(tiny_model, tmp_path):
    class PoisonAtStep3(LossGuard):
        def check(self, step, loss):
            super().check(step, float("nan") if step == 3 else loss)

    workspace = write_training_workspace(tmp_path / "ws")
    with pytest.raises(NonFiniteError, match="at step 3"):
        train_lora(workspace, TrainConfig(model=str(tiny_model), steps=6, run_name="nan"), guard=PoisonAtStep3())
    assert not workspace.storage.exists("runs/nan/lora/pytorch_lora_weights.safetensors")
    assert not workspace.storage.exists("runs/nan/lora_kohya.safetensors")
    rows = list(csv.DictReader(io.StringIO(workspace.storage.read_text("runs/nan/loss.csv"))))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]


def test_min_snr_weights_match_hand_computation(tiny_model):
    from diffusers import DDPMScheduler

    from demographic2art.train.loop import _snr_weights

    scheduler = DDPMScheduler.from_pretrained(tiny_model, subfolder="scheduler")
    timesteps = torch.tensor([10, 500, 990])
    alphas = scheduler.alphas_cumprod[timesteps]
    snr = alphas / (1 - alphas)
    expected = torch.minimum(snr, torch.full_like(snr, 5.0)) / snr
    weights = _snr_weights(scheduler, timesteps, 5.0)
    assert torch.allclose(weights, expected, atol=1e-6)
    assert weights[0].item() < 1.0
    assert weights[2].item() == pytest.approx(1.0)


def test_noise_offset_shifts_channel_means():
    from diffusers import DDPMScheduler

    from demographic2art.train.loop import _draw_noise

    scheduler = DDPMScheduler()
    plain = _draw_noise(torch.Generator().manual_seed(0), (2, 4, 8, 8), scheduler, TrainConfig(model="m"))
    offset = _draw_noise(torch.Generator().manual_seed(0), (2, 4, 8, 8), scheduler, TrainConfig(model="m", noise_offset=0.1))
    shift = offset[1] - plain[1]
    # The offset is one value per image and channel, constant over the pixels.
    assert torch.allclose(shift, shift[:, :, :1, :1].expand_as(shift), atol=1e-6)
    assert shift.abs().max().item() > 0.0


def test_fp16_without_cuda_is_rejected(tiny_model, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA present: fp16 is allowed")
    workspace = write_training_workspace(tmp_path / "ws")
    with pytest.raises(InvalidValueError, match="fp16"):
        train_lora(workspace, TrainConfig(model=str(tiny_model), steps=1, mixed_precision="fp16"))


@pytest.mark.gpu
def test_fp16_training_on_gpu(tiny_model, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    workspace = write_training_workspace(tmp_path / "ws")
    result = train_lora(workspace, TrainConfig(model=str(tiny_model), steps=5, mixed_precision="fp16"))
    assert all(math.isfinite(loss) for loss in result.losses)
