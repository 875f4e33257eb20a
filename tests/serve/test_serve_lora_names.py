"""Run names of sweep LoRAs in the studio: model list, picker data, job records, sidecars, cancel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from serve_helpers import READY_TIMEOUT_S, generator, make_app, make_random_lora, tiny_model, wait_for_state  # noqa: F401

from demographic2art.generate.gallery import lora_run_name
from demographic2art.serve import create_app
from demographic2art.serve.models import adapter_name, list_models
from demographic2art.workspace import Workspace

RUNS = {"demo": 1.0743, "small/lr0.001-seed1": 1.1111, "small/lr0.0005-seed1": 0.95, "large/lr0.001-seed1": 1.3}
SETTINGS = {"steps": 2, "width": 64, "height": 64}


def _getter(client):
    return lambda url: client.get(url).get_json()


@pytest.fixture(scope="module")
def sweep_workspace(tiny_model, tmp_path_factory) -> Workspace:
    """A workspace with one single run and three runs in two sweep folders, each with a random LoRA."""
    from demographic2art.train.best import update_best_run

    workspace = Workspace(tmp_path_factory.mktemp("lora-names") / "ws").create()
    root = workspace.storage.local_path("runs")
    for index, (run, loss) in enumerate(RUNS.items()):
        make_random_lora(tiny_model, Path(root) / run / "lora", seed=index + 1)
        summary = {
            "model": "tiny", "validation_loss": loss, "final_loss": loss, "validation_images": 1,
            "validation_split": "validation", "lora": f"runs/{run}/lora/pytorch_lora_weights.safetensors",
        }
        workspace.storage.write_json(f"runs/{run}/summary.json", summary)
    update_best_run(workspace, reference="demo")
    return workspace


@pytest.fixture(scope="module")
def studio(sweep_workspace, tiny_model):
    """The studio app with the workspace's runs loaded by its own worker, the best one active."""
    from demographic2art.generate.gallery import best_lora

    app = create_app(sweep_workspace, model=str(tiny_model), lora=best_lora(sweep_workspace), device="cpu")
    assert app.extensions["d2a_queue"].wait_ready(READY_TIMEOUT_S)
    yield app
    app.extensions["d2a_queue"].stop()


def test_list_models_includes_sweep_runs(sweep_workspace):
    runs = list_models(sweep_workspace)
    names = [run["name"] for run in runs]
    assert names == ["small/lr0.0005-seed1", "demo", "small/lr0.001-seed1", "large/lr0.001-seed1"]
    assert runs[0]["best"] is True
    assert runs[0]["validation_loss"] == 0.95


def test_adapter_names_unique():
    assert adapter_name("small/lr0.001") != adapter_name("small_lr0_001")
    assert adapter_name("demo") == "lora_demo"


def test_lora_run_name_keeps_sweep(sweep_workspace):
    path = sweep_workspace.storage.local_path("runs/small/lr0.001-seed1/lora/pytorch_lora_weights.safetensors")
    assert lora_run_name(sweep_workspace, path) == "small/lr0.001-seed1"
    assert lora_run_name(sweep_workspace, str(Path(path).parent)) == "small/lr0.001-seed1"


def test_lora_run_name_outside_runs(sweep_workspace, tmp_path):
    assert lora_run_name(sweep_workspace, str(tmp_path / "x" / "lora" / "pytorch_lora_weights.safetensors")) is None


def test_models_route_lists_every_run(studio):
    data = studio.test_client().get("/api/models").get_json()
    assert [run["name"] for run in data["runs"]] == ["small/lr0.0005-seed1", "demo", "small/lr0.001-seed1", "large/lr0.001-seed1"]
    assert data["available"] == sorted(RUNS)
    assert data["active"] == "small/lr0.0005-seed1"
    assert data["runs"][0]["validation_loss"] == 0.95


def test_job_records_default_lora(studio):
    client = studio.test_client()
    job_id = client.post("/api/jobs", json={"prompt": "a landscape", "seed": 3, **SETTINGS}).get_json()["id"]
    record = wait_for_state(_getter(client), job_id, ("done", "failed"), timeout_s=600)
    assert record["state"] == "done"
    assert record["lora"] == "small/lr0.0005-seed1"
    sidecar = client.get(f"/gallery/{job_id}-0.json").get_json()
    assert sidecar["lora"] == "small/lr0.0005-seed1"


def test_job_records_chosen_sweep_lora(studio):
    client = studio.test_client()
    body = {"prompt": "a landscape", "seed": 4, "lora": "large/lr0.001-seed1", **SETTINGS}
    job_id = client.post("/api/jobs", json=body).get_json()["id"]
    record = wait_for_state(_getter(client), job_id, ("done", "failed"), timeout_s=600)
    assert record["lora"] == "large/lr0.001-seed1"
    sidecar = client.get(f"/gallery/{job_id}-0.json").get_json()
    assert sidecar["lora"] == "large/lr0.001-seed1"


def test_cancel_done_job_409(make_app, generator):
    client = make_app(generator).test_client()
    job_id = client.post("/api/jobs", json={"prompt": "a landscape", "seed": 1, **SETTINGS}).get_json()["id"]
    before = wait_for_state(_getter(client), job_id, ("done", "failed"), timeout_s=600)
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "job_finished"
    assert body["state"] == "done"
    assert body["message"] == f"job {job_id} already ended in state done; only queued or running jobs can be cancelled"
    after = client.get(f"/api/jobs/{job_id}").get_json()
    assert after == before


def test_cancel_failed_record_409(make_app, generator, tmp_path):
    workspace = Workspace(tmp_path / "failed")
    workspace.create()
    job_id = "f" * 32
    record = {"id": job_id, "state": "failed", "error": "RuntimeError: out of memory", "results": []}
    workspace.storage.write_json(f"jobs/{job_id}.json", record)
    client = make_app(generator, workspace=workspace).test_client()
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert response.get_json()["state"] == "failed"
    assert json.loads(workspace.storage.read_text(f"jobs/{job_id}.json")) == record


def test_cancel_unknown_job_404(make_app, generator):
    client = make_app(generator).test_client()
    assert client.post(f"/api/jobs/{'e' * 32}/cancel").status_code == 404
