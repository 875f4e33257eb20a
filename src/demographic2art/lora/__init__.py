"""LoRA files: checks for non-finite values and the kohya export read by AUTOMATIC1111 and ComfyUI."""

from .checks import assert_finite_state_dict, nonfinite_tensors
from .kohya import export_kohya, kohya_module_name, peft_to_kohya, read_adapter_alphas

__all__ = [
    "assert_finite_state_dict",
    "export_kohya",
    "kohya_module_name",
    "nonfinite_tensors",
    "peft_to_kohya",
    "read_adapter_alphas",
]
