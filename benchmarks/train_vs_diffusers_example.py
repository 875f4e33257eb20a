"""Training speed and peak memory: ``d2a train`` against diffusers' LoRA example script.

Both tools train the same tiny offline model on the same images (64 px, batch 1, rank 4,
lr 1e-4, constant schedule, fp32, seed 42). Each runs twice, for ``--steps`` and for
``2 * --steps`` steps, in a fresh process. The steps per second are the extra steps over the
extra wall time, and the start-up is what remains of the first run's time. Peak memory is the
child process's maximum resident set size.

The diffusers example (``examples/text_to_image/train_text_to_image_lora.py``) is not in the
diffusers wheel: take it from the diffusers repository at the tag of the installed version
(https://github.com/huggingface/diffusers, ``git show v0.42.1:examples/text_to_image/train_text_to_image_lora.py``)
into a folder outside this repository, and pass its path with ``--example-script`` or the
``D2A_DIFFUSERS_EXAMPLE`` environment variable. Without it only d2a's side runs.

The example needs torchvision and 🤗 datasets, and this torchvision build imports only beside
torch 2.14.1, so the script builds its own virtual environment under /tmp (``--venv``) with
``torch==2.14.1 torchvision==0.29.1``, datasets and this project, and runs both tools there.

    python benchmarks/train_vs_diffusers_example.py --example-script /tmp/diffusers/train_text_to_image_lora.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PACKAGES = ["torch==2.14.1", "torchvision==0.29.1", "datasets", "tensorboard"]


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 2**20:.1f} GiB memory, Python {platform.python_version()}"


def build_venv(venv: Path) -> Path:
    """Create the benchmark's virtual environment once; return its python."""
    python = venv / "bin" / "python"
    marker = venv / ".d2a-bench-ready"
    if marker.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The project's constraints pin torch 2.13.0; drop that pin so torch 2.14.1 can sit beside torchvision.
    constraints = venv / "constraints.txt"
    lines = (REPO / "constraints.txt").read_text().splitlines()
    constraints.write_text("\n".join(line for line in lines if not line.startswith(("torch==", "torchvision=="))) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(constraints), *VENV_PACKAGES, "-e", str(REPO)], check=True)
    # The tiny model's tokenizer needs the CLIP BPE file: reuse the project's copy, else install it.
    local_bpe = REPO / ".venv" / "share" / "demographic2art" / "bpe_simple_vocab_16e6.txt.gz"
    if local_bpe.exists():
        (venv / "share" / "demographic2art").mkdir(parents=True, exist_ok=True)
        shutil.copy(local_bpe, venv / "share" / "demographic2art" / local_bpe.name)
    else:
        subprocess.run([str(python), "-m", "demographic2art.model.vocab"], check=True)
    marker.write_text("ok\n")
    return python


def prepare_data(python: Path, root: Path, images: int) -> tuple[Path, Path]:
    """Write the tiny model, a d2a workspace and the same images as an imagefolder with metadata.jsonl."""
    script = f"""
import io, json, sys
import numpy as np, pandas as pd
from pathlib import Path
from demographic2art.demo.paintings import paint
from demographic2art.model.tiny import save_tiny_model
from demographic2art.workspace import Workspace
root = Path({str(root)!r})
save_tiny_model(root / "tiny", seed=0)
workspace = Workspace(root / "ws").create()
folder = root / "imagefolder"
folder.mkdir(parents=True, exist_ok=True)
styles = ["impressionism", "baroque", "expressionism", "symbolism"]
rng = np.random.default_rng(0)
rows, metadata = [], []
for i in range({images}):
    caption = f"a {{styles[i % 4]}} landscape painting by a {{'female' if i % 2 else 'male'}} artist"
    image = paint(rng, 64, 64, styles[i % 4])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    workspace.storage.write_bytes(f"images/files/{{i}}.png", buffer.getvalue())
    (folder / f"{{i}}.png").write_bytes(buffer.getvalue())
    rows.append({{"key": str(i), "file_name": f"{{i}}.png", "caption": caption, "split": "train"}})
    metadata.append(json.dumps({{"file_name": f"{{i}}.png", "text": caption}}))
workspace.storage.write_parquet("captions/captions.parquet", pd.DataFrame(rows))
(folder / "metadata.jsonl").write_text("\\n".join(metadata) + "\\n")
"""
    subprocess.run([str(python), "-c", script], check=True, env=offline_env())
    return root / "tiny", root / "imagefolder"


