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
import hashlib
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
    """Output paths, losses and timing of one training run."""

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


def _check_hardware(config: TrainConfig) -> None:
    import torch

    if config.mixed_precision == "fp16" and not torch.cuda.is_available():
        raise InvalidValueError("mixed precision 'fp16' needs a CUDA GPU; use --mixed-precision no or bf16")
    if config.use_8bit_adam:
        if not torch.cuda.is_available():
            raise InvalidValueError("8-bit Adam (bitsandbytes) needs a CUDA GPU; drop --use-8bit-adam on this machine")
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise InvalidValueError("8-bit Adam needs the bitsandbytes package; pip install bitsandbytes") from None
    if "wandb" in config.report_to:
        try:
            import wandb  # noqa: F401
        except ImportError:
            raise InvalidValueError(
                "report_to includes 'wandb' but the wandb package is not installed; pip install wandb or drop it"
            ) from None


def _make_optimizer(config: TrainConfig, param_groups):
    import torch

    if config.use_8bit_adam:
        import bitsandbytes as bnb

        return bnb.optim.AdamW8bit(param_groups, weight_decay=config.adam_weight_decay)
    return torch.optim.AdamW(param_groups, weight_decay=config.adam_weight_decay)


def _add_adapters(config: TrainConfig, unet, text_encoder) -> None:
    from peft import LoraConfig

    for module in (unet, text_encoder):
        module.requires_grad_(False)
    unet.add_adapter(
        LoraConfig(
            r=config.rank, lora_alpha=config.alpha, lora_dropout=config.lora_dropout,
            init_lora_weights="gaussian", target_modules=list(config.unet_targets),
        )
    )
    if config.train_text_encoder:
        text_encoder.add_adapter(
            LoraConfig(
                r=config.rank, lora_alpha=config.alpha, lora_dropout=config.lora_dropout,
                init_lora_weights="gaussian", target_modules=list(TEXT_ENCODER_TARGETS),
            )
        )
    if config.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
        if config.train_text_encoder:
            # transformers 5.23 deprecates gradient_checkpointing_enable in favour of activation_checkpointing_enable.
            enable = getattr(text_encoder, "activation_checkpointing_enable", None) or text_encoder.gradient_checkpointing_enable
            enable()


def size_step(pipeline) -> int:
    """Return the pixel multiple image sizes must have: VAE factor times the UNet's downsampling."""
    return pipeline.vae_scale_factor * 2 ** (len(pipeline.unet.config.block_out_channels) - 1)


