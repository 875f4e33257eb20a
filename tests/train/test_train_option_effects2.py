"""Training options whose effect shows in the saved LoRA weights: the seed and the UNet targets."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from conftest import write_training_workspace
from demographic2art.train import TrainConfig, train_lora

LORA = "lora/pytorch_lora_weights.safetensors"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return write_training_workspace(tmp_path_factory.mktemp("option-effects") / "ws")


def _train(workspace, tiny_model, run: str, **settings) -> dict[str, torch.Tensor]:
    config = TrainConfig(model=str(tiny_model), steps=2, learning_rate=1e-2, run_name=run, **settings)
    train_lora(workspace, config)
    return load_file(workspace.storage.local_path(f"runs/{run}/{LORA}"))


def test_seed_changes_lora_weights(workspace, tiny_model):
    first = _train(workspace, tiny_model, "seed1-a", seed=1)
    repeat = _train(workspace, tiny_model, "seed1-b", seed=1)
    other = _train(workspace, tiny_model, "seed2", seed=2)
    assert first.keys() == repeat.keys() == other.keys()
    # The same seed gives bit-identical weights; another seed changes them.
    assert all(torch.equal(first[key], repeat[key]) for key in first)
    assert any(not torch.equal(first[key], other[key]) for key in first)


def test_unet_targets_limit_trained_modules(workspace, tiny_model):
    from diffusers import StableDiffusionPipeline

    weights = _train(workspace, tiny_model, "only-q", unet_targets=("to_q",))
    # Diffusers-format keys: unet.<module path>.<projection>.lora.{down,up}.weight
    projections = {key.split(".lora.")[0].rsplit(".", 1)[-1] for key in weights}
    assert projections == {"to_q"}
    assert all(key.startswith("unet.") for key in weights)

    base = StableDiffusionPipeline.from_pretrained(str(tiny_model))
    tuned = StableDiffusionPipeline.from_pretrained(str(tiny_model))
    tuned.load_lora_weights(workspace.storage.local_path(f"runs/only-q/{LORA}"))
    base_attention = base.unet.down_blocks[0].attentions[0].transformer_blocks[0].attn1
    tuned_attention = tuned.unet.down_blocks[0].attentions[0].transformer_blocks[0].attn1
    inputs = torch.randn((2, 5, base_attention.to_k.in_features), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        # Untouched projections give the base model's output exactly.
        for name in ("to_k", "to_v"):
            assert torch.equal(getattr(tuned_attention, name)(inputs), getattr(base_attention, name)(inputs))
        assert torch.equal(tuned_attention.to_out[0](inputs), base_attention.to_out[0](inputs))
        # The trained projection differs from the base.
        assert not torch.equal(tuned_attention.to_q(inputs), base_attention.to_q(inputs))
