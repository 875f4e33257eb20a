"""`d2a compare --engine ray` on a local Ray cluster gives the local engine's outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from demographic2art.analysis.compare import compare_groups
from demographic2art.errors import InvalidValueError

GROUPS = [{"gender": "female"}, {"gender": "male"}]
pytestmark = pytest.mark.ray

SETTINGS = {"n_images": 2, "steps": 2, "controls": True, "n_boot": 20, "n_perm": 9, "c2st_perm": 9}


@pytest.fixture(scope="module")
def engines(tiny_model, tmp_path_factory, ray_cluster):
    os.environ["HF_HUB_OFFLINE"] = "1"
    workspace = tmp_path_factory.mktemp("ray-ws")
    with_ray = compare_groups(workspace, GROUPS, model=str(tiny_model), engine="ray", workers=1, name="ray", **SETTINGS)
    local = compare_groups(workspace, GROUPS, model=str(tiny_model), engine="local", name="local", **SETTINGS)
    return with_ray, local


def _pixels(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path), dtype=int)


@pytest.mark.slow
def test_ray_engine_writes_same_files(engines):
    with_ray, local = engines
    ray_files = sorted(p.relative_to(with_ray.folder).as_posix() for p in Path(with_ray.folder).rglob("*"))
    local_files = sorted(p.relative_to(local.folder).as_posix() for p in Path(local.folder).rglob("*"))
    assert ray_files == local_files


@pytest.mark.slow
def test_ray_engine_matches_local_pixels(engines):
    with_ray, local = engines
    for path in Path(local.folder, "images").rglob("*.png"):
        twin = Path(with_ray.folder) / path.relative_to(local.folder)
        # Ray workers run torch with one thread, so float rounding may move a value by 1/255.
        assert np.abs(_pixels(path) - _pixels(twin)).max() <= 1, path.name


@pytest.mark.slow
def test_ray_engine_manifest_matches_local(engines):
    with_ray, local = engines
    ray_manifest = json.loads(Path(with_ray.folder, "manifest.json").read_text())
    local_manifest = json.loads(Path(local.folder, "manifest.json").read_text())
    assert ray_manifest["engine"] == "ray"
    assert [(r["group"], r["seed"], r["prompt"]) for r in ray_manifest["images"]] == [
        (r["group"], r["seed"], r["prompt"]) for r in local_manifest["images"]
    ]
    assert ray_manifest["settings"] == local_manifest["settings"]


def test_unknown_engine_rejected(tmp_path):
    with pytest.raises(InvalidValueError, match="unknown engine 'spark'"):
        compare_groups(tmp_path, GROUPS, model="unused", engine="spark")
