"""`d2a images check` on folders with nothing to check or nothing that decodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from demographic2art.cli.main import main
from demographic2art.errors import MissingFileError
from demographic2art.images import check_images


def test_check_empty_folder_rejected(tmp_path):
    with pytest.raises(MissingFileError, match="contains no image files"):
        check_images([tmp_path])


def test_check_hidden_only_folder_rejected(tmp_path):
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(MissingFileError, match="contains no image files"):
        check_images([tmp_path])


def test_check_empty_folder_exit_2(tmp_path, capsys):
    status = main(["images", "check", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.strip().splitlines() == [f"error: folder {tmp_path} contains no image files; name an image file or a folder of images"]


def test_check_non_images_exit_1(tmp_path, capsys):
    (tmp_path / "a.jpg").write_text("not an image")
    (tmp_path / "b.dat").write_text("text")
    status = main(["images", "check", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out.strip().splitlines()[-1] == "2 files: 0 ok, 2 rejected"


def test_check_folder_leaves_out_metadata_and_captions(tmp_path, capsys):
    Image.new("RGB", (40, 30), (1, 2, 3)).save(tmp_path / "harbour.jpg")
    (tmp_path / "metadata.jsonl").write_text('{"file_name": "harbour.jpg"}\n')
    (tmp_path / "harbour.txt").write_text("a harbour at dawn")
    status = main(["images", "check", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    assert lines[-1] == "1 file: 1 ok, 0 rejected"
    assert lines[0].endswith("harbour.jpg")


def test_check_named_text_file_is_still_checked(tmp_path):
    (tmp_path / "notes.txt").write_text("a harbour at dawn")
    [result] = check_images([tmp_path / "notes.txt"])
    assert result["status"] == "rejected"
    assert result["reason"] == "not_an_image"
    assert result["detail"] == "no image format recognised; the data starts with 61 20 68 61 72 62 6f 75"


def test_check_folder_of_only_metadata_exit_2(tmp_path, capsys):
    (tmp_path / "metadata.jsonl").write_text("{}\n")
    assert main(["images", "check", str(tmp_path)]) == 2
    assert "contains no image files" in capsys.readouterr().err


def test_check_folder_leaves_out_hidden_folders(tmp_path):
    Image.new("RGB", (40, 30), (1, 2, 3)).save(tmp_path / "harbour.jpg")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "broken.jpg").write_bytes(b"not an image")
    assert [Path(row["path"]).name for row in check_images([tmp_path])] == ["harbour.jpg"]
