"""The web app's LoRA list with hand-edited run summaries."""

from __future__ import annotations

import json

import pytest

from conftest import tiny_lora_bytes
from demographic2art.serve.models import LORA_FILE, list_models
from demographic2art.workspace import Workspace


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path / "ws").create()


def _write_run(workspace, run: str, summary_text: str) -> None:
    storage = workspace.storage
    storage.write_bytes(f"runs/{run}/{LORA_FILE}", tiny_lora_bytes())
    with open(storage.path(f"runs/{run}/summary.json"), "w") as handle:
        handle.write(summary_text)


@pytest.mark.parametrize("summary_text", ["[1, 2]", '"done"', "null"])
def test_list_models_summary_not_object(workspace, summary_text):
    _write_run(workspace, "alpha", summary_text)
    models = list_models(workspace)
    assert [model["name"] for model in models] == ["alpha"]
    assert models[0]["validation_loss"] is None


@pytest.mark.parametrize("loss", ["Infinity", "-Infinity", "NaN"])
def test_list_models_non_finite_loss(workspace, loss):
    _write_run(workspace, "alpha", f'{{"validation_loss": 0.3, "final_loss": {loss}}}')
    models = list_models(workspace)
    assert models[0]["final_loss"] is None
    assert "Infinity" not in json.dumps(models)
