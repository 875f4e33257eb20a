"""Workspace analysis: group description, cross-tables, within-era, sensitivity and model gap.

The invented study has 6 women and 6 men, half born in 1800-1849 and half in 1850-1899.
Women's works are warmer in both eras, and women paint portraits while men paint
landscapes. Two men are flagged for review.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from paintings import painting_like  # noqa: E402

from demographic2art.analysis.analyze import analyze_images  # noqa: E402
from demographic2art.analysis.robustness import model_gap, summarise_gap  # noqa: E402
from demographic2art.cli.main import main  # noqa: E402
from demographic2art.errors import InvalidValueError, MissingFileError  # noqa: E402
from demographic2art.workspace import Workspace  # noqa: E402

WORKS = 4


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, quality=90)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("robust") / "study").create()
    manifest, artworks, people = [], [], []
    for gender, shift in (("female", 30), ("male", 0)):
        for index in range(6):
            artist = f"{gender}-artist-{index}"
            born = 1810 + 10 * index if index < 3 else 1855 + 10 * (index - 3)
            people.append(
                {
                    "artist_key": artist,
                    "gender": gender,
                    "nationality": "Ruritanian",
                    "birth_year": born,
                    "needs_review": gender == "male" and index in (0, 1),
                }
            )
            for work in range(WORKS):
                key = f"{artist}/work-{work}"
                relpath = f"images/files/{key}.jpg"
                seed = 1000 * (gender == "male") + 10 * index + work
                _write_jpeg(Path(ws.local_path(relpath)), painting_like(seed, size=64, warm_shift=shift))
                manifest.append({"key": key, "status": "ok", "file": relpath})
                genre = "portrait" if gender == "female" else "landscape"
                artworks.append(
                    {
                        "key": key,
                        "artist_key": artist,
                        "style": "Romanticism" if born < 1850 else "Impressionism",
                        "genre": [genre],
                        "media": ["oil"] if work else [],
                        "year": born + 30,
                    }
                )
    ws.storage.write_parquet("images/manifest.parquet", pd.DataFrame(manifest))
    ws.storage.write_parquet("catalog/artworks.parquet", pd.DataFrame(artworks))
    ws.storage.write_parquet("demographics/demographics.parquet", pd.DataFrame(people))
    return ws


@pytest.fixture(scope="module")
def analysis(study):
    return analyze_images(study, group_by="gender", within_era=True, n_boot=200, n_perm=99, c2st_perm=49)


def test_description_counts_artists_and_works(analysis):
    description = analysis.description.set_index("group")
    assert description.loc["female", "artists"] == 6
    assert description.loc["female", "works"] == 24
    assert description.loc["male", "works_per_artist_max"] == WORKS
    assert description.loc["male", "flagged_artists"] == 2


def test_description_reports_missing_media(analysis):
    description = analysis.description.set_index("group")
    assert description.loc["female", "missing_media"] == pytest.approx(0.25)
    assert description.loc["female", "missing_genre"] == pytest.approx(0.0)


def test_description_shows_eras_and_style(analysis):
    description = analysis.description.set_index("group")
    assert description.loc["female", "birth_year_median"] == pytest.approx(1842.5)
    assert description.loc["female", "top_style"] == "Impressionism (50%)"


def test_crosstabs_find_genre_association(analysis):
    tables = {row["category"]: row for row in analysis.crosstabs}
    assert set(tables) == {"style", "genre", "media", "birth_era"}
    assert tables["genre"]["cramers_v"] == pytest.approx(1.0)
    assert tables["genre"]["p_cluster_permutation"] < 0.05
    assert tables["media"]["missing"] == 12
    assert tables["style"]["cramers_v"] == pytest.approx(0.0)


def test_within_era_compares_each_era(analysis):
    within = analysis.within_era
    assert sorted(within["stratum"].unique()) == ["1800-1849", "1850-1899"]
    warm = within[within["feature"] == "warm_cool"].set_index("stratum")
    assert (warm["cliffs_delta"] > 0.474).all()
    assert set(warm["n_a"]) == {12}


def test_sensitivity_drops_flagged_artists(analysis):
    sensitivity = analysis.sensitivity.set_index("feature")
    assert analysis.sensitivity.attrs["flagged_artists"] == 2
    assert sensitivity.loc["warm_cool", "n_b"] == 16
    assert sensitivity.loc["warm_cool", "cliffs_delta_unflagged"] > 0.474
    assert sensitivity.loc["warm_cool", "cliffs_delta_all"] > 0.474
    # Without the flagged artists 6 female and 4 male artists remain, so the artist
    # permutation has 210 assignments and its q can rise above 0.05 for that reason alone.
    assert sensitivity.loc["warm_cool", "q_unflagged"] >= sensitivity.loc["warm_cool", "q_all"]


def test_whole_set_tests_resample_artists(analysis):
    row = analysis.multivariate[0]
    assert row["group_a"] == "female"
    assert row["energy_p"] < 0.05
    assert row["c2st_accuracy"] > 0.6
    assert row["frechet_distance"] > 0


def test_outputs_include_new_tables(analysis):
    folder = Path(analysis.folder)
    for filename in ("description.csv", "crosstabs.csv", "within_era.csv", "sensitivity.csv", "whole_set.csv"):
        assert (folder / filename).exists(), filename
    stats = json.loads((folder / "stats.json").read_text())
    assert stats["crosstabs"][0]["category"] == "style"
    assert "energy_null" not in stats["whole_set"][0]


def test_report_has_new_sections(analysis):
    page = (Path(analysis.folder) / "report.html").read_text()
    for heading in (
        "Description of the groups",
        "Share of works per birth era",
        "Cramér",
        "Comparisons within birth era",
        "Sensitivity: without flagged artists",
        "PCA of the features",
        "Energy-distance permutation null",
        "Average image per group",
    ):
        assert heading in page, heading
    assert "http://" not in page
    assert "https://" not in page


def _portfolio_stats(delta_scale: float) -> pd.DataFrame:
    rows = []
    for feature, delta in (("warm_cool", 0.9), ("value_mean", 0.1)):
        scaled = delta * delta_scale
        rows.append({"group_a": "gender=female", "group_b": "gender=male", "feature": feature, "cliffs_delta": scaled, "ci_low": scaled - 0.05, "ci_high": min(scaled + 0.05, 1.0)})
    return pd.DataFrame(rows)


def _real_stats() -> pd.DataFrame:
    rows = [
        {"group_a": "female", "group_b": "male", "feature": "warm_cool", "cliffs_delta": 0.5, "ci_low": 0.3, "ci_high": 0.7},
        {"group_a": "female", "group_b": "male", "feature": "value_mean", "cliffs_delta": -0.6, "ci_low": -0.8, "ci_high": -0.4},
    ]
    return pd.DataFrame(rows)


def test_model_gap_verdicts():
    gap = model_gap(_portfolio_stats(1.0), _real_stats(), "gender", ["gender=female", "gender=male"]).set_index("feature")
    assert gap.loc["warm_cool", "verdict"] == "larger"
    assert gap.loc["warm_cool", "clear"]
    assert gap.loc["value_mean", "verdict"] == "reversed"


def test_model_gap_flips_reversed_real_order():
    real = _real_stats().rename(columns={"group_a": "group_b", "group_b": "group_a"})
    real["cliffs_delta"] = -real["cliffs_delta"]
    real[["ci_low", "ci_high"]] = -real[["ci_high", "ci_low"]].to_numpy()
    gap = model_gap(_portfolio_stats(0.3), real, "gender", ["gender=female", "gender=male"]).set_index("feature")
    assert gap.loc["warm_cool", "real_delta"] == pytest.approx(0.5)
    assert gap.loc["warm_cool", "verdict"] == "smaller"


def test_model_gap_summary_sentence():
    gap = model_gap(_portfolio_stats(1.0), _real_stats(), "gender", ["gender=female", "gender=male"])
    assert summarise_gap(gap) == (
        "The model's gap between female vs male is larger than the real gap on 1 of 2 features "
        "(1 with non-overlapping intervals) and reversed on 1."
    )


def test_model_gap_rejects_unrelated_groups():
    with pytest.raises(InvalidValueError, match="do not name two gender groups"):
        model_gap(_portfolio_stats(1.0), _real_stats(), "gender", ["nationality=French", "nationality=Dutch"])


def test_analyze_with_saved_portfolio(study):
    folder = "portfolios/gender-test"
    study.storage.write_json(f"{folder}/manifest.json", {"groups": ["gender=female", "gender=male"], "images": []})
    study.storage.write_text(f"{folder}/stats.csv", _portfolio_stats(1.0).to_csv(index=False))
    result = analyze_images(study, group_by="gender", portfolio="gender-test", sensitivity=False, n_boot=50, n_perm=19, c2st_perm=9, name="with-portfolio")
    gap = result.model_gap.set_index("feature")
    assert gap.loc["warm_cool", "model_delta"] == pytest.approx(0.9)
    assert gap.loc["warm_cool", "real_delta"] > 0.474
    page = (Path(result.folder) / "report.html").read_text()
    assert "Does the model exaggerate?" in page


def test_analyze_missing_portfolio_rejected(study):
    with pytest.raises(MissingFileError, match="portfolios/absent/manifest.json is missing"):
        analyze_images(study, group_by="gender", portfolio="absent", n_boot=10, n_perm=9, c2st_perm=9, name="absent")


def test_within_era_rejected_for_folders(tmp_path):
    with pytest.raises(InvalidValueError, match="--within-era needs artists' birth years"):
        analyze_images(tmp_path / "ws", images_dir=tmp_path, within_era=True)


def test_cli_analyze_within_era(study, capsys):
    code = main(["analyze", "-w", study.url, "--group-by", "gender", "--within-era", "--name", "cli-era", "--n-boot", "50", "--n-perm", "19", "--c2st-perm", "9"])
    output = capsys.readouterr().out
    assert code == 0
    assert "within-era comparisons" in output
    assert "without 2 flagged artists" in output
