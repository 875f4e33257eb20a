"""JSON API of the studio through Flask's test client, with the tiny model."""

from __future__ import annotations

import hashlib

import pytest
from serve_helpers import SlowGenerator, generator, live_server, make_app, tiny_model, wait_for_state  # noqa: F401

from demographic2art.generate import read_png_parameters
from demographic2art.serve import mark_interrupted
from demographic2art.workspace import Workspace

REQUEST = {"prompt": "a harbour at dusk, oil on canvas", "seed": 7, "steps": 2, "width": 64, "height": 64}


def _getter(client):
    return lambda url: client.get(url).get_json()


def test_submit_returns_202_and_location(make_app, generator):
    client = make_app(generator).test_client()
    response = client.post("/api/jobs", json=REQUEST)
    job_id = response.get_json()["id"]
    assert response.status_code == 202
    assert response.headers["Location"] == f"/api/jobs/{job_id}"


def test_job_done_reports_results_and_parameters(make_app, generator):
    client = make_app(generator).test_client()
    job_id = client.post("/api/jobs", json=REQUEST).get_json()["id"]
    record = wait_for_state(_getter(client), job_id, ("done", "failed"), 60)
    assert record["state"] == "done"
    assert record["step"] == 2
    assert record["total_steps"] == 2
    assert record["parameters"]["seed"] == 7
    assert record["parameters"]["prompt"] == REQUEST["prompt"]
    assert record["result_urls"] == [f"/gallery/{job_id}-0.png"]
    image = client.get(record["result_urls"][0])
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert "Seed: 7" in read_png_parameters(image.data)
    assert job_id not in read_png_parameters(image.data)


def test_job_record_written_to_jobs_folder(make_app, generator, tmp_path):
    workspace = Workspace(tmp_path / "records")
    client = make_app(generator, workspace=workspace).test_client()
    job_id = client.post("/api/jobs", json=REQUEST).get_json()["id"]
    wait_for_state(_getter(client), job_id, ("done",), 60)
    record = workspace.storage.read_json(f"jobs/{job_id}.json")
    assert record["state"] == "done"
    assert record["results"] == [f"{job_id}-0.png"]


def test_sidecar_holds_job_id(make_app, generator, tmp_path):
    workspace = Workspace(tmp_path / "sidecar")
    client = make_app(generator, workspace=workspace).test_client()
    job_id = client.post("/api/jobs", json=REQUEST).get_json()["id"]
    wait_for_state(_getter(client), job_id, ("done",), 60)
    sidecar = client.get(f"/gallery/{job_id}-0.json").get_json()
    assert sidecar["job"] == job_id
    assert sidecar["parameters"]["seed"] == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"seed": 1}, "prompt"),
        ({**REQUEST, "prompt": "   "}, "prompt"),
        ({**REQUEST, "steps": 0}, "steps"),
        ({**REQUEST, "steps": "many"}, "steps"),
        ({**REQUEST, "seed": -1}, "seed"),
        ({**REQUEST, "width": 63}, "width"),
        ({**REQUEST, "guidance_scale": 99}, "guidance_scale"),
        ({**REQUEST, "scheduler": "magic"}, "scheduler"),
        ({**REQUEST, "colour": "red"}, "colour"),
        ({**REQUEST, "lora_weight": 0.5}, "lora_weight"),
        ({**REQUEST, "attributes": ["female"]}, "attributes"),
        ({**REQUEST, "attributes": {"eye_colour": "blue"}}, "attributes.eye_colour"),
        ({**REQUEST, "attributes": {"birth_decade": "long ago"}}, "attributes.birth_decade"),
    ],
)
def test_submit_invalid_field_400(make_app, generator, body, field):
    client = make_app(generator).test_client()
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_submit_non_json_400(make_app, generator):
    client = make_app(generator).test_client()
    response = client.post("/api/jobs", data="prompt=hello", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"


def test_submit_prompt_from_attributes(make_app, generator):
    client = make_app(generator).test_client()
    body = {"steps": 1, "attributes": {"gender": "female", "nationality": "French", "birth_decade": 1845, "style": "Impressionism"}}
    job_id = client.post("/api/jobs", json=body).get_json()["id"]
    record = client.get(f"/api/jobs/{job_id}").get_json()
    assert record["parameters"]["prompt"] == (
        "a painting in the Impressionism style by a female French artist born in the 1840s"
    )
    assert record["attributes"]["birth_decade"] == 1840


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_site_post_rejected(make_app, generator, headers):
    client = make_app(generator).test_client()
    response = client.post("/api/jobs", json=REQUEST, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"] == "cross_site"
    assert client.get("/api/history").get_json()["jobs"] == []


def test_same_origin_post_accepted(make_app, generator):
    client = make_app(generator).test_client()
    headers = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    response = client.post("/api/jobs", json=REQUEST, headers=headers)
    assert response.status_code == 202


def test_state_changing_routes_reject_get(make_app, generator):
    client = make_app(generator).test_client()
    assert client.get("/api/jobs").status_code == 405
    assert client.get(f"/api/jobs/{'0' * 32}/cancel").status_code == 405
    assert client.get("/api/prompt").status_code == 405


def test_unknown_job_404(make_app, generator):
    client = make_app(generator).test_client()
    assert client.get(f"/api/jobs/{'a' * 32}").status_code == 404
    assert client.get("/api/jobs/..%2fd2a.toml").status_code == 404


def test_cancel_queued_job(make_app, generator):
    client = make_app(SlowGenerator(generator, 3.0)).test_client()
    first = client.post("/api/jobs", json=REQUEST).get_json()["id"]
    second = client.post("/api/jobs", json=REQUEST).get_json()["id"]
    assert client.get(f"/api/jobs/{second}").get_json()["queue_position"] in (1, 2)
    response = client.post(f"/api/jobs/{second}/cancel")
    assert response.status_code == 200
    assert client.get(f"/api/jobs/{second}").get_json()["state"] == "cancelled"
    client.post(f"/api/jobs/{first}/cancel")
    record = wait_for_state(_getter(client), first, ("cancelled", "done"), 30)
    assert record["state"] == "cancelled"


def test_prompt_endpoint_counts_tokens(make_app, generator):
    client = make_app(generator).test_client()
    response = client.post("/api/prompt", json={"gender": "male", "nationality": "Dutch", "genre": "landscape", "template": 1})
    data = response.get_json()
    assert data["prompt"] == "a landscape painting, painted by a male Dutch artist"
    assert data["tokens"] == len(generator.pipeline.tokenizer(data["prompt"], add_special_tokens=False).input_ids)
    assert data["max_tokens"] == 75


def test_prompt_endpoint_bad_template_400(make_app, generator):
    client = make_app(generator).test_client()
    response = client.post("/api/prompt", json={"template": 9})
    assert response.status_code == 400
    assert response.get_json()["field"] == "template"


def test_page_escapes_picker_values(make_app, generator, tmp_path):
    import pandas as pd

    workspace = Workspace(tmp_path / "pickers").create()
    frame = pd.DataFrame({"gender": ["<script>alert(1)</script>"], "nationality": ["Atlantean"], "birth_year": [1851]})
    workspace.storage.write_parquet("demographics/demographics.parquet", frame)
    client = make_app(generator, workspace=workspace).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'value="Atlantean"' in page
    assert 'value="1850"' in page


def test_page_labels_every_control(make_app, generator):
    import re

    client = make_app(generator).test_client()
    page = client.get("/").get_data(as_text=True)
    control_ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)
    label_targets = set(re.findall(r'<label for="([^"]+)"', page))
    assert len(control_ids) >= 12
    assert [c for c in control_ids if c not in label_targets] == []


def test_page_has_no_external_assets(make_app, generator):
    import re

    client = make_app(generator).test_client()
    page = client.get("/").get_data(as_text=True)
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page) == []
    assert client.get("/static/studio.js").status_code == 200
    assert client.get("/static/studio.css").status_code == 200


