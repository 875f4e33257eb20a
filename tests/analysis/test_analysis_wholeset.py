"""Classifier two-sample test, Fréchet distance and cross-tables on planted and null data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demographic2art.analysis.crosstab import category_crosstab, cramers_v, crosstab_test, first_item
from demographic2art.analysis.twosample import (
    classifier_two_sample_test,
    fit_logistic,
    frechet_distance,
    whole_set_tests,
)
from demographic2art.errors import InvalidValueError


def _gaussian_groups(seed: int, shift: float, n: int = 48, dims: int = 20):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, dims))
    b = rng.normal(size=(n, dims))
    b[:, 3] += shift
    return a, b


def test_logistic_fit_matches_known_solution():
    # One feature, labels perfectly split at 0 with overlap: the fit is symmetric, so the
    # intercept is 0 and the weight positive.
    x = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    y = np.array([0, 0, 1, 0, 1, 1])
    weights, intercept = fit_logistic(x, y, inverse_penalty=1.0)
    assert weights[0] > 0
    assert abs(intercept) < 1e-9


def test_c2st_finds_shift_and_names_feature():
    a, b = _gaussian_groups(0, shift=1.5)
    result = classifier_two_sample_test(a, b, feature_names=[f"f{i}" for i in range(20)], n_perm=99, seed=1)
    assert result["accuracy"] > 0.6
    assert result["p"] == pytest.approx(0.01)
    assert result["top_features"][0]["feature"] == "f3"
    # Group B is higher on f3, so the coefficient for "is group A" is negative.
    assert result["top_features"][0]["coefficient"] < 0


def test_c2st_null_has_uniform_false_alarms():
    alarms = 0
    for replication in range(10):
        a, b = _gaussian_groups(100 + replication, shift=0.0)
        if classifier_two_sample_test(a, b, n_perm=39, seed=replication)["p"] < 0.05:
            alarms += 1
    assert alarms <= 2


def test_c2st_paired_blocks_keep_pairs():
    a, b = _gaussian_groups(3, shift=2.0, n=24, dims=5)
    blocks = list(range(24)) * 2
    result = classifier_two_sample_test(a, b, blocks=blocks, paired=True, n_perm=49, seed=0)
    assert result["accuracy"] > 0.6
    assert result["p"] == pytest.approx(0.02)


def test_c2st_rejects_wrong_block_count():
    a, b = _gaussian_groups(4, shift=0.0, n=10)
    with pytest.raises(InvalidValueError, match="got 3 block ids for 20 rows"):
        classifier_two_sample_test(a, b, blocks=[1, 2, 3], n_perm=9)


def test_c2st_constant_features_give_chance():
    result = classifier_two_sample_test(np.ones((10, 3)), np.ones((10, 3)), n_perm=9)
    assert result["accuracy"] == 0.5
    assert result["p"] == 1.0


def test_frechet_distance_of_known_gaussians():
    # Unstandardised: equal identity covariances, means 2 apart on one axis give 4.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 2))
    b = rng.normal(size=(20000, 2)) + np.array([2.0, 0.0])
    assert frechet_distance(a, b, standardize=False) == pytest.approx(4.0, abs=0.1)


def test_frechet_distance_same_sample_is_zero():
    a, _ = _gaussian_groups(5, shift=0.0)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_grows_with_shift():
    near = frechet_distance(*_gaussian_groups(6, shift=0.2))
    far = frechet_distance(*_gaussian_groups(6, shift=2.0))
    assert far > near + 0.5


def test_whole_set_tests_on_frame():
    a, b = _gaussian_groups(7, shift=2.0, n=30, dims=5)
    columns = [f"f{i}" for i in range(5)]
    frame = pd.concat(
        [
            pd.DataFrame(a, columns=columns).assign(group="a", seed=range(30)),
            pd.DataFrame(b, columns=columns).assign(group="b", seed=range(30)),
        ]
    )
    row = whole_set_tests(frame, "group", "a", "b", columns, pair_by="seed", n_perm=49, c2st_perm=49)
    assert row["n_a"] == 30
    assert row["energy_p"] == pytest.approx(0.02)
    assert row["c2st_p"] == pytest.approx(0.02)
    assert row["c2st_top_features"][0]["feature"] == "f3"
    assert len(row["energy_null"]) == 49
    assert "not comparable with published FID" in row["frechet_note"]


def test_cramers_v_of_perfect_association():
    chi2, p, dof, v = cramers_v(np.array([[10, 0], [0, 10]]))
    assert v == pytest.approx(1.0)
    assert dof == 1
    assert p < 0.001


def test_cramers_v_of_independence():
    chi2, p, dof, v = cramers_v(np.array([[10, 20], [5, 10]]))
    assert chi2 == pytest.approx(0.0)
    assert v == pytest.approx(0.0)


def test_cramers_v_single_column_is_nan():
    chi2, p, dof, v = cramers_v(np.array([[10, 0], [5, 0]]))
    assert np.isnan(v)


def test_first_item_of_cells():
    assert first_item(["portrait", "religious"]) == "portrait"
    assert first_item(np.array(["oil", "canvas"])) == "oil"
    assert first_item([]) is None
    assert first_item(float("nan")) is None
    assert first_item(" Baroque ") == "Baroque"


def _artist_frame():
    rows = []
    for artist in range(12):
        group = "female" if artist < 6 else "male"
        for work in range(4):
            genre = "portrait" if (group == "female") == (work < 3) else "landscape"
            rows.append({"group": group, "artist_key": f"artist-{artist}", "genre": [genre, "other"], "media": None})
    return pd.DataFrame(rows)


def test_crosstab_counts_first_item_and_missing():
    table = category_crosstab(_artist_frame(), "group", "media")
    assert list(table.columns) == ["(missing)"]
    genres = category_crosstab(_artist_frame(), "group", "genre")
    assert genres.loc["female", "portrait"] == 18
    assert genres.loc["male", "landscape"] == 18


def test_crosstab_test_with_artist_permutation():
    result = crosstab_test(_artist_frame(), "group", "genre", cluster_by="artist_key", n_perm=99)
    assert result["n"] == 48
    assert result["cramers_v"] == pytest.approx(0.5)
    assert result["p"] < 0.001
    # With 6 artists per group the smallest attainable permutation p is about 1/924.
    assert result["p_cluster_permutation"] < 0.05
