"""`d2a serve` and `d2a generate` stop with one line and exit status 2 on a bad model, LoRA or port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from demographic2art.cli.main import main


# Hugging Face lookups stay offline, in an empty cache.
pytestmark = pytest.mark.usefixtures("offline_hub")


@pytest.fixture
def workspace(tmp_path, tiny_model):
    """A workspace whose d2a.toml names the session's tiny model."""
    from demographic2art.workspace import Workspace

    ws = Workspace(tmp_path / "ws").create()
    ws.record_settings("train", {"model": str(tiny_model)})
    return str(tmp_path / "ws")


def _run(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


SERVE_CASES = [
    (["--lora", "/missing/file.safetensors"], "error: LoRA /missing/file.safetensors does not exist; train one with 'd2a train' or pass a .safetensors file or folder"),
    (["--lora", "./absent.safetensors"], "error: LoRA ./absent.safetensors does not exist"),
    (["--port", "70000"], "error: --port 70000 is invalid; use 1 to 65535, or 0 for any free port"),
    (["--port", "-5"], "error: --port -5 is invalid; use 1 to 65535, or 0 for any free port"),
    (["--model", "nobody-d2a/not-a-model"], "error: model 'nobody-d2a/not-a-model' is not a local folder and not in the local Hugging Face cache, and HF_HUB_OFFLINE is set"),
    (["--model", "/missing/model"], "error: model folder /missing/model does not exist"),
    (["--threads", "0"], "error: torch thread count 0 is invalid; use a whole number of 1 or more"),
]


@pytest.mark.parametrize(("options", "message"), SERVE_CASES, ids=[" ".join(c[0]) for c in SERVE_CASES])
def test_serve_bad_input_exits_2(capsys, workspace, options, message):
    code, err = _run(capsys, "serve", "-w", workspace, *options)
    assert code == 2
    assert err.startswith(message)
    assert err.count("\n") == 1


GENERATE_CASES = [
    (["--lora", "/missing/file.safetensors"], "error: LoRA /missing/file.safetensors does not exist"),
    (["--lora", "~/absent-d2a-lora.safetensors"], "error: LoRA ~/absent-d2a-lora.safetensors does not exist"),
    (["--model", "nobody-d2a/not-a-model", "--no-lora"], "error: model 'nobody-d2a/not-a-model' is not a local folder"),
    (["--model", "./absent-model", "--no-lora"], "error: model folder ./absent-model does not exist"),
]


@pytest.mark.parametrize(("options", "message"), GENERATE_CASES, ids=[" ".join(c[0]) for c in GENERATE_CASES])
def test_generate_bad_input_exits_2(capsys, workspace, options, message):
    code, err = _run(capsys, "generate", "a harbour", "-w", workspace, "--steps", "1", *options)
    assert code == 2
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_serve_missing_lora_subprocess(tmp_path, workspace):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf-cache")}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "demographic2art", "serve", "-w", workspace, "--lora", "/missing/file.safetensors", "--port", "0"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: LoRA /missing/file.safetensors does not exist")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "studio at" not in result.stdout
    assert time.monotonic() - started < 120


def test_serve_port_zero_prints_bound_port(tmp_path, workspace):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf-cache"), "D2A_TORCH_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "demographic2art", "serve", "-w", workspace, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        url = None
        deadline = time.monotonic() + 180
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = re.search(r"studio at (http://127\.0\.0\.1:(\d+)/)", line)
            if match:
                url, port = match.group(1), int(match.group(2))
        assert url is not None, process.stderr.read() if process.poll() is not None else "no URL printed"
        assert port != 0
        with urllib.request.urlopen(url + "api/choices", timeout=30) as response:
            assert response.status == 200
    finally:
        process.terminate()
        process.wait(30)
