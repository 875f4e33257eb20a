"""LoRA fine-tuning of Stable Diffusion 1.x/2.x pipelines with diffusers, peft and accelerate."""

from .config import TrainConfig
from .loop import LossGuard, TrainResult, train_lora

__all__ = ["LossGuard", "TrainConfig", "TrainResult", "train_lora"]
