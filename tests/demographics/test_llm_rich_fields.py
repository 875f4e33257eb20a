"""The LLM schema's study fields beyond the core ones, over real HTTP to the test server on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from demographic2art.demographics.llm import extract_llm, strict_json_schema
from demographic2art.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from llm_server import LLMTestServer, answer_json, completion  # noqa: E402

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>Ida Marwell - Wikipedia</title>
<link rel="canonical" href="https://en.wikipedia.org/wiki/Ida_Marwell"></head>
<body><h1>Ida Marwell</h1><div id="mw-content-text"><div class="mw-parser-output">
<p><b>Ida Marwell</b> (1868 – 1931) was a Danish painter. She studied at the Académie Julian in 1889 and
was a pupil of Tony Robert-Fleury. She spoke French and German fluently.</p>
<p>She moved to Paris in 1890 and visited Rome in 1902. She was a member of the Skagen group from 1895.
Marwell was a devout Lutheran throughout her life.</p>
</div></div>
<div id="catlinks"><div id="mw-normal-catlinks"><ul><li><a>1868 births</a></li><li><a>1931 deaths</a></li></ul></div></div>
</body></html>"""

GOOD_AND_BAD = dict(
    education=[
        {"school": "Académie Julian", "degree": None, "year": 1889, "quote": "studied at the Académie Julian in 1889"},
        {"school": "Royal Danish Academy", "degree": "diploma", "year": 1887, "quote": "graduated from the Royal Danish Academy"},
    ],
    languages=[
        {"language": "French", "quote": "spoke French and German"},
        {"language": "Italian", "quote": "spoke Italian"},
    ],
    affiliations=[
        {"group": "Skagen group", "kind": "group", "start_year": 1895, "end_year": None,
         "quote": "member of the Skagen group from 1895"},
        {"group": "Les XX", "kind": "society", "start_year": None, "end_year": None, "quote": "joined Les XX"},
    ],
    residences=[
        {"place": "Paris", "country": "France", "kind": "residence", "start_year": 1890, "end_year": None,
         "quote": "moved to Paris in 1890"},
        {"place": "Rome", "country": "Italy", "kind": "visit", "start_year": 1902, "end_year": 1902,
         "quote": "visited Rome in 1902"},
        {"place": "London", "country": "United Kingdom", "kind": "residence", "start_year": 1910, "end_year": None,
         "quote": "settled in London in 1910"},
    ],
    interactions=[
        {"name": "Tony Robert-Fleury", "artist_role": "pupil", "other_role": "teacher", "year": None, "place": "Paris",
         "quote": "a pupil of Tony Robert-Fleury"},
        {"name": "Edgar Degas", "artist_role": "friend", "other_role": "friend", "year": None, "place": None,
         "quote": "a close friend of Degas"},
    ],
    ethnicity={"value": "Jewish", "quote": "of Jewish descent"},
    religion={"value": "Lutheran", "quote": "a devout Lutheran"},
)


def workspace_with_page(root: Path) -> Workspace:
    workspace = Workspace(root).create()
    workspace.storage.write_bytes("bios/html/ida-marwell.html", PAGE.encode())
    return workspace


def run_with_answer(tmp_path: Path, **fields) -> tuple[dict, object, list[dict]]:
    workspace = workspace_with_page(tmp_path / "ws")
    with LLMTestServer(responder=lambda body: completion(answer_json(**fields))) as server:
        summary = extract_llm(workspace, base_url=server.base_url, model="test-model", max_retries=0)
        requests = server.chat_requests()
    return workspace.storage.read_json("demographics/llm/json/ida-marwell.json"), summary, requests


