"""Embedding back-ends: a tiny randomly initialised CLIP saved locally, and the feature default."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from paintings import painting_like  # noqa: E402

from demographic2art.analysis.analyze import analyze_images  # noqa: E402
from demographic2art.analysis.embeddings import ClipBackend, FeatureBackend, load_backend  # noqa: E402
from demographic2art.analysis.stats import compare_two  # noqa: E402
from demographic2art.errors import InvalidValueError, MissingFileError  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECTION = 16


def _vision_config():
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8, projection_dim=PROJECTION
    )


def _save_processor(folder: Path) -> None:
    from transformers import CLIPImageProcessor

    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_clip_vision(tmp_path_factory) -> Path:
    import torch
    from transformers import CLIPVisionModelWithProjection

    folder = tmp_path_factory.mktemp("clip-vision")
    torch.manual_seed(0)
    CLIPVisionModelWithProjection(_vision_config()).save_pretrained(folder)
    _save_processor(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_clip_full(tmp_path_factory) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPModel

    folder = tmp_path_factory.mktemp("clip-full")
    torch.manual_seed(0)
    text = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 100, "bos_token_id": 0, "eos_token_id": 1}
    config = CLIPConfig(text_config=text, vision_config=_vision_config().to_dict(), projection_dim=PROJECTION)
    CLIPModel(config).save_pretrained(folder)
    _save_processor(folder)
    return folder


def _images(count: int, warm_shift: float = 0.0):
    return [painting_like(seed, size=48, warm_shift=warm_shift) for seed in range(count)]


def test_default_backend_is_features():
    backend = load_backend(None)
    assert isinstance(backend, FeatureBackend)
    assert "warm_cool" in backend.columns


def test_clip_vision_vectors_are_unit_length(tiny_clip_vision):
    backend = load_backend(str(tiny_clip_vision))
    vectors = backend.embed(None, _images(5))
    assert isinstance(backend, ClipBackend)
    assert vectors.shape == (5, PROJECTION)
    assert list(vectors.columns[:2]) == ["clip_000", "clip_001"]
    assert np.allclose(np.linalg.norm(vectors.to_numpy(), axis=1), 1.0, atol=1e-5)


def test_clip_vectors_are_repeatable(tiny_clip_vision):
    first = load_backend(str(tiny_clip_vision)).embed(None, _images(3))
    second = load_backend(str(tiny_clip_vision)).embed(None, _images(3))
    assert np.allclose(first.to_numpy(), second.to_numpy())


def test_full_clip_model_folder(tiny_clip_full):
    vectors = load_backend(str(tiny_clip_full)).embed(None, _images(3))
    assert vectors.shape == (3, PROJECTION)


def test_rank_statistics_run_on_clip_vectors(tiny_clip_vision):
    backend = load_backend(str(tiny_clip_vision))
    frame = pd.concat(
        [
            backend.embed(None, _images(8)).assign(group="a", seed=range(8)),
            backend.embed(None, _images(8, warm_shift=60)).assign(group="b", seed=range(8)),
        ]
    )
    rows = compare_two(frame, "group", "a", "b", backend.columns, pair_by="seed", n_boot=50)
    assert len(rows) == PROJECTION
    assert rows["cliffs_delta"].between(-1, 1).all()
    assert rows["q"].notna().all()


def test_analyze_folder_with_clip(tiny_clip_vision, tmp_path):
    from PIL import Image

    for group, shift in (("cool", 0), ("warm", 60)):
        folder = tmp_path / "images" / group
        folder.mkdir(parents=True)
        for index, image in enumerate(_images(6, warm_shift=shift)):
            Image.fromarray(image).save(folder / f"{index}.png")
    result = analyze_images(
        tmp_path / "ws", images_dir=tmp_path / "images", embedding=str(tiny_clip_vision), out=str(tmp_path / "out"), n_boot=20, n_perm=19, c2st_perm=9
    )
    row = result.multivariate[0]
    assert row["vectors"] == "clip"
    assert row["features"] == PROJECTION
    assert np.isfinite(row["frechet_distance"])
    assert "Whole-set tests on clip vectors" in (tmp_path / "out" / "report.html").read_text()


def test_missing_clip_folder_rejected(tmp_path):
    with pytest.raises(MissingFileError, match="neither 'features' nor a local CLIP weights folder"):
        load_backend(str(tmp_path / "absent"))


def test_clip_folder_without_config_rejected(tmp_path):
    with pytest.raises(MissingFileError, match="has no config.json"):
        load_backend(str(tmp_path))


def test_non_clip_folder_rejected(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(InvalidValueError, match="contains a 'bert' model, not CLIP"):
        load_backend(str(tmp_path))