def offline_env() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", WANDB_MODE="disabled")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Run a command; return its wall seconds and peak resident memory in GiB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=offline_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.stderr.write(output.decode(errors="replace")[-4000:])
        raise SystemExit(f"command failed with status {status}: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 2**20


def example_command(python: Path, script: Path, model: Path, data: Path, out: Path, steps: int) -> list[str]:
    return [
        str(python), str(script), "--pretrained_model_name_or_path", str(model), "--train_data_dir", str(data),
        "--caption_column", "text", "--resolution", "64", "--center_crop", "--train_batch_size", "1",
        "--max_train_steps", str(steps), "--learning_rate", "1e-4", "--lr_scheduler", "constant", "--rank", "4",
        "--seed", "42", "--output_dir", str(out), "--dataloader_num_workers", "0", "--checkpointing_steps", "1000000",
        "--report_to", "tensorboard", "--max_grad_norm", "1.0",
    ]


def d2a_command(python: Path, model: Path, workspace: Path, steps: int) -> list[str]:
    return [
        str(python), "-m", "demographic2art.cli.main", "train", "-w", str(workspace), "--model", str(model),
        "--steps", str(steps), "--resolution", "64", "--batch-size", "1", "--lr", "1e-4", "--rank", "4",
        "--seed", "42", "--run-name", f"bench-{steps}", "--max-grad-norm", "1.0",
    ]


def measure(name: str, make, steps: int, cwd: Path) -> dict:
    short_seconds, short_memory = timed(make(steps), cwd)
    long_seconds, long_memory = timed(make(2 * steps), cwd)
    rate = steps / max(long_seconds - short_seconds, 1e-9)
    result = {
        "tool": name,
        "steps_per_second": round(rate, 2),
        "startup_seconds": round(short_seconds - steps / rate, 2),
        "wall_seconds": [round(short_seconds, 2), round(long_seconds, 2)],
        "peak_memory_gib": round(max(short_memory, long_memory), 3),
    }
    print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example-script", default=os.environ.get("D2A_DIFFUSERS_EXAMPLE"),
                        help="path of diffusers' train_text_to_image_lora.py (or D2A_DIFFUSERS_EXAMPLE)")
    parser.add_argument("--venv", default="/tmp/d2a-train-bench/venv", help="virtual environment folder (built once)")
    parser.add_argument("--work", default="/tmp/d2a-train-bench/work", help="scratch folder for model, data and outputs")
    parser.add_argument("--steps", type=int, default=100, help="steps of the short run; the long run does twice as many")
    parser.add_argument("--images", type=int, default=8, help="training images")
    args = parser.parse_args()

    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print("machine:", machine())
    python = build_venv(Path(args.venv))
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model, imagefolder = prepare_data(python, work, args.images)
    versions = subprocess.run(
        [str(python), "-c", "import torch, diffusers, torchvision; print(torch.__version__, diffusers.__version__, torchvision.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    print("torch, diffusers, torchvision:", versions)

    results = [measure("d2a", lambda steps: d2a_command(python, model, work / "ws", steps), args.steps, work)]
    if args.example_script:
        script = Path(args.example_script).resolve()
        if REPO in script.parents:
            raise SystemExit("keep the diffusers example outside this repository")
        results.append(
            measure("diffusers example",
                    lambda steps: example_command(python, script, model, imagefolder, work / f"example-{steps}", steps),
                    args.steps, work)
        )
        ratio = results[0]["steps_per_second"] / results[1]["steps_per_second"]
        print(f"d2a / example steps per second: {ratio:.2f}x; "
              f"peak memory {results[0]['peak_memory_gib']:.2f} vs {results[1]['peak_memory_gib']:.2f} GiB")
    else:
        print("no --example-script or D2A_DIFFUSERS_EXAMPLE: measured d2a only")


if __name__ == "__main__":
    main()
