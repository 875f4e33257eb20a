"""Non-finite checks for LoRA state dicts being saved, exported or loaded."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import NonFiniteError


def nonfinite_tensors(state_dict: Mapping[str, "torch.Tensor"]) -> dict[str, int]:  # noqa: F821
    """Return ``{tensor name: count of NaN or Inf values}`` for every tensor that has any."""
    import torch

    counts = {}
    for name, tensor in state_dict.items():
        if not torch.is_floating_point(tensor):
            continue
        bad = int((~torch.isfinite(tensor)).sum().item())
        if bad:
            counts[name] = bad
    return counts


def assert_finite_state_dict(state_dict: Mapping[str, "torch.Tensor"], what: str = "LoRA") -> None:  # noqa: F821
    """Raise :class:`NonFiniteError` naming each tensor that contains NaN or Inf values."""
    counts = nonfinite_tensors(state_dict)
    if counts:
        listed = ", ".join(f"{name} ({n} non-finite values)" for name, n in sorted(counts.items()))
        raise NonFiniteError(f"{what} contains NaN or Inf values: {listed}; nothing was written")
