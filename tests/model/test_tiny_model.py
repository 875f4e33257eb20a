"""The CLIP vocabulary, the tiny model and pipeline loading."""

from __future__ import annotations

import json

import pytest

from demographic2art.errors import InvalidValueError, MissingFileError


def test_clip_tokenizer_matches_openai_ids(tiny_model):
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tiny_model, subfolder="tokenizer")
    assert len(tokenizer) == 49408
    assert tokenizer.model_max_length == 77
    # Token ids of openai/clip-vit-large-patch14 for this sentence.
    assert tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]


def test_tiny_model_has_sd1_module_names(tiny_model):
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel.from_pretrained(tiny_model, subfolder="unet")
    names = {name for name, _ in unet.named_modules()}
    for expected in (
        "conv_in",
        "time_embedding.linear_1",
        "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
        "down_blocks.1.resnets.0.conv_shortcut",
        "mid_block.attentions.0.proj_out",
        "up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_v",
        "up_blocks.1.upsamplers.0.conv",
    ):
        assert expected in names
    text = CLIPTextModel.from_pretrained(tiny_model, subfolder="text_encoder")
    text_names = {name for name, _ in text.named_modules()}
    assert any(name.endswith("encoder.layers.11.mlp.fc1") for name in text_names)


def test_tiny_model_folder_is_diffusers_layout(tiny_model):
    index = json.loads((tiny_model / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert (tiny_model / "unet" / "diffusion_pytorch_model.safetensors").is_file()


def test_long_prompt_does_not_overflow(tiny_model):
    from demographic2art.generate import GenerationParams, Generator

    generator = Generator(str(tiny_model))
    prompt = " ".join(["impasto"] * 120)
    images = generator.generate(GenerationParams(prompt=prompt, steps=2))
    assert images[0].size == (64, 64)


def test_load_pipeline_missing_folder(tmp_path):
    from demographic2art.model.loading import load_pipeline

    with pytest.raises(MissingFileError, match="does not exist"):
        load_pipeline(str(tmp_path / "absent"))


def test_load_pipeline_folder_without_index(tmp_path):
    from demographic2art.model.loading import load_pipeline

    with pytest.raises(InvalidValueError, match="model_index.json"):
        load_pipeline(str(tmp_path))


def test_find_bpe_missing_names_the_fix(monkeypatch, tmp_path):
    from demographic2art.model import vocab

    monkeypatch.setenv("D2A_CLIP_BPE", str(tmp_path / "none.gz"))
    monkeypatch.setattr(vocab, "default_bpe_path", lambda: tmp_path / "absent.txt.gz")
    with pytest.raises(MissingFileError, match="python -m demographic2art.model.vocab"):
        vocab.find_bpe()
