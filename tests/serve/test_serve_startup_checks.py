"""Checks a server makes before it listens: port, model, LoRA and best-run files."""

from __future__ import annotations

import json

import pytest
from serve_helpers import make_random_lora, tiny_model  # noqa: F401

from demographic2art.errors import InvalidValueError, MissingFileError
from demographic2art.serve import resolve_settings
from demographic2art.workspace import Workspace


# Hugging Face lookups stay offline, in an empty cache.
pytestmark = pytest.mark.usefixtures("offline_hub")


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path / "ws").create()


@pytest.fixture(scope="module")
def lora_file(tiny_model, tmp_path_factory):
    return make_random_lora(tiny_model, tmp_path_factory.mktemp("lora"), seed=3)


@pytest.mark.parametrize("port", [-1, 65536, 70000])
def test_port_out_of_range_rejected(workspace, tiny_model, port):
    with pytest.raises(InvalidValueError, match=f"--port {port} is invalid; use 1 to 65535, or 0 for any free port"):
        resolve_settings(workspace, model=str(tiny_model), port=port)


@pytest.mark.parametrize("port", [0, 1, 65535])
def test_port_in_range_accepted(workspace, tiny_model, port):
    assert resolve_settings(workspace, model=str(tiny_model), port=port).port == port


@pytest.mark.parametrize("name", ["/missing/file.safetensors", "./absent.safetensors", "../absent", "~/absent-d2a-lora", "absent.safetensors"])
def test_missing_lora_path_rejected(workspace, tiny_model, name):
    with pytest.raises(MissingFileError, match=f"LoRA {name} does not exist"):
        resolve_settings(workspace, model=str(tiny_model), lora=name)


def test_lora_hub_style_name_rejected(workspace, tiny_model):
    with pytest.raises(MissingFileError, match="LoRA someone/style-lora does not exist"):
        resolve_settings(workspace, model=str(tiny_model), lora="someone/style-lora")


def test_empty_lora_file_rejected(workspace, tiny_model, tmp_path):
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(InvalidValueError, match=f"LoRA file {empty} is empty"):
        resolve_settings(workspace, model=str(tiny_model), lora=str(empty))


def test_corrupt_lora_file_rejected(workspace, tiny_model, tmp_path):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header at all")
    with pytest.raises(InvalidValueError, match=f"LoRA file {corrupt} is not a valid safetensors file"):
        resolve_settings(workspace, model=str(tiny_model), lora=str(corrupt))


def test_truncated_lora_file_rejected(workspace, tiny_model, tmp_path, lora_file):
    data = open(lora_file, "rb").read()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidValueError, match="is not a valid safetensors file"):
        resolve_settings(workspace, model=str(tiny_model), lora=str(truncated))


def test_non_lora_safetensors_rejected(workspace, tiny_model, tmp_path):
    import torch
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"conv.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(InvalidValueError, match="contains 1 tensors and none is a LoRA weight"):
        resolve_settings(workspace, model=str(tiny_model), lora=str(other))


def test_valid_lora_file_accepted(workspace, tiny_model, lora_file):
    assert resolve_settings(workspace, model=str(tiny_model), lora=lora_file).lora == lora_file


def test_missing_model_folder_rejected(workspace, tmp_path):
    with pytest.raises(MissingFileError, match=f"model folder {tmp_path}/none does not exist"):
        resolve_settings(workspace, model=str(tmp_path / "none"))


def test_folder_without_pipeline_rejected(workspace, tmp_path):
    with pytest.raises(InvalidValueError, match="has no model_index.json"):
        resolve_settings(workspace, model=str(tmp_path))


def test_uncached_hub_id_rejected_offline(workspace):
    with pytest.raises(MissingFileError, match="not in the local Hugging Face cache, and HF_HUB_OFFLINE is set"):
        resolve_settings(workspace, model="nobody-d2a/not-a-model")


def test_malformed_hub_id_rejected(workspace):
    with pytest.raises(InvalidValueError, match="is neither an existing folder nor a valid hub id"):
        resolve_settings(workspace, model="a/b/c d")


def test_garbage_best_json_rejected(workspace, tiny_model):
    workspace.storage.write_text("runs/best.json", "{not json")
    with pytest.raises(InvalidValueError, match=r"runs/best.json is not valid JSON .*; fix or delete it"):
        resolve_settings(workspace, model=str(tiny_model))


def test_best_json_list_rejected(workspace, tiny_model):
    workspace.storage.write_text("runs/best.json", json.dumps(["run-a"]))
    with pytest.raises(InvalidValueError, match="runs/best.json is not a JSON object"):
        resolve_settings(workspace, model=str(tiny_model))


def test_best_json_naming_missing_lora_rejected(workspace, tiny_model):
    workspace.storage.write_json("runs/best.json", {"run": "gone", "lora": "runs/gone/lora/pytorch_lora_weights.safetensors"})
    with pytest.raises(MissingFileError, match="pytorch_lora_weights.safetensors does not exist"):
        resolve_settings(workspace, model=str(tiny_model))
