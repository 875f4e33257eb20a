"""Cross-tables of a category (style, genre, media) by group, with chi-square and Cramér's V.

Each artwork counts once: a multi-valued cell (a list of genres) contributes its first
item. Categories outside the ``top`` most frequent are pooled as ``other`` so that few
cells have tiny expected counts. Cramér's V is ``sqrt(chi2 / (n (min(r, c) - 1)))``,
in [0, 1], without bias correction.

Artworks are nested in artists, so the asymptotic chi-square p treats works of one artist
as independent and is too small when artists differ. With ``cluster_by`` a second p comes
from permuting whole artists between groups (``p_cluster_permutation``); report that one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_TOP_CATEGORIES = 10
DEFAULT_CROSSTAB_PERMUTATIONS = 199
OTHER = "other"
MISSING = "(missing)"


def first_item(value) -> str | None:
    """Return the first item of a list-like cell, or the cell itself as text; None when empty."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [str(v) for v in value if v is not None and str(v) != ""]
        return items[0] if items else None
    if isinstance(value, float) and np.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def cramers_v(table: np.ndarray) -> tuple[float, float, int, float]:
    """Return ``(chi2, p, dof, cramers_v)`` of a contingency table (rows: groups).

    Rows and columns that sum to zero are dropped first. A table left with fewer than two
    rows or columns has no test, so every value is NaN.
    """
    from scipy.stats import chi2_contingency

    table = np.asarray(table, dtype=float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return float("nan"), float("nan"), 0, float("nan")
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    n = table.sum()
    v = float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))
    return float(chi2), float(p), int(dof), v


def category_crosstab(frame, column: str, category: str, *, top: int = DEFAULT_TOP_CATEGORIES):
    """Return the table of counts (rows: groups of ``column``, columns: ``category`` values).

    Missing values form their own ``(missing)`` column, so the table shows how much is
    unknown per group; it is left out of the test.
    """
    import pandas as pd

    values = frame[category].map(first_item) if category in frame else pd.Series([None] * len(frame), index=frame.index)
    counts = values.value_counts()
    frequent = set(counts.index[:top])
    # Series.map turns None into NaN, so missing values are found with isna.
    labels = pd.Series(np.where(values.isna(), MISSING, np.where(values.isin(frequent), values, OTHER)), index=frame.index)
    return pd.crosstab(frame[column].astype(str), labels)


def crosstab_test(
    frame,
    column: str,
    category: str,
    *,
    cluster_by: str | None = None,
    top: int = DEFAULT_TOP_CATEGORIES,
    n_perm: int = DEFAULT_CROSSTAB_PERMUTATIONS,
    seed: int = 0,
) -> dict:
    """Return the chi-square test and Cramér's V of ``category`` by ``column``.

    With ``cluster_by`` (the artist) and clusters that each sit in one group, the p-value
    is also computed by permuting cluster labels ``n_perm`` times.
    """
    table = category_crosstab(frame, column, category, top=top)
    tested = table.drop(columns=[MISSING], errors="ignore")
    chi2, p, dof, v = cramers_v(tested.to_numpy())
    result = {
        "category": category,
        "groups": int(len(table)),
        "levels": int(tested.shape[1]),
        "n": int(tested.to_numpy().sum()),
        "missing": int(table[MISSING].sum()) if MISSING in table else 0,
        "chi2": chi2,
        "dof": dof,
        "p": p,
        "cramers_v": v,
        "p_cluster_permutation": float("nan"),
    }
    if cluster_by is not None and np.isfinite(chi2):
        result["p_cluster_permutation"] = _cluster_permutation_p(frame, column, category, cluster_by, top, chi2, n_perm, seed)
    return result


def _cluster_permutation_p(frame, column, category, cluster_by, top, observed, n_perm, seed) -> float:
    import pandas as pd

    known = frame[frame[cluster_by].notna()]
    per_cluster = known.groupby(cluster_by)[column].nunique()
    if per_cluster.max() > 1 or per_cluster.size < 3:
        logger.info("clusters span groups or are too few for a cluster permutation of %s", category)
        return float("nan")
    values = known[category].map(first_item)
    counts = values.value_counts()
    frequent = set(counts.index[:top])
    labels = values.where(values.isna() | values.isin(frequent), OTHER)
    usable = labels.notna()
    clusters = known.loc[usable, cluster_by].astype(str).to_numpy()
    levels = labels[usable].to_numpy()
    cluster_names, cluster_index = np.unique(clusters, return_inverse=True)
    cluster_group = known.loc[usable].groupby(cluster_by)[column].first().astype(str).reindex(cluster_names).to_numpy()
    rng = np.random.default_rng(seed)
    exceed = 0
    for _ in range(n_perm):
        groups = rng.permutation(cluster_group)[cluster_index]
        chi2, _, _, _ = cramers_v(pd.crosstab(groups, levels).to_numpy())
        if chi2 >= observed - 1e-9:
            exceed += 1
    return (1 + exceed) / (1 + n_perm)


def crosstab_tests(frame, column: str, categories: Sequence[str], **options) -> list[dict]:
    """Return :func:`crosstab_test` for each category column that ``frame`` has."""
    return [crosstab_test(frame, column, category, **options) for category in categories if category in frame]