def test_startup_marks_unfinished_jobs_interrupted(tmp_path):
    workspace = Workspace(tmp_path / "restart").create()
    for job_id, state in (("a" * 32, "queued"), ("b" * 32, "running"), ("c" * 32, "done")):
        workspace.storage.write_json(f"jobs/{job_id}.json", {"id": job_id, "state": state})
    changed = mark_interrupted(workspace.storage)
    assert sorted(changed) == ["a" * 32, "b" * 32]
    assert workspace.storage.read_json(f"jobs/{'a' * 32}.json")["state"] == "interrupted"
    assert workspace.storage.read_json(f"jobs/{'c' * 32}.json")["state"] == "done"


def test_interrupted_job_served_from_disk(make_app, generator, tmp_path):
    workspace = Workspace(tmp_path / "restart-app").create()
    workspace.storage.write_json(f"jobs/{'d' * 32}.json", {"id": "d" * 32, "state": "running", "results": []})
    client = make_app(generator, workspace=workspace).test_client()
    assert client.get(f"/api/jobs/{'d' * 32}").get_json()["state"] == "interrupted"


def test_model_loading_rejects_jobs(tmp_path):
    import threading

    from demographic2art.serve import JobQueue, ServiceUnavailableError
    from demographic2art.generate import GenerationParams

    release = threading.Event()

    def slow_load():
        release.wait(10)
        return None

    # The loader never returns a model: only the loading period is under test.
    queue = JobQueue(Workspace(tmp_path / "loading").create().storage, slow_load).start()
    try:
        with pytest.raises(ServiceUnavailableError) as caught:
            queue.submit(GenerationParams(**REQUEST))
    finally:
        release.set()
        queue.stop()
    assert caught.value.code == "model_loading"
    assert caught.value.retry_after_s >= 1


def test_stopped_worker_answers_503(make_app, generator):
    app = make_app(generator)
    app.extensions["d2a_queue"].stop()
    response = app.test_client().post("/api/jobs", json=REQUEST)
    assert response.status_code == 503
    assert response.get_json()["error"] == "shutting_down"
    assert int(response.headers["Retry-After"]) >= 1


def test_equal_requests_equal_files(make_app, generator):
    client = make_app(generator).test_client()
    hashes = []
    for _ in range(2):
        job_id = client.post("/api/jobs", json=REQUEST).get_json()["id"]
        record = wait_for_state(_getter(client), job_id, ("done",), 60)
        hashes.append(hashlib.sha256(client.get(record["result_urls"][0]).data).hexdigest())
    assert hashes[0] == hashes[1]
