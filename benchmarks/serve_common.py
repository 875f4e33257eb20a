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
# As `d2a serve` does: idle OpenMP threads sleep instead of spinning (read when torch is imported).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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


class ServerProcess:
    """A ``d2a serve --port 0`` process on 127.0.0.1 and a small JSON client for it."""

    def __init__(self, process, base: str) -> None:
        self.process = process
        self.base = base.rstrip("/")

    def get(self, path: str) -> bytes:
        import urllib.request

        with urllib.request.urlopen(self.base + path, timeout=60) as response:
            return response.read()

    def post_json(self, path: str, body: dict) -> dict:
        import json
        import urllib.request

        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def run_job(self, body: dict, *, poll_s: float) -> dict:
        """Submit one job, poll until it ends and return its final record."""
        import json
        import time

        job_id = self.post_json("/api/jobs", body)["id"]
        while (record := json.loads(self.get(f"/api/jobs/{job_id}")))["state"] not in ("done", "failed", "cancelled"):
            time.sleep(poll_s)
        return record

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def start_server_process(model: str | None, *, device: str | None = None, queue_size: int = 16) -> ServerProcess:
    """Start ``d2a serve --port 0`` on a new workspace whose ``models/tiny`` is ``model`` (or a new tiny model)."""
    import re
    import shutil
    import subprocess

    workspace = Path(tempfile.mkdtemp(prefix="d2a-serve-bench-ws-"))
    if model:
        shutil.copytree(model, workspace / "models" / "tiny")
    else:
        from demographic2art.model.tiny import save_tiny_model

        save_tiny_model(workspace / "models" / "tiny")
    command = [sys.executable, "-m", "demographic2art", "serve", "-w", str(workspace), "--port", "0", "--queue-size", str(queue_size)]
    if device:
        command += ["--device", device]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        match = re.search(r"studio at (http://127\.0\.0\.1:\d+/)", line)
        if match:
            print("server:", shlex.join(command), "->", match.group(1), flush=True)
            return ServerProcess(process, match.group(1))
    process.wait(30)
    raise SystemExit(f"the server exited with status {process.returncode} before printing its address")
