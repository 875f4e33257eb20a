"""Image features on images whose values can be worked out by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from paintings import painting_like  # noqa: E402

from demographic2art.analysis.features import (  # noqa: E402
    FEATURE_COLUMNS,
    detect_border,
    extract_features,
    image_features,
    kmeans_palette,
)


def flat(colour: tuple[int, int, int], size: int = 64) -> np.ndarray:
    return np.tile(np.array(colour, dtype=np.uint8), (size, size, 1))


def test_pure_red_hue_and_saturation():
    features = image_features(flat((255, 0, 0)))
    assert features["hue_00"] == pytest.approx(1.0)
    assert sum(features[f"hue_{i:02d}"] for i in range(1, 12)) == pytest.approx(0.0)
    assert features["saturation_mean"] == pytest.approx(1.0)
    assert features["value_mean"] == pytest.approx(1.0)
    assert features["chroma_mean"] == pytest.approx(1.0)
    assert features["warm_cool"] == pytest.approx(1.0)


def test_pure_blue_hue_and_warm_cool():
    features = image_features(flat((0, 0, 255)))
    assert features["hue_08"] == pytest.approx(1.0)
    assert features["warm_cool"] == pytest.approx(-1.0)


def test_flat_image_has_no_edges_and_no_mask():
    features = image_features(flat((120, 80, 40)))
    assert features["edge_density"] == 0.0
    assert features["gradient_mean"] == pytest.approx(0.0, abs=1e-6)
    assert features["masked_share"] == 0.0
    assert features["grey_entropy"] == pytest.approx(0.0)


def test_grey_image_colourfulness_zero():
    features = image_features(flat((128, 128, 128)))
    assert features["colourfulness"] == pytest.approx(0.0)
    assert features["saturation_mean"] == pytest.approx(0.0)


def test_colourfulness_matches_formula():
    image = np.zeros((2, 2, 3), dtype=np.uint8)
    image[0, :] = (255, 0, 0)
    image[1, :] = (0, 0, 255)
    rg = np.array([255.0, 255.0, 0.0, 0.0])
    yb = np.array([127.5, 127.5, -255.0, -255.0])
    expected = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    features = image_features(image, mask_border=False)
    assert features["colourfulness"] == pytest.approx(expected, rel=1e-5)


def test_checkerboard_glcm_and_entropy():
    board = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)
    image = np.repeat(board[:, :, None], 3, axis=2)
    features = image_features(image, mask_border=False)
    # Neighbours always differ by 15 of 16 grey levels.
    assert features["glcm_contrast"] == pytest.approx(225.0)
    assert features["glcm_homogeneity"] == pytest.approx(1.0 / 16.0)
    assert features["grey_entropy"] == pytest.approx(1.0)


def test_step_edge_density_is_two_columns():
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[:, 32:] = 255
    features = image_features(image, mask_border=False)
    # Sobel marks the last dark and the first bright column.
    assert features["edge_density"] == pytest.approx(2 / 64)
    assert features["balance_lr"] == pytest.approx(0.0)


def test_black_bars_are_masked():
    content = painting_like(3, size=96)
    image = np.zeros((136, 96, 3), dtype=np.uint8)
    image[20:116] = content
    border = detect_border(image.astype(np.float32) / 255.0)
    assert (border.top, border.bottom, border.left, border.right) == (20, 20, 0, 0)
    with_bars = image_features(image)
    without = image_features(content)
    assert with_bars["masked_share"] == pytest.approx(40 / 136)
    assert with_bars["value_mean"] == pytest.approx(without["value_mean"])
    assert with_bars["edge_density"] == pytest.approx(without["edge_density"])


def test_side_bars_and_white_mat_are_masked():
    content = painting_like(4, size=64)
    image = np.full((84, 100, 3), 250, dtype=np.uint8)
    image[10:74, 18:82] = content
    features = image_features(image)
    assert (features["border_top"], features["border_bottom"]) == (10, 10)
    assert (features["border_left"], features["border_right"]) == (18, 18)
    assert features["masked_share"] == pytest.approx(1 - 64 * 64 / (84 * 100))


def test_jpeg_noise_in_bars_still_masked(tmp_path):
    from PIL import Image

    image = np.zeros((128, 96, 3), dtype=np.uint8)
    image[24:104] = painting_like(5, size=96)[:80]
    path = tmp_path / "barred.jpg"
    Image.fromarray(image).save(path, quality=75)
    features = image_features(path)
    assert abs(features["border_top"] - 24) <= 1
    assert abs(features["border_bottom"] - 24) <= 1


def test_unreadable_file_becomes_error_row(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    good = tmp_path / "good.png"
    from PIL import Image

    Image.fromarray(flat((10, 200, 30))).save(good)
    frame = extract_features([bad, good])
    assert list(frame["status"]) == ["error", "ok"]
    assert frame.loc[0, "reason"].startswith("UnidentifiedImageError")
    assert np.isnan(frame.loc[0, "value_mean"])
    assert frame.loc[1, "hue_04"] == pytest.approx(1.0)


def test_extract_features_has_every_column():
    frame = extract_features([painting_like(1), painting_like(2)], ids=["a", "b"])
    assert list(frame["image"]) == ["a", "b"]
    assert set(FEATURE_COLUMNS) <= set(frame.columns)
    assert frame[FEATURE_COLUMNS].notna().all().all()


def test_grid_energy_sums_to_one_and_balance_sign():
    image = np.zeros((60, 60, 3), dtype=np.uint8)
    image[10:50, 5:25] = painting_like(6, size=40)[:, :20]
    features = image_features(image, mask_border=False)
    total = sum(features[f"grid_{r}{c}"] for r in range(3) for c in range(3))
    assert total == pytest.approx(1.0)
    assert features["balance_lr"] > 0.5


def test_palette_is_seeded_and_finds_two_colours():
    image = np.zeros((40, 40, 3), dtype=np.float32)
    image[:, :30] = (1.0, 0.0, 0.0)
    image[:, 30:] = (0.0, 0.0, 1.0)
    palette = kmeans_palette(image, k=2, seed=1)
    assert palette[0][0] == "#ff0000"
    assert palette[0][1] == pytest.approx(0.75, abs=0.03)
    assert palette[1][0] == "#0000ff"
    assert kmeans_palette(image, k=2, seed=1) == palette
