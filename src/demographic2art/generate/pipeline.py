"""A base pipeline plus an optional LoRA, loaded once and used for many generations.

diffusers pipelines are not thread-safe (their schedulers keep a step counter), so a
:class:`Generator` must be used from one thread at a time; the web app gives it to a
single worker thread. Each image of a batch gets its own seeded generator (seed, seed
+ 1, ...), so an image depends on its seed alone and not on the batch it came in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidValueError
from ..model.loading import resolve_lora_file
from .params import SCHEDULERS, GenerationParams

logger = logging.getLogger(__name__)

ADAPTER_NAME = "d2a"
ProgressCallback = Callable[[int, int], None]


def load_lora_adapter(pipeline, path: Path, adapter_name: str, *, model: str) -> None:
    """Load the LoRA file or folder ``path`` into ``pipeline`` as ``adapter_name``.

    Raise :class:`InvalidValueError` naming the file when diffusers cannot apply it,
    which happens when the LoRA was trained for another base model.
    """
    try:
        if path.is_dir():
            pipeline.load_lora_weights(str(path), adapter_name=adapter_name)
        else:
            pipeline.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=adapter_name)
    except (ValueError, KeyError, RuntimeError, OSError) as exc:
        raise InvalidValueError(
            f"LoRA {path} could not be loaded into model {model} ({exc.__class__.__name__}: {str(exc)[:200]}); "
            "pass a LoRA trained on this base model"
        ) from None


class GenerationCancelled(Exception):
    """Raised inside :meth:`Generator.generate` when its cancel event is set between steps."""


class Generator:
    """Generates images from one base model and at most one LoRA adapter."""

    def __init__(self, model: str, lora: str | None = None, *, device: str | None = None, dtype: str = "float32"):
        from ..model.loading import load_pipeline

        self.model = model
        self.model_name = Path(model).name if Path(model).exists() else model
        self.pipeline = load_pipeline(model, device=device, dtype=dtype)
        self.device = str(self.pipeline.device)
        self._base_scheduler_config = dict(self.pipeline.scheduler.config)
        self._schedulers: dict[str, object] = {}
        self.lora = None
        self.lora_name = None
        if lora:
            self.load_lora(lora)

    @property
    def native_size(self) -> int:
        return self.pipeline.unet.config.sample_size * self.pipeline.vae_scale_factor

    def load_lora(self, lora: str) -> None:
        """Load a LoRA file or folder (diffusers or kohya format) as the active adapter.

        Raise :class:`MissingFileError` for a missing path and :class:`InvalidValueError`
        for an empty or corrupt file, or one that does not fit the base model.
        """
        path = Path(resolve_lora_file(lora))
        if self.lora is not None:
            self.pipeline.delete_adapters(ADAPTER_NAME)
        load_lora_adapter(self.pipeline, path, ADAPTER_NAME, model=self.model_name)
        self.lora = str(path)
        self.lora_name = path.parent.parent.name if path.parent.name == "lora" else path.stem
        logger.info("loaded LoRA %s", path)

    def _scheduler(self, name: str):
        if name not in self._schedulers:
            import diffusers

            class_name, overrides, _ = SCHEDULERS[name]
            scheduler_class = getattr(diffusers, class_name)
            self._schedulers[name] = scheduler_class.from_config(self._base_scheduler_config, **overrides)
        return self._schedulers[name]

    def generate(
        self,
        params: GenerationParams,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        output_type: str = "pil",
    ):
        """Return the images of one request (``params.batch_size`` of them).

        ``output_type`` is ``'pil'`` (8-bit images) or ``'np'`` (float arrays in [0, 1],
        for exact comparisons).
        """
        import torch

        if params.lora_weight != 1.0 and self.lora is None:
            raise InvalidValueError("lora_weight was set but no LoRA is loaded; pass a LoRA or leave the weight at 1")
        width = params.width or self.native_size
        height = params.height or self.native_size
        pipeline = self.pipeline
        pipeline.scheduler = self._scheduler(params.scheduler)
        if self.lora is not None:
            pipeline.set_adapters([ADAPTER_NAME], adapter_weights=[params.lora_weight])
        generator_device = "cpu" if self.device.startswith("mps") else self.device
        generators = [
            torch.Generator(device=generator_device).manual_seed(params.for_image(i).seed)
            for i in range(params.batch_size)
        ]

        def on_step_end(pipe, step: int, timestep, tensors: dict):
            if progress is not None:
                progress(step + 1, params.steps)
            if cancel is not None and cancel.is_set():
                pipe._interrupt = True
            return tensors

        with torch.inference_mode():
            output = pipeline(
                prompt=[params.prompt] * params.batch_size,
                negative_prompt=[params.negative_prompt] * params.batch_size if params.negative_prompt else None,
                num_inference_steps=params.steps,
                guidance_scale=params.guidance_scale,
                width=width,
                height=height,
                generator=generators,
                callback_on_step_end=on_step_end,
                output_type=output_type,
            )
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled("generation was cancelled between steps")
        return output.images
