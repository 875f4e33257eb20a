"""Effect sizes, tests and resampling against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demographic2art.analysis.stats import (
    benjamini_hochberg,
    bootstrap_delta,
    cliffs_delta,
    cluster_bootstrap_delta,
    compare_two,
    effect_magnitude,
    energy_distance_test,
    kruskal_wallis,
    rank_test,
)
from demographic2art.errors import InvalidValueError


def test_cliffs_delta_hand_computed():
    # 1 < 2, 2, 4 (-3); 2 = 2, 2 and < 4 (-1); 3 > 2, 2 and < 4 (+1): -3 / 9.
    assert cliffs_delta([1, 2, 3], [2, 2, 4]) == pytest.approx(-1 / 3)


def test_cliffs_delta_extremes_and_symmetry():
    assert cliffs_delta([5, 6], [1, 2, 3]) == 1.0
    assert cliffs_delta([1, 2, 3], [5, 6]) == -1.0
    assert cliffs_delta([1, 1], [1, 1]) == 0.0
    assert np.isnan(cliffs_delta([], [1.0]))


def test_effect_magnitude_thresholds():
    assert effect_magnitude(0.1) == "negligible"
    assert effect_magnitude(-0.2) == "small"
    assert effect_magnitude(0.4) == "medium"
    assert effect_magnitude(-0.6) == "large"


def test_benjamini_hochberg_hand_computed():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4/rank: 0.02, 0.02, 0.04, 0.04.
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert q == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_benjamini_hochberg_monotone_step_up():
    # 0.02 * 3 / 2 = 0.03 exceeds 0.025 * 3 / 3, so the step-up takes the later value.
    q = benjamini_hochberg([0.001, 0.02, 0.025])
    assert q == pytest.approx([0.003, 0.025, 0.025])


def test_benjamini_hochberg_matches_scipy():
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(0).uniform(0, 0.2, 30)
    assert benjamini_hochberg(p) == pytest.approx(false_discovery_control(p))


def test_benjamini_hochberg_skips_nan():
    q = benjamini_hochberg([0.01, np.nan, 0.02])
    assert q[0] == pytest.approx(0.02)
    assert np.isnan(q[1])
    assert q[2] == pytest.approx(0.02)


def test_bootstrap_interval_seeded_and_covers_delta():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.5, 1, 40), rng.normal(0, 1, 40)
    first = bootstrap_delta(a, b, n_boot=500, seed=3)
    assert first == bootstrap_delta(a, b, n_boot=500, seed=3)
    delta, low, high = first
    assert low <= delta <= high
    assert high - low < 0.6


def test_paired_bootstrap_needs_equal_sizes():
    with pytest.raises(InvalidValueError):
        bootstrap_delta([1, 2], [1, 2, 3], paired=True)


def test_cluster_bootstrap_wider_when_artists_differ():
    rng = np.random.default_rng(2)
    # Five artists per group, each with 20 works around an artist-specific mean.
    a_means, b_means = rng.normal(0.3, 1, 5), rng.normal(0, 1, 5)
    a = np.concatenate([rng.normal(m, 0.1, 20) for m in a_means])
    b = np.concatenate([rng.normal(m, 0.1, 20) for m in b_means])
    a_artists = np.repeat([f"a{i}" for i in range(5)], 20)
    b_artists = np.repeat([f"b{i}" for i in range(5)], 20)
    _, plain_low, plain_high = bootstrap_delta(a, b, n_boot=400, seed=0)
    _, cluster_low, cluster_high = cluster_bootstrap_delta(a, a_artists, b, b_artists, n_boot=400, seed=0)
    assert cluster_high - cluster_low > 1.5 * (plain_high - plain_low)


def test_wilcoxon_identical_pairs_give_p_one():
    assert rank_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], paired=True) == ("wilcoxon", 0.0, 1.0)


def test_mann_whitney_separated_groups():
    test, statistic, p = rank_test(np.arange(20.0), np.arange(20.0) + 100)
    assert test == "mann-whitney"
    assert statistic == 0.0
    assert p < 1e-6


def test_kruskal_wallis_three_groups():
    statistic, p = kruskal_wallis([np.arange(10.0), np.arange(10.0) + 20, np.arange(10.0) + 40])
    assert statistic > 20
    assert p < 1e-4


def test_energy_distance_detects_shift_and_not_noise():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (30, 5))
    shifted = rng.normal(1, 1, (30, 5))
    same = rng.normal(0, 1, (30, 5))
    _, p_shift = energy_distance_test(x, shifted, n_perm=199, seed=0)
    _, p_same = energy_distance_test(x, same, n_perm=199, seed=0)
    assert p_shift == pytest.approx(1 / 200)
    assert p_same > 0.05


def test_compare_two_pairs_by_seed():
    frame = pd.DataFrame(
        {
            "group": ["a"] * 6 + ["b"] * 6,
            "seed": list(range(6)) * 2,
            "x": [1.0, 2, 3, 4, 5, 6] + [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        }
    )
    result = compare_two(frame, "group", "a", "b", ["x"], pair_by="seed", n_boot=100)
    row = result.iloc[0]
    assert row["test"] == "wilcoxon"
    assert row["n_a"] == 6
    assert row["p"] == pytest.approx(0.03125)
    assert row["cliffs_delta"] == pytest.approx(cliffs_delta(frame.x[:6], frame.x[6:]))


def test_resampled_deltas_match_explicit_samples():
    from demographic2art.analysis.stats import _resampled_deltas

    rng = np.random.default_rng(5)
    a, b = rng.normal(size=7), rng.normal(size=5)
    counts_a = rng.multinomial(7, np.full(7, 1 / 7), size=10)
    counts_b = rng.multinomial(5, np.full(5, 1 / 5), size=10)
    expected = [cliffs_delta(np.repeat(a, counts_a[i]), np.repeat(b, counts_b[i])) for i in range(10)]
    assert _resampled_deltas(a, b, counts_a, counts_b) == pytest.approx(expected)


def test_json_safe_replaces_nan():
    import json

    from demographic2art.analysis.report import json_safe

    value = json_safe({"p": float("nan"), "rows": [np.float64(0.5), np.int64(3), np.bool_(True)]})
    assert value == {"p": None, "rows": [0.5, 3, True]}
    assert json.loads(json.dumps(value, allow_nan=False)) == value
