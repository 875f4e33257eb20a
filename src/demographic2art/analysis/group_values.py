"""Values of the group attributes that a workspace's data contains, for checking ``--group`` values.

Genders, nationalities and birth decades come from ``demographics/demographics.parquet``,
movements from the ``style`` column of ``catalog/artworks.parquet``. These are the tables
that the web app's pickers read. This module reads them itself, so that ``d2a compare``
does not import Flask.
"""

from __future__ import annotations

import difflib
import logging
import math
from typing import Any

from ..errors import InvalidValueError

logger = logging.getLogger(__name__)

DEMOGRAPHICS_TABLE = "demographics/demographics.parquet"
CATALOG_TABLE = "catalog/artworks.parquet"
# (table, column) that contains the known values of each group attribute.
ATTRIBUTE_SOURCES = {
    "gender": (DEMOGRAPHICS_TABLE, "gender"),
    "nationality": (DEMOGRAPHICS_TABLE, "nationality"),
    "birth_decade": (DEMOGRAPHICS_TABLE, "birth_year"),
    "movement": (CATALOG_TABLE, "style"),
}
# An error message lists at most this many known values, closest match first.
MAX_LISTED_VALUES = 12


def known_group_values(workspace) -> dict[str, list[str]]:
    """Return the known values of each group attribute found in the workspace's tables.

    Birth decades are derived from birth years (1853 gives ``'1850'``). An attribute
    whose table or column is missing is left out of the result.
    """
    storage = workspace.storage
    frames: dict[str, Any] = {}
    known: dict[str, list[str]] = {}
    for attribute, (table, column) in ATTRIBUTE_SOURCES.items():
        if table not in frames:
            frames[table] = storage.read_parquet(table) if storage.exists(table) else None
        frame = frames[table]
        if frame is None or column not in frame.columns:
            continue
        values = _flatten(frame[column].tolist())
        if attribute == "birth_decade":
            texts = {str(int(float(v)) // 10 * 10) for v in values if _is_number(v)}
        else:
            texts = {str(v).strip() for v in values if str(v).strip()}
        if texts:
            known[attribute] = sorted(texts)
    return known


def check_group_values(workspace, groups: list[dict[str, str]]) -> None:
    """Raise :class:`InvalidValueError` for the first group value not in the workspace's data.

    The message names the value and lists the known values, closest match first. An
    attribute without a table to check against is logged and passes unchecked.
    """
    known = known_group_values(workspace)
    for group in groups:
        for attribute, value in group.items():
            if attribute not in ATTRIBUTE_SOURCES:
                continue  # unknown attribute names are rejected where captions are built
            values = known.get(attribute)
            if values is None:
                table, column = ATTRIBUTE_SOURCES[attribute]
                logger.warning("%s %r is not checked because %s or its %s column is missing in %s", attribute, value, table, column, workspace.url)
                continue
            if str(value) not in values:
                raise InvalidValueError(
                    f"{attribute} {value!r} is not in this workspace's data; known: {listed_values(str(value), values)}; "
                    "fix the value, or pass --allow-new-values for a hypothetical group"
                )


def listed_values(value: str, values: list[str]) -> str:
    """Return the known values as text, closest to ``value`` first, cut at MAX_LISTED_VALUES."""
    close = difflib.get_close_matches(value, values, n=MAX_LISTED_VALUES, cutoff=0.5)
    ordered = close + [v for v in values if v not in close]
    shown = ", ".join(ordered[:MAX_LISTED_VALUES])
    hidden = len(ordered) - MAX_LISTED_VALUES
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def _flatten(values: list[Any]) -> list[Any]:
    """Return the scalar items of a column, with list-valued cells expanded and missing values dropped."""
    flat: list[Any] = []
    for value in values:
        if value is None:
            continue
        if hasattr(value, "tolist") and not isinstance(value, (str, int, float)):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            flat.extend(_flatten(list(value)))
        elif not _is_missing(value):
            flat.append(value)
    return flat


def _is_missing(value: Any) -> bool:
    import pandas as pd

    # pandas.NA and NaN are missing; an empty string is dropped later.
    return bool(pd.isna(value))


def _is_number(value: Any) -> bool:
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False
