"""Image generation with a base pipeline and an optional LoRA, and PNGs that carry their parameters."""

from .params import SCHEDULERS, GenerationParams
from .pipeline import GenerationCancelled, Generator
from .pngmeta import a1111_parameters, png_bytes, read_png_parameters, save_generation

__all__ = [
    "SCHEDULERS",
    "GenerationCancelled",
    "GenerationParams",
    "Generator",
    "a1111_parameters",
    "png_bytes",
    "read_png_parameters",
    "save_generation",
]
