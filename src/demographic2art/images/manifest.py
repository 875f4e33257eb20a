"""The download manifest ``images/manifest.parquet``: one row per artwork key.

Each run merges its rows into the existing manifest by key, so rows of earlier runs
that this run did not touch are kept. The manifest and the ledger parts are written
with pyarrow, so a download never imports pandas; their schema carries pandas
metadata, so ``pandas.read_parquet`` gives nullable integer (``Int64``) and string
columns.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa

MANIFEST_PATH = "images/manifest.parquet"
INTEGER_COLUMNS = ("http_status", "bytes", "width", "height", "stored_width", "stored_height")
FLOAT_COLUMNS = ("duration_s",)
COLUMNS = [
    "key",
    "url",
    "image_url",
    "final_url",
    "status",
    "reason",
    "http_status",
    "bytes",
    "sha256",
    "width",
    "height",
    "stored_width",
    "stored_height",
    "duration_s",
    "flags",
    "file",
    "updated",
]
STATUSES = ("ok", "rejected", "failed", "skipped", "rate_limited")


def _arrow_type(column: str) -> pa.DataType:
    if column in INTEGER_COLUMNS:
        return pa.int64()
    if column in FLOAT_COLUMNS:
        return pa.float64()
    return pa.large_string()


def _pandas_metadata() -> bytes:
    """Return the ``pandas`` schema metadata (Apache Arrow's format) of the manifest columns."""

    def entry(column: str) -> dict[str, Any]:
        if column in INTEGER_COLUMNS:
            pandas_type, numpy_type = "int64", "Int64"
        elif column in FLOAT_COLUMNS:
            pandas_type, numpy_type = "float64", "float64"
        else:
            pandas_type, numpy_type = "object", "string"
        return {"name": column, "field_name": column, "pandas_type": pandas_type, "numpy_type": numpy_type,
                "metadata": None}

    return json.dumps({
        "index_columns": [],
        "column_indexes": [],
        "columns": [entry(column) for column in COLUMNS],
        "creator": {"library": "pyarrow", "version": pa.__version__},
    }).encode()


SCHEMA = pa.schema([pa.field(column, _arrow_type(column)) for column in COLUMNS],
                   metadata={b"pandas": _pandas_metadata()})


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Return manifest rows (dicts keyed by :data:`COLUMNS`) as a table with the manifest schema.

    The rows are parsed as JSON lines: building arrays from Python lists with
    ``pyarrow.array`` would import pandas, about 0.2 s of the download's engine process.
    """
    import pyarrow.json as pa_json

    if not rows:
        return SCHEMA.empty_table()
    lines = "".join(json.dumps({column: row.get(column) for column in COLUMNS}) + "\n" for row in rows)
    options = pa_json.ParseOptions(explicit_schema=pa.schema(list(SCHEMA)), unexpected_field_behavior="error")
    table = pa_json.read_json(io.BytesIO(lines.encode()), parse_options=options)
    return table.replace_schema_metadata(SCHEMA.metadata)


def conform(table: pa.Table) -> pa.Table:
    """Return ``table`` with the manifest's columns, in order and of its types; missing columns are empty.

    Manifests written by earlier versions (through pandas) differ in metadata and may
    lack newer columns.
    """
    arrays = []
    for field in SCHEMA:
        if field.name in table.column_names:
            arrays.append(table.column(field.name).cast(field.type))
        else:
            arrays.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
