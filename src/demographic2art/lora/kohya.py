"""Export PEFT/diffusers LoRA weights to the kohya format of AUTOMATIC1111 and ComfyUI.

Kohya names modules with the SD 1.x path, dots replaced by ``_``, under one prefix per
model part: ``lora_unet_`` for the UNet and ``lora_te_`` plus ``text_model_`` for the
single SD 1.x text encoder (``lora_te1_``/``lora_te2_`` belong to SDXL). Each module has
``lora_down.weight`` (PEFT's ``lora_A``), ``lora_up.weight`` (``lora_B``) and a scalar
``alpha``, applied as ``up @ down * alpha / rank``. The parts are converted one at a
time: converting a mixed UNet and text-encoder dict in one pass gives wrong prefixes,
and a missing ``alpha`` makes loaders assume ``alpha = rank``.

transformers 5.23 builds ``CLIPTextModel`` without the ``text_model.`` level, so both
``text_encoder.text_model.encoder...`` and ``text_encoder.encoder...`` map to
``lora_te_text_model_encoder...``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidValueError, MissingFileError
from .checks import assert_finite_state_dict

logger = logging.getLogger(__name__)

_PART_PREFIXES = {"unet": "lora_unet_", "text_encoder": "lora_te_"}
# PEFT writes lora_A/lora_B (optionally with an adapter name); diffusers' own format
# writes lora.down/lora.up, and older files lora_linear_layer.down/up.
_WEIGHT_SUFFIX = re.compile(
    r"\.(lora_A|lora_B|lora\.down|lora\.up|lora_linear_layer\.down|lora_linear_layer\.up)(?:\.[^.]+)?\.weight$"
)
_DOWN_NAMES = {"lora_A", "lora.down", "lora_linear_layer.down"}


def kohya_module_name(part: str, module_path: str) -> str:
    """Return the kohya module name of ``module_path`` inside model ``part``."""
    if part == "text_encoder":
        path = module_path.removeprefix("text_model.")
        return "lora_te_text_model_" + path.replace(".", "_")
    if part == "unet":
        return "lora_unet_" + module_path.replace(".", "_")
    raise InvalidValueError(f"model part {part!r} has no kohya prefix; expected 'unet' or 'text_encoder'")


def _split_key(key: str) -> tuple[str, str, str]:
    """Split ``unet.<module>.lora_A.weight`` into ``(part, module path, 'A' or 'B')``."""
    match = _WEIGHT_SUFFIX.search(key)
    if not match:
        raise InvalidValueError(f"LoRA key {key!r} is not a PEFT lora_A/lora_B weight")
    part, _, module = key[: match.start()].partition(".")
    if part not in _PART_PREFIXES or not module:
        raise InvalidValueError(
            f"LoRA key {key!r} does not start with 'unet.' or 'text_encoder.'; "
            "export the parts of a diffusers pipeline LoRA"
        )
    return part, module, "A" if match.group(1) in _DOWN_NAMES else "B"


def read_adapter_alphas(
    config: Mapping[str, Any] | None, part: str, module: str, rank: int
) -> float:
    """Return the alpha of one module from a PEFT ``LoraConfig`` dict, falling back to the rank.

    ``alpha_pattern`` entries win over ``lora_alpha``; a pattern matches when the module
    path ends with it, as in PEFT.
    """
    if not config:
        return float(rank)
    part_config = config.get(part, config)
    for pattern, alpha in (part_config.get("alpha_pattern") or {}).items():
        if module == pattern or module.endswith("." + pattern) or re.fullmatch(pattern, module):
            return float(alpha)
    alpha = part_config.get("lora_alpha")
    return float(alpha) if alpha is not None else float(rank)


def peft_to_kohya(
    state_dict: Mapping[str, "torch.Tensor"],  # noqa: F821
    adapter_config: Mapping[str, Any] | None = None,
) -> dict[str, "torch.Tensor"]:  # noqa: F821
    """Convert a diffusers/PEFT pipeline LoRA state dict to kohya names, one part at a time.

    ``adapter_config`` maps ``'unet'`` and ``'text_encoder'`` to their ``LoraConfig`` dicts
    (``r``, ``lora_alpha``, ``alpha_pattern``); without it alpha equals the rank.
    """
    import torch

    modules: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for key, tensor in state_dict.items():
        part, module, which = _split_key(key)
        modules.setdefault((part, module), {})[which] = tensor

    out: dict[str, torch.Tensor] = {}
    for (part, module), weights in sorted(modules.items()):
        if set(weights) != {"A", "B"}:
            raise InvalidValueError(f"LoRA module {part}.{module} lacks its lora_A or lora_B weight")
        name = kohya_module_name(part, module)
        down, up = weights["A"], weights["B"]
        rank = down.shape[0]
        alpha = read_adapter_alphas(adapter_config, part, module, rank)
        out[f"{name}.lora_down.weight"] = down.contiguous()
        out[f"{name}.lora_up.weight"] = up.contiguous()
        out[f"{name}.alpha"] = torch.tensor(alpha, dtype=torch.float32)
    return out


def export_kohya(
    lora_file: str | os.PathLike[str],
    out_file: str | os.PathLike[str],
    adapter_config: Mapping[str, Any] | None = None,
) -> Path:
    """Write the kohya-format file for a diffusers LoRA safetensors file.

    The alpha of each part comes from ``adapter_config``, else from the adapter metadata
    that diffusers stores in the file, else equals the rank. A file holding NaN or Inf
    values raises :class:`~demographic2art.errors.NonFiniteError` and writes nothing.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    lora_file = Path(lora_file)
    if not lora_file.is_file():
        raise MissingFileError(f"LoRA file {lora_file} does not exist")
    state_dict = load_file(str(lora_file))
    assert_finite_state_dict(state_dict, f"LoRA file {lora_file}")
    if adapter_config is None:
        with safe_open(str(lora_file), framework="pt") as handle:
            adapter_config = adapter_config_from_metadata(handle.metadata() or {})
    if all(key.startswith(tuple(_PART_PREFIXES.values())) for key in state_dict):
        converted = dict(state_dict)  # already kohya names: validated above, copied as they are
    else:
        converted = peft_to_kohya(state_dict, adapter_config)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"ss_network_module": "networks.lora", "ss_base_model_version": "sd_v1"}
    save_file(converted, str(out_file), metadata=metadata)
    logger.info("wrote kohya LoRA %s with %d modules", out_file, len(converted) // 3)
    return out_file


def adapter_config_from_metadata(metadata: Mapping[str, str]) -> dict[str, Any] | None:
    """Read the per-part ``LoraConfig`` dicts diffusers writes into safetensors metadata."""
    raw = metadata.get("lora_adapter_metadata")
    if not raw:
        return None
    flat = json.loads(raw)
    config: dict[str, Any] = {}
    for key, value in flat.items():
        part, _, field = key.partition(".")
        if part in _PART_PREFIXES and field:
            config.setdefault(part, {})[field] = value
    return config or None
