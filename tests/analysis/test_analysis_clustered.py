"""Per-feature p-values that permute whole artists, and their agreement with the artist interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demographic2art.analysis.permutation import cluster_permutation_test, too_few_clusters_notes
from demographic2art.analysis.stats import CLUSTER_PERMUTATION_TEST, compare_two


def _artists(rng, group: str, artists: int, works: int, group_shift: float, artist_sd: float, work_sd: float = 0.1) -> list[dict]:
    rows = []
    for index in range(artists):
        artist_mean = group_shift + rng.normal(0.0, artist_sd)
        for _ in range(works):
            rows.append({"group": group, "artist_key": f"{group}-artist-{index}", "value": artist_mean + rng.normal(0.0, work_sd)})
    return rows


def _study(seed: int, *, artists: int, works: int, group_shift: float, artist_sd: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = _artists(rng, "a", artists, works, 0.0, artist_sd) + _artists(rng, "b", artists, works, group_shift, artist_sd)
    return pd.DataFrame(rows)


def _compare(frame: pd.DataFrame, seed: int = 0) -> pd.Series:
    stats = compare_two(frame, "group", "a", "b", ["value"], cluster_by="artist_key", n_boot=400, n_perm=499, seed=seed)
    return stats.iloc[0]


def test_three_against_three_smallest_p():
    result = cluster_permutation_test([1.0, 1.1, 2.0, 2.1, 3.0, 3.1], [1, 1, 2, 2, 3, 3], [4.0, 4.1, 5.0, 5.1, 6.0, 6.1], [4, 4, 5, 5, 6, 6])
    assert result.exact
    assert result.permutations == 20
    assert result.delta == pytest.approx(-1.0)
    assert result.p == pytest.approx(0.1)
    assert result.p_min == pytest.approx(0.1)


def test_permutation_delta_matches_cliffs_delta():
    frame = _study(3, artists=11, works=3, group_shift=0.5, artist_sd=1.0)
    row = _compare(frame)
    assert row["statistic"] == pytest.approx(row["cliffs_delta"])


def test_artist_only_differences_not_significant():
    # 33 works from 11 artists per group, as in the demo: artists differ, groups do not.
    false_alarms = 0
    work_level_alarms = 0
    for seed in range(20):
        row = _compare(_study(seed, artists=11, works=3, group_shift=0.0, artist_sd=1.0), seed=seed)
        false_alarms += bool(row["significant"])
        work_level_alarms += bool(row["p_works_mann_whitney"] < 0.05)
    assert false_alarms <= 2
    # The work-level test treats 33 works as independent and raises far more alarms.
    assert work_level_alarms >= 4


def test_significant_agrees_with_interval_under_null():
    disagreements = 0
    for seed in range(20):
        row = _compare(_study(seed, artists=11, works=3, group_shift=0.0, artist_sd=1.0), seed=seed)
        covers_zero = row["ci_low"] <= 0.0 <= row["ci_high"]
        disagreements += bool(row["significant"] and covers_zero)
    assert disagreements == 0


def test_group_effect_across_artists_significant():
    row = _compare(_study(1, artists=15, works=3, group_shift=2.0, artist_sd=1.0))
    assert row["test"] == CLUSTER_PERMUTATION_TEST
    assert row["significant"]
    assert row["ci_high"] < 0.0
    assert row["p"] < 0.01


def test_row_counts_artists_and_keeps_work_level_p():
    row = _compare(_study(2, artists=4, works=5, group_shift=0.0, artist_sd=1.0))
    assert row["clusters_a"] == 4
    assert row["clusters_b"] == 4
    assert row["p_min"] == pytest.approx(2 / 70)
    assert 0.0 <= row["p_works_mann_whitney"] <= 1.0


def test_unclustered_rows_use_mann_whitney():
    frame = _study(4, artists=5, works=4, group_shift=1.0, artist_sd=0.1)
    row = compare_two(frame, "group", "a", "b", ["value"], n_boot=100).iloc[0]
    assert row["test"] == "mann-whitney"
    assert np.isnan(row["p_min"])
    assert np.isnan(row["p_works_mann_whitney"])


def test_too_few_artists_noted():
    frame = _study(5, artists=3, works=4, group_shift=3.0, artist_sd=0.1)
    stats = compare_two(frame, "group", "a", "b", ["value"], cluster_by="artist_key", n_boot=100, n_perm=99)
    notes = too_few_clusters_notes(stats)
    assert len(notes) == 1
    assert notes[0].startswith("a vs b: with 3 and 3 artists, the smallest p that permuting whole artists can give is 0.1")
    assert not stats.iloc[0]["significant"]


def test_enough_artists_not_noted():
    frame = _study(6, artists=6, works=2, group_shift=3.0, artist_sd=0.1)
    stats = compare_two(frame, "group", "a", "b", ["value"], cluster_by="artist_key", n_boot=100, n_perm=99)
    assert too_few_clusters_notes(stats) == []


def test_artist_in_both_groups_counted_per_group():
    result = cluster_permutation_test([1.0, 2.0, 3.0], ["x", "y", "z"], [4.0, 5.0, 6.0], ["x", "y", "w"])
    assert result.clusters_a == 3
    assert result.clusters_b == 3
    assert result.p == pytest.approx(0.1)
