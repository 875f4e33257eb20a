"""Description of the real-artwork groups before any test: who and what is in each group.

In WikiArt, gender and era are confounded (the share of women differs between birth
eras), so a gender difference in colour may be an era difference. The description shows
per group the counts of artists and works, the share of missing values, the birth years
and artwork years, and the most common style (the catalog's movement label). A reader
then sees the confounding before reading any p-value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .crosstab import first_item

DESCRIBED_MISSING = ("style", "genre", "media", "year", "birth_year", "nationality", "gender")


def _missing_share(part, column: str) -> float:
    if column not in part:
        return float("nan")
    values = part[column]
    missing = values.map(first_item).isna()
    return float(missing.mean()) if len(values) else float("nan")


def describe_groups(frame, names: Sequence[str]):
    """Return one row per group: artists, works, works per artist, missing shares, years and top style.

    ``frame`` has one row per artwork with ``group`` and ``artist_key`` and, where known,
    ``style``, ``genre``, ``media``, ``year`` (artwork), ``birth_year`` and ``needs_review``.
    """
    import pandas as pd

    rows = []
    for name in names:
        part = frame[frame["group"] == name]
        artists = part["artist_key"].dropna()
        per_artist = artists.value_counts()
        row = {
            "group": name,
            "artists": int(artists.nunique()),
            "works": int(len(part)),
            "works_per_artist_median": float(per_artist.median()) if len(per_artist) else float("nan"),
            "works_per_artist_max": int(per_artist.max()) if len(per_artist) else 0,
        }
        if "needs_review" in part:
            flagged = part.loc[part["needs_review"].fillna(False).astype(bool), "artist_key"].nunique()
            row["flagged_artists"] = int(flagged)
        for column in DESCRIBED_MISSING:
            if column in part:
                row[f"missing_{column}"] = _missing_share(part, column)
        for column, label in (("birth_year", "birth_year_median"), ("year", "artwork_year_median")):
            if column in part:
                years = pd.to_numeric(part[column], errors="coerce")
                row[label] = float(years.median()) if years.notna().any() else float("nan")
        if "style" in part:
            styles = part["style"].map(first_item).dropna()
            if len(styles):
                # Ties go to the alphabetically first style, so the label is repeatable.
                counts = styles.value_counts().sort_index().sort_values(ascending=False, kind="stable")
                row["top_style"] = f"{counts.index[0]} ({counts.iloc[0] / len(styles):.0%})"
        rows.append(row)
    return pd.DataFrame(rows)


def era_mix(frame, names: Sequence[str], column: str = "birth_era"):
    """Return the share of each group's works per birth era (rows: groups, columns: eras)."""
    import pandas as pd

    if column not in frame:
        return pd.DataFrame()
    part = frame[frame["group"].isin(names) & frame[column].notna()]
    if part.empty:
        return pd.DataFrame()
    table = pd.crosstab(part["group"], part[column], normalize="index")
    return table.reindex(sorted(table.columns, key=era_start), axis=1)


def era_start(era: object) -> int:
    """Return the first year of an era label such as ``'1850-1899'`` or ``'-450--401'``."""
    match = re.match(r"-?\d+", str(era))
    return int(match.group()) if match else 0


def birth_years_by_group(frame, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Return each group's artist birth years (one per artist), for the era figure."""
    import pandas as pd

    result = {}
    for name in names:
        part = frame[frame["group"] == name].drop_duplicates("artist_key")
        years = pd.to_numeric(part.get("birth_year", pd.Series(dtype=float)), errors="coerce").dropna()
        result[name] = years.to_numpy()
    return result
