"""`d2a demographics evaluate` on a workspace's own extraction, on invented pages and reference rows."""

from __future__ import annotations

import json

import pytest
from conftest import invented_page

from demographic2art.cli.main import main
from demographic2art.demographics.evaluate import evaluate, evaluate_extraction, load_extracted_records
from demographic2art.errors import InvalidValueError, MissingFileError
from demographic2art.workspace import Workspace

REFERENCE_HEADER = "slug\tbirth_year\tdeath_year\tgender\tnationality\tbirth_country\n"


def _page(name: str, born: str, died: str, birthplace: str, nationality: str) -> str:
    infobox = (
        f'<tr><th>Born</th><td>{born}<br/><div class="birthplace">{birthplace}</div></td></tr>'
        f"<tr><th>Died</th><td>{died}</td></tr>"
        f"<tr><th>Nationality</th><td>{nationality}</td></tr>"
    )
    lead = f"<b>{name}</b> ({born} – {died}) was a {nationality} painter. She exhibited in many towns."
    body = "<p>Her paintings and drawings were shown in many towns over a long working life.</p>"
    return invented_page(name, infobox, lead, body)


@pytest.fixture
def pages(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "ada-quellin.html").write_text(_page("Ada Quellin", "3 May 1840", "9 June 1910", "Vercelli, Duchy of Savoy", "Italian"), "utf-8")
    (folder / "berta-morvan.html").write_text(_page("Berta Morvan", "1 April 1851", "2 March 1920", "Nantes, France", "French"), "utf-8")
    return folder


@pytest.fixture
def reference(tmp_path):
    # ada-quellin matches on every field; berta-morvan's reference birth year (1850) and birth
    # country (BE) differ from the page, and her death year is left empty.
    path = tmp_path / "reference.tsv"
    path.write_text(
        REFERENCE_HEADER
        + "ada-quellin\t1840\t1910\tfemale\tItalian\tItaly\n"
        + "berta-morvan\t1850\t\tfemale\tFrench\tBelgium\n",
        "utf-8",
    )
    return path


@pytest.fixture
def workspace_dir(tmp_path, pages):
    folder = tmp_path / "ws"
    assert main(["demographics", "extract", "--pages", str(pages), "-w", str(folder)]) == 0
    return folder


def test_evaluate_ws_library_figures(workspace_dir, reference):
    report = evaluate_extraction(Workspace(workspace_dir), reference, judgements=False)
    fields = report["fields"]
    assert report["rows"] == 2
    assert report["missing_pages"] == []
    assert fields["birth_year"]["agreement"] == 0.5
    assert fields["birth_year"]["recall"] == 1.0
    assert fields["death_year"]["agreement"] == 1.0
    assert fields["death_year"]["recall"] == 1.0
    assert fields["death_year"]["coverage"] == 1.0
    assert fields["birth_country"]["agreement"] == 0.5
    assert fields["birth_country"]["matched_recall"] == 0.5
    assert fields["nationality"]["agreement"] == 1.0


def test_evaluate_ws_disagreements_listed(workspace_dir, reference):
    report = evaluate_extraction(Workspace(workspace_dir), reference, judgements=False)
    found = sorted((d["slug"], d["field"], d["ours"]) for d in report["disagreements"])
    assert found == [("berta-morvan", "birth_country", ["FR"]), ("berta-morvan", "birth_year", 1851)]


def test_evaluate_ws_cli_json(workspace_dir, reference, capsys):
    capsys.readouterr()
    code = main(["demographics", "evaluate", "-w", str(workspace_dir), "--reference", str(reference), "--json", "--no-judgements"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["fields"]["birth_year"]["agreement"] == 0.5
    assert report["fields"]["birth_country"]["agreement"] == 0.5
    assert report["triage"] == {"biography": 2}


def test_evaluate_ws_without_extraction_exits_2(tmp_path, reference):
    assert main(["demographics", "evaluate", "-w", str(tmp_path / "empty"), "--reference", str(reference)]) == 2


def test_evaluate_ws_without_extraction_names_fix(tmp_path, reference):
    with pytest.raises(MissingFileError, match="run 'd2a demographics extract -w"):
        evaluate_extraction(Workspace(tmp_path / "empty"), reference)


def test_evaluate_unpack_folder_names_nested(tmp_path, reference):
    nested = tmp_path / "unpacked" / "wikipedia" / "html"
    nested.mkdir(parents=True)
    (nested / "ada-quellin.html").write_text("<html></html>", "utf-8")
    with pytest.raises(MissingFileError) as caught:
        evaluate(tmp_path / "unpacked", reference)
    assert str(caught.value).endswith(f"pages are in {nested}; pass that")


def test_evaluate_unpack_folder_exits_2(tmp_path, reference):
    (tmp_path / "unpacked" / "wikipedia" / "html").mkdir(parents=True)
    code = main(["demographics", "evaluate", "--pages", str(tmp_path / "unpacked"), "--reference", str(reference)])
    assert code == 2


def test_evaluate_no_pages_compares_records(workspace_dir, reference):
    records = load_extracted_records(workspace_dir / "demographics" / "json")
    report = evaluate(None, reference, extracted=records, judgements=False)
    assert report["fields"]["birth_year"]["agree"] == 1
    assert report["fields"]["birth_year"]["both"] == 2


def test_evaluate_no_pages_counts_quotes_unfound(workspace_dir, reference, tmp_path):
    judgements = tmp_path / "judgements.json"
    entry = {"slug": "berta-morvan", "field": "birth_year", "reference": "1850", "ours": 1851,
             "verdict": "reference_wrong", "quote": "1 April 1851"}
    judgements.write_text(json.dumps([entry]), "utf-8")
    records = load_extracted_records(workspace_dir / "demographics" / "json")
    report = evaluate(None, reference, extracted=records, judgements=judgements)
    assert report["judgements"] == {"quote_not_found": 1}


def test_evaluate_no_pages_no_records_invalid(reference):
    with pytest.raises(InvalidValueError):
        evaluate(None, reference)
