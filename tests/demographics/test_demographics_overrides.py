"""Researcher overrides applied after extraction, in a workspace and on single records."""

from __future__ import annotations

from pathlib import Path

import pytest

from demographic2art.bios.importer import import_pages
from demographic2art.demographics.overrides import apply_overrides, parse_overrides
from demographic2art.demographics.schema import Demographics
from demographic2art.demographics.workspace_io import extract_workspace
from demographic2art.errors import InvalidValueError
from demographic2art.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"

CSV = """artist,field,value,note
ilse-varnholt,birth_year,1613,baptism record
ilse-varnholt,nationality,NL;BE,worked in both
ilse-varnholt,religion,Catholic,'a devout Catholic'
"""


def test_overrides_survive_reextraction(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    import_pages(workspace, FIXTURES, artists=["ilse-varnholt"])
    workspace.storage.write_text("demographics/overrides.csv", CSV)
    for _ in range(2):
        extract_workspace(workspace)
        record = workspace.storage.read_json("demographics/json/ilse-varnholt.json")
        assert record["birth"]["year"] == 1613
        assert record["sources"]["birth_year"] == "override"
        assert record["nationality"]["codes"] == ["BE", "NL"]
        assert record["religion"] == {"value": "Catholic", "quote": "'a devout Catholic'", "source": "override"}
    table = workspace.storage.read_parquet("demographics/demographics.parquet")
    assert int(table.loc[0, "birth_year"]) == 1613


def test_override_keeps_replaced_value_as_conflict():
    record = Demographics(artist_key="jan-invented", page_kind="biography")
    record.birth.year = 1700
    apply_overrides(record, parse_overrides("artist,field,value,note\njan-invented,birth_year,1701,\n"))
    assert record.birth.year == 1701
    assert record.conflicts[0].other == "1700"
    assert record.conflicts[0].kept_source == "override"


def test_override_other_artist_untouched():
    record = Demographics(artist_key="jan-invented", page_kind="biography", gender="male")
    apply_overrides(record, parse_overrides("artist,field,value,note\nanna-invented,gender,female,\n"))
    assert record.gender == "male"
    assert "gender" not in record.sources


def test_override_birth_place_sets_country():
    record = Demographics(artist_key="jan-invented", page_kind="biography")
    apply_overrides(record, parse_overrides("artist,field,value,note\njan-invented,birth_place,\"Lyon, France\",\n"))
    assert record.birth.place.country_code == "FR"


@pytest.mark.parametrize(
    "text",
    [
        "artist,field,value,note\nx,height,2,\n",
        "artist,field,value,note\nx,birth_year,about 1650,\n",
        "artist,field,value,note\nx,gender,woman,\n",
        "artist,value\nx,1650\n",
    ],
)
def test_invalid_overrides_rejected(text):
    with pytest.raises(InvalidValueError):
        parse_overrides(text)


def test_sensitive_columns_only_when_enabled(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    import_pages(workspace, FIXTURES, artists=["ilse-varnholt"])
    workspace.storage.write_text("demographics/overrides.csv", CSV)
    extract_workspace(workspace)
    table = workspace.storage.read_parquet("demographics/demographics.parquet")
    assert "religion" not in table.columns
    extract_workspace(workspace, include_sensitive=True)
    table = workspace.storage.read_parquet("demographics/demographics.parquet")
    assert table.loc[0, "religion"] == "Catholic"
    assert table.loc[0, "religion_quote"] == "'a devout Catholic'"
