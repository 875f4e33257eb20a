"""The LoRA training loop.

The maths follow the standard Stable Diffusion recipe: VAE latents times the VAE's
scaling factor, noise added by the model's own noise scheduler at uniformly drawn
timesteps, an epsilon or v-prediction target as the scheduler is configured, and a
mean-squared error, optionally weighted by Min-SNR. Only the LoRA weights train, and
they stay in fp32 under mixed precision.

Images are encoded by the VAE once: the latent distribution (mean and standard
deviation) is cached and a latent is sampled from it each step, which keeps the maths
of encoding every step without decoding images per step. Without text-encoder LoRA the
prompt embeddings are cached the same way.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidValueError, NonFiniteError
from ..workspace import Workspace
from .config import TEXT_ENCODER_TARGETS, TrainConfig

logger = logging.getLogger(__name__)

LORA_WEIGHT_NAME = "pytorch_lora_weights.safetensors"
KOHYA_WEIGHT_NAME = "lora_kohya.safetensors"


@dataclass
class TrainResult:
    """Where a run's outputs are, and its losses."""

    run_dir: str
    lora_file: str
    kohya_file: str
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    validation_loss: float = math.nan

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else math.nan


class LossGuard:
    """Stops training at the first non-finite loss, naming the step."""

    def check(self, step: int, loss: float) -> None:
        if not math.isfinite(loss):
            raise NonFiniteError(
                f"training loss is {loss} at step {step}; stopped before saving anything from it. "
                "Lower the learning rate, use bf16 instead of fp16, or check the images for NaN latents"
            )


def load_pipeline_for_training(model: str):
    """Return the diffusers pipeline of a model folder or hub id, in fp32 on the CPU."""
    from diffusers import StableDiffusionPipeline

    from ..model.loading import load_pipeline

    pipeline = load_pipeline(model, device="cpu")
    if not isinstance(pipeline, StableDiffusionPipeline):
        raise InvalidValueError(f"model {model!r} is not a Stable Diffusion 1.x/2.x pipeline")
    return pipeline


def _snr_weights(scheduler, timesteps, gamma: float):
    """Return Min-SNR-gamma loss weights ``min(SNR, gamma) / SNR`` (``/(SNR + 1)`` for v-prediction)."""
    import torch
    from diffusers.training_utils import compute_snr

    snr = compute_snr(scheduler, timesteps)
    clipped = torch.minimum(snr, torch.full_like(snr, gamma))
    if scheduler.config.prediction_type == "v_prediction":
        return clipped / (snr + 1)
    return clipped / snr


