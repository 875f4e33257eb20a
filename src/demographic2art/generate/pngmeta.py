"""PNG files that carry their generation parameters.

The ``parameters`` text chunk uses the layout AUTOMATIC1111 writes (prompt, a
``Negative prompt:`` line, then ``Key: value`` pairs), so other tools read it. It holds
only generation parameters, so equal requests give byte-identical files; job ids and
times go in the JSON sidecar.
"""

from __future__ import annotations

import io
import json
from typing import Any

from .params import SCHEDULERS, GenerationParams


def a1111_parameters(params: GenerationParams, *, width: int, height: int, model: str, lora: str | None) -> str:
    """Return the AUTOMATIC1111-style parameters text of one image."""
    lines = [params.prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    fields = [
        ("Steps", params.steps),
        ("Sampler", SCHEDULERS[params.scheduler][2]),
        ("CFG scale", f"{params.guidance_scale:g}"),
        ("Seed", params.seed),
        ("Size", f"{width}x{height}"),
        ("Model", model),
    ]
    if lora:
        fields += [("Lora", lora), ("Lora weight", f"{params.lora_weight:g}")]
    lines.append(", ".join(f"{key}: {value}" for key, value in fields))
    return "\n".join(lines)


def png_bytes(image, parameters_text: str) -> bytes:
    """Encode ``image`` as PNG with the ``parameters`` text chunk and nothing time-dependent."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", parameters_text)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, optimize=False)
    return buffer.getvalue()


def read_png_parameters(data: bytes) -> str | None:
    """Return the ``parameters`` text chunk of a PNG, or None."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.text.get("parameters") if hasattr(image, "text") else None


def save_generation(storage, relpath: str, image, params: GenerationParams, *, model: str, lora: str | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``relpath`` (PNG) and its JSON sidecar through ``storage``; return the sidecar."""
    text = a1111_parameters(params, width=image.width, height=image.height, model=model, lora=lora)
    storage.write_bytes(relpath, png_bytes(image, text))
    sidecar = {
        "file": relpath.rsplit("/", 1)[-1],
        "parameters": params.model_dump(),
        "width": image.width,
        "height": image.height,
        "model": model,
        "lora": lora,
        **(extra or {}),
    }
    storage.write_text(relpath.rsplit(".", 1)[0] + ".json", json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
    return sidecar
