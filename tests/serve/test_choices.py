"""Model, LoRA and picker defaults of the studio, read from a workspace."""

from __future__ import annotations

import pandas as pd
import pytest

from demographic2art.errors import InvalidValueError
from demographic2art.serve import best_lora, default_model, picker_choices, resolve_settings
from demographic2art.workspace import Workspace


def _run(workspace, name: str, final_loss: float) -> str:
    lora = f"runs/{name}/lora/pytorch_lora_weights.safetensors"
    workspace.storage.write_json(f"runs/{name}/summary.json", {"run_name": name, "final_loss": final_loss, "lora": lora})
    return lora


def test_best_lora_lowest_final_loss(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    _run(workspace, "a", 0.3)
    lora = _run(workspace, "b", 0.1)
    _run(workspace, "c", 0.2)
    assert best_lora(workspace) == workspace.storage.local_path(lora)


def test_best_lora_prefers_best_json(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    chosen = _run(workspace, "a", 0.3)
    _run(workspace, "b", 0.1)
    workspace.storage.write_json("runs/best.json", {"run": "a"})
    assert best_lora(workspace) == workspace.storage.local_path(chosen)


def test_best_lora_none_without_runs(tmp_path):
    assert best_lora(Workspace(tmp_path / "ws").create()) is None


def test_default_model_from_settings(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    assert default_model(workspace) == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    workspace.storage.write_json("models/tiny/model_index.json", {"_class_name": "StableDiffusionPipeline"})
    assert default_model(workspace) == workspace.storage.local_path("models/tiny")
    workspace.record_settings("train", {"model": "/models/sd15"})
    assert default_model(workspace) == "/models/sd15"


def test_resolve_settings_rejects_empty_queue(tmp_path):
    with pytest.raises(InvalidValueError):
        resolve_settings(Workspace(tmp_path / "ws").create(), model=str(tmp_path), queue_size=0)


def test_resolve_settings_url_on_loopback(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model_index.json").write_text("{}")
    settings = resolve_settings(Workspace(tmp_path / "ws").create(), model=str(model), port=8123)
    assert settings.url == "http://127.0.0.1:8123/"
    assert settings.lora is None


def test_picker_choices_from_catalog(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    frame = pd.DataFrame({"style": ["Fauvism", "Baroque", None], "genre": ["marina", "marina", "sketch"]})
    workspace.storage.write_parquet("catalog/artworks.parquet", frame)
    choices = picker_choices(workspace)
    assert choices["style"] == ["Baroque", "Fauvism"]
    assert choices["genre"] == ["marina", "sketch"]
    assert choices["gender"] == ["female", "male"]