def train_lora(workspace: Workspace, config: TrainConfig, *, guard: LossGuard | None = None) -> TrainResult:
    """Fine-tune LoRA adapters on the workspace's captioned images and save the run.

    Writes ``runs/<run_name>/``: the diffusers LoRA (``lora/pytorch_lora_weights.safetensors``,
    which ``load_lora_weights`` reads), the kohya file, ``loss.csv``, ``loss.png``,
    ``config.json`` and ``summary.json``. A non-finite loss raises
    :class:`~demographic2art.errors.NonFiniteError` and saves no weights.
    """
    import torch
    from accelerate import Accelerator
    from diffusers.optimization import get_scheduler
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    from .data import load_training_set, load_validation_set

    guard = guard or LossGuard()
    if config.mixed_precision == "fp16" and not torch.cuda.is_available():
        raise InvalidValueError("mixed precision 'fp16' needs a CUDA GPU; use --mixed-precision no or bf16")
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        cpu=not torch.cuda.is_available(),
    )
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    pipeline = load_pipeline_for_training(config.model)
    vae, unet, text_encoder, tokenizer = pipeline.vae, pipeline.unet, pipeline.text_encoder, pipeline.tokenizer
    noise_scheduler = _training_scheduler(pipeline)
    resolution = config.resolution or unet.config.sample_size * pipeline.vae_scale_factor
    data = load_training_set(workspace, tokenizer, resolution, split=config.split, max_images=config.max_images)
    held_out = load_validation_set(workspace, tokenizer, resolution) if config.split == "train" else None
    workspace.storage.write_json(
        f"runs/{config.run_name}/caption_report.json",
        {"max_caption_tokens": tokenizer.model_max_length - 2, "strategy": "truncate", "cut": data.cut_captions},
    )

    for module in (vae, unet, text_encoder):
        module.requires_grad_(False)
    unet.add_adapter(
        LoraConfig(
            r=config.rank,
            lora_alpha=config.alpha,
            lora_dropout=config.lora_dropout,
            init_lora_weights="gaussian",
            target_modules=list(config.unet_targets),
        )
    )
    if config.train_text_encoder:
        text_encoder.add_adapter(
            LoraConfig(
                r=config.rank,
                lora_alpha=config.alpha,
                lora_dropout=config.lora_dropout,
                init_lora_weights="gaussian",
                target_modules=list(TEXT_ENCODER_TARGETS),
            )
        )
    device = accelerator.device
    vae.to(device)
    text_encoder.to(device)

    # Encode once: the latent distribution of every image, and the prompt embeddings.
    with torch.no_grad():
        moments = [vae.encode(data.pixels[i : i + 8].to(device)).latent_dist for i in range(0, len(data.pixels), 8)]
        latent_mean = torch.cat([m.mean for m in moments])
        latent_std = torch.cat([m.std for m in moments])
        cached_embeddings = None if config.train_text_encoder else text_encoder(data.input_ids.to(device))[0]
        validation = _encode_validation(vae, held_out or data, device)
    vae.to("cpu")

    param_groups = [{"params": [p for p in unet.parameters() if p.requires_grad], "lr": config.learning_rate}]
    if config.train_text_encoder:
        param_groups.append(
            {"params": [p for p in text_encoder.parameters() if p.requires_grad], "lr": config.text_encoder_learning_rate}
        )
    for group in param_groups:
        for parameter in group["params"]:
            parameter.data = parameter.data.float()
    optimizer = torch.optim.AdamW(param_groups, weight_decay=1e-2)
    lr_scheduler = get_scheduler(
        config.lr_scheduler,
        optimizer=optimizer,
        num_warmup_steps=config.lr_warmup_steps,
        num_training_steps=config.steps,
    )
    unet, text_encoder, optimizer, lr_scheduler = accelerator.prepare(unet, text_encoder, optimizer, lr_scheduler)
    unet.train()
    if config.train_text_encoder:
        text_encoder.train()

    generator = torch.Generator(device="cpu").manual_seed(config.seed)
    n_images = len(data.keys)
    batch_size = min(config.batch_size, n_images)
    fixed = _draw_noise(generator, latent_mean[:batch_size].shape, noise_scheduler, config) if config.fixed_noise else None
    order: list[int] = []
    rows, losses = [], []
    trainable = [p for group in param_groups for p in group["params"]]

    for step in range(1, config.steps + 1):
        step_loss = 0.0
        for _ in range(config.gradient_accumulation_steps):
            if fixed is not None:
                index = torch.arange(batch_size)
            else:
                if len(order) < batch_size:
                    order.extend(torch.randperm(n_images, generator=generator).tolist())
                index = torch.tensor(order[:batch_size])
                del order[:batch_size]
            with accelerator.accumulate(unet):
                loss = _step_loss(
                    unet, text_encoder, noise_scheduler, config, data, index, latent_mean, latent_std,
                    cached_embeddings, vae.config.scaling_factor, generator, fixed, device,
                )
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm:
                    accelerator.clip_grad_norm_(trainable, config.max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            step_loss += loss.detach().item() / config.gradient_accumulation_steps
        rows.append({"step": step, "loss": step_loss, "lr": lr_scheduler.get_last_lr()[0], "seconds": time.perf_counter() - started})
        losses.append(step_loss)
        try:
            guard.check(step, step_loss)
        except NonFiniteError:
            _write_run_logs(workspace, config, rows)
            raise
        if step % 10 == 0 or step == config.steps:
            logger.info("step %d/%d loss %.5f", step, config.steps, step_loss)

    unet = accelerator.unwrap_model(unet)
    text_encoder = accelerator.unwrap_model(text_encoder)
    validation_loss = _validation_loss(unet, text_encoder, noise_scheduler, validation, vae.config.scaling_factor, device)
    logger.info("validation loss %.5f on %d images", validation_loss, len(validation["input_ids"]))
    unet_layers = get_peft_model_state_dict(unet)
    text_layers = get_peft_model_state_dict(text_encoder) if config.train_text_encoder else None
    return _save_run(
        workspace, config, unet, text_encoder, unet_layers, text_layers, rows, losses, started,
        validation_loss=validation_loss, validation_images=len(validation["input_ids"]),
        held_out=held_out is not None,
    )


def _training_scheduler(pipeline):
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(pipeline.scheduler.config)


def _draw_noise(generator, shape, scheduler, config: TrainConfig):
    """Return one draw of (latent sample noise, added noise, timesteps) for a batch."""
    import torch

    sample_noise = torch.randn(shape, generator=generator)
    noise = torch.randn(shape, generator=generator)
    if config.noise_offset:
        noise = noise + config.noise_offset * torch.randn((shape[0], shape[1], 1, 1), generator=generator)
    timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (shape[0],), generator=generator)
    return sample_noise, noise, timesteps


