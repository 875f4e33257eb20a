"""Settings of one LoRA training run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")
TEXT_ENCODER_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")


class TrainConfig(BaseModel):
    """Every setting of a training run; saved as ``config.json`` beside its outputs."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(description="Diffusers model folder or hub id of the base pipeline.")
    run_name: str | None = Field(None, description="Folder name under runs/; default lr<lr>-seed<seed>.")
    steps: int = Field(50, ge=1, description="Optimizer steps.")
    learning_rate: float = Field(1e-4, gt=0)
    text_encoder_learning_rate: float | None = Field(None, gt=0)
    rank: int = Field(4, ge=1)
    alpha: float | None = Field(None, gt=0, description="LoRA alpha; default equals the rank.")
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    unet_targets: tuple[str, ...] = UNET_TARGETS
    train_text_encoder: bool = False
    batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    resolution: int | None = Field(None, ge=8, le=2048, description="Training size in pixels; default the model's.")
    seed: int = 42
    lr_scheduler: Literal["constant", "constant_with_warmup", "linear", "cosine"] = "constant"
    lr_warmup_steps: int = Field(0, ge=0)
    max_grad_norm: float | None = Field(1.0, gt=0)
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    min_snr_gamma: float | None = Field(None, gt=0)
    noise_offset: float = Field(0.0, ge=0)
    fixed_noise: bool = Field(
        False, description="Reuse one draw of noise and timesteps every step (overfit checks)."
    )
    split: Literal["train", "all"] = "train"
    max_images: int | None = Field(None, ge=1)
    # Data
    aspect_buckets: bool = Field(
        False, description="Group images by aspect ratio, each bucket at its own size of about resolution**2 pixels."
    )
    crop: Literal["center", "random"] = Field(
        "center", description="Centre crop (latents cached once) or a random crop each step (encoded per step)."
    )
    random_flip: bool = Field(False, description="Flip each image horizontally with probability 0.5 per step.")
    cache_latents: bool = Field(
        True, description="Store latent distributions under cache/latents/ and reuse them across runs."
    )
    # Memory and optimizer
    gradient_checkpointing: bool = Field(False, description="Recompute activations in the backward pass to save memory.")
    use_8bit_adam: bool = Field(False, description="bitsandbytes AdamW8bit instead of torch AdamW (CUDA only).")
    adam_weight_decay: float = Field(1e-2, ge=0)
    # Checkpoints
    checkpointing_steps: int | None = Field(None, ge=1, description="Save a resumable checkpoint every N steps.")
    checkpoints_total_limit: int | None = Field(None, ge=1, description="Keep at most this many checkpoints.")
    resume_from: str | None = Field(
        None, description="'latest' (the run's newest checkpoint) or a checkpoint folder to continue from."
    )
    # Validation and logs
    validation_steps: int | None = Field(None, ge=1, description="Compute the validation loss every N steps.")
    sample_prompts: tuple[str, ...] = Field((), description="Prompts of the validation sample images.")
    sample_seeds: tuple[int, ...] = Field((42,), description="Seeds of the validation sample images.")
    sample_steps: int | None = Field(
        None, ge=1, description="Render the sample images every N steps (always at the end when prompts are given)."
    )
    sample_inference_steps: int = Field(20, ge=1)
    sample_guidance_scale: float = Field(7.5, ge=0)
    report_to: tuple[Literal["tensorboard", "wandb"], ...] = ("tensorboard",)
    wandb_project: str = "demographic2art"

    @model_validator(mode="after")
    def _defaults(self) -> "TrainConfig":
        if self.alpha is None:
            self.alpha = float(self.rank)
        if self.text_encoder_learning_rate is None:
            self.text_encoder_learning_rate = self.learning_rate
        if self.run_name is None:
            self.run_name = f"lr{self.learning_rate:g}-seed{self.seed}"
        return self
