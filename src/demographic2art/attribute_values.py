"""The demographic and artwork attribute values that a workspace's tables contain.

Genders, nationalities and birth decades come from ``demographics/demographics.parquet``,
styles and genres from ``catalog/artworks.parquet``. The web app's pickers offer these
values and ``d2a compare`` checks its ``--group`` values against them. This module
imports neither Flask nor torch.
"""

from __future__ import annotations

import ast
import logging
import math
from typing import Any

logger = logging.getLogger(__name__)

DEMOGRAPHICS_TABLE = "demographics/demographics.parquet"
CATALOG_TABLE = "catalog/artworks.parquet"
# The columns read from each table; birth years become decades.
TABLE_COLUMNS = {
    DEMOGRAPHICS_TABLE: ("gender", "nationality", "birth_year"),
    CATALOG_TABLE: ("style", "genre"),
}


def workspace_values(workspace) -> dict[str, list[Any]]:
    """Return the sorted distinct values of each column in ``TABLE_COLUMNS``.

    The key ``birth_decade`` contains integer decades (1853 gives 1850); the other keys are
    column names with text values. A missing table or column is left out, and an
    unreadable table is logged and left out.
    """
    storage = workspace.storage
    found: dict[str, list[Any]] = {}
    for path, columns in TABLE_COLUMNS.items():
        if not storage.exists(path):
            continue
        try:
            frame = storage.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - a damaged table must not stop the caller
            logger.error("reading %s for attribute values failed: %s", path, exc)
            continue
        for column in columns:
            if column not in frame.columns:
                continue
            values = flatten_values(frame[column].tolist())
            if column == "birth_year":
                decades = sorted({int(float(v)) // 10 * 10 for v in values if is_number(v)})
                if decades:
                    found["birth_decade"] = decades
                continue
            texts = sorted({text for text in (str(v).strip() for v in values) if text})
            if texts:
                found[column] = texts
    return found


def flatten_values(values: list[Any]) -> list[Any]:
    """Return the scalar items of a column's values, with list-valued cells expanded.

    Catalog fields such as ``genre`` contain a list per row, which is a numpy array after
    a Parquet round trip. Each item becomes a value of its own. Text that spells a
    list, such as ``"['landscape', 'portrait']"``, is parsed the same way. Missing
    values are dropped.
    """
    flat: list[Any] = []
    for value in values:
        if value is None:
            continue
        if isinstance(value, str):
            parsed = _parse_list_text(value)
            if parsed is not None:
                flat.extend(flatten_values(parsed))
                continue
        elif hasattr(value, "tolist") and not isinstance(value, (int, float)):
            value = value.tolist()
        if isinstance(value, (list, tuple, set, frozenset)):
            flat.extend(flatten_values(list(value)))
        elif not _is_missing(value):
            flat.append(value)
    return flat


def is_number(value: Any) -> bool:
    """Return whether ``value`` reads as a finite or infinite number (not NaN, not text)."""
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _is_missing(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _parse_list_text(text: str) -> list[Any] | None:
    """Return the items of text written as a Python or JSON list, or None for other text."""
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return None
    try:
        parsed = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return list(parsed) if isinstance(parsed, (list, tuple)) else None
