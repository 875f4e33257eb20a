"""Garbage workspace files and unknown workspace URLs end in one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from demographic2art.cli.main import main


# Hugging Face lookups stay offline, in an empty cache.
pytestmark = pytest.mark.usefixtures("offline_hub")


@pytest.fixture
def workspace(tmp_path, tiny_model):
    from demographic2art.workspace import Workspace

    ws = Workspace(tmp_path / "ws").create()
    ws.record_settings("train", {"model": str(tiny_model)})
    return ws


def _run(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


COMMANDS = {
    "serve": ["serve", "--port", "0"],
    "generate": ["generate", "a harbour", "--steps", "1"],
    "status": ["status"],
}


@pytest.mark.parametrize("command", ["serve", "generate", "status"])
def test_garbage_settings_file_exits_2(capsys, workspace, command):
    workspace.storage.write_text("d2a.toml", "this is [not toml")
    code, err = _run(capsys, *COMMANDS[command], "-w", workspace.url)
    assert code == 2
    assert err.startswith(f"error: {workspace.url}/d2a.toml is not valid TOML")
    assert "fix or delete it" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["serve", "generate"])
def test_garbage_best_run_file_exits_2(capsys, workspace, command):
    workspace.storage.write_text("runs/best.json", "{\"run\": ")
    code, err = _run(capsys, *COMMANDS[command], "-w", workspace.url)
    assert code == 2
    assert err.startswith(f"error: {workspace.url}/runs/best.json is not valid JSON")
    assert "fix or delete it, or run 'd2a sweep' to write it again" in err
    assert err.count("\n") == 1


def test_garbage_best_run_file_status_exits_2(capsys, workspace):
    workspace.storage.write_text("runs/best.json", "{\"run\": ")
    code, err = _run(capsys, "status", "-w", workspace.url)
    assert code == 2
    assert err.startswith(f"error: {workspace.url}/runs/best.json is not valid JSON")
    assert err.count("\n") == 1


@pytest.mark.parametrize("content", [b"", b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage"], ids=["empty", "corrupt"])
@pytest.mark.parametrize("command", ["serve", "generate"])
def test_bad_lora_file_exits_2(capsys, workspace, tmp_path, command, content):
    lora = tmp_path / "bad.safetensors"
    lora.write_bytes(content)
    code, err = _run(capsys, *COMMANDS[command], "-w", workspace.url, "--lora", str(lora))
    assert code == 2
    assert err.startswith(f"error: LoRA file {lora} is ")
    assert "pass another file" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["serve", "generate"])
def test_best_run_naming_corrupt_lora_exits_2(capsys, workspace, command):
    relpath = "runs/broken/lora/pytorch_lora_weights.safetensors"
    workspace.storage.write_bytes(relpath, b"")
    workspace.storage.write_json("runs/best.json", {"run": "broken", "lora": relpath})
    code, err = _run(capsys, *COMMANDS[command], "-w", workspace.url)
    assert code == 2
    assert err.startswith(f"error: LoRA file {workspace.storage.local_path(relpath)} is empty")
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["serve", "generate", "status"])
def test_unknown_workspace_protocol_exits_2(capsys, command):
    code, err = _run(capsys, *COMMANDS[command], "-w", "foo://bucket/study")
    assert code == 2
    assert err.startswith("error: workspace 'foo://bucket/study' cannot be opened (Protocol not known: foo)")
    assert err.count("\n") == 1


def test_garbage_settings_file_subprocess(tmp_path, workspace):
    workspace.storage.write_text("d2a.toml", "= = =")
    result = subprocess.run(
        [sys.executable, "-m", "demographic2art", "generate", "a harbour", "-w", workspace.url],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {workspace.url}/d2a.toml is not valid TOML")
    assert "Traceback" not in result.stderr


def test_settings_store_workspace_paths_relative(tmp_path):
    from demographic2art.workspace import Workspace

    ws = Workspace(tmp_path / "ws").create()
    ws.record_settings("train", {"model": str(tmp_path / "ws" / "models" / "tiny"), "other": str(tmp_path / "elsewhere")})
    raw = (tmp_path / "ws" / "d2a.toml").read_text()
    assert 'model = "./models/tiny"' in raw
    assert f'other = "{tmp_path / "elsewhere"}"' in raw
    assert ws.settings()["train"]["model"] == str(tmp_path / "ws" / "models" / "tiny")


def test_copied_workspace_uses_own_model(tmp_path, tiny_model):
    import shutil

    from demographic2art.model.loading import workspace_model
    from demographic2art.workspace import Workspace

    original = Workspace(tmp_path / "original").create()
    shutil.copytree(tiny_model, tmp_path / "original" / "models" / "tiny")
    original.record_settings("train", {"model": original.local_path("models/tiny")})
    shutil.copytree(tmp_path / "original", tmp_path / "copy")
    copy = Workspace(tmp_path / "copy")
    assert workspace_model(copy) == str(tmp_path / "copy" / "models" / "tiny")
    assert workspace_model(original) == str(tmp_path / "original" / "models" / "tiny")
