"""The model card (``README.md``) of a training run: settings, data summary, results and samples."""

from __future__ import annotations


def _value(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "(none)"
    return "(default)" if value is None else str(value)


def model_card(config: dict, summary: dict, data_summary: dict, samples: list[str]) -> str:
    """Return the Markdown model card of a run; ``samples`` are paths relative to the run folder."""
    lines = [
        "---",
        f"base_model: {config['model']}",
        "library_name: diffusers",
        "tags: [stable-diffusion, lora, text-to-image, diffusers]",
        "---",
        "",
        f"# LoRA {config['run_name']}",
        "",
        f"LoRA adapters (rank {config['rank']}, alpha {config['alpha']}) trained with demographic2art on "
        f"`{config['model']}` for {summary['steps']} steps.",
        "",
        "Files: `lora/pytorch_lora_weights.safetensors` (diffusers, `pipeline.load_lora_weights(run_folder + '/lora')`) "
        "and `lora_kohya.safetensors` (`lora_unet_*`/`lora_te_*` keys with alpha, for AUTOMATIC1111 and ComfyUI).",
        "",
        "## Results",
        "",
        "| metric | value |",
        "| --- | --- |",
    ]
    for name in ("first_loss", "final_loss", "validation_loss", "validation_images", "validation_split", "seconds", "steps_per_second"):
        if name in summary:
            lines.append(f"| {name} | {_value(summary[name])} |")
    lines += ["", "## Data", "", "| item | value |", "| --- | --- |"]
    for name in ("images", "validation_images", "captions", "cut_captions", "sizes", "conversions", "latents_from_cache", "latents_encoded"):
        if name in data_summary:
            lines.append(f"| {name} | {_value(data_summary[name])} |")
    for attribute, counts in data_summary.get("attributes", {}).items():
        shown = ", ".join(f"{value}: {count}" for value, count in counts.items())
        lines.append(f"| {attribute} | {shown} |")
    lines += ["", "## Settings", "", "| setting | value |", "| --- | --- |"]
    lines += [f"| {name} | {_value(value)} |" for name, value in config.items()]
    if samples:
        lines += ["", "## Samples", ""]
        prompts = config.get("sample_prompts") or []
        for path in samples:
            lines.append(f"![{path}]({path})")
        if prompts:
            lines += ["", "Prompts: " + "; ".join(f"{i}: {p}" for i, p in enumerate(prompts))]
    return "\n".join(lines) + "\n"
