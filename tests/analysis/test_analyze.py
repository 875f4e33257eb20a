"""Analysis of real paintings by style folder and of a workspace by artist demographics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from paintings import painting_like  # noqa: E402

from demographic2art.analysis.analyze import analyze_images, birth_era  # noqa: E402
from demographic2art.errors import InvalidValueError, MissingFileError  # noqa: E402
from demographic2art.workspace import Workspace  # noqa: E402


@pytest.fixture(scope="module")
def baroque_vs_impressionism(shared_data, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("real-ws")
    return analyze_images(
        workspace,
        images_dir=shared_data / "images",
        groups=["baroque", "impressionism"],
        note="These paintings are stand-ins for the named works.",
        n_boot=300,
        n_perm=199,
        c2st_perm=49,
    )


def test_real_paintings_differ_in_value(baroque_vs_impressionism):
    row = baroque_vs_impressionism.stats.set_index("feature").loc["value_mean"]
    assert row["magnitude"] == "large"
    assert row["cliffs_delta"] < -0.474
    assert row["ci_high"] < 0
    assert row["q"] < 0.001


def test_real_paintings_differ_in_chroma(baroque_vs_impressionism):
    row = baroque_vs_impressionism.stats.set_index("feature").loc["chroma_mean"]
    assert row["cliffs_delta"] < -0.3
    assert row["ci_high"] < 0
    assert row["q"] < 0.01


def test_real_paintings_borders_masked(baroque_vs_impressionism):
    counts = baroque_vs_impressionism.counts.set_index("group")
    assert counts.loc["baroque", "ok"] == 57
    assert counts.loc["impressionism", "ok"] == 57
    assert 0.15 < counts.loc["baroque", "masked_share_mean"] < 0.4


def test_real_paintings_outputs(baroque_vs_impressionism):
    folder = Path(baroque_vs_impressionism.folder)
    assert folder.name == "style-baroque-impressionism"
    assert folder.parent.name == "analysis"
    page = (folder / "report.html").read_text()
    assert page.index("stand-ins for the named works") < page.index("<h1>")
    assert "data:image/png;base64," in page
    stats = json.loads((folder / "stats.json").read_text())
    assert stats["groups"] == ["baroque", "impressionism"]
    assert stats["whole_set"][0]["energy_p"] < 0.05
    assert len(pd.read_csv(folder / "stats.csv")) == len(baroque_vs_impressionism.stats)


def test_all_styles_get_kruskal_wallis(shared_data, tmp_path):
    result = analyze_images(tmp_path / "ws", images_dir=shared_data / "images", out=str(tmp_path / "out"), n_boot=20, n_perm=19, c2st_perm=9)
    assert len(result.groups) == 7
    assert len(result.stats) == 21 * result.stats["feature"].nunique()
    value = result.multi_group.set_index("feature").loc["value_mean"]
    assert value["p"] < 0.001
    assert (tmp_path / "out" / "report.html").exists()


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, quality=90)


@pytest.fixture
def demographic_workspace(tmp_path):
    """An invented study: 4 artists per gender, 5 works each, women's works warmer."""
    ws = Workspace(tmp_path / "study").create()
    manifest, artworks, people = [], [], []
    for gender, shift in (("female", 30), ("male", 0)):
        for artist_index in range(4):
            artist = f"{gender}-painter-{artist_index}"
            people.append({"artist_key": artist, "gender": gender, "nationality": "Ruritanian", "birth_year": 1840 + 20 * artist_index})
            for work in range(5):
                key = f"{artist}/work-{work}"
                relpath = f"images/files/{key}.jpg"
                seed = 100 * artist_index + work + (0 if gender == "female" else 50)
                _write_jpeg(Path(ws.local_path(relpath)), painting_like(seed, size=64, warm_shift=shift))
                manifest.append({"key": key, "status": "ok", "file": relpath})
                artworks.append({"key": key, "artist_key": artist, "style": "Realism"})
    manifest.append({"key": "missing/work-0", "status": "failed", "file": None})
    # An ok row whose file was deleted is left out rather than stopping the analysis.
    manifest.append({"key": "female-painter-0/deleted", "status": "ok", "file": "images/files/female-painter-0/deleted.jpg"})
    artworks.append({"key": "female-painter-0/deleted", "artist_key": "female-painter-0", "style": "Realism"})
    ws.storage.write_parquet("images/manifest.parquet", pd.DataFrame(manifest))
    ws.storage.write_parquet("catalog/artworks.parquet", pd.DataFrame(artworks))
    ws.storage.write_parquet("demographics/demographics.parquet", pd.DataFrame(people))
    return ws


def test_workspace_by_gender_resamples_artists(demographic_workspace):
    result = analyze_images(demographic_workspace, group_by="gender", n_boot=200, n_perm=99, c2st_perm=19)
    counts = result.counts.set_index("group")
    assert counts.loc["female", "images"] == 20
    assert counts.loc["female", "artists"] == 4
    warm = result.stats.set_index("feature").loc["warm_cool"]
    assert warm["ci_method"] == "cluster-bootstrap"
    assert warm["magnitude"] == "large"
    assert warm["cliffs_delta"] > 0.474
    assert Path(demographic_workspace.local_path("analysis/gender-female-male/report.html")).exists()


def test_workspace_max_per_artist(demographic_workspace):
    result = analyze_images(demographic_workspace, group_by="gender", max_per_artist=2, n_boot=20, n_perm=19, c2st_perm=9)
    counts = result.counts.set_index("group")
    assert counts.loc["male", "images"] == 8
    assert counts.loc["male", "artists"] == 4


def test_workspace_by_birth_era(demographic_workspace):
    result = analyze_images(demographic_workspace, group_by="birth_era", n_boot=20, n_perm=19, c2st_perm=9)
    assert result.groups == ["1800-1849", "1850-1899", "1900-1949"]


def test_birth_era_bins():
    assert birth_era(1850) == "1850-1899"
    assert birth_era(1849.0) == "1800-1849"
    assert birth_era(-450) == "-450--401"
    assert birth_era(float("nan")) is None


def test_unknown_group_by_rejected(tmp_path):
    with pytest.raises(InvalidValueError, match="unknown group-by column 'colour'"):
        analyze_images(tmp_path, group_by="colour")


def test_missing_images_dir_rejected(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        analyze_images(tmp_path / "ws", images_dir=tmp_path / "absent")


def test_single_group_rejected(tmp_path):
    _write_jpeg(tmp_path / "images" / "only" / "1.jpg", painting_like(1, size=32))
    _write_jpeg(tmp_path / "images" / "only" / "2.jpg", painting_like(2, size=32))
    with pytest.raises(InvalidValueError, match="need at least 2 groups"):
        analyze_images(tmp_path / "ws", images_dir=tmp_path / "images")


def test_workspace_without_manifest_rejected(tmp_path):
    with pytest.raises(MissingFileError, match="manifest.parquet is missing"):
        analyze_images(tmp_path / "empty-ws")


def test_birth_era_accepts_missing_values():
    import pandas as pd

    from demographic2art.analysis.analyze import birth_era

    assert birth_era(pd.NA) is None
    assert birth_era(None) is None
    assert birth_era(float("nan")) is None
    assert birth_era(1874) == "1850-1899"
    years = pd.Series([1874, None], dtype="Int64")
    assert [birth_era(y) for y in years] == ["1850-1899", None]