def _step_loss(unet, text_encoder, scheduler, config, data, index, mean, std, cached, scaling, generator, fixed, device):
    import torch
    import torch.nn.functional as F

    shape = mean[index].shape
    sample_noise, noise, timesteps = fixed if fixed is not None else _draw_noise(generator, shape, scheduler, config)
    latents = (mean[index] + std[index] * sample_noise.to(device)) * scaling
    noise, timesteps = noise.to(device), timesteps.to(device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    if scheduler.config.prediction_type == "v_prediction":
        target = scheduler.get_velocity(latents, noise, timesteps)
    else:
        target = noise
    if cached is not None:
        embeddings = cached[index]
    else:
        embeddings = text_encoder(data.input_ids[index].to(device))[0]
    prediction = unet(noisy, timesteps, embeddings).sample
    per_sample = F.mse_loss(prediction.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
    if config.min_snr_gamma:
        per_sample = per_sample * _snr_weights(scheduler, timesteps, config.min_snr_gamma).to(per_sample.device)
    return per_sample.mean()


VALIDATION_SEED = 20240601
VALIDATION_TIMESTEPS = 8


def _encode_validation(vae, data, device) -> dict:
    """Encode the validation images with fixed noise, so every run is scored on the same draws."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(VALIDATION_SEED)
    mean = torch.cat([vae.encode(data.pixels[i : i + 8].to(device)).latent_dist.mean for i in range(0, len(data.pixels), 8)])
    noise = torch.randn((VALIDATION_TIMESTEPS, *mean.shape), generator=generator)
    return {"latents": mean, "noise": noise, "input_ids": data.input_ids}


def _validation_loss(unet, text_encoder, scheduler, validation: dict, scaling: float, device) -> float:
    """Return the denoising loss on held-out images at fixed noise and evenly spaced timesteps.

    The noise, timesteps and latents (the distribution means) are the same for every run
    on a workspace, so runs with different settings or seeds are compared fairly.
    """
    import torch
    import torch.nn.functional as F

    was_training = unet.training
    unet.eval()
    text_encoder.eval()
    latents = validation["latents"].to(device) * scaling
    steps = torch.linspace(0, scheduler.config.num_train_timesteps - 1, VALIDATION_TIMESTEPS).long()
    total = 0.0
    with torch.no_grad():
        embeddings = text_encoder(validation["input_ids"].to(device))[0]
        for noise, timestep in zip(validation["noise"], steps):
            noise = noise.to(device)
            timesteps = timestep.repeat(latents.shape[0]).to(device)
            noisy = scheduler.add_noise(latents, noise, timesteps)
            target = scheduler.get_velocity(latents, noise, timesteps) if scheduler.config.prediction_type == "v_prediction" else noise
            prediction = unet(noisy, timesteps, embeddings).sample
            total += F.mse_loss(prediction.float(), target.float()).item()
    if was_training:
        unet.train()
    return total / VALIDATION_TIMESTEPS


def _write_run_logs(workspace: Workspace, config: TrainConfig, rows: list[dict]) -> None:
    storage = workspace.storage
    run = f"runs/{config.run_name}"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["step", "loss", "lr", "seconds"])
    writer.writeheader()
    writer.writerows(rows)
    storage.write_text(f"{run}/loss.csv", buffer.getvalue())
    storage.write_json(f"{run}/config.json", config.model_dump(mode="json"))


def _save_run(
    workspace, config, unet, text_encoder, unet_layers, text_layers, rows, losses, started, *,
    validation_loss, validation_images, held_out,
):
    import tempfile

    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers

    from ..lora import assert_finite_state_dict, export_kohya
    from .plots import plot_losses

    storage = workspace.storage
    run = f"runs/{config.run_name}"
    unet_layers = convert_state_dict_to_diffusers(unet_layers)
    text_layers = convert_state_dict_to_diffusers(text_layers) if text_layers else None
    assert_finite_state_dict({**unet_layers, **(text_layers or {})}, "trained LoRA")
    _write_run_logs(workspace, config, rows)
    with tempfile.TemporaryDirectory() as tmp:
        lora_dir = Path(tmp) / "lora"
        StableDiffusionPipeline.save_lora_weights(
            lora_dir,
            unet_lora_layers=unet_layers,
            text_encoder_lora_layers=text_layers,
            unet_lora_adapter_metadata=unet.peft_config["default"].to_dict(),
            text_encoder_lora_adapter_metadata=(
                text_encoder.peft_config["default"].to_dict() if text_layers else None
            ),
            safe_serialization=True,
        )
        kohya = export_kohya(lora_dir / LORA_WEIGHT_NAME, Path(tmp) / KOHYA_WEIGHT_NAME)
        storage.write_bytes(f"{run}/lora/{LORA_WEIGHT_NAME}", (lora_dir / LORA_WEIGHT_NAME).read_bytes())
        storage.write_bytes(f"{run}/{KOHYA_WEIGHT_NAME}", kohya.read_bytes())
    storage.write_bytes(f"{run}/loss.png", plot_losses(rows, title=f"LoRA training loss, {config.run_name}"))
    seconds = time.perf_counter() - started
    summary = {
        "run_name": config.run_name,
        "model": config.model,
        "steps": config.steps,
        "first_loss": losses[0],
        "final_loss": losses[-1],
        "validation_loss": validation_loss,
        "validation_images": validation_images,
        "validation_split": "validation" if held_out else "train (no held-out images)",
        "seconds": round(seconds, 3),
        "lora": f"{run}/lora/{LORA_WEIGHT_NAME}",
        "kohya": f"{run}/{KOHYA_WEIGHT_NAME}",
    }
    storage.write_text(f"{run}/summary.json", json.dumps(summary, indent=2) + "\n")
    logger.info("saved run %s (final loss %.5f, %.1f s)", run, losses[-1], seconds)
    return TrainResult(
        validation_loss=validation_loss,
        run_dir=storage.path(run),
        lora_file=storage.path(f"{run}/lora/{LORA_WEIGHT_NAME}"),
        kohya_file=storage.path(f"{run}/{KOHYA_WEIGHT_NAME}"),
        losses=losses,
        seconds=seconds,
    )
