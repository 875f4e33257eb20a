"""Helpers shared by the studio benchmarks: the machine line, the tiny model and an app."""

from __future__ import annotations

import os
import platform
import shlex
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def machine_line() -> str:
    """Return nproc, CPU model, memory, load and GPU of this machine."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"nproc {os.cpu_count()}, {model}, memory {memory}, load {load}, GPU {gpu}"


def print_header() -> None:
    print("command:", shlex.join([sys.executable, *sys.argv]))
    print("machine:", machine_line(), flush=True)


def tiny_model(folder: str | None) -> str:
    """Return a tiny model folder: ``folder`` if given, else one saved under a new temp folder."""
    if folder:
        return folder
    from demographic2art.model.tiny import save_tiny_model

    return str(save_tiny_model(Path(tempfile.mkdtemp(prefix="d2a-serve-bench-")) / "tiny"))


def start_app(model: str, *, history_size: int = 50, queue_size: int = 16, device: str | None = None):
    """Return ``(app, generator)`` with a loaded generator on a fresh workspace."""
    from demographic2art.generate import Generator
    from demographic2art.serve import create_app
    from demographic2art.workspace import Workspace

    generator = Generator(model, device=device)
    workspace = Workspace(tempfile.mkdtemp(prefix="d2a-serve-bench-ws-"))
    app = create_app(workspace, generator=generator, history_size=history_size, queue_size=queue_size)
    app.extensions["d2a_queue"].wait_ready(120)
    return app, generator
