"""The catalog stage: clean WikiArt artist and artwork tables, parse dates, join slugs.

Public entry points: :func:`build_catalog`, :func:`read_artists_csv`,
:func:`read_artworks_csv`, :func:`parse_date` and :func:`resolve_record_dates`.
Imports are lazy so that importing the package does not load pandas.
"""

from __future__ import annotations

from .dates import ParsedDate, parse_date, resolve_record_dates

__all__ = [
    "CatalogSummary",
    "ParsedDate",
    "build_catalog",
    "parse_date",
    "read_artists_csv",
    "read_artworks_csv",
    "resolve_record_dates",
]


def __getattr__(name: str):
    if name in ("build_catalog", "CatalogSummary"):
        from . import build

        return getattr(build, name)
    if name in ("read_artists_csv", "read_artworks_csv"):
        from . import load

        return getattr(load, name)
    raise AttributeError(name)
