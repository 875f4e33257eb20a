"""Workspace paths that are files, and failed commands on folders that already hold data."""

from __future__ import annotations

import pytest

from demographic2art.cli.main import main
from demographic2art.errors import InvalidValueError
from demographic2art.workspace import Workspace


def test_workspace_file_path_rejected(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("keep")
    with pytest.raises(InvalidValueError, match="is a file"):
        Workspace(path)


@pytest.mark.parametrize("command", [["status"], ["analyze"], ["train", "--model", "missing-model-folder/"]])
def test_workspace_file_cli_one_line(tmp_path, capsys, command):
    path = tmp_path / "notes.txt"
    path.write_text("keep")
    status = main([*command, "-w", str(path)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.strip().splitlines() == [f"error: workspace {str(path)!r} is a file, not a folder; pass --workspace a folder path"]
    assert path.read_text() == "keep"


def test_failed_command_keeps_existing_folder(tmp_path, capsys):
    root = tmp_path / "study"
    (root / "sub").mkdir(parents=True)
    (root / "data.txt").write_text("keep")
    (root / "sub" / "table.csv").write_text("a,b\n")
    status = main(["analyze", "-w", str(root)])
    capsys.readouterr()
    assert status == 2
    assert (root / "data.txt").read_text() == "keep"
    assert (root / "sub" / "table.csv").read_text() == "a,b\n"
