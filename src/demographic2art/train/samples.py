"""Validation sample images: fixed prompts and seeds rendered with the LoRA being trained."""

from __future__ import annotations

import io
import logging

logger = logging.getLogger(__name__)


def sample_file_name(step: int, prompt_index: int, seed: int) -> str:
    return f"step-{step:08d}-prompt{prompt_index}-seed{seed}.png"


def render_samples(pipeline, unet, text_encoder, config, device, *, autocast=None) -> list[tuple[int, int, "PIL.Image.Image"]]:  # noqa: F821
    """Return (prompt index, seed, image) for every sample prompt and seed.

    The UNet and text encoder are put in eval mode (no LoRA dropout) and restored, and every
    image draws its noise from its own generator, so sampling leaves the training's random
    state untouched.
    """
    import contextlib

    import torch
    from diffusers import StableDiffusionPipeline

    modes = (unet.training, text_encoder.training)
    unet.eval()
    text_encoder.eval()
    vae_device = pipeline.vae.device
    pipeline.vae.to(device)
    sampler = StableDiffusionPipeline(
        vae=pipeline.vae,
        text_encoder=text_encoder,
        tokenizer=pipeline.tokenizer,
        unet=unet,
        scheduler=pipeline.scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    sampler.set_progress_bar_config(disable=True)
    images = []
    try:
        with autocast() if autocast is not None else contextlib.nullcontext():
            for prompt_index, prompt in enumerate(config.sample_prompts):
                for seed in config.sample_seeds:
                    generator = torch.Generator(device="cpu").manual_seed(seed)
                    image = sampler(
                        prompt,
                        num_inference_steps=config.sample_inference_steps,
                        guidance_scale=config.sample_guidance_scale,
                        generator=generator,
                    ).images[0]
                    images.append((prompt_index, seed, image))
    finally:
        pipeline.vae.to(vae_device)
        unet.train(modes[0])
        text_encoder.train(modes[1])
    return images


def save_samples(storage, run: str, step: int, images) -> dict[str, "PIL.Image.Image"]:  # noqa: F821
    """Write the images as ``runs/<run>/samples/step-<n>-prompt<i>-seed<s>.png``; return them by path."""
    saved = {}
    for prompt_index, seed, image in images:
        path = f"{run}/samples/{sample_file_name(step, prompt_index, seed)}"
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        storage.write_bytes(path, buffer.getvalue())
        saved[path] = image
    logger.info("saved %d sample images at step %d", len(saved), step)
    return saved
