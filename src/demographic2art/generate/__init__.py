"""Image generation with a base pipeline and an optional LoRA, and PNGs that carry their parameters.

The names below load their modules on first use, so importing a submodule such as
``generate.threads`` (which every command runs before torch starts) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SCHEDULERS": ".params",
    "GenerationParams": ".params",
    "GenerationCancelled": ".pipeline",
    "Generator": ".pipeline",
    "a1111_parameters": ".pngmeta",
    "png_bytes": ".pngmeta",
    "read_png_parameters": ".pngmeta",
    "save_generation": ".pngmeta",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Return the exported ``name``, importing its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
