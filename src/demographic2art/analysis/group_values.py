"""Checking ``--group`` values against the values a workspace's data contains.

Genders, nationalities and birth decades come from ``demographics/demographics.parquet``,
movements from the ``style`` column of ``catalog/artworks.parquet``, read by
:mod:`..attribute_values` as for the web app's pickers.
"""

from __future__ import annotations

import difflib
import logging

from ..attribute_values import CATALOG_TABLE, DEMOGRAPHICS_TABLE, workspace_values
from ..errors import InvalidValueError

logger = logging.getLogger(__name__)

# The table, column and ``workspace_values`` key that hold the known values of each attribute.
ATTRIBUTE_SOURCES = {
    "gender": (DEMOGRAPHICS_TABLE, "gender", "gender"),
    "nationality": (DEMOGRAPHICS_TABLE, "nationality", "nationality"),
    "birth_decade": (DEMOGRAPHICS_TABLE, "birth_year", "birth_decade"),
    "movement": (CATALOG_TABLE, "style", "style"),
}
# An error message lists at most this many known values, closest match first.
MAX_LISTED_VALUES = 12


def known_group_values(workspace) -> dict[str, list[str]]:
    """Return the known values of each group attribute found in the workspace's tables.

    Birth decades are derived from birth years (1853 gives ``'1850'``). An attribute
    whose table or column is missing is left out of the result.
    """
    found = workspace_values(workspace)
    known: dict[str, list[str]] = {}
    for attribute, (_table, _column, key) in ATTRIBUTE_SOURCES.items():
        if key in found:
            known[attribute] = sorted(str(value) for value in found[key])
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
                table, column, _key = ATTRIBUTE_SOURCES[attribute]
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
