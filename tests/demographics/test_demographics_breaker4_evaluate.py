"""`d2a demographics evaluate -w` on a workspace whose demographics/json is empty or damaged."""

from __future__ import annotations

import pytest

from demographic2art.cli.main import main
from demographic2art.demographics.evaluate import evaluate_extraction, load_extracted_records
from demographic2art.errors import InvalidValueError, MissingFileError
from demographic2art.workspace import Workspace

REFERENCE = "slug\tbirth_year\tdeath_year\tgender\tnationality\tbirth_country\nada-quellin\t1840\t1910\tfemale\tItalian\tItaly\n"


@pytest.fixture
def workspace(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    workspace.storage.makedirs("demographics/json")
    return workspace


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "reference.tsv"
    path.write_text(REFERENCE, "utf-8")
    return path


def test_evaluate_empty_json_folder_rejected(workspace, reference):
    with pytest.raises(MissingFileError, match="contains no extracted records"):
        evaluate_extraction(workspace, reference)


def test_evaluate_empty_json_folder_exit_2(workspace, reference, capsys):
    status = main(["demographics", "evaluate", "-w", workspace.storage.root, "--reference", str(reference)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.strip().splitlines() == [
        f"error: {workspace.url}/demographics/json contains no extracted records; "
        f"run 'd2a demographics extract -w {workspace.url}' first or pass --pages with a folder of saved pages"
    ]


def test_damaged_record_names_field(workspace):
    path = workspace.storage.path("demographics/json/ada-quellin.json")
    with open(path, "w") as handle:
        handle.write('{"slug": "ada-quellin"}')
    with pytest.raises(InvalidValueError, match=r"\(page_kind: Field required\)"):
        load_extracted_records(workspace.storage.path("demographics/json"))


@pytest.mark.parametrize("content", ["", "[1]", "null", "\udcff"])
def test_damaged_record_exit_2(workspace, reference, capsys, content):
    path = workspace.storage.path("demographics/json/ada-quellin.json")
    with open(path, "wb") as handle:
        handle.write(content.encode("utf-8", "surrogateescape"))
    status = main(["demographics", "evaluate", "-w", workspace.storage.root, "--reference", str(reference)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.startswith(f"error: extracted record {path} is not a demographics record (")
    assert len(captured.err.strip().splitlines()) == 1
