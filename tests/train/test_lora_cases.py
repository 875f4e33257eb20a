"""LoRA export to the kohya format: keys, per-module alpha and non-finite checks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from demographic2art.errors import NonFiniteError
from demographic2art.lora import export_kohya, peft_to_kohya


def _lines(path):
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def _delta(up, down, scale):
    if down.dim() == 4:
        return torch.einsum("or,rikl->oikl", up[:, :, 0, 0], down) * scale
    return up @ down * scale


def test_lora_alpha_export(shared_cases, tmp_path):
    case = shared_cases / "lora-alpha-export"
    config = json.loads((case / "train_config.json").read_text())
    out = export_kohya(case / "adapter_model.safetensors", tmp_path / "kohya.safetensors", adapter_config=config)
    exported = load_file(str(out))
    source = load_file(str(case / "adapter_model.safetensors"))
    unet = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    text = "lora_te_text_model_encoder_layers_0_self_attn_q_proj"
    assert exported[f"{unet}.alpha"].dtype == torch.float32
    assert exported[f"{unet}.alpha"].dim() == 0
    assert exported[f"{unet}.alpha"].item() == 4.0
    assert exported[f"{text}.alpha"].item() == 8.0
    pairs = {
        unet: ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q", config["unet"]),
        text: ("text_encoder.text_model.encoder.layers.0.self_attn.q_proj", config["text_encoder"]),
    }
    for name, (peft_name, part) in pairs.items():
        down, up = exported[f"{name}.lora_down.weight"], exported[f"{name}.lora_up.weight"]
        kohya_delta = up @ down * exported[f"{name}.alpha"].item() / down.shape[0]
        peft_delta = source[f"{peft_name}.lora_B.weight"] @ source[f"{peft_name}.lora_A.weight"] * part["lora_alpha"] / part["r"]
        assert torch.allclose(kohya_delta, peft_delta, atol=1e-6)


def test_lora_export_without_alpha_uses_rank(shared_cases, tmp_path):
    """A file with no alpha anywhere exports alpha = rank, the scale PEFT applied by default."""
    out = export_kohya(shared_cases / "lora-alpha-export" / "adapter_model.safetensors", tmp_path / "k.safetensors")
    exported = load_file(str(out))
    assert exported["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.alpha"].item() == 8.0
    assert exported["lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha"].item() == 4.0


def test_lora_alpha_pattern_per_module():
    config = {"unet": {"r": 4, "lora_alpha": 4, "alpha_pattern": {"attn2.to_k": 1}}}
    state = {
        "unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight": torch.ones(4, 8),
        "unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight": torch.ones(8, 4),
        "unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_k.lora_A.weight": torch.ones(4, 8),
        "unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_k.lora_B.weight": torch.ones(8, 4),
    }
    out = peft_to_kohya(state, config)
    assert out["lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.alpha"].item() == 1.0
    assert out["lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_k.alpha"].item() == 4.0


@pytest.fixture(scope="module")
def tiny_pipeline(tiny_model):
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline.from_pretrained(tiny_model)


def _random_lora(modules: dict, paths, prefix: str, rank: int = 2, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for path in paths:
        module = modules[path]
        if isinstance(module, torch.nn.Conv2d):
            down = torch.randn(rank, module.in_channels, *module.kernel_size, generator=generator)
            up = torch.randn(module.out_channels, rank, 1, 1, generator=generator)
        else:
            down = torch.randn(rank, module.in_features, generator=generator)
            up = torch.randn(module.out_features, rank, generator=generator)
        state[f"{prefix}.{path}.lora_A.weight"] = down
        state[f"{prefix}.{path}.lora_B.weight"] = up
    return state


def test_lora_kohya_unet_keys(shared_cases, tiny_model, tmp_path):
    from diffusers import StableDiffusionPipeline
    from peft.tuners.lora import LoraLayer

    case = shared_cases / "lora-kohya-unet-keys"
    peft_keys = _lines(case / "peft_keys.txt")
    paths = sorted({key.removeprefix("unet.").rsplit(".lora_", 1)[0] for key in peft_keys})
    assert len(paths) == 17
    pipeline = StableDiffusionPipeline.from_pretrained(tiny_model)
    state = _random_lora(dict(pipeline.unet.named_modules()), paths, "unet")
    assert set(state) == peft_keys
    save_file(state, str(tmp_path / "peft.safetensors"))
    out = export_kohya(tmp_path / "peft.safetensors", tmp_path / "kohya.safetensors")
    exported = load_file(str(out))
    assert set(exported) == _lines(case / "expected_kohya_keys.txt")
    assert len(exported) == 51

    pipeline.load_lora_weights(str(tmp_path), weight_name="kohya.safetensors", adapter_name="case")
    modules = dict(pipeline.unet.named_modules())
    for path in paths:
        layer = modules[path]
        assert isinstance(layer, LoraLayer), f"{path} got no LoRA layer"
        expected = _delta(state[f"unet.{path}.lora_B.weight"], state[f"unet.{path}.lora_A.weight"], 1.0)
        assert torch.allclose(layer.get_delta_weight("case"), expected, atol=1e-6), path


def test_lora_mixed_te_unet(shared_cases, tmp_path):
    case = shared_cases / "lora-mixed-te-unet"
    expected = _lines(case / "expected_kohya_keys.txt")
    out = export_kohya(case / "pipeline_lora.safetensors", tmp_path / "kohya.safetensors")
    exported = load_file(str(out))
    source = load_file(str(case / "pipeline_lora.safetensors"))
    assert set(exported) == expected
    assert len(exported) == 12
    assert not any(key.startswith(("unet.", "text_encoder.", "lora_te1_", "lora_unet_lora_unet")) for key in exported)
    name = "lora_te_text_model_encoder_layers_11_mlp_fc1"
    assert exported[f"{name}.lora_up.weight"].shape == source["text_encoder.text_model.encoder.layers.11.mlp.fc1.lora_B.weight"].shape


def test_lora_mixed_te_unet_without_text_model_level(shared_cases, tmp_path):
    """transformers 5.23 names text-encoder modules without 'text_model.'; the export is the same."""
    case = shared_cases / "lora-mixed-te-unet"
    source = load_file(str(case / "pipeline_lora.safetensors"))
    renamed = {key.replace("text_encoder.text_model.", "text_encoder."): value for key, value in source.items()}
    save_file(renamed, str(tmp_path / "renamed.safetensors"))
    out = export_kohya(tmp_path / "renamed.safetensors", tmp_path / "kohya.safetensors")
    assert set(load_file(str(out))) == _lines(case / "expected_kohya_keys.txt")


def test_every_module_kind_round_trips(tiny_pipeline, tmp_path):
    """Text-encoder attention and MLP plus every UNet module type load back with their deltas."""
    from peft.tuners.lora import LoraLayer

    unet_paths = [
        "conv_in", "conv_out", "time_embedding.linear_1", "time_embedding.linear_2",
        "down_blocks.0.attentions.0.proj_in", "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2",
        "down_blocks.0.resnets.1.conv2", "down_blocks.2.downsamplers.0.conv", "up_blocks.2.upsamplers.0.conv",
        "up_blocks.0.resnets.0.conv_shortcut", "mid_block.resnets.1.time_emb_proj",
    ]
    text_paths = ["encoder.layers.3.self_attn.out_proj", "encoder.layers.5.mlp.fc2", "encoder.layers.0.self_attn.v_proj"]
    from diffusers import StableDiffusionPipeline

    pipeline = StableDiffusionPipeline(**tiny_pipeline.components)
    state = _random_lora(dict(pipeline.unet.named_modules()), unet_paths, "unet", seed=1)
    state.update(_random_lora(dict(pipeline.text_encoder.named_modules()), text_paths, "text_encoder", seed=2))
    save_file(state, str(tmp_path / "peft.safetensors"))
    export_kohya(tmp_path / "peft.safetensors", tmp_path / "kohya.safetensors")
    pipeline.load_lora_weights(str(tmp_path), weight_name="kohya.safetensors", adapter_name="all")
    for part, paths in (("unet", unet_paths), ("text_encoder", text_paths)):
        modules = dict(getattr(pipeline, part).named_modules())
        for path in paths:
            layer = modules[path]
            assert isinstance(layer, LoraLayer), f"{part}.{path} got no LoRA layer"
            expected = _delta(state[f"{part}.{path}.lora_B.weight"], state[f"{part}.{path}.lora_A.weight"], 1.0)
            assert torch.allclose(layer.get_delta_weight("all"), expected, atol=1e-5), path
    pipeline.delete_adapters("all")


def test_lora_fp16_nan_export_rejected(shared_cases, tmp_path):
    target = tmp_path / "out.safetensors"
    with pytest.raises(NonFiniteError) as error:
        export_kohya(shared_cases / "lora-fp16-nan" / "lora_nan.safetensors", target)
    message = str(error.value)
    assert "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight" in message
    assert "(3 non-finite values)" in message
    assert not target.exists()


def test_lora_fp16_nan_cli_exit_2(shared_cases, tmp_path):
    target = tmp_path / "out.safetensors"
    lora = shared_cases / "lora-fp16-nan" / "lora_nan.safetensors"
    for args in (["model", "export-kohya", str(lora), "--out", str(target)], ["model", "check-lora", str(lora)]):
        result = subprocess.run([sys.executable, "-m", "demographic2art", *args], capture_output=True, text=True)
        assert result.returncode == 2
        assert "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight" in result.stderr
        assert "3 non-finite values" in result.stderr
        assert "Traceback" not in result.stderr
        assert not target.exists()