def test_schema_sends_every_study_field():
    schema = strict_json_schema()
    assert sorted(schema["properties"]) == sorted([
        "birth_year", "death_year", "birth_place", "death_place", "gender", "nationality", "education",
        "languages", "affiliations", "residences", "interactions", "ethnicity", "religion",
    ])
    definitions = schema["$defs"]
    assert sorted(definitions["EducationAnswer"]["properties"]) == ["degree", "quote", "school", "year"]
    assert sorted(definitions["AffiliationAnswer"]["properties"]) == ["end_year", "group", "kind", "quote", "start_year"]
    assert sorted(definitions["ResidenceAnswer"]["properties"]) == [
        "country", "end_year", "kind", "place", "quote", "start_year"]
    assert sorted(definitions["InteractionAnswer"]["properties"]) == [
        "artist_role", "name", "other_role", "place", "quote", "year"]
    assert sorted(definitions["StatedAnswer"]["properties"]) == ["quote", "value"]


def test_schema_lists_required_and_nullable():
    schema = strict_json_schema()
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == sorted(schema["properties"])
    for name in ("education", "languages", "affiliations", "residences", "interactions"):
        kinds = [option.get("type") for option in schema["properties"][name]["anyOf"]]
        assert kinds == ["array", "null"], name


def test_request_carries_strict_schema(tmp_path):
    _, _, requests = run_with_answer(tmp_path)
    response_format = requests[0]["response_format"]
    assert response_format["json_schema"]["strict"] is True
    assert "interactions" in response_format["json_schema"]["schema"]["properties"]
    assert requests[0]["temperature"] == 0


def from_llm(items: list[dict]) -> list[dict]:
    """Return the items the LLM gave (the offline extractor may have added its own before)."""
    return [item for item in items if item["source"] == "llm"]


def test_rich_fields_keep_quoted_values(tmp_path):
    record, _, _ = run_with_answer(tmp_path, **GOOD_AND_BAD)
    education = [(e["school"], e["year"]) for e in from_llm(record["education_details"])]
    assert education == [("Académie Julian", 1889)]
    assert record["languages"] == ["French"]
    affiliations = [(a["group"], a["kind"], a["start_year"]) for a in from_llm(record["affiliations"])]
    assert affiliations == [("Skagen group", "group", 1895)]
    residences = [(r["place"]["raw"], r["place"]["country_code"], r["kind"], r["start_year"])
                  for r in from_llm(record["residences"])]
    assert residences == [("Paris", "FR", "residence", 1890), ("Rome", "IT", "visit", 1902)]
    interactions = [(i["name"], i["artist_role"], i["other_role"]) for i in from_llm(record["interactions"])]
    assert interactions == [("Tony Robert-Fleury", "pupil", "teacher")]
    assert record["religion"] == {"value": "Lutheran", "quote": "a devout Lutheran", "source": "llm"}


def test_rich_fields_drop_unquoted_values(tmp_path):
    record, summary, _ = run_with_answer(tmp_path, **GOOD_AND_BAD)
    assert record["ethnicity"] is None
    assert sorted(record["llm"]["quotes_dropped"]) == sorted([
        "education[1]", "languages[1]", "affiliations[1]", "residences[2]", "interactions[1]", "ethnicity",
    ])
    assert summary.quotes_dropped == 6


def test_rich_fields_quote_recorded(tmp_path):
    record, _, _ = run_with_answer(tmp_path, **GOOD_AND_BAD)
    assert from_llm(record["education_details"])[0]["quote"] == "studied at the Académie Julian in 1889"
    assert from_llm(record["residences"])[1]["quote"] == "visited Rome in 1902"
    assert record["quotes"]["languages:French"] == "spoke French and German"


def test_null_lists_leave_fields_empty(tmp_path):
    record, _, _ = run_with_answer(tmp_path)
    assert record["llm"]["status"] == "llm_ok"
    assert from_llm(record["interactions"]) == []
    assert record["religion"] is None


def test_religion_without_quote_dropped(tmp_path):
    record, _, _ = run_with_answer(tmp_path, religion={"value": "Catholic", "quote": None})
    assert record["religion"] is None
    assert record["llm"]["quotes_dropped"] == ["religion"]


def test_answer_json_fixture_valid():
    answer = json.loads(answer_json())
    assert sorted(answer) == sorted(strict_json_schema()["properties"])
