"""Group comparison statistics: effect sizes, rank tests, FDR control and resampling.

Every resampling function takes a ``seed`` so results are repeatable. Effect sizes are
Cliff's delta, ``P(a > b) - P(a < b)``, in [-1, 1]. The labels use the thresholds
commonly quoted for Cliff's delta: |delta| < 0.147 is negligible, < 0.33 small,
< 0.474 medium, and larger values are large.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidValueError
from .permutation import cluster_permutation_test

logger = logging.getLogger(__name__)

DEFAULT_BOOTSTRAP = 2000
DEFAULT_PERMUTATIONS = 999
DEFAULT_ALPHA = 0.05
# Name in the ``test`` column of p-values from permuting whole artists between groups.
CLUSTER_PERMUTATION_TEST = "artist-permutation"


def cliffs_delta(a: Sequence[float], b: Sequence[float]) -> float:
    """Return Cliff's delta ``(#(a_i > b_j) - #(a_i < b_j)) / (n_a n_b)``; NaN if a group is empty."""
    a = np.asarray(a, dtype=float)
    b = np.sort(np.asarray(b, dtype=float))
    if a.size == 0 or b.size == 0:
        return float("nan")
    below = np.searchsorted(b, a, side="left")  # b_j < a_i
    above = b.size - np.searchsorted(b, a, side="right")  # b_j > a_i
    return float((below.sum() - above.sum()) / (a.size * b.size))


def effect_magnitude(delta: float) -> str:
    """Return the conventional label of a Cliff's delta (negligible, small, medium, large)."""
    size = abs(delta)
    if np.isnan(size):
        return "undefined"
    if size < 0.147:
        return "negligible"
    if size < 0.33:
        return "small"
    if size < 0.474:
        return "medium"
    return "large"


