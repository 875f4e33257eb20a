"""Two-sample permutation test that moves whole clusters (artists) between groups.

Works of one artist are not independent, so a test that shuffles single works between
groups is too liberal whenever artists differ from one another. This test keeps every
artist's works together: under the null hypothesis the group labels are exchangeable
between artists, and the statistic is Cliff's delta over works, the same effect size
whose interval :func:`~demographic2art.analysis.stats.cluster_bootstrap_delta` resamples.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..errors import InvalidValueError

logger = logging.getLogger(__name__)

# Up to this many label assignments the null distribution is enumerated exactly.
EXACT_ASSIGNMENT_LIMIT = 20_000
# Floating-point slack when counting null statistics at least as extreme as the observed one.
TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class ClusterPermutationResult:
    """Outcome of :func:`cluster_permutation_test`.

    ``p`` is the two-sided p-value of Cliff's delta. ``p_min`` is the smallest p-value
    this design can give, set mainly by the numbers of artists and permutations.
    ``clusters_a`` and ``clusters_b`` count the artists per group, ``permutations`` the
    label assignments drawn or enumerated, and ``exact`` is true when all were enumerated.
    """

    delta: float
    p: float
    p_min: float
    clusters_a: int
    clusters_b: int
    permutations: int
    exact: bool


def cluster_permutation_test(
    a: Sequence[float],
    a_clusters: Sequence[object],
    b: Sequence[float],
    b_clusters: Sequence[object],
    *,
    n_perm: int = 999,
    seed: int = 0,
) -> ClusterPermutationResult:
    """Test whether two groups differ, permuting group labels between whole clusters.

    Each cluster (artist) of group A or B keeps all its works and receives label A or B,
    so that every assignment has as many A clusters as the data. An artist whose works
    fall in both groups counts as one cluster per group. The statistic is Cliff's delta
    over works, computed from pooled midranks. The p-value is the share of assignments
    with ``|delta| >= |observed|``. When at most ``EXACT_ASSIGNMENT_LIMIT`` assignments
    exist, all are enumerated (3 against 3 artists gives 20 assignments and a smallest
    p of 0.1). Otherwise ``n_perm`` random assignments are drawn and
    ``p = (1 + #extreme) / (1 + n_perm)``.
    """
    from scipy.stats import rankdata

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    labels_a = _labels(a, a_clusters)
    labels_b = _labels(b, b_clusters)
    units_a = list(dict.fromkeys(labels_a))
    units_b = list(dict.fromkeys(labels_b))
    if a.size == 0 or b.size == 0:
        return ClusterPermutationResult(float("nan"), float("nan"), float("nan"), len(units_a), len(units_b), 0, True)

    ranks = rankdata(np.concatenate([a, b]))
    rank_a, rank_b = ranks[: a.size], ranks[a.size :]
    # Each cluster unit is summarised by its rank sum and its number of works.
    rank_sums = np.array([rank_a[labels_a == u].sum() for u in units_a] + [rank_b[labels_b == u].sum() for u in units_b])
    sizes = np.array([(labels_a == u).sum() for u in units_a] + [(labels_b == u).sum() for u in units_b], dtype=float)
    total = float(a.size + b.size)
    observed_mask = np.zeros((1, len(sizes)), dtype=float)
    observed_mask[0, : len(units_a)] = 1.0
    observed = float(_deltas(observed_mask, rank_sums, sizes, total)[0])

    units, chosen = len(sizes), len(units_a)
    assignments = math.comb(units, chosen)
    if assignments <= EXACT_ASSIGNMENT_LIMIT:
        masks = np.zeros((assignments, units), dtype=float)
        for row, members in enumerate(combinations(range(units), chosen)):
            masks[row, list(members)] = 1.0
        null = np.abs(_deltas(masks, rank_sums, sizes, total))
        p = float((null >= abs(observed) - TIE_TOLERANCE).mean())
        p_min = float((null >= null.max() - TIE_TOLERANCE).mean())
        return ClusterPermutationResult(observed, p, p_min, len(units_a), len(units_b), assignments, True)

    rng = np.random.default_rng(seed)
    masks = np.zeros((n_perm, units), dtype=float)
    for row in range(n_perm):
        masks[row, rng.permutation(units)[:chosen]] = 1.0
    null = np.abs(_deltas(masks, rank_sums, sizes, total))
    exceed = int((null >= abs(observed) - TIE_TOLERANCE).sum())
    p = (1 + exceed) / (1 + n_perm)
    return ClusterPermutationResult(observed, p, 1.0 / (1 + n_perm), len(units_a), len(units_b), n_perm, False)


def _deltas(masks: np.ndarray, rank_sums: np.ndarray, sizes: np.ndarray, total: float) -> np.ndarray:
    """Return Cliff's delta for each row of ``masks`` (1 marks a cluster labelled A).

    With midranks, ``U = R_A - n_A (n_A + 1) / 2`` counts ties as one half, so
    ``2U - n_A n_B = #(a > b) - #(a < b)``.
    """
    n_a = masks @ sizes
    n_b = total - n_a
    u = masks @ rank_sums - n_a * (n_a + 1) / 2.0
    pairs = n_a * n_b
    return np.where(pairs > 0, (2.0 * u - pairs) / np.where(pairs > 0, pairs, 1.0), np.nan)


def _labels(values: np.ndarray, clusters: Sequence[object]) -> np.ndarray:
    labels = np.asarray([str(c) for c in clusters])
    if labels.size != values.size:
        raise InvalidValueError(f"got {values.size} values but {labels.size} cluster labels; pass one label per value")
    return labels


def too_few_clusters_notes(stats, alpha: float = 0.05) -> list[str]:
    """Return one sentence per comparison whose artist permutation cannot give p below ``alpha``.

    ``stats`` is a table of :func:`~demographic2art.analysis.stats.compare_two` rows. In
    such a comparison no feature can be significant whatever the data, which the report
    states instead of listing only non-significant rows.
    """
    if stats is None or stats.empty or "p_min" not in stats:
        return []
    notes = []
    for (group_a, group_b), part in stats.groupby(["group_a", "group_b"], sort=False):
        p_min = part["p_min"].min()
        if np.isnan(p_min) or p_min < alpha:
            continue
        row = part.iloc[0]
        notes.append(
            f"{group_a} vs {group_b}: with {int(row['clusters_a'])} and {int(row['clusters_b'])} artists, "
            f"the smallest p that permuting whole artists can give is {p_min:.3g}, not below {alpha:g}, "
            "so no feature of this comparison can be significant; add artists to test it"
        )
    return notes