def epoch_batches(buckets: dict, batch_size: int, generator) -> list[list[int]]:
    """Return one epoch of batches: each bucket shuffled and cut into batches, then the batches shuffled.

    Every batch contains images of one size, and a bucket's last batch may be smaller.
    """
    import torch

    batches = []
    for indices in buckets.values():
        order = [indices[i] for i in torch.randperm(len(indices), generator=generator).tolist()]
        batches.extend(order[i : i + batch_size] for i in range(0, len(order), batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def random_offsets(data, indices: list[int], generator) -> list[tuple[int, int]]:
    """Draw a random crop corner for each image inside its resized (covering) image."""
    import torch

    offsets = []
    for index in indices:
        image, (width, height) = data.images[index], data.sizes[index]
        left = int(torch.randint(0, image.width - width + 1, (1,), generator=generator))
        top = int(torch.randint(0, image.height - height + 1, (1,), generator=generator))
        offsets.append((left, top))
    return offsets


def train_lora(workspace: Workspace, config: TrainConfig, *, guard: LossGuard | None = None) -> TrainResult:
    """Fine-tune LoRA adapters on the workspace's captioned images and save the run.

    Writes ``runs/<run_name>/``: the diffusers LoRA (``lora/pytorch_lora_weights.safetensors``,
    which ``load_lora_weights`` reads), the kohya file, ``loss.csv``, ``validation.csv``,
    ``loss.png``, ``config.json``, ``summary.json``, the model card ``README.md``, TensorBoard
    events, sample images under ``samples/`` and checkpoints under ``checkpoints/`` when asked
    for. ``config.resume_from`` continues from a checkpoint exactly. A non-finite loss raises
    :class:`~demographic2art.errors.NonFiniteError` and saves no weights.
    """
    import torch
    from accelerate import Accelerator
    from diffusers.optimization import get_scheduler

    from .checkpoints import TrainingState, load_checkpoint, resolve_checkpoint, restore_weights, save_checkpoint, trainable_state
    from .data import bucket_sizes, load_training_set, load_validation_set
    from .latents import LatentCache, encode_distributions
    from .samples import render_samples, save_samples
    from .tracking import Trackers

    guard = guard or LossGuard()
    _check_hardware(config)
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        cpu=not torch.cuda.is_available(),
    )
    started = time.perf_counter()
    storage = workspace.storage
    run = f"runs/{config.run_name}"
    torch.manual_seed(config.seed)
    pipeline = load_pipeline_for_training(config.model)
    vae, unet, text_encoder, tokenizer = pipeline.vae, pipeline.unet, pipeline.text_encoder, pipeline.tokenizer
    noise_scheduler = _training_scheduler(pipeline)
    resolution = config.resolution or unet.config.sample_size * pipeline.vae_scale_factor
    buckets = bucket_sizes(resolution, size_step(pipeline)) if config.aspect_buckets else None
    data = load_training_set(
        workspace, tokenizer, resolution, split=config.split, max_images=config.max_images, buckets=buckets, crop=config.crop
    )
    held_out = load_validation_set(workspace, tokenizer, resolution, buckets=buckets) if config.split == "train" else None
    storage.write_json(
        f"{run}/caption_report.json",
        {"max_caption_tokens": tokenizer.model_max_length - 2, "strategy": "truncate", "cut": data.cut_captions},
    )
    _add_adapters(config, unet, text_encoder)
    device = accelerator.device
    vae.to(device)
    text_encoder.to(device)

    # Deterministic transforms: encode every image (and its flip) once, or read the cache.
    # Random crops change the pixels every step, so those batches are encoded per step.
    per_step_encoding = config.crop == "random"
    vae_identity = hashlib.sha256(json.dumps(vae.config, sort_keys=True, default=str).encode()).hexdigest()[:16]
    cache = LatentCache(storage, f"{config.model}#{vae_identity}", enabled=config.cache_latents)
    with torch.no_grad():
        distributions = None
        if not per_step_encoding:
            distributions = encode_distributions(vae, data, cache, device, flips=(False, True) if config.random_flip else (False,))
        cached_embeddings = None if config.train_text_encoder else text_encoder(data.input_ids.to(device))[0]
        validation = _encode_validation(vae, held_out or data, device)
    if not per_step_encoding:
        vae.to("cpu")

    # Under mixed precision the frozen UNet and text-encoder weights are stored in the compute
    # dtype (half the memory), as the diffusers examples do. The VAE stays fp32 because the SD 1.x
    # VAE overflows in fp16. The LoRA weights are made fp32 below.
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(config.mixed_precision)
    if weight_dtype is not None:
        unet.to(dtype=weight_dtype)
        text_encoder.to(dtype=weight_dtype)
        if cached_embeddings is not None:
            cached_embeddings = cached_embeddings.to(weight_dtype)

    param_groups = [{"params": [p for p in unet.parameters() if p.requires_grad], "lr": config.learning_rate}]
    if config.train_text_encoder:
        param_groups.append(
            {"params": [p for p in text_encoder.parameters() if p.requires_grad], "lr": config.text_encoder_learning_rate}
        )
    for group in param_groups:
        for parameter in group["params"]:
            parameter.data = parameter.data.float()
    optimizer = _make_optimizer(config, param_groups)
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
    batch_size = min(config.batch_size, len(data.keys))
    fixed_index = next(iter(data.buckets.values()))[:batch_size]
    fixed = None
    if config.fixed_noise:
        fixed = _draw_noise(generator, (len(fixed_index), *_latent_shape(data, fixed_index[0], pipeline)), noise_scheduler, config)
    pending: list[list[int]] = []
    rows: list[dict] = []
    validation_rows: list[dict] = []
    start_step = 0
    resumed_from = None
    if config.resume_from:
        resumed_from = resolve_checkpoint(storage, run, config.resume_from)
        weights, state = load_checkpoint(storage, resumed_from, config)
        if state.step >= config.steps:
            raise InvalidValueError(
                f"checkpoint {resumed_from} is at step {state.step}, not before the last step {config.steps}; raise --steps"
            )
        restore_weights(accelerator.unwrap_model(unet), accelerator.unwrap_model(text_encoder), weights)
        optimizer.load_state_dict(state.optimizer)
        lr_scheduler.load_state_dict(state.lr_scheduler)
        generator.set_state(state.generator)
        torch.set_rng_state(state.torch_rng)
        if state.cuda_rng is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state.cuda_rng)
        pending, rows, validation_rows, start_step = state.pending_batches, state.rows, state.validation_rows, state.step
        logger.info("resumed from %s at step %d", resumed_from, start_step)
    losses = [row["loss"] for row in rows]
    elapsed_before = rows[-1]["seconds"] if rows else 0.0
    trainable = [p for group in param_groups for p in group["params"]]
    trackers = Trackers(storage, run, config.report_to, config.model_dump(mode="json"), wandb_project=config.wandb_project)
    sample_paths: list[str] = []
    scaling = vae.config.scaling_factor

    def batch_moments(index: list[int]):
        flips = (torch.rand(len(index), generator=generator) < 0.5).tolist() if config.random_flip else [False] * len(index)
        if not per_step_encoding:
            mean = torch.stack([distributions[(i, flip)][0] for i, flip in zip(index, flips)]).to(device)
            std = torch.stack([distributions[(i, flip)][1] for i, flip in zip(index, flips)]).to(device)
            return mean, std
        pixels = data.pixels_of(index, flips=flips, offsets=random_offsets(data, index, generator)).to(device)
        with torch.no_grad():
            dist = vae.encode(pixels).latent_dist
        return dist.mean.float(), dist.std.float()

    def samples_at(step: int) -> None:
        images = render_samples(
            pipeline, accelerator.unwrap_model(unet), accelerator.unwrap_model(text_encoder), config, device,
            autocast=accelerator.autocast,
        )
        saved = save_samples(storage, run, step, images)
        sample_paths.extend(path[len(run) + 1 :] for path in saved)
        trackers.log_images(step, {f"samples/{path.rsplit('/', 1)[-1][:-4]}": image for path, image in saved.items()})

    def validate_at(step: int) -> float:
        value = _validation_loss(unet, text_encoder, noise_scheduler, validation, scaling, device)
        validation_rows.append({"step": step, "loss": value})
        trackers.log_scalars(step, {"validation/loss": value})
        logger.info("step %d validation loss %.5f", step, value)
        return value

    try:
        for step in range(start_step + 1, config.steps + 1):
            step_loss = 0.0
            for _ in range(config.gradient_accumulation_steps):
                if fixed is not None:
                    index = fixed_index
                else:
                    if not pending:
                        pending = epoch_batches(data.buckets, batch_size, generator)
                    index = pending.pop(0)
                mean, std = batch_moments(index)
                with accelerator.accumulate(unet):
                    loss = _step_loss(
                        unet, text_encoder, noise_scheduler, config, data.input_ids[index], mean, std,
                        None if cached_embeddings is None else cached_embeddings[index], scaling, generator, fixed, device,
                    )
                    accelerator.backward(loss)
                    if accelerator.sync_gradients and config.max_grad_norm:
                        accelerator.clip_grad_norm_(trainable, config.max_grad_norm)
                    optimizer.step()
                    lr_scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                step_loss += loss.detach().item() / config.gradient_accumulation_steps
            learning_rate = lr_scheduler.get_last_lr()[0]
            rows.append({"step": step, "loss": step_loss, "lr": learning_rate, "seconds": elapsed_before + time.perf_counter() - started})
            losses.append(step_loss)
            try:
                guard.check(step, step_loss)
            except NonFiniteError:
                _write_run_logs(workspace, config, rows, validation_rows)
                raise
            trackers.log_scalars(step, {"train/loss": step_loss, "train/lr": learning_rate})
            if step % 10 == 0 or step == config.steps:
                logger.info("step %d/%d loss %.5f", step, config.steps, step_loss)
            if config.validation_steps and step % config.validation_steps == 0 and step != config.steps:
                validate_at(step)
            if config.sample_prompts and config.sample_steps and step % config.sample_steps == 0 and step != config.steps:
                samples_at(step)
            if config.checkpointing_steps and step % config.checkpointing_steps == 0:
                state = TrainingState(
                    step=step,
                    optimizer=optimizer.state_dict(),
                    lr_scheduler=lr_scheduler.state_dict(),
                    generator=generator.get_state(),
                    torch_rng=torch.get_rng_state(),
                    cuda_rng=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                    pending_batches=[list(batch) for batch in pending],
                    rows=[dict(row) for row in rows],
                    validation_rows=[dict(row) for row in validation_rows],
                )
                weights = trainable_state(accelerator.unwrap_model(unet), accelerator.unwrap_model(text_encoder))
                save_checkpoint(storage, run, config, state, weights, keep=config.checkpoints_total_limit)

        validation_loss = validate_at(config.steps)
        if config.sample_prompts:
            samples_at(config.steps)
    finally:
        trackers.close()

    unet = accelerator.unwrap_model(unet)
    text_encoder = accelerator.unwrap_model(text_encoder)
    logger.info("validation loss %.5f on %d images", validation_loss, validation["images"])
    from peft.utils import get_peft_model_state_dict

    unet_layers = get_peft_model_state_dict(unet)
    text_layers = get_peft_model_state_dict(text_encoder) if config.train_text_encoder else None
    data_summary = {
        "images": len(data.keys),
        "validation_images": validation["images"],
        "captions": len(data.captions),
        "cut_captions": len(data.cut_captions),
        "sizes": {f"{w}x{h}": len(indices) for (w, h), indices in data.buckets.items()},
        "conversions": data.conversions,
        "attributes": data.attributes,
        "latents_from_cache": cache.hits,
        "latents_encoded": cache.encoded,
    }
    return _save_run(
        workspace, config, unet, text_encoder, unet_layers, text_layers, rows, losses, started,
        validation_loss=validation_loss, validation_images=validation["images"],
        held_out=held_out is not None, validation_rows=validation_rows, data_summary=data_summary,
        samples=sample_paths, resumed_from=resumed_from, start_step=start_step,
    )


