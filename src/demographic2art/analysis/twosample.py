"""Whole-set two-sample statistics: a classifier two-sample test and a Fréchet distance.

Classifier two-sample test (C2ST): an L2-regularised logistic regression learns to tell
group A from group B on z-scored features, and its cross-validated accuracy is the
statistic. Accuracy near 0.5 means the classifier cannot distinguish the groups. The p-value comes
from refitting on relabelled data: labels are swapped within pairs when rows pair up
by seed, permuted across clusters when rows are nested in artists, and permuted across
rows otherwise. Folds keep each pair or cluster on one side, so the test never scores
an artist it was trained on. The coefficients of a fit on all rows name the features
that separate the groups (largest absolute standardised coefficient first).

Fréchet distance: ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between
Gaussians fitted to the two groups' vectors. The formula is the one behind FID, but
on these features (or on whatever vectors the embedding back-end returns), so the
value is not comparable with published FID figures, which use Inception-v3 pool
features of many thousands of images.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidValueError
from .stats import DEFAULT_PERMUTATIONS, standardise

logger = logging.getLogger(__name__)

DEFAULT_FOLDS = 5
DEFAULT_C2ST_PERMUTATIONS = 199
# Inverse strength of the L2 penalty, as scikit-learn's ``C``. It is stronger than its default
# of 1.0 because portfolios have few rows (48 per group) for about 40 features.
DEFAULT_INVERSE_PENALTY = 0.1
TOP_FEATURES = 5
FRECHET_LABEL = "Fréchet distance on the chosen features (not comparable with published FID)"


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, inverse_penalty: float = DEFAULT_INVERSE_PENALTY, max_iter: int = 50, tol: float = 1e-8
) -> tuple[np.ndarray, float]:
    """Fit an L2-regularised logistic regression by Newton's method and return ``(weights, intercept)``.

    Minimises ``sum log(1 + exp(-s_i (x_i w + b))) + |w|^2 / (2 C)`` with ``s_i = 2 y_i - 1``,
    the objective of scikit-learn's ``LogisticRegression(C=C)``; the intercept is not
    penalised. The objective is strictly convex, so Newton steps converge in a few
    iterations; each solves a ``(d + 1) x (d + 1)`` system.
    """
    from scipy.special import expit

    y = np.asarray(y, dtype=float)
    n_rows, n_features = x.shape
    design = np.hstack([x, np.ones((n_rows, 1))])
    penalty = np.full(n_features + 1, 1.0 / inverse_penalty)
    penalty[-1] = 0.0
    theta = np.zeros(n_features + 1)
    for _ in range(max_iter):
        probability = expit(design @ theta)
        gradient = design.T @ (probability - y) + penalty * theta
        weights = probability * (1.0 - probability)
        hessian = (design * weights[:, None]).T @ design + np.diag(penalty)
        # A tiny ridge on the intercept keeps the system solvable when one class is absent.
        hessian[-1, -1] += 1e-10
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < tol:
            break
    return theta[:n_features], float(theta[n_features])


def _fold_ids(blocks: np.ndarray, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Assign whole blocks to folds, dealing each label's blocks out in turn so folds stay balanced."""
    folds = np.empty(len(blocks), dtype=int)
    unique = np.unique(blocks)
    rng.shuffle(unique)
    # Deal blocks sorted by their majority label, so each fold gets both labels.
    majority = np.array([y[blocks == block].mean() for block in unique])
    ordered = unique[np.argsort(majority, kind="stable")]
    for position, block in enumerate(ordered):
        folds[blocks == block] = position % n_folds
    return folds


def cross_validated_accuracy(x: np.ndarray, y: np.ndarray, folds: np.ndarray, *, inverse_penalty: float = DEFAULT_INVERSE_PENALTY) -> float:
    """Return the share of rows whose held-out prediction matches the label."""
    correct = 0
    for fold in np.unique(folds):
        test = folds == fold
        train = ~test
        if len(np.unique(y[train])) < 2:
            # A fold without both labels cannot be trained; its rows count as guesses.
            correct += 0.5 * test.sum()
            continue
        weights, intercept = fit_logistic(x[train], y[train], inverse_penalty=inverse_penalty)
        predicted = (x[test] @ weights + intercept) > 0
        correct += int((predicted == y[test].astype(bool)).sum())
    return float(correct / len(y))


