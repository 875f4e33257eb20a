"""`d2a images check` on folders with nothing to check or nothing that decodes."""

from __future__ import annotations

import pytest

from demographic2art.cli.main import main
from demographic2art.errors import MissingFileError
from demographic2art.images import check_images


def test_check_empty_folder_rejected(tmp_path):
    with pytest.raises(MissingFileError, match="contains no files"):
        check_images([tmp_path])


def test_check_hidden_only_folder_rejected(tmp_path):
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(MissingFileError, match="contains no files"):
        check_images([tmp_path])


def test_check_empty_folder_exit_2(tmp_path, capsys):
    status = main(["images", "check", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.strip().splitlines() == [f"error: folder {tmp_path} contains no files; name an image file or a folder of images"]


def test_check_non_images_exit_1(tmp_path, capsys):
    (tmp_path / "a.jpg").write_text("not an image")
    (tmp_path / "b.txt").write_text("text")
    status = main(["images", "check", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out.strip().splitlines()[-1] == "2 files: 0 ok, 2 rejected"
