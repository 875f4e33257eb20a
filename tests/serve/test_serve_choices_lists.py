"""Pickers built from list-valued catalog fields show one choice per item."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from serve_helpers import generator, make_app, tiny_model  # noqa: F401

from demographic2art.serve import picker_choices
from demographic2art.attribute_values import flatten_values
from demographic2art.workspace import Workspace


@pytest.fixture
def list_workspace(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    artworks = pd.DataFrame(
        {
            "style": [["Fauvism"], ["Baroque", "Fauvism"], None],
            "genre": [["landscape"], ["portrait", "landscape"], []],
        }
    )
    workspace.storage.write_parquet("catalog/artworks.parquet", artworks)
    demographics = pd.DataFrame(
        {"gender": ["female", "male"], "nationality": ["['Dutch', 'French']", "Japanese"], "birth_year": [1843.0, None]}
    )
    workspace.storage.write_parquet("demographics/demographics.parquet", demographics)
    return workspace


def test_flatten_values_expands_lists():
    import numpy as np

    assert flatten_values([["a", "b"], np.array(["c"]), "['d']", "plain", None, float("nan")]) == ["a", "b", "c", "d", "plain"]


def test_choices_flatten_list_columns(list_workspace):
    choices = picker_choices(list_workspace)
    assert choices["genre"] == ["landscape", "portrait"]
    assert choices["style"] == ["Baroque", "Fauvism"]
    assert choices["nationality"] == ["Dutch", "French", "Japanese"]
    assert choices["birth_decade"] == [1840]


def test_api_choices_flat_values(make_app, generator, list_workspace):
    client = make_app(generator, workspace=list_workspace).test_client()
    choices = client.get("/api/choices").get_json()
    assert choices["genre"] == ["landscape", "portrait"]
    assert choices["style"] == ["Baroque", "Fauvism"]
    assert choices["nationality"] == ["Dutch", "French", "Japanese"]


def test_page_options_flat_values(make_app, generator, list_workspace):
    client = make_app(generator, workspace=list_workspace).test_client()
    html = client.get("/").get_data(as_text=True)
    genre_select = re.search(r'<select[^>]*id="picker-genre".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"', genre_select)
    assert options == ["", "landscape", "portrait"]
    assert "[" not in genre_select
    assert "&#39;" not in genre_select
