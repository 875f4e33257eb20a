"""Disagreements between two extraction runs (for example offline against LLM), field by field.

A run is a demographics table: a Parquet file path, a workspace-relative table path, or the
names ``offline`` (``demographics/demographics.parquet``) and ``llm``
(``demographics/llm/demographics.parquet``) of the workspace's runs. Years and gender compare as
values, nationality as sets of ISO codes (a disagreement when the sets do not overlap).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import BaseModel, Field

from ..errors import MissingFileError
from ..workspace import Workspace

logger = logging.getLogger(__name__)

RUN_NAMES = {"offline": "demographics/demographics.parquet", "llm": "demographics/llm/demographics.parquet"}
COMPARED_FIELDS = ("birth_year", "death_year", "gender", "birth_country", "nationality_codes")


class FieldAgreement(BaseModel):
    """Counts for one field: artists where both runs have a value, where they agree, where only one has one."""

    both: int = 0
    agree: int = 0
    only_a: int = 0
    only_b: int = 0


class Disagreement(BaseModel):
    """One field of one artist on which the two runs differ, with each run's value and source."""

    artist_key: str
    field: str
    value_a: Any = None
    value_b: Any = None
    source_a: str | None = None
    source_b: str | None = None


class RunComparison(BaseModel):
    """The result of :func:`compare_runs`."""

    run_a: str
    run_b: str
    artists: int = 0
    fields: dict[str, FieldAgreement] = Field(default_factory=dict)
    disagreements: list[Disagreement] = Field(default_factory=list)


def _read_run(workspace: Workspace | None, run: str):
    import pandas as pd

    if workspace is not None:
        relpath = RUN_NAMES.get(run, run)
        if workspace.storage.exists(relpath):
            return workspace.storage.read_parquet(relpath)
    if run in RUN_NAMES:
        raise MissingFileError(f"no {run} run in workspace {workspace.url if workspace else '(none)'}; run 'd2a demographics extract' first")
    try:
        return pd.read_parquet(run)
    except FileNotFoundError:
        raise MissingFileError(f"run table {run!r} not found; give a demographics Parquet file or 'offline' / 'llm'") from None


def _value(row, field: str) -> Any:
    value = row.get(field)
    if field == "nationality_codes":
        codes = sorted(value) if value is not None and len(value) else []
        return codes or None
    if value is None or (not isinstance(value, str) and value != value):  # None or NaN/NA
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return int(value) if field.endswith("_year") else value


def _sources(row) -> dict[str, str]:
    try:
        return json.loads(row.get("sources") or "{}")
    except (TypeError, ValueError):
        return {}


def _agree(field: str, a: Any, b: Any) -> bool:
    if field == "nationality_codes":
        return bool(set(a) & set(b))
    return a == b


def compare_runs(run_a: str, run_b: str, workspace: Workspace | None = None) -> RunComparison:
    """Compare two demographics tables artist by artist and list every disagreement.

    Only artists present in both tables are compared. Raises :class:`MissingFileError` when a
    table does not exist.
    """
    table_a, table_b = _read_run(workspace, run_a), _read_run(workspace, run_b)
    rows_a = {row["artist_key"]: row for row in table_a.to_dict("records")}
    rows_b = {row["artist_key"]: row for row in table_b.to_dict("records")}
    keys = sorted(set(rows_a) & set(rows_b))
    result = RunComparison(run_a=run_a, run_b=run_b, artists=len(keys))
    for field in COMPARED_FIELDS:
        counts = FieldAgreement()
        source_field = {"birth_country": "birth_place", "nationality_codes": "nationality"}.get(field, field)
        for key in keys:
            a, b = _value(rows_a[key], field), _value(rows_b[key], field)
            if a is None and b is None:
                continue
            if a is None or b is None:
                counts.only_a += b is None
                counts.only_b += a is None
                continue
            counts.both += 1
            if _agree(field, a, b):
                counts.agree += 1
                continue
            result.disagreements.append(
                Disagreement(artist_key=key, field=field, value_a=a, value_b=b,
                             source_a=_sources(rows_a[key]).get(source_field),
                             source_b=_sources(rows_b[key]).get(source_field))
            )
        result.fields[field] = counts
    logger.info("compared %s and %s over %d artists: %d disagreements", run_a, run_b, len(keys), len(result.disagreements))
    return result