def _percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_delta(
    a: Sequence[float],
    b: Sequence[float],
    *,
    paired: bool = False,
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Return Cliff's delta and its percentile bootstrap interval ``(delta, low, high)``.

    Unpaired data resample each group on its own; paired data (``a[i]`` and ``b[i]``
    share a seed) resample whole pairs.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    delta = cliffs_delta(a, b)
    if a.size == 0 or b.size == 0:
        return delta, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    if paired:
        if a.size != b.size:
            raise InvalidValueError(f"paired groups need equal sizes, got {a.size} and {b.size}")
        counts_a = rng.multinomial(a.size, np.full(a.size, 1.0 / a.size), size=n_boot)
        counts_b = counts_a
    else:
        counts_a = rng.multinomial(a.size, np.full(a.size, 1.0 / a.size), size=n_boot)
        counts_b = rng.multinomial(b.size, np.full(b.size, 1.0 / b.size), size=n_boot)
    samples = _resampled_deltas(a, b, counts_a, counts_b)
    low, high = _percentile_interval(samples, confidence)
    return delta, low, high


def cluster_bootstrap_delta(
    a: Sequence[float],
    a_clusters: Sequence[object],
    b: Sequence[float],
    b_clusters: Sequence[object],
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Return Cliff's delta with an interval from resampling whole clusters (artists).

    Works of one artist are not independent, so each bootstrap sample draws artists with
    replacement within each group and takes all their works. The interval is wider than
    the plain bootstrap whenever artists differ from one another.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    delta = cliffs_delta(a, b)
    a_groups = _cluster_members(a, a_clusters)
    b_groups = _cluster_members(b, b_clusters)
    if not a_groups or not b_groups:
        return delta, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    # Each image is counted as often as its artist was drawn.
    artist_counts_a = rng.multinomial(len(a_groups), np.full(len(a_groups), 1.0 / len(a_groups)), size=n_boot)
    artist_counts_b = rng.multinomial(len(b_groups), np.full(len(b_groups), 1.0 / len(b_groups)), size=n_boot)
    samples = _resampled_deltas(
        np.concatenate(a_groups),
        np.concatenate(b_groups),
        np.repeat(artist_counts_a, [len(g) for g in a_groups], axis=1),
        np.repeat(artist_counts_b, [len(g) for g in b_groups], axis=1),
    )
    low, high = _percentile_interval(samples, confidence)
    return delta, low, high


def _resampled_deltas(a: np.ndarray, b: np.ndarray, counts_a: np.ndarray, counts_b: np.ndarray) -> np.ndarray:
    """Return Cliff's delta of each bootstrap sample given as multiplicities of the values.

    With ``S[i, j] = sign(a_i - b_j)``, a sample that takes ``a_i`` ``c_i`` times and
    ``b_j`` ``d_j`` times has delta ``c S d / (sum c * sum d)``, so no sample is built.
    """
    signs = np.sign(a[:, None] - b[None, :])
    samples = np.empty(len(counts_a))
    # Chunks keep the (chunk x n_b) product near 8 MB whatever the group sizes.
    chunk = max(1, int(1_000_000 // max(b.size, 1)))
    for start in range(0, len(counts_a), chunk):
        part_a = counts_a[start : start + chunk].astype(float)
        part_b = counts_b[start : start + chunk].astype(float)
        weighted = ((part_a @ signs) * part_b).sum(axis=1)
        totals = part_a.sum(axis=1) * part_b.sum(axis=1)
        samples[start : start + chunk] = np.where(totals > 0, weighted / np.where(totals > 0, totals, 1.0), np.nan)
    return samples


def _cluster_members(values: np.ndarray, clusters: Sequence[object]) -> list[np.ndarray]:
    labels = np.asarray([str(c) for c in clusters])
    if labels.size != values.size:
        raise InvalidValueError(f"got {values.size} values but {labels.size} cluster labels; pass one label per value")
    return [values[labels == label] for label in dict.fromkeys(labels)]


def rank_test(a: Sequence[float], b: Sequence[float], *, paired: bool = False) -> tuple[str, float, float]:
    """Return ``(test name, statistic, two-sided p)``: Wilcoxon signed-rank if paired, else Mann-Whitney U.

    When every paired difference is zero the groups are identical and p is 1.
    """
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if paired:
        if a.size != b.size:
            raise InvalidValueError(f"paired groups need equal sizes, got {a.size} and {b.size}")
        differences = a - b
        if a.size == 0 or np.all(differences == 0):
            return "wilcoxon", 0.0, 1.0
        result = stats.wilcoxon(a, b, zero_method="zsplit", alternative="two-sided")
        return "wilcoxon", float(result.statistic), float(result.pvalue)
    if a.size == 0 or b.size == 0:
        return "mann-whitney", float("nan"), float("nan")
    if np.all(np.concatenate([a, b]) == a[0]):
        return "mann-whitney", float(a.size * b.size / 2.0), 1.0
    result = stats.mannwhitneyu(a, b, alternative="two-sided")
    return "mann-whitney", float(result.statistic), float(result.pvalue)


def kruskal_wallis(groups: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Return the Kruskal-Wallis H statistic and p over two or more groups."""
    from scipy import stats

    arrays = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if len(arrays) < 2:
        return float("nan"), float("nan")
    if np.all(np.concatenate(arrays) == arrays[0][0]):
        return 0.0, 1.0
    result = stats.kruskal(*arrays)
    return float(result.statistic), float(result.pvalue)


def benjamini_hochberg(pvalues: Sequence[float]) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN and is not counted."""
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    m = int(valid.sum())
    if m == 0:
        return q
    order = np.argsort(p[valid], kind="stable")
    ranked = p[valid][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    q[valid] = result
    return q


def standardise(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-score both samples with the pooled mean and SD, dropping constant columns."""
    pooled = np.vstack([x, y])
    sd = pooled.std(axis=0)
    keep = sd > 0
    mean = pooled.mean(axis=0)
    return (x[:, keep] - mean[keep]) / sd[keep], (y[:, keep] - mean[keep]) / sd[keep]


def energy_distance_test(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_perm: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    standardize: bool = True,
) -> tuple[float, float]:
    """Return the energy distance between two multivariate samples and its permutation p.

    ``E = 2 mean|X - Y| - mean|X - X'| - mean|Y - Y'|`` with Euclidean distances on
    pooled z-scores (the energy distance of Székely and Rizzo). The p-value is ``(1 + #(E_perm >= E)) /
    (1 + n_perm)`` over random relabellings of the pooled rows.
    """
    observed, null = energy_distance_null(x, y, n_perm=n_perm, seed=seed, standardize=standardize)
    if np.isnan(observed):
        return observed, float("nan")
    exceed = int((null >= observed - 1e-12).sum())
    return observed, (1 + exceed) / (1 + n_perm)


def energy_distance_null(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_perm: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    standardize: bool = True,
    relabel=None,
) -> tuple[float, np.ndarray]:
    """Return the observed energy distance and its ``n_perm`` values under random relabelling.

    ``relabel(labels, rng)`` returns a relabelled copy of the 0/1 labels of the pooled
    rows (1 for ``x``); the default permutes all rows. Pass one that swaps within pairs or
    moves whole clusters when rows are not exchangeable. The report draws this null
    distribution with the observed value; see :func:`energy_distance_test` for the statistic.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if y.ndim == 1:
        y = y[:, None]
    if len(x) < 2 or len(y) < 2:
        return float("nan"), np.array([])
    if standardize:
        x, y = standardise(x, y)
    if x.shape[1] == 0:
        return 0.0, np.zeros(n_perm)
    pooled = np.vstack([x, y])
    distances = np.sqrt(((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(axis=2))
    n_x = len(x)
    labels = np.zeros(len(pooled), dtype=bool)
    labels[:n_x] = True

    def statistic(in_x: np.ndarray) -> float:
        between = distances[np.ix_(in_x, ~in_x)].mean()
        within_x = distances[np.ix_(in_x, in_x)].mean()
        within_y = distances[np.ix_(~in_x, ~in_x)].mean()
        return float(2.0 * between - within_x - within_y)

    observed = statistic(labels)
    rng = np.random.default_rng(seed)
    if relabel is None:
        null = np.array([statistic(rng.permutation(labels)) for _ in range(n_perm)])
    else:
        numeric = labels.astype(int)
        null = np.array([statistic(relabel(numeric, rng).astype(bool)) for _ in range(n_perm)])
    return observed, null


@dataclass(frozen=True)
class Comparison:
    """Two named groups of rows to compare, and whether their rows pair up by position."""

    name_a: str
    name_b: str
    paired: bool = False


def compare_two(
    frame,
    column: str,
    name_a: str,
    name_b: str,
    features: Sequence[str],
    *,
    pair_by: str | None = None,
    cluster_by: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    n_perm: int = DEFAULT_PERMUTATIONS,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
):
    """Return one row per feature comparing rows with ``column == name_a`` to ``name_b``.

    With ``pair_by`` the rows of both groups are matched on that column (the seed) and
    tested with the Wilcoxon signed-rank test. With ``cluster_by`` (the artist), ``p``
    comes from a permutation test that moves whole clusters between the groups
    (:func:`~demographic2art.analysis.permutation.cluster_permutation_test`, ``n_perm``
    draws unless enumerated exactly) and the effect-size interval resamples whole
    clusters. The work-level Mann-Whitney p is then kept as ``p_works_mann_whitney``,
    for reference only. Otherwise ``p`` is Mann-Whitney U over rows. ``p_min`` is the
    smallest p the cluster permutation can give (NaN for rank tests), and ``clusters_a``
    and ``clusters_b`` count the clusters per group (0 without ``cluster_by``). ``q`` is the
    Benjamini-Hochberg adjusted p over the features of this comparison, and
    ``significant`` is ``q < alpha``.
    """
    import pandas as pd

    group_a = frame[frame[column] == name_a]
    group_b = frame[frame[column] == name_b]
    if pair_by is not None:
        merged = group_a.merge(group_b, on=pair_by, suffixes=("_a", "_b"))
    rows = []
    for index, feature in enumerate(features):
        if pair_by is not None:
            both = merged[[f"{feature}_a", f"{feature}_b"]].dropna()
            a, b = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
        else:
            a = group_a[feature].dropna().to_numpy()
            b = group_b[feature].dropna().to_numpy()
        paired = pair_by is not None
        test, statistic, p = rank_test(a, b, paired=paired)
        p_works, p_min = float("nan"), float("nan")
        clusters = (0, 0)
        feature_seed = seed + index
        if cluster_by is not None and not paired:
            clusters_a = group_a.loc[group_a[feature].notna(), cluster_by]
            clusters_b = group_b.loc[group_b[feature].notna(), cluster_by]
            delta, low, high = cluster_bootstrap_delta(a, clusters_a, b, clusters_b, n_boot=n_boot, seed=feature_seed)
            interval = "cluster-bootstrap"
            permuted = cluster_permutation_test(a, clusters_a, b, clusters_b, n_perm=n_perm, seed=feature_seed)
            p_works = p
            test, statistic, p, p_min = CLUSTER_PERMUTATION_TEST, permuted.delta, permuted.p, permuted.p_min
            clusters = (permuted.clusters_a, permuted.clusters_b)
        else:
            delta, low, high = bootstrap_delta(a, b, paired=paired, n_boot=n_boot, seed=feature_seed)
            interval = "paired-bootstrap" if paired else "bootstrap"
        rows.append(
            {
                "group_a": name_a,
                "group_b": name_b,
                "feature": feature,
                "n_a": int(a.size),
                "n_b": int(b.size),
                "median_a": float(np.median(a)) if a.size else float("nan"),
                "median_b": float(np.median(b)) if b.size else float("nan"),
                "cliffs_delta": delta,
                "ci_low": low,
                "ci_high": high,
                "ci_method": interval,
                "magnitude": effect_magnitude(delta),
                "test": test,
                "statistic": statistic,
                "p": p,
                "clusters_a": clusters[0],
                "clusters_b": clusters[1],
                "p_min": p_min,
                "p_works_mann_whitney": p_works,
            }
        )
    result = pd.DataFrame(rows)
    result["q"] = benjamini_hochberg(result["p"].to_numpy()) if len(result) else []
    result["significant"] = result["q"] < alpha
    return result


def compare_pairs(
    frame,
    column: str,
    comparisons: Sequence[Comparison],
    features: Sequence[str],
    *,
    pair_by: str | None = None,
    cluster_by: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    n_perm: int = DEFAULT_PERMUTATIONS,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
):
    """Return the rows of :func:`compare_two` for each comparison, stacked."""
    import pandas as pd

    parts = [
        compare_two(
            frame,
            column,
            comparison.name_a,
            comparison.name_b,
            features,
            pair_by=pair_by if comparison.paired else None,
            cluster_by=cluster_by,
            n_boot=n_boot,
            n_perm=n_perm,
            alpha=alpha,
            seed=seed,
        )
        for comparison in comparisons
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def all_pairs(names: Sequence[str], *, paired: bool = False) -> list[Comparison]:
    """Return every unordered pair of group names as comparisons, in input order."""
    return [Comparison(a, b, paired) for a, b in itertools.combinations(names, 2)]


def multi_group_tests(frame, column: str, features: Sequence[str], *, alpha: float = DEFAULT_ALPHA):
    """Return one Kruskal-Wallis row per feature across all groups of ``column``, with BH q."""
    import pandas as pd

    names = list(dict.fromkeys(frame[column].dropna()))
    rows = []
    for feature in features:
        groups = [frame.loc[frame[column] == name, feature].dropna().to_numpy() for name in names]
        statistic, p = kruskal_wallis(groups)
        rows.append({"feature": feature, "groups": len(names), "test": "kruskal-wallis", "statistic": statistic, "p": p})
    result = pd.DataFrame(rows)
    result["q"] = benjamini_hochberg(result["p"].to_numpy()) if len(result) else []
    result["significant"] = result["q"] < alpha
    return result


def multivariate_test(frame, column: str, name_a: str, name_b: str, features: Sequence[str], *, n_perm: int = DEFAULT_PERMUTATIONS, seed: int = 0) -> dict[str, float | str]:
    """Return the energy-distance permutation test between two groups on all ``features``."""
    x = frame.loc[frame[column] == name_a, list(features)].dropna().to_numpy()
    y = frame.loc[frame[column] == name_b, list(features)].dropna().to_numpy()
    statistic, p = energy_distance_test(x, y, n_perm=n_perm, seed=seed)
    return {"group_a": name_a, "group_b": name_b, "test": "energy-distance", "statistic": statistic, "p": p, "features": len(features)}

