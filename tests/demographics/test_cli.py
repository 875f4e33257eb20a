"""The bios and demographics commands on real files in a temporary workspace."""

from __future__ import annotations

import tarfile
from pathlib import Path

from demographic2art.cli.main import main
from demographic2art.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def test_import_missing_folder_exits_2(tmp_path):
    assert main(["bios", "import", str(tmp_path / "absent"), "-w", str(tmp_path / "ws")]) == 2


def test_evaluate_missing_folder_exits_2(tmp_path):
    reference = tmp_path / "ref.tsv"
    reference.write_text("slug\tbirth_year\n")
    assert main(["demographics", "evaluate", "--pages", str(tmp_path / "absent"), "--reference", str(reference)]) == 2


def test_extract_without_import_exits_2(tmp_path):
    assert main(["demographics", "extract", "-w", str(tmp_path / "ws")]) == 2


def test_import_archive_then_extract(tmp_path):
    archive = tmp_path / "html.tar.xz"
    with tarfile.open(archive, "w:xz") as tar:
        for page in FIXTURES.glob("*.html"):
            tar.add(page, arcname=f"html/{page.name}")
    workspace_dir = tmp_path / "ws"
    assert main(["bios", "import", str(archive), "-w", str(workspace_dir), "--artist", "ilse-varnholt"]) == 0
    assert main(["demographics", "extract", "-w", str(workspace_dir)]) == 0
    workspace = Workspace(workspace_dir)
    triage = workspace.storage.read_parquet("bios/triage.parquet")
    assert list(triage["artist_key"]) == ["ilse-varnholt"]
    table = workspace.storage.read_parquet("demographics/demographics.parquet")
    assert int(table.loc[0, "birth_year"]) == 1612
    assert bool(table.loc[0, "birth_approximate"]) is True
    assert table.loc[0, "gender"] == "female"
    assert list(table.loc[0, "nationality_codes"]) == ["BE"]
    record = workspace.storage.read_json("demographics/json/ilse-varnholt.json")
    assert record["death"]["year"] == 1671


def test_evaluate_reference_without_columns_exits_2(tmp_path):
    import subprocess
    import sys

    pages = tmp_path / "pages"
    pages.mkdir()
    reference = tmp_path / "wrong.tsv"
    reference.write_text("a\tb\n1\t2\n")
    result = subprocess.run(
        [sys.executable, "-m", "demographic2art", "demographics", "evaluate", "--pages", str(pages), "--reference", str(reference)],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "lacks the columns slug" in result.stderr
    assert "Traceback" not in result.stderr
