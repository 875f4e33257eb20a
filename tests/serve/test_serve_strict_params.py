"""The JSON API accepts numeric parameters only with their exact JSON types."""

from __future__ import annotations

import pytest
from serve_helpers import generator, make_app, tiny_model  # noqa: F401

REQUEST = {"prompt": "a harbour at dusk, oil on canvas", "seed": 7, "steps": 2, "width": 64, "height": 64}

WRONG_TYPES = [
    ("steps", True, "steps must be an integer (a JSON number without a fraction, not a string or boolean), got true"),
    ("steps", 2.0, "steps must be an integer (a JSON number without a fraction, not a string or boolean), got 2.0"),
    ("steps", "2", 'steps must be an integer (a JSON number without a fraction, not a string or boolean), got "2"'),
    ("seed", 1.5, "seed must be an integer (a JSON number without a fraction, not a string or boolean), got 1.5"),
    ("seed", False, "seed must be an integer (a JSON number without a fraction, not a string or boolean), got false"),
    ("width", True, "width must be an integer (a JSON number without a fraction, not a string or boolean), got true"),
    ("height", "64", 'height must be an integer (a JSON number without a fraction, not a string or boolean), got "64"'),
    ("batch_size", True, "batch_size must be an integer (a JSON number without a fraction, not a string or boolean), got true"),
    ("guidance_scale", "7", 'guidance_scale must be a number (a JSON number, not a string or boolean), got "7"'),
    ("guidance_scale", True, "guidance_scale must be a number (a JSON number, not a string or boolean), got true"),
    ("lora_weight", "0.5", 'lora_weight must be a number (a JSON number, not a string or boolean), got "0.5"'),
    ("prompt", 5, "prompt must be a string, got 5"),
    ("negative_prompt", ["x"], 'negative_prompt must be a string, got ["x"]'),
]


@pytest.fixture
def client(make_app, generator):
    return make_app(generator).test_client()


@pytest.mark.parametrize(("field", "value", "message"), WRONG_TYPES, ids=[f"{f}-{v!r}" for f, v, _ in WRONG_TYPES])
def test_job_wrong_json_type_is_400(client, field, value, message):
    response = client.post("/api/jobs", json={**REQUEST, field: value})
    body = response.get_json()
    assert response.status_code == 400
    assert body["field"] == field
    assert body["message"] == message


def test_job_integer_guidance_accepted(client):
    response = client.post("/api/jobs", json={**REQUEST, "guidance_scale": 7})
    assert response.status_code == 202


def test_compare_wrong_json_type_is_400(client):
    body = {"a": {"gender": "female"}, "b": {"gender": "male"}, "seeds": [1], "steps": True}
    response = client.post("/api/compare", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == "steps"


@pytest.mark.parametrize("value", [True, 1840.5, "18x0"])
def test_birth_decade_wrong_type_is_400(client, value):
    response = client.post("/api/prompt", json={"gender": "female", "birth_decade": value})
    body = response.get_json()
    assert response.status_code == 400
    assert body["field"] == "attributes.birth_decade"


@pytest.mark.parametrize("value", [1843, "1843"])
def test_birth_decade_integer_or_digits_accepted(client, value):
    response = client.post("/api/prompt", json={"gender": "female", "birth_decade": value})
    assert response.status_code == 200
    assert "1840s" in response.get_json()["prompt"]
