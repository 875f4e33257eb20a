"""A tiny Stable-Diffusion-shaped pipeline built locally with random weights.

It has the block layout of SD 1.x (four UNet levels with two layers each, three of
them with cross-attention; a 12-layer CLIP text encoder), so every module name a real
SD 1.5 LoRA targets exists here (``down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q``,
``up_blocks.3.attentions.2...``, ``encoder.layers.11.mlp.fc1``...), and the real CLIP
vocabulary, so token counts match. Only the widths are small (16-64 channels instead
of 320-1280). Images are 64 px (8 x 8 latents); one denoising step takes a few
milliseconds on a CPU.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .vocab import VOCAB_SIZE, write_clip_tokenizer_files

logger = logging.getLogger(__name__)

TINY_RESOLUTION = 64


def build_tiny_pipeline(seed: int = 0):
    """Return a randomly initialised ``StableDiffusionPipeline`` with SD 1.x module names."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    import tempfile

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=TINY_RESOLUTION // 8,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(16, 32, 64, 64),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=16,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=TINY_RESOLUTION,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=VOCAB_SIZE,
            hidden_size=32,
            intermediate_size=64,
            num_attention_heads=4,
            num_hidden_layers=12,
            max_position_embeddings=77,
            projection_dim=32,
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
        )
    )
    scheduler = DDPMScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        steps_offset=1,
    )
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(write_clip_tokenizer_files(tmp), model_max_length=77)
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_tiny_model(out_dir: str | os.PathLike[str], seed: int = 0) -> Path:
    """Build the tiny pipeline and save it as a diffusers folder that any loader accepts."""
    out = Path(out_dir)
    pipeline = build_tiny_pipeline(seed=seed)
    pipeline.save_pretrained(out, safe_serialization=True)
    (out / "README.md").write_text(
        "# Tiny Stable-Diffusion-shaped model\n\n"
        f"Built by demographic2art with random weights (seed {seed}) for tests and the demo.\n"
        "It has SD 1.x module names and the real CLIP vocabulary but tiny widths, so its images\n"
        f"are {TINY_RESOLUTION} px noise-like pictures, not art. Use a real model folder or hub id\n"
        "(e.g. stable-diffusion-v1-5/stable-diffusion-v1-5) for real results.\n"
    )
    logger.info("saved tiny model to %s", out)
    return out
