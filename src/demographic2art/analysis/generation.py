"""Portfolio generation engines: in this process, or as a Ray Data batch job.

Both engines take the same plan (one row per image: group, seed, template, prompt, LoRA
weight, file) and return the images in plan order, so every later step is identical.
The Ray engine runs one :class:`~demographic2art.generate.Generator` per actor, each
holding one GPU when the cluster has GPUs, and streams PNG bytes back to the driver,
which writes the files. The files, sidecars and manifest are the same as the local
engine's. NOTE: pixels can differ by 1/255 between the engines, because Ray workers run
torch with one thread and the order of float sums changes the rounding.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..cluster import ray_session
from ..errors import InvalidValueError

logger = logging.getLogger(__name__)

ENGINES = ("local", "ray")
RAY_BATCH_SIZE = 4


def _params(row: dict[str, Any], steps: int, guidance_scale: float):
    from ..generate import GenerationParams

    return GenerationParams(prompt=row["prompt"], seed=row["seed"], steps=steps, guidance_scale=guidance_scale, lora_weight=row["lora_weight"])


def generate_local(
    plan: Sequence[dict[str, Any]], *, generator, steps: int, guidance_scale: float, on_progress: Callable[[str], None] | None = None
) -> list:
    """Generate each planned image in order with one loaded generator; return PIL images.

    After the first image, ``on_progress`` receives an estimate of the remaining time:
    the first image's time multiplied by the number of images left. The first image
    includes warm-up work, so the estimate is usually high.
    """
    images = []
    for index, row in enumerate(plan):
        started = time.monotonic()
        images.append(generator.generate(_params(row, steps, guidance_scale))[0])
        if index == 0 and on_progress is not None and len(plan) > 1:
            first = time.monotonic() - started
            on_progress(f"the first image took {first:.2f} s, so the other {len(plan) - 1} take about {first * (len(plan) - 1):.0f} s (an estimate)")
    return images


class _PortfolioWorker:
    """A Ray Data actor that loads the model once and renders batches of plan rows to PNG bytes."""

    def __init__(self, model: str, lora: str | None, device: str | None, steps: int, guidance_scale: float):
        from ..generate import Generator

        self.generator = Generator(model, lora, device=device)
        self.steps = steps
        self.guidance_scale = guidance_scale

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        encoded = []
        for index in range(len(batch["seed"])):
            row = {"prompt": str(batch["prompt"][index]), "seed": int(batch["seed"][index]), "lora_weight": float(batch["lora_weight"][index])}
            image = self.generator.generate(_params(row, self.steps, self.guidance_scale))[0]
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            encoded.append(buffer.getvalue())
        return {"index": np.asarray(batch["index"]), "png": np.asarray(encoded, dtype=object)}


def generate_ray(
    plan: Sequence[dict[str, Any]],
    *,
    model: str,
    lora: str | None,
    steps: int,
    guidance_scale: float,
    workers: int | None = None,
    device: str | None = None,
) -> list:
    """Generate the plan as a Ray Data batch job with one model per actor; return PIL images in plan order.

    Connects to a running Ray cluster (``ray.init()`` was called by the caller) or starts
    a local one. ``workers`` defaults to the cluster's GPU count, or 1 on a CPU-only
    cluster. Each actor reserves one GPU when the cluster has any.
    """
    from PIL import Image

    with ray_session(extras=("data",)) as ray:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        count = workers or max(gpus, 1)
        if workers is not None and workers < 1:
            raise InvalidValueError(f"workers {workers} must be at least 1")
        items = [{"index": i, "prompt": row["prompt"], "seed": int(row["seed"]), "lora_weight": float(row["lora_weight"])} for i, row in enumerate(plan)]
        dataset = ray.data.from_items(items)
        results = dataset.map_batches(
            _PortfolioWorker,
            fn_constructor_kwargs={"model": model, "lora": lora, "device": device, "steps": steps, "guidance_scale": guidance_scale},
            batch_size=RAY_BATCH_SIZE,
            concurrency=count,
            num_gpus=1 if gpus else 0,
        )
        images: list = [None] * len(plan)
        for row in results.iter_rows():
            images[int(row["index"])] = Image.open(io.BytesIO(row["png"])).convert("RGB")
        logger.info("generated %d images with Ray on %d worker(s)", len(plan), count)
    missing = [i for i, image in enumerate(images) if image is None]
    if missing:
        raise RuntimeError(f"Ray returned no image for {len(missing)} planned rows (first: {missing[0]})")
    return images