def _relabel(y: np.ndarray, blocks: np.ndarray, paired: bool, rng: np.random.Generator) -> np.ndarray:
    unique, first, inverse = np.unique(blocks, return_index=True, return_inverse=True)
    if paired:
        # Flip the labels of each pair with probability 1/2.
        flip = rng.random(len(unique)) < 0.5
        return np.where(flip[inverse], 1 - y, y)
    label_sums = np.bincount(inverse, weights=y, minlength=len(unique))
    sizes = np.bincount(inverse, minlength=len(unique))
    if np.any((label_sums > 0) & (label_sums < sizes)):
        # A cluster in both groups (an artist of two styles) cannot move as a whole, so
        # rows are permuted. This is anticonservative when works of one artist are alike.
        return rng.permutation(y)
    return rng.permutation(y[first])[inverse]


def classifier_two_sample_test(
    x: np.ndarray,
    y: np.ndarray,
    *,
    feature_names: Sequence[str] | None = None,
    blocks: Sequence[object] | None = None,
    paired: bool = False,
    n_folds: int = DEFAULT_FOLDS,
    n_perm: int = DEFAULT_C2ST_PERMUTATIONS,
    inverse_penalty: float = DEFAULT_INVERSE_PENALTY,
    top: int = TOP_FEATURES,
    seed: int = 0,
) -> dict:
    """Run a classifier two-sample test of group A (``x``) against group B (``y``).

    ``blocks`` gives each row of ``vstack([x, y])`` a pair id (the seed, with
    ``paired=True``) or a cluster id (the artist). Returns the cross-validated accuracy,
    its permutation p ``(1 + #(acc_perm >= acc)) / (1 + n_perm)``, and the ``top``
    features by absolute standardised coefficient, each with its sign (positive: higher
    in group A).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    names = list(feature_names) if feature_names is not None else [f"dim_{i}" for i in range(x.shape[1])]
    if len(names) != x.shape[1]:
        raise InvalidValueError(f"got {len(names)} feature names for {x.shape[1]} columns; pass one name per column")
    result = {"test": "classifier-two-sample", "classifier": "logistic regression (L2)", "folds": n_folds, "n_a": len(x), "n_b": len(y)}
    if len(x) < 2 or len(y) < 2:
        return result | {"accuracy": float("nan"), "p": float("nan"), "top_features": []}
    pooled = np.vstack([x, y])
    keep = pooled.std(axis=0) > 0
    names = [name for name, kept in zip(names, keep) if kept]
    za, zb = standardise(x, y)
    data = np.vstack([za, zb])
    labels = np.concatenate([np.ones(len(x), dtype=int), np.zeros(len(y), dtype=int)])
    block_ids = np.asarray([str(b) for b in blocks]) if blocks is not None else np.arange(len(labels)).astype(str)
    if len(block_ids) != len(labels):
        raise InvalidValueError(f"got {len(block_ids)} block ids for {len(labels)} rows; pass one per row of both groups")
    if data.shape[1] == 0:
        return result | {"accuracy": 0.5, "p": 1.0, "top_features": []}
    rng = np.random.default_rng(seed)
    n_blocks = len(np.unique(block_ids))
    folds = _fold_ids(block_ids, labels, min(n_folds, n_blocks), rng)
    observed = cross_validated_accuracy(data, labels, folds, inverse_penalty=inverse_penalty)
    exceed = 0
    for _ in range(n_perm):
        relabelled = _relabel(labels, block_ids, paired, rng)
        if cross_validated_accuracy(data, relabelled, folds, inverse_penalty=inverse_penalty) >= observed - 1e-12:
            exceed += 1
    weights, _ = fit_logistic(data, labels, inverse_penalty=inverse_penalty)
    order = np.argsort(-np.abs(weights), kind="stable")[:top]
    top_features = [{"feature": names[i], "coefficient": float(weights[i])} for i in order]
    return result | {"accuracy": observed, "p": (1 + exceed) / (1 + n_perm), "n_perm": n_perm, "top_features": top_features}


def frechet_distance(x: np.ndarray, y: np.ndarray, *, standardize: bool = True) -> float:
    """Return the Fréchet distance between Gaussians fitted to two samples of vectors.

    With ``standardize`` both samples are z-scored with the pooled mean and SD first, so
    features in different units weigh alike. See the module docstring for the formula and
    why the value is not comparable with published FID.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if y.ndim == 1:
        y = y[:, None]
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    if standardize:
        x, y = standardise(x, y)
    if x.shape[1] == 0:
        return 0.0
    mean_gap = x.mean(axis=0) - y.mean(axis=0)
    cov_x = np.atleast_2d(np.cov(x, rowvar=False))
    cov_y = np.atleast_2d(np.cov(y, rowvar=False))
    return float(max(mean_gap @ mean_gap + np.trace(cov_x) + np.trace(cov_y) - 2.0 * trace_sqrt_product(cov_x, cov_y), 0.0))


