"""`d2a train`: one LoRA fine-tuning run."""

from __future__ import annotations

from typing import Annotated

import typer

from ..reporting import record_counts, reported_command
from .common import DEFAULT, NotifyOption, WorkspaceOption, console, open_workspace

ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        "--pretrained-model-name-or-path",
        help="Base model: a diffusers folder or hub id \\[default: the workspace's models/tiny, "
        "else stable-diffusion-v1-5/stable-diffusion-v1-5].",
    ),
]


def default_model(workspace) -> str:
    """Return the workspace's base model (see :func:`~demographic2art.model.loading.workspace_model`)."""
    from ..model.loading import workspace_model

    return workspace_model(workspace)


def training_config(workspace, model: str, **values):
    from pydantic import ValidationError

    from ..errors import InvalidValueError
    from ..train import TrainConfig

    try:
        return TrainConfig(model=model or default_model(workspace), **values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidValueError(f"invalid training setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def register(app: typer.Typer) -> None:
    """Add ``train`` to the top-level app."""

    @app.command("train")
    @reported_command("train")
    def train(
        workspace: WorkspaceOption = DEFAULT,
        model: ModelOption = "",
        steps: Annotated[int, typer.Option(help="Optimizer steps.")] = 200,
        learning_rate: Annotated[float, typer.Option("--learning-rate", "--lr", help="UNet LoRA learning rate.")] = 1e-4,
        rank: Annotated[int, typer.Option(help="LoRA rank.")] = 4,
        alpha: Annotated[float | None, typer.Option(help="LoRA alpha \\[default: the rank].")] = None,
        seed: Annotated[int, typer.Option(help="Seed of weights, noise and data order.")] = 42,
        batch_size: Annotated[int, typer.Option(help="Images per step.")] = 1,
        gradient_accumulation_steps: Annotated[int, typer.Option(help="Batches per optimizer step.")] = 1,
        resolution: Annotated[int | None, typer.Option(help="Training size in pixels \\[default: the model's].")] = None,
        train_text_encoder: Annotated[bool, typer.Option(help="Also train LoRA on the text encoder.")] = False,
        text_encoder_lr: Annotated[float | None, typer.Option(help="Text-encoder learning rate \\[default: --lr].")] = None,
        lr_scheduler: Annotated[str, typer.Option(help="constant, constant_with_warmup, linear or cosine.")] = "constant",
        lr_warmup_steps: Annotated[int, typer.Option(help="Warm-up steps of the learning-rate schedule.")] = 0,
        mixed_precision: Annotated[str, typer.Option(help="no, fp16 (CUDA only) or bf16.")] = "no",
        min_snr_gamma: Annotated[float | None, typer.Option(help="Min-SNR loss weighting gamma (5 is usual).")] = None,
        noise_offset: Annotated[float, typer.Option(help="Noise offset (0.05-0.1 is usual).")] = 0.0,
        run_name: Annotated[str | None, typer.Option(help="Run folder under runs/ \\[default: lr<lr>-seed<seed>].")] = None,
        lora_dropout: Annotated[float, typer.Option(help="Dropout probability on the LoRA layers (0-1).")] = 0.0,
        max_grad_norm: Annotated[float | None, typer.Option(help="Maximum gradient norm for clipping.")] = 1.0,
        adam_weight_decay: Annotated[float, typer.Option(help="AdamW weight decay.")] = 1e-2,
        use_8bit_adam: Annotated[bool, typer.Option(help="bitsandbytes AdamW8bit (CUDA only).")] = False,
        gradient_checkpointing: Annotated[bool, typer.Option(help="Recompute activations in backward to save memory.")] = False,
        aspect_buckets: Annotated[
            bool, typer.Option(help="Group images by aspect ratio, each bucket about resolution^2 pixels.")
        ] = False,
        crop: Annotated[str, typer.Option(help="center (latents cached once) or random (encoded per step).")] = "center",
        random_flip: Annotated[bool, typer.Option(help="Flip images horizontally with probability 0.5.")] = False,
        cache_latents: Annotated[bool, typer.Option(help="Reuse latents from cache/latents/ across runs.")] = True,
        max_images: Annotated[int | None, typer.Option(help="Train on at most this many images.")] = None,
        checkpointing_steps: Annotated[int | None, typer.Option(help="Save a resumable checkpoint every N steps.")] = None,
        checkpoints_total_limit: Annotated[int | None, typer.Option(help="Keep at most this many checkpoints.")] = None,
        resume: Annotated[
            str | None, typer.Option("--resume", help="'latest' or a checkpoint folder (runs/<run>/checkpoints/step-<n>).")
        ] = None,
        validation_steps: Annotated[int | None, typer.Option(help="Validation loss every N steps \\[default: at the end].")] = None,
        sample_prompt: Annotated[list[str] | None, typer.Option(help="Prompt of a validation sample image (repeatable).")] = None,
        sample_seed: Annotated[list[int] | None, typer.Option(help="Seed of the sample images (repeatable) \\[default: 42].")] = None,
        sample_steps: Annotated[int | None, typer.Option(help="Render the samples every N steps \\[default: at the end].")] = None,
        sample_inference_steps: Annotated[int, typer.Option(help="Denoising steps per sample image.")] = 20,
        report_to: Annotated[list[str] | None, typer.Option(help="tensorboard and/or wandb (repeatable).")] = None,
        notify: NotifyOption = None,
    ) -> None:
        """Fine-tune LoRA adapters on the captioned images; saves diffusers and kohya LoRA files."""
        from ..train import train_lora
        from ..train.sweep import record_best_run

        ws = open_workspace(workspace)
        config = training_config(
            ws, model, steps=steps, learning_rate=learning_rate, rank=rank, alpha=alpha, seed=seed,
            batch_size=batch_size, gradient_accumulation_steps=gradient_accumulation_steps,
            resolution=resolution, train_text_encoder=train_text_encoder,
            text_encoder_learning_rate=text_encoder_lr, lr_scheduler=lr_scheduler,
            lr_warmup_steps=lr_warmup_steps, mixed_precision=mixed_precision,
            min_snr_gamma=min_snr_gamma, noise_offset=noise_offset, run_name=run_name,
            lora_dropout=lora_dropout, max_grad_norm=max_grad_norm, adam_weight_decay=adam_weight_decay,
            use_8bit_adam=use_8bit_adam, gradient_checkpointing=gradient_checkpointing, aspect_buckets=aspect_buckets,
            crop=crop, random_flip=random_flip, cache_latents=cache_latents, max_images=max_images,
            checkpointing_steps=checkpointing_steps, checkpoints_total_limit=checkpoints_total_limit,
            resume_from=resume, validation_steps=validation_steps, sample_prompts=tuple(sample_prompt or ()),
            sample_seeds=tuple(sample_seed or (42,)), sample_steps=sample_steps,
            sample_inference_steps=sample_inference_steps, report_to=tuple(report_to or ("tensorboard",)),
        )
        result = train_lora(ws, config)
        ws.record_settings("train", config.model_dump(mode="json"))
        lora = f"runs/{config.run_name}/lora/pytorch_lora_weights.safetensors"
        best = record_best_run(ws, config.run_name, lora, result.validation_loss)
        record_counts({"steps": config.steps}, summary=f"validation loss {result.validation_loss:.4f}")
        console.print(
            f"trained {config.steps} steps in {result.seconds:.1f} s: loss {result.losses[0]:.4f} -> "
            f"{result.final_loss:.4f}, validation {result.validation_loss:.4f}\n"
            f"LoRA: {result.lora_file}\nkohya: {result.kohya_file}"
        )
        if best:
            console.print(f"best run of the workspace: {best['run']} (recorded in {ws.url}/runs/best.json)")
