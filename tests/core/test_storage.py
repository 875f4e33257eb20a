"""The storage layer: atomic local writes, root confinement and listings."""

from __future__ import annotations

import os

import pytest

from demographic2art.errors import InvalidValueError, MissingFileError
from demographic2art.storage import Storage
from demographic2art.workspace import SUBFOLDERS, Workspace


def test_write_then_read_round_trip(tmp_path):
    storage = Storage(tmp_path)
    storage.write_json("a/b.json", {"x": 1})
    assert storage.read_json("a/b.json") == {"x": 1}
    assert storage.listdir("a") == ["b.json"]


def test_unfinished_write_is_not_listed(tmp_path):
    storage = Storage(tmp_path)
    storage.write_text("files/done.txt", "ok")
    (tmp_path / "files" / ".cut.txt.1a2b3c4d.part").write_text("partial")
    assert storage.listdir("files") == ["done.txt"]
    assert storage.glob("files/*") == ["files/done.txt"]


def test_paths_cannot_leave_root(tmp_path):
    storage = Storage(tmp_path / "root")
    for bad in ("../x", "a/../../x", "/etc/passwd"):
        with pytest.raises(InvalidValueError, match="leaves the storage root"):
            storage.path(bad)


def test_missing_file_names_path(tmp_path):
    with pytest.raises(MissingFileError, match="nope.txt does not exist"):
        Storage(tmp_path).read_bytes("nope.txt")


def test_parquet_round_trip(tmp_path):
    import pandas as pd

    storage = Storage(tmp_path)
    frame = pd.DataFrame({"key": ["a/b"], "value": [3]})
    storage.write_parquet("t.parquet", frame)
    assert storage.read_parquet("t.parquet").to_dict("records") == [{"key": "a/b", "value": 3}]


def test_workspace_layout_and_settings(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    for name in SUBFOLDERS:
        assert (tmp_path / "ws" / name).is_dir()
    workspace.record_settings("train", {"steps": 5, "model": tmp_path, "skip": None})
    settings = workspace.settings()
    assert settings["train"] == {"steps": 5, "model": str(tmp_path)}
    assert settings["d2a"]["version"]
    workspace.record_settings("train", {"steps": 7})
    assert workspace.settings()["train"] == {"steps": 7}


def test_local_path_refused_for_remote(tmp_path):
    storage = Storage("memory://bucket/study")
    storage.write_text("x.txt", "hi")
    assert storage.read_text("x.txt") == "hi"
    with pytest.raises(InvalidValueError, match="not a local folder"):
        storage.local_path("x.txt")
    assert not os.path.exists("bucket")


def test_garbage_json_names_file(tmp_path):
    storage = Storage(str(tmp_path))
    storage.write_text("runs/best.json", "{not json")
    with pytest.raises(InvalidValueError) as info:
        storage.read_json("runs/best.json")
    assert str(tmp_path / "runs" / "best.json") in str(info.value)
    assert "not valid JSON" in str(info.value)
