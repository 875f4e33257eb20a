"""`d2a demographics extract --pages DIR`: extraction straight from a folder of saved pages."""

from __future__ import annotations

import tarfile

import pandas as pd
import pytest

from demographic2art.bios.fetch import saved_page
from demographic2art.cli.main import main
from demographic2art.demographics.workspace_io import extract_workspace
from demographic2art.errors import MissingFileError
from demographic2art.workspace import Workspace

FILLER = "<p>The painter worked for many years in a small studio and exhibited landscapes with friends.</p>"

# slug: (title, page text, categories)
PAGES = {
    "anna-wexby": ("Anna Wexby",
                   "<p><b>Anna Wexby</b> (3 May 1850 – 9 June 1910) was a French painter. She painted rivers.</p>",
                   ["French_women_painters"]),
    "bruno-kettel": ("Bruno Kettel",
                     "<p><b>Bruno Kettel</b> (2 April 1860 – 5 July 1920) was a German painter. He painted barns.</p>",
                     ["German_male_painters"]),
    "kettel": ("Kettel",
               "<p><b>Kettel</b> may refer to:</p><ul><li><a>Bruno Kettel</a> (1860–1920), German painter</li>"
               "<li><a>Otto Kettel</a> (1901–1977), German sculptor</li></ul>",
               ["Disambiguation_pages"]),
}


@pytest.fixture()
def pages_dir(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for slug, (title, text, categories) in PAGES.items():
        parse = {"text": text + FILLER, "categories": [{"category": name} for name in categories]}
        (folder / f"{slug}.html").write_text(saved_page("en.wikipedia.org", title, parse, None), encoding="utf-8")
    (folder / "notes.txt").write_text("not a page", encoding="utf-8")
    return folder


def test_extract_pages_writes_table(tmp_path, pages_dir):
    workspace = Workspace(tmp_path / "ws")
    summary = extract_workspace(workspace, pages_dir=pages_dir)
    assert summary.extracted == 3
    assert summary.kinds == {"biography": 2, "disambiguation": 1}
    table = workspace.storage.read_parquet("demographics/demographics.parquet")
    assert list(table["artist_key"]) == ["anna-wexby", "bruno-kettel", "kettel"]
    anna = table.set_index("artist_key").loc["anna-wexby"]
    assert int(anna["birth_year"]) == 1850
    assert int(anna["death_year"]) == 1910
    assert anna["gender"] == "female"
    assert list(anna["nationality_codes"]) == ["FR"]
    assert pd.isna(table.set_index("artist_key").loc["kettel", "birth_year"])


def test_extract_pages_selected_artist(tmp_path, pages_dir):
    workspace = Workspace(tmp_path / "ws")
    summary = extract_workspace(workspace, pages_dir=pages_dir, artists=["Bruno-Kettel"])
    assert summary.extracted == 1
    record = workspace.storage.read_json("demographics/json/bruno-kettel.json")
    assert record["birth"]["year"] == 1860
    assert record["gender"] == "male"


def test_extract_pages_with_catalog_flags_year(tmp_path, pages_dir):
    workspace = Workspace(tmp_path / "ws")
    catalog = pd.DataFrame([{"artist_key": "bruno-kettel", "birth_year": 1861, "death_year": 1920}])
    workspace.storage.write_parquet("catalog/artists.parquet", catalog)
    extract_workspace(workspace, pages_dir=pages_dir)
    record = workspace.storage.read_json("demographics/json/bruno-kettel.json")
    conflicts = [(c["field"], c["kept"], c["other"]) for c in record["conflicts"]]
    assert ("birth_year", 1860, 1861) in conflicts


def test_extract_pages_from_archive(tmp_path, pages_dir):
    archive = tmp_path / "html.tar.xz"
    with tarfile.open(archive, "w:xz") as tar:
        for page in sorted(pages_dir.glob("*.html")):
            tar.add(page, arcname=f"html/{page.name}")
    workspace = Workspace(tmp_path / "ws")
    summary = extract_workspace(workspace, pages_dir=archive)
    assert summary.extracted == 3


def test_extract_pages_missing_folder_raises(tmp_path):
    with pytest.raises(MissingFileError, match="absent"):
        extract_workspace(Workspace(tmp_path / "ws"), pages_dir=tmp_path / "absent")


def test_extract_pages_empty_folder_raises(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingFileError, match="no <slug>.html pages"):
        extract_workspace(Workspace(tmp_path / "ws"), pages_dir=tmp_path / "empty")


def test_extract_pages_cli(tmp_path, pages_dir, capsys):
    workspace_dir = tmp_path / "ws"
    assert main(["demographics", "extract", "--pages", str(pages_dir), "-w", str(workspace_dir)]) == 0
    output = capsys.readouterr().out
    assert "extracted 3 pages" in output
    table = Workspace(workspace_dir).storage.read_parquet("demographics/demographics.parquet")
    assert len(table) == 3


def test_extract_pages_cli_missing_exits_2(tmp_path):
    assert main(["demographics", "extract", "--pages", str(tmp_path / "absent"), "-w", str(tmp_path / "ws")]) == 2


def test_extract_pages_with_llm_exits_2(tmp_path, pages_dir):
    command = ["demographics", "extract", "--pages", str(pages_dir), "--extractor", "llm",
               "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "-w", str(tmp_path / "ws")]
    assert main(command) == 2