def _latent_shape(data, index: int, pipeline) -> tuple[int, int, int]:
    width, height = data.sizes[index]
    factor = pipeline.vae_scale_factor
    return (pipeline.vae.config.latent_channels, height // factor, width // factor)


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


def _step_loss(unet, text_encoder, scheduler, config, input_ids, mean, std, embeddings, scaling, generator, fixed, device):
    """Return the (Min-SNR weighted) denoising loss of one batch, given its latent distributions."""
    import torch.nn.functional as F

    sample_noise, noise, timesteps = fixed if fixed is not None else _draw_noise(generator, mean.shape, scheduler, config)
    latents = (mean + std * sample_noise.to(device)) * scaling
    noise, timesteps = noise.to(device), timesteps.to(device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    if scheduler.config.prediction_type == "v_prediction":
        target = scheduler.get_velocity(latents, noise, timesteps)
    else:
        target = noise
    if embeddings is None:
        embeddings = text_encoder(input_ids.to(device))[0]
    prediction = unet(noisy, timesteps, embeddings).sample
    per_sample = F.mse_loss(prediction.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
    if config.min_snr_gamma:
        per_sample = per_sample * _snr_weights(scheduler, timesteps, config.min_snr_gamma).to(per_sample.device)
    return per_sample.mean()


VALIDATION_SEED = 20240601
VALIDATION_TIMESTEPS = 8


def _encode_validation(vae, data, device) -> dict:
    """Encode the validation images (centre crops) with fixed noise, so every run is scored on the same draws.

    Images are grouped by size; each group gets its own noise, drawn from one seeded generator
    in a fixed order.
    """
    import torch

    generator = torch.Generator(device="cpu").manual_seed(VALIDATION_SEED)
    groups = []
    for indices in data.buckets.values():
        means = []
        for start in range(0, len(indices), 8):
            chunk = indices[start : start + 8]
            means.append(vae.encode(data.pixels_of(chunk).to(device)).latent_dist.mean.float().cpu())
        mean = torch.cat(means)
        noise = torch.randn((VALIDATION_TIMESTEPS, *mean.shape), generator=generator)
        groups.append({"latents": mean, "noise": noise, "input_ids": data.input_ids[indices]})
    return {"groups": groups, "images": len(data.keys)}


def _validation_loss(unet, text_encoder, scheduler, validation: dict, scaling: float, device) -> float:
    """Return the denoising loss on held-out images at fixed noise and evenly spaced timesteps.

    The noise, timesteps and latents (the distribution means) are the same for every run
    on a workspace, so runs with different settings or seeds are compared fairly. Each image
    counts equally whatever its size group.
    """
    import torch
    import torch.nn.functional as F

    modes = (unet.training, text_encoder.training)
    unet.eval()
    text_encoder.eval()
    steps = torch.linspace(0, scheduler.config.num_train_timesteps - 1, VALIDATION_TIMESTEPS).long()
    total = 0.0
    with torch.no_grad():
        for group in validation["groups"]:
            latents = group["latents"].to(device) * scaling
            embeddings = text_encoder(group["input_ids"].to(device))[0]
            for noise, timestep in zip(group["noise"], steps):
                noise = noise.to(device)
                timesteps = timestep.repeat(latents.shape[0]).to(device)
                noisy = scheduler.add_noise(latents, noise, timesteps)
                if scheduler.config.prediction_type == "v_prediction":
                    target = scheduler.get_velocity(latents, noise, timesteps)
                else:
                    target = noise
                prediction = unet(noisy, timesteps, embeddings).sample
                total += F.mse_loss(prediction.float(), target.float()).item() * latents.shape[0]
    unet.train(modes[0])
    text_encoder.train(modes[1])
    return total / (VALIDATION_TIMESTEPS * validation["images"])


def _csv_text(rows: list[dict], fieldnames: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _write_run_logs(workspace: Workspace, config: TrainConfig, rows: list[dict], validation_rows: list[dict] | None = None) -> None:
    storage = workspace.storage
    run = f"runs/{config.run_name}"
    storage.write_text(f"{run}/loss.csv", _csv_text(rows, ["step", "loss", "lr", "seconds"]))
    if validation_rows:
        storage.write_text(f"{run}/validation.csv", _csv_text(validation_rows, ["step", "loss"]))
    storage.write_json(f"{run}/config.json", config.model_dump(mode="json"))


def _save_run(
    workspace, config, unet, text_encoder, unet_layers, text_layers, rows, losses, started, *,
    validation_loss, validation_images, held_out, validation_rows=(), data_summary=None, samples=(),
    resumed_from=None, start_step=0,
):
    import tempfile

    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers

    from ..lora import assert_finite_state_dict, export_kohya
    from .checkpoints import checkpoint_folders
    from .modelcard import model_card
    from .plots import plot_losses

    storage = workspace.storage
    run = f"runs/{config.run_name}"
    unet_layers = convert_state_dict_to_diffusers(unet_layers)
    text_layers = convert_state_dict_to_diffusers(text_layers) if text_layers else None
    assert_finite_state_dict({**unet_layers, **(text_layers or {})}, "trained LoRA")
    _write_run_logs(workspace, config, rows, list(validation_rows))
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
    storage.write_bytes(
        f"{run}/loss.png",
        plot_losses(rows, title=f"LoRA training loss, {config.run_name}", validation=list(validation_rows)),
    )
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
        "validation": list(validation_rows),
        "seconds": round(seconds, 3),
        "steps_per_second": round((config.steps - start_step) / seconds, 3) if seconds > 0 else None,
        "resumed_from": resumed_from,
        "resumed_at_step": start_step if resumed_from else None,
        "data": data_summary or {},
        "samples": list(samples),
        "checkpoints": [folder for _, folder in checkpoint_folders(storage, run)],
        "lora": f"{run}/lora/{LORA_WEIGHT_NAME}",
        "kohya": f"{run}/{KOHYA_WEIGHT_NAME}",
    }
    storage.write_text(f"{run}/summary.json", json.dumps(summary, indent=2) + "\n")
    storage.write_text(f"{run}/README.md", model_card(config.model_dump(mode="json"), summary, data_summary or {}, list(samples)))
    logger.info("saved run %s (final loss %.5f, %.1f s)", run, losses[-1], seconds)
    return TrainResult(
        validation_loss=validation_loss,
        run_dir=storage.path(run),
        lora_file=storage.path(f"{run}/lora/{LORA_WEIGHT_NAME}"),
        kohya_file=storage.path(f"{run}/{KOHYA_WEIGHT_NAME}"),
        losses=losses,
        seconds=seconds,
    )
