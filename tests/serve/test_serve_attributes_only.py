"""Jobs submitted with picked attributes and an empty prompt field, through Flask's test client."""

from __future__ import annotations

import pytest
from serve_helpers import generator, make_app, tiny_model, wait_for_state  # noqa: F401

ATTRIBUTES = {"gender": "female", "nationality": "French", "style": "Impressionism"}
COMPOSED = "a painting in the Impressionism style by a female French artist"


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_blank_prompt_with_attributes_composed(make_app, generator, prompt):
    client = make_app(generator).test_client()
    body = {"prompt": prompt, "steps": 1, "width": 64, "height": 64, "attributes": ATTRIBUTES}
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 202
    job_id = response.get_json()["id"]
    record = wait_for_state(lambda url: client.get(url).get_json(), job_id, ("done", "failed"), 60)
    assert record["parameters"]["prompt"] == COMPOSED
    assert record["state"] == "done"
    assert record["result_urls"] == [f"/gallery/{job_id}-0.png"]


def test_given_prompt_wins_over_attributes(make_app, generator):
    client = make_app(generator).test_client()
    body = {"prompt": "a harbour at dusk", "steps": 1, "attributes": ATTRIBUTES}
    job_id = client.post("/api/jobs", json=body).get_json()["id"]
    record = client.get(f"/api/jobs/{job_id}").get_json()
    assert record["parameters"]["prompt"] == "a harbour at dusk"


@pytest.mark.parametrize("attributes", [None, {}])
@pytest.mark.parametrize("prompt", ["", "   "])
def test_blank_prompt_without_attributes_400(make_app, generator, prompt, attributes):
    client = make_app(generator).test_client()
    body = {"prompt": prompt, "steps": 1}
    if attributes is not None:
        body["attributes"] = attributes
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == "prompt"
    assert client.get("/api/history").get_json()["jobs"] == []


def test_null_prompt_with_attributes_400(make_app, generator):
    client = make_app(generator).test_client()
    response = client.post("/api/jobs", json={"prompt": None, "steps": 1, "attributes": ATTRIBUTES})
    assert response.status_code == 400
    assert response.get_json()["field"] == "prompt"


def test_favicon_no_content(make_app, generator):
    client = make_app(generator).test_client()
    response = client.get("/favicon.ico")
    assert response.status_code == 204


def test_page_declares_empty_icon(make_app, generator):
    client = make_app(generator).test_client()
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="data:,">' in page
