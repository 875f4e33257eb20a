"""Training speed and peak GPU memory of the real Stable Diffusion 1.5 UNet with LoRA.

The UNet is built from the SD 1.5 configuration written below (randomly initialised, so no
download), with LoRA rank 4 on the attention projections, and trained with the training
loop's own step (``demographic2art.train.loop._step_loss``): cached latents at 512 px
(64 x 64 latents) and cached prompt embeddings, as ``d2a train`` does, AdamW on the LoRA
weights, gradient clipping and accelerate's mixed precision. It measures steps per second
and peak allocated memory for batch 1 and 4 in fp16 and bf16, with and without gradient
checkpointing, in a few minutes on one GPU.

    python benchmarks/train_gpu_sd15.py            # needs CUDA; exits with a message otherwise
    python benchmarks/train_gpu_sd15.py --small --allow-cpu --steps 2   # checks the script on a CPU
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# The UNet of runwayml/stable-diffusion-v1-5 (unet/config.json), fields that differ from defaults.
SD15_UNET = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
}
# Same layout scaled down, to check the script on a CPU with --small.
SMALL_UNET = {**SD15_UNET, "sample_size": 8, "block_out_channels": (32, 64, 64, 64), "cross_attention_dim": 32, "attention_head_dim": 2, "norm_num_groups": 8}
TOKENS = 77


def machine() -> str:
    import torch

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    return f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 2**20:.1f} GiB memory, {gpu}, torch {torch.__version__}"


def measure(unet_config: dict, batch: int, precision: str, checkpointing: bool, steps: int, warmup: int) -> dict:
    """Return steps per second and peak memory of LoRA training steps at one setting."""
    import torch
    from accelerate import Accelerator
    from diffusers import DDPMScheduler, UNet2DConditionModel
    from peft import LoraConfig

    from demographic2art.train import TrainConfig
    from demographic2art.train.loop import _step_loss

    cuda = torch.cuda.is_available()
    accelerator = Accelerator(mixed_precision=precision if cuda else "no", cpu=not cuda)
    device = accelerator.device
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**unet_config)
    unet.requires_grad_(False)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian", target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    if checkpointing:
        unet.enable_gradient_checkpointing()
    # Frozen weights in the compute dtype, LoRA weights in fp32, as the training loop keeps them.
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32) if cuda else torch.float32
    unet.to(device, dtype=weight_dtype)
    trainable = [p for p in unet.parameters() if p.requires_grad]
    for parameter in trainable:
        parameter.data = parameter.data.float()
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=1e-2)
    unet, optimizer = accelerator.prepare(unet, optimizer)
    unet.train()
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    config = TrainConfig(model="sd15-random")
    side = unet_config["sample_size"]
    generator = torch.Generator().manual_seed(0)
    mean = torch.randn((batch, 4, side, side), generator=generator).to(device)
    std = torch.full_like(mean, 0.05)
    embeddings = torch.randn((batch, TOKENS, unet_config["cross_attention_dim"]), generator=generator).to(device, weight_dtype)
    if cuda:
        torch.cuda.reset_peak_memory_stats()

    def step() -> float:
        loss = _step_loss(unet, None, scheduler, config, None, mean, std, embeddings, 0.18215, generator, None, device)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    losses = [step() for _ in range(steps)]
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    result = {
        "batch": batch,
        "precision": precision,
        "gradient_checkpointing": checkpointing,
        "steps_per_second": round(steps / seconds, 3),
        "images_per_second": round(steps * batch / seconds, 3),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3) if cuda else None,
        "final_loss": round(losses[-1], 5),
    }
    del unet, optimizer
    if cuda:
        torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per setting")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--batches", default="1,4", help="batch sizes, comma-separated")
    parser.add_argument("--precisions", default="fp16,bf16", help="mixed precision modes, comma-separated")
    parser.add_argument("--checkpointing", default="off,on", help="gradient checkpointing off and/or on")
    parser.add_argument("--small", action="store_true", help="a scaled-down UNet, to check the script")
    parser.add_argument("--allow-cpu", action="store_true", help="run without CUDA (only with --small)")
    args = parser.parse_args()

    import torch

    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print("machine:", machine())
    if not torch.cuda.is_available() and not (args.allow_cpu and args.small):
        raise SystemExit("no CUDA device: this benchmark measures the SD 1.5 UNet on a GPU; run it where one is present")
    unet_config = SMALL_UNET if args.small else SD15_UNET
    print(f"UNet: block_out_channels {unet_config['block_out_channels']}, latents {unet_config['sample_size']} px "
          f"({unet_config['sample_size'] * 8} px images), LoRA rank 4 on to_q/to_k/to_v/to_out.0")
    for precision in args.precisions.split(","):
        for checkpointing in args.checkpointing.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                try:
                    result = measure(unet_config, batch, precision, checkpointing == "on", args.steps, args.warmup)
                except torch.cuda.OutOfMemoryError as exc:
                    result = {"batch": batch, "precision": precision, "gradient_checkpointing": checkpointing == "on",
                              "error": f"out of memory: {exc}".splitlines()[0]}
                    torch.cuda.empty_cache()
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
