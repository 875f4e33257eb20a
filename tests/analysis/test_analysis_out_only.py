"""`d2a analyze --images-dir DIR --out DIR` without a workspace leaves no workspace behind."""

from __future__ import annotations

import numpy as np
from PIL import Image

from demographic2art.cli.main import main


def test_out_only_leaves_no_default_workspace(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for group, base in (("warm", (200, 90, 40)), ("cool", (40, 90, 200))):
        folder = tmp_path / "images" / group
        folder.mkdir(parents=True)
        for index in range(8):
            pixels = np.clip(np.array(base) + rng.normal(0, 25, (48, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{index}.jpg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("D2A_WORKSPACE", raising=False)

    status = main(["analyze", "--images-dir", str(tmp_path / "images"), "--out", str(tmp_path / "report"),
                   "--n-boot", "20", "--n-perm", "19", "--c2st-perm", "9", "--no-sensitivity"])

    assert status == 0
    assert (tmp_path / "report" / "report.html").is_file()
    assert not (tmp_path / "d2a-workspace").exists()
