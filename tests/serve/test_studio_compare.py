"""A/B comparisons, switchable LoRAs and downloads of the studio, with the tiny model."""

from __future__ import annotations

import hashlib
import time

import pytest
from serve_helpers import (  # noqa: F401
    generator,
    make_app,
    studio_generator,
    studio_workspace_runs,
    tiny_model,
    wait_for_state,
)

from demographic2art.serve.models import list_models
from demographic2art.workspace import Workspace

SETTINGS = {"steps": 2, "width": 64, "height": 64}
COMPARE = {"a": {"gender": "female"}, "b": {"gender": "male"}, "seed": 40, "n_images": 2, **SETTINGS}


def _wait_comparison(client, url: str, timeout_s: float = 900) -> dict:
    deadline = time.monotonic() + timeout_s
    record = {}
    while time.monotonic() < deadline:
        record = client.get(url).get_json()
        if record["state"] not in ("running", "writing"):
            return record
        time.sleep(0.2)
    raise AssertionError(f"comparison {url} did not finish within {timeout_s} s; last record {record}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.slow
def test_compare_with_lora_writes_portfolio(make_app, studio_generator, tmp_path):
    workspace = Workspace(tmp_path / "compare")
    client = make_app(studio_generator, workspace=workspace).test_client()
    response = client.post("/api/compare", json={**COMPARE, "name": "female-vs-male"})
    assert response.status_code == 202
    record = _wait_comparison(client, response.headers["Location"])
    assert record["state"] == "done"
    assert [row["label"] for row in record["rows"]] == [
        "gender=female",
        "gender=male",
        "neutral",
        "gender=female (LoRA weight 0)",
    ]
    assert [line["seed"] for line in record["grid"]] == [40, 41]
    assert record["portfolio"] == "portfolios/female-vs-male/manifest.json"

    manifest = workspace.storage.read_json("portfolios/female-vs-male/manifest.json")
    assert manifest["groups"] == ["gender=female", "gender=male"]
    assert manifest["controls"] == ["neutral", "gender=female (LoRA weight 0)"]
    assert manifest["seeds"] == [40, 41]
    assert manifest["settings"]["n_images"] == 2
    assert manifest["lora"].endswith("run-cool/lora/pytorch_lora_weights.safetensors")
    assert len(manifest["images"]) == 8
    assert manifest["missing"] == []
    files = {image["file"] for image in manifest["images"]}
    assert "portfolios/female-vs-male/images/gender-female-lora-weight-0/41.png" in files
    for image in manifest["images"]:
        assert workspace.storage.exists(image["file"])
    prompts = {(image["group"], image["seed"]): image["prompt"] for image in manifest["images"]}
    assert prompts[("neutral", 40)] == "a painting by an artist"
    assert prompts[("gender=female", 40)] == prompts[("gender=female (LoRA weight 0)", 40)]


@pytest.mark.slow
def test_compare_cells_match_single_jobs(make_app, studio_generator, tmp_path):
    workspace = Workspace(tmp_path / "same")
    client = make_app(studio_generator, workspace=workspace).test_client()
    response = client.post("/api/compare", json={**COMPARE, "n_images": 1, "name": "one-seed"})
    record = _wait_comparison(client, response.headers["Location"])
    cells = {cell["group"]: cell for cell in record["grid"][0]["cells"]}
    single = client.post(
        "/api/jobs", json={"prompt": cells["gender=male"]["prompt"], "seed": 40, **SETTINGS}
    ).get_json()
    done = wait_for_state(lambda url: client.get(url).get_json(), single["id"], ("done",), 120)
    alone = client.get(done["result_urls"][0]).data
    in_grid = workspace.storage.read_bytes("portfolios/one-seed/images/gender-male/40.png")
    assert _sha(in_grid) == _sha(alone)
    weight_zero = workspace.storage.read_bytes("portfolios/one-seed/images/gender-female-lora-weight-0/40.png")
    weight_one = workspace.storage.read_bytes("portfolios/one-seed/images/gender-female/40.png")
    assert _sha(weight_zero) != _sha(weight_one)


def test_compare_without_lora_has_no_weight_zero_row(make_app, generator, tmp_path):
    workspace = Workspace(tmp_path / "nolora")
    client = make_app(generator, workspace=workspace).test_client()
    response = client.post("/api/compare", json={**COMPARE, "n_images": 1})
    record = response.get_json()
    assert response.status_code == 202
    assert [row["kind"] for row in record["rows"]] == ["a", "b", "neutral"]
    finished = _wait_comparison(client, response.headers["Location"])
    manifest = workspace.storage.read_json(finished["portfolio"])
    assert manifest["controls"] == ["neutral"]
    assert manifest["lora"] is None


def test_compare_portfolio_readable_by_analyze(make_app, generator, tmp_path):
    from demographic2art.analysis.analyze import folder_images

    workspace = Workspace(tmp_path / "analyze")
    client = make_app(generator, workspace=workspace).test_client()
    response = client.post("/api/compare", json={**COMPARE, "name": "for-analysis"})
    _wait_comparison(client, response.headers["Location"])
    table = folder_images(workspace.storage.path("portfolios/for-analysis/images"))
    counts = table.groupby("group").size().to_dict()
    assert counts == {"gender-female": 2, "gender-male": 2, "neutral": 2}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**COMPARE, "a": {}}, "a"),
        ({**COMPARE, "a": {"shoe_size": "9"}}, "a.shoe_size"),
        ({**COMPARE, "b": {"style": "Cubism"}}, "b.style"),
        ({**COMPARE, "n_images": 17}, "n_images"),
        ({**COMPARE, "n_images": 0}, "n_images"),
        ({**COMPARE, "steps": 500}, "steps"),
        ({**COMPARE, "seeds": [1, 1]}, "seeds"),
        ({**COMPARE, "prompt": "a cat"}, "prompt"),
        ({**COMPARE, "lora": "no-such-run"}, "lora"),
    ],
)
def test_compare_invalid_field_400(make_app, generator, body, field):
    response = make_app(generator).test_client().post("/api/compare", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({**COMPARE, "b": {"gender": "female"}}, "pick different attributes"),
        ({**COMPARE, "name": "../escape"}, "is invalid"),
        ({**COMPARE, "name": "Upper"}, "is invalid"),
    ],
)
def test_compare_rejected_groups_and_names(make_app, generator, body, fragment):
    response = make_app(generator).test_client().post("/api/compare", json=body)
    assert response.status_code == 400
    assert fragment in response.get_json()["message"]