def trace_sqrt_product(cov_x: np.ndarray, cov_y: np.ndarray) -> float:
    """Return ``Tr((S_x S_y)^(1/2))`` for covariance matrices, stable when they are singular.

    ``S_x S_y`` is similar to the symmetric ``S_x^(1/2) S_y S_x^(1/2)``, so the trace is the
    sum of the square roots of that matrix's eigenvalues (clipped at 0 against rounding).
    Fewer rows than features make the covariances singular, where ``scipy.linalg.sqrtm``
    of the product warns and may be inaccurate.
    """
    values, vectors = np.linalg.eigh(cov_x)
    root_x = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    inner = root_x @ cov_y @ root_x
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def whole_set_tests(
    frame,
    column: str,
    name_a: str,
    name_b: str,
    features: Sequence[str],
    *,
    pair_by: str | None = None,
    cluster_by: str | None = None,
    n_perm: int = DEFAULT_PERMUTATIONS,
    c2st_perm: int = DEFAULT_C2ST_PERMUTATIONS,
    seed: int = 0,
) -> dict:
    """Return the energy-distance test, the classifier two-sample test and the Fréchet distance of two groups.

    Both permutation tests respect the design: labels swap within seed pairs, or whole
    clusters move between groups (rows are permuted only when a cluster spans both groups).

    With ``pair_by`` rows are matched on that column (the seed), and the permutations swap
    labels within pairs. With ``cluster_by`` (the artist) folds and permutations keep
    clusters whole.
    """
    from .stats import energy_distance_null

    columns = list(features)
    group_a = frame[frame[column] == name_a]
    group_b = frame[frame[column] == name_b]
    if pair_by is not None:
        merged = group_a[[pair_by, *columns]].merge(group_b[[pair_by, *columns]], on=pair_by, suffixes=("_a", "_b")).dropna()
        x = merged[[f"{c}_a" for c in columns]].to_numpy(dtype=float)
        y = merged[[f"{c}_b" for c in columns]].to_numpy(dtype=float)
        blocks = list(merged[pair_by]) * 2
        paired = True
    else:
        part_a = group_a.dropna(subset=columns)
        part_b = group_b.dropna(subset=columns)
        x = part_a[columns].to_numpy(dtype=float)
        y = part_b[columns].to_numpy(dtype=float)
        blocks = list(part_a[cluster_by]) + list(part_b[cluster_by]) if cluster_by is not None else None
        paired = False
    relabel = None
    if blocks is not None:
        block_ids = np.asarray([str(b) for b in blocks])

        def relabel(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            return _relabel(labels, block_ids, paired, rng)

    energy, null = energy_distance_null(x, y, n_perm=n_perm, seed=seed, relabel=relabel)
    energy_p = (1 + int((null >= energy - 1e-12).sum())) / (1 + len(null)) if np.isfinite(energy) else float("nan")
    c2st = classifier_two_sample_test(x, y, feature_names=columns, blocks=blocks, paired=paired, n_perm=c2st_perm, seed=seed)
    return {
        "group_a": name_a,
        "group_b": name_b,
        "n_a": len(x),
        "n_b": len(y),
        "features": len(columns),
        "energy_distance": energy,
        "energy_p": energy_p,
        "c2st_accuracy": c2st["accuracy"],
        "c2st_p": c2st["p"],
        "c2st_top_features": c2st["top_features"],
        "frechet_distance": frechet_distance(x, y),
        "frechet_note": FRECHET_LABEL,
        # The permutation null of the energy distance, for the report's figure; not written to JSON.
        "energy_null": null,
    }


def json_rows(whole_set: Sequence[dict]) -> list[dict]:
    """Return whole-set results without their permutation nulls, for JSON and CSV output."""
    return [{key: value for key, value in row.items() if key != "energy_null"} for row in whole_set]
