"""Robustness checks of a real-artwork comparison.

* Within era: the groups are compared inside each birth era (half-century), because in
  WikiArt gender and era are confounded. An effect that persists within eras is not
  explained by era alone.
* Sensitivity: the comparison is rerun without the artists whose demographics are
  flagged for review (``needs_review``, which extraction sets when sources disagree, the
  life span is implausible or the page is a disambiguation page). A result that changes sign or loses significance depends on uncertain
  labels.
* Model gap: Cliff's delta between groups A and B in a generated portfolio beside the same
  delta in real works, per feature. A model whose gap is larger than the real one
  exaggerates the difference between the groups.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidValueError, MissingFileError
from .stats import DEFAULT_BOOTSTRAP, DEFAULT_PERMUTATIONS, all_pairs, compare_pairs

logger = logging.getLogger(__name__)

MIN_STRATUM_SIZE = 5


def compare_within_strata(frame, strata: str, names: Sequence[str], features: Sequence[str], *, cluster_by: str | None, n_boot: int = DEFAULT_BOOTSTRAP, n_perm: int = DEFAULT_PERMUTATIONS, seed: int = 0):
    """Return :func:`compare_pairs` rows per stratum (e.g. birth era), with a ``stratum`` column.

    Only strata where at least two groups have ``MIN_STRATUM_SIZE`` works are compared;
    BH q-values are within each stratum and comparison.
    """
    import pandas as pd

    parts = []
    if strata not in frame:
        return pd.DataFrame()
    for stratum, part in frame[frame[strata].notna()].groupby(strata, sort=True):
        counts = part["group"].value_counts()
        present = [name for name in names if counts.get(name, 0) >= MIN_STRATUM_SIZE]
        if len(present) < 2:
            continue
        clusters = cluster_by if cluster_by is not None and part[cluster_by].nunique() > 1 else None
        rows = compare_pairs(part, "group", all_pairs(present), features, cluster_by=clusters, n_boot=n_boot, n_perm=n_perm, seed=seed)
        parts.append(rows.assign(stratum=stratum))
    if not parts:
        logger.info("no %s stratum has two groups of %d works", strata, MIN_STRATUM_SIZE)
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def flagged_artists(demographics) -> set[str]:
    """Return the artist keys whose demographic record is flagged for review."""
    if demographics is None or "needs_review" not in demographics:
        return set()
    flags = demographics["needs_review"].fillna(False).astype(bool)
    return set(demographics.loc[flags, "artist_key"].astype(str))


def sensitivity_comparison(main, rerun):
    """Return per-feature rows with the main and the rerun delta and q side by side.

    ``changed`` is true where significance (BH q < 0.05) differs or the sign flips.
    """
    keys = ["group_a", "group_b", "feature"]
    merged = main[keys + ["cliffs_delta", "q", "significant"]].merge(
        rerun[keys + ["n_a", "n_b", "cliffs_delta", "q", "significant"]], on=keys, how="left", suffixes=("_all", "_unflagged")
    )
    flipped = np.sign(merged["cliffs_delta_all"]) * np.sign(merged["cliffs_delta_unflagged"]) < 0
    merged["changed"] = (merged["significant_all"] != merged["significant_unflagged"]) | flipped
    return merged


def _group_value(label: str, attribute: str) -> str | None:
    for part in label.split(","):
        key, _, value = part.partition("=")
        if key.strip() == attribute:
            return value.strip()
    return None


def model_gap(portfolio_stats, real_stats, group_by: str, portfolio_groups: Sequence[str]):
    """Return per-feature model and real Cliff's delta of the same two groups, and which is larger.

    ``portfolio_groups`` are the portfolio's group labels (``gender=female``); the first
    two whose ``group_by`` value is a real group are compared. The model's delta comes
    from seed pairs, the real one from works grouped by the artist's attribute. ``verdict``
    is ``larger`` (the model exaggerates), ``smaller`` or ``reversed`` (opposite signs,
    both intervals excluding 0); ``clear`` marks features whose two intervals do not overlap.
    """
    import pandas as pd

    values = {label: _group_value(label, group_by) for label in portfolio_groups}
    real_names = set(real_stats["group_a"]) | set(real_stats["group_b"])
    usable = [label for label, value in values.items() if value is not None and value in real_names]
    if len(usable) < 2:
        raise InvalidValueError(
            f"the portfolio's groups ({', '.join(portfolio_groups)}) do not name two {group_by} groups of the real works "
            f"({', '.join(sorted(real_names))}); compare a portfolio made with --group {group_by}=..."
        )
    label_a, label_b = usable[:2]
    model = portfolio_stats[(portfolio_stats["group_a"] == label_a) & (portfolio_stats["group_b"] == label_b)]
    value_a, value_b = values[label_a], values[label_b]
    real = real_stats[(real_stats["group_a"] == value_a) & (real_stats["group_b"] == value_b)]
    sign = 1.0
    if real.empty:
        real = real_stats[(real_stats["group_a"] == value_b) & (real_stats["group_b"] == value_a)]
        sign = -1.0
    if model.empty or real.empty:
        raise MissingFileError(f"no statistics for {label_a} vs {label_b} in the portfolio or {value_a} vs {value_b} in the real works")
    real = real.set_index("feature")
    rows = []
    for row in model.itertuples():
        if row.feature not in real.index:
            continue
        real_row = real.loc[row.feature]
        real_delta = sign * real_row["cliffs_delta"]
        real_low, real_high = sorted((sign * real_row["ci_low"], sign * real_row["ci_high"]))
        reversed_sign = (
            np.sign(row.cliffs_delta) * np.sign(real_delta) < 0
            and (row.ci_low > 0 or row.ci_high < 0)
            and (real_low > 0 or real_high < 0)
        )
        if reversed_sign:
            verdict = "reversed"
        else:
            verdict = "larger" if abs(row.cliffs_delta) > abs(real_delta) else "smaller"
        clear = row.ci_low > real_high or row.ci_high < real_low
        rows.append(
            {
                "feature": row.feature,
                "groups": f"{value_a} vs {value_b}",
                "model_delta": row.cliffs_delta,
                "model_ci_low": row.ci_low,
                "model_ci_high": row.ci_high,
                "real_delta": real_delta,
                "real_ci_low": real_low,
                "real_ci_high": real_high,
                "verdict": verdict,
                "clear": bool(clear),
            }
        )
    return pd.DataFrame(rows)


def summarise_gap(gap) -> str:
    """Return one sentence saying on how many features the model's gap is larger than the real gap."""
    if gap is None or gap.empty:
        return "No model gap was computed."
    larger = int((gap["verdict"] == "larger").sum())
    clear_larger = int(((gap["verdict"] == "larger") & gap["clear"]).sum())
    reversed_count = int((gap["verdict"] == "reversed").sum())
    return (
        f"The model's gap between {gap['groups'].iloc[0]} is larger than the real gap on {larger} of {len(gap)} features "
        f"({clear_larger} with non-overlapping intervals) and reversed on {reversed_count}."
    )