def test_compare_existing_portfolio_name_400(make_app, generator, tmp_path):
    workspace = Workspace(tmp_path / "taken")
    workspace.create()
    workspace.storage.write_json("portfolios/taken/manifest.json", {"name": "taken"})
    response = make_app(generator, workspace=workspace).test_client().post("/api/compare", json={**COMPARE, "name": "taken"})
    assert response.status_code == 400
    assert "already exists" in response.get_json()["message"]


def test_compare_too_big_for_queue_503(make_app, generator):
    client = make_app(generator, queue_size=4).test_client()
    response = client.post("/api/compare", json={**COMPARE, "n_images": 2})
    assert response.status_code == 503
    assert response.get_json() == {"error": "queue_full"}
    assert int(response.headers["Retry-After"]) >= 1
    assert client.get("/api/history").get_json()["jobs"] == []


def test_compare_cross_site_rejected(make_app, generator):
    client = make_app(generator).test_client()
    response = client.post("/api/compare", json=COMPARE, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_compare_unknown_id_404(make_app, generator):
    client = make_app(generator).test_client()
    assert client.get("/api/compare/" + "0" * 32).status_code == 404
    assert client.get("/api/compare/not-an-id").status_code == 404


def test_list_models_best_first(studio_workspace_runs):
    runs = list_models(Workspace(studio_workspace_runs))
    assert [run["name"] for run in runs] == ["run-cool", "run-warm"]
    assert [run["best"] for run in runs] == [True, False]
    assert runs[0]["validation_loss"] == 0.09


def test_list_models_best_json_wins(studio_workspace_runs, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(studio_workspace_runs, root)
    (root / "runs" / "best.json").write_text('{"run": "run-warm"}')
    runs = list_models(Workspace(root))
    assert runs[0]["name"] == "run-warm"
    assert runs[0]["best"] is True


def test_models_route_lists_runs(make_app, studio_generator, studio_workspace_runs):
    client = make_app(studio_generator, workspace=Workspace(studio_workspace_runs)).test_client()
    data = client.get("/api/models").get_json()
    assert data["available"] == ["run-cool", "run-warm"]
    assert data["active"] == "run-cool"
    assert [run["name"] for run in data["runs"]] == ["run-cool", "run-warm"]
    assert "lora" not in data["runs"][0]


@pytest.mark.slow
def test_lora_switch_loads_once(make_app, studio_generator):
    client = make_app(studio_generator).test_client()
    get = lambda url: client.get(url).get_json()  # noqa: E731
    results = {}
    for lora in ("run-warm", "run-cool", "run-warm"):
        job = client.post("/api/jobs", json={"prompt": "a quiet harbour", "seed": 3, "lora": lora, **SETTINGS}).get_json()
        record = wait_for_state(get, job["id"], ("done", "failed"), 120)
        assert record["state"] == "done"
        assert record["lora"] == lora
        results.setdefault(lora, []).append(_sha(client.get(record["result_urls"][0]).data))
    assert sorted(studio_generator.loaded) == ["run-cool", "run-warm"]
    assert results["run-warm"][0] == results["run-warm"][1]
    assert results["run-warm"][0] != results["run-cool"][0]


@pytest.mark.slow
def test_lora_weight_zero_equals_base(make_app, studio_generator, generator):
    from demographic2art.generate import GenerationParams

    client = make_app(studio_generator).test_client()
    job = client.post("/api/jobs", json={"prompt": "a quiet harbour", "seed": 5, "lora": "run-warm", "lora_weight": 0, **SETTINGS}).get_json()
    record = wait_for_state(lambda url: client.get(url).get_json(), job["id"], ("done",), 120)
    assert record["parameters"]["lora_weight"] == 0
    base = generator.generate(GenerationParams(prompt="a quiet harbour", seed=5, **SETTINGS), output_type="np")[0]
    studio_generator.select_lora("run-warm")
    zero = studio_generator.generate(
        GenerationParams(prompt="a quiet harbour", seed=5, lora_weight=0.0, **SETTINGS), output_type="np"
    )[0]
    assert abs(base - zero).max() < 1e-5


def test_gallery_download_sets_attachment(make_app, generator):
    client = make_app(generator).test_client()
    job = client.post("/api/jobs", json={"prompt": "a quiet harbour", "seed": 1, **SETTINGS}).get_json()
    record = wait_for_state(lambda url: client.get(url).get_json(), job["id"], ("done",), 120)
    response = client.get(record["result_urls"][0] + "?download=1")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{job["id"]}-0.png"'
    assert "Content-Disposition" not in client.get(record["result_urls"][0]).headers


def test_page_has_studio_controls(make_app, generator):
    page = make_app(generator).test_client().get("/").get_data(as_text=True)
    for control in ("seed-mode", "batch-size", "lora", "compare-a-gender", "compare-b-nationality", "compare-images"):
        assert f'<label for="{control}"' in page
        assert f'id="{control}"' in page
