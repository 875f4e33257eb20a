"""Validated generation parameters, shared by the command line, the web app and portfolios."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Scheduler names as users know them from AUTOMATIC1111, mapped to diffusers classes.
SCHEDULERS = {
    "ddim": ("DDIMScheduler", {}, "DDIM"),
    "pndm": ("PNDMScheduler", {}, "PLMS"),
    "euler": ("EulerDiscreteScheduler", {}, "Euler"),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}, "Euler a"),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}, "DPM++ 2M"),
    "ddpm": ("DDPMScheduler", {}, "DDPM"),
}
MAX_PROMPT_CHARS = 1000
MAX_SEED = 2**32 - 1


class GenerationParams(BaseModel):
    """Everything that determines a generated image; equal parameters give equal images."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field("", max_length=MAX_PROMPT_CHARS)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    steps: int = Field(20, ge=1, le=150)
    guidance_scale: float = Field(7.5, ge=0.0, le=30.0)
    width: int | None = Field(None, ge=8, le=2048, multiple_of=8)
    height: int | None = Field(None, ge=8, le=2048, multiple_of=8)
    scheduler: Literal["ddim", "pndm", "euler", "euler_a", "dpmpp_2m", "ddpm"] = "ddim"
    lora_weight: float = Field(1.0, ge=0.0, le=2.0)
    batch_size: int = Field(1, ge=1, le=8)

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt is empty")
        return value

    def for_image(self, index: int) -> "GenerationParams":
        """Return the parameters of image ``index`` of a batch: its own seed, batch size 1."""
        return self.model_copy(update={"seed": (self.seed + index) % (MAX_SEED + 1), "batch_size": 1})
