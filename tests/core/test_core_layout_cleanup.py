"""A failed command removes only the workspace layout it added to an existing folder."""

from __future__ import annotations

import os

from demographic2art.cli.main import main
from demographic2art.workspace import Workspace, forget_new_workspaces, remove_new_skeletons


def test_failed_command_removes_added_layout_only(tmp_path, capsys):
    root = tmp_path / "study"
    (root / "catalog").mkdir(parents=True)
    (root / "catalog" / "mine.csv").write_text("a,b\n")
    (root / "notes.txt").write_text("keep")

    status = main(["demographics", "extract", "-w", str(root)])
    capsys.readouterr()

    assert status == 2
    assert sorted(os.listdir(root)) == ["catalog", "notes.txt"]
    assert (root / "catalog" / "mine.csv").read_text() == "a,b\n"


def test_layout_with_outputs_is_kept(tmp_path):
    root = tmp_path / "study"
    root.mkdir()
    (root / "notes.txt").write_text("keep")
    forget_new_workspaces()
    workspace = Workspace(root).create()
    workspace.storage.write_text("images/partial.json", "{}")

    assert remove_new_skeletons() == []
    assert (root / "images" / "partial.json").exists()
    assert (root / "d2a.toml").exists()


def test_existing_workspace_is_never_cleaned(tmp_path):
    root = tmp_path / "study"
    Workspace(root).create()
    forget_new_workspaces()
    Workspace(root).create()

    assert remove_new_skeletons() == []
    assert (root / "d2a.toml").exists()
