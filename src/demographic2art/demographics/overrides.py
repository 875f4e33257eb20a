"""A researcher's corrections (CSV: artist, field, value, note) applied after every extraction.

The overrides file lives beside the extraction output (``demographics/overrides.csv`` in a
workspace), so re-extracting never loses it. An overridden value records the source
``override``; the value it replaced is kept as a conflict so the change stays visible.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable

from pydantic import BaseModel

from ..errors import InvalidValueError
from ..keys import normalise_slug
from .countries import nationality_codes
from .gazetteer import present_day_country
from .schema import Conflict, Demographics, Nationality, StatedAttribute

logger = logging.getLogger(__name__)

OVERRIDES_FILE = "demographics/overrides.csv"
OVERRIDE_COLUMNS = ("artist", "field", "value", "note")
OVERRIDE_FIELDS = (
    "birth_year", "death_year", "birth_date", "death_date", "birth_place", "death_place", "birth_country",
    "gender", "nationality", "languages", "ethnicity", "religion",
)


class Override(BaseModel):
    """One corrected value: ``value`` empty clears the field.

    ``nationality`` takes ISO codes separated by ';' ('FR;US') or a nationality text;
    ``languages`` takes names separated by ';'.
    """

    artist: str
    field: str
    value: str
    note: str = ""


def parse_overrides(text: str, *, origin: str = "overrides file") -> list[Override]:
    """Parse overrides CSV text; an unknown field or a bad year raises :class:`InvalidValueError`."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in OVERRIDE_COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidValueError(
            f"{origin} lacks the column(s) {', '.join(missing)}; write a header 'artist,field,value,note'"
        )
    overrides = []
    for line, row in enumerate(reader, start=2):
        field = (row.get("field") or "").strip()
        if field not in OVERRIDE_FIELDS:
            raise InvalidValueError(
                f"{origin} line {line}: field {field!r} cannot be overridden; use one of {', '.join(OVERRIDE_FIELDS)}"
            )
        value = (row.get("value") or "").strip()
        if field in ("birth_year", "death_year") and value and not _is_year(value):
            raise InvalidValueError(f"{origin} line {line}: year {value!r} is not an integer; write e.g. 1650 or -900")
        if field == "gender" and value not in ("", "female", "male", "non-binary"):
            raise InvalidValueError(f"{origin} line {line}: gender {value!r} is invalid; use female, male or non-binary")
        overrides.append(
            Override(artist=normalise_slug(row["artist"]), field=field, value=value, note=(row.get("note") or "").strip())
        )
    return overrides


def _is_year(value: str) -> bool:
    return value.lstrip("-").isdigit()


def apply_overrides(record: Demographics, overrides: Iterable[Override]) -> Demographics:
    """Apply the overrides of ``record.artist_key`` in file order, in place, and return the record."""
    for override in overrides:
        if override.artist != record.artist_key:
            continue
        previous = _set_field(record, override.field, override.value, override.note)
        record.sources[_source_key(override.field)] = "override"
        if previous not in (None, "", []) and str(previous) != override.value:
            record.conflicts.append(
                Conflict(field=override.field, kept=override.value or None, kept_source="override",
                         other=str(previous), other_source="extracted")
            )
        logger.debug("override %s.%s = %r (%s)", record.artist_key, override.field, override.value, override.note)
    return record


def _source_key(field: str) -> str:
    return {"birth_country": "birth_place"}.get(field, field)


def _set_field(record: Demographics, field: str, value: str, note: str):
    if field in ("birth_year", "death_year"):
        event = record.birth if field == "birth_year" else record.death
        previous, event.year = event.year, int(value) if value else None
        return previous
    if field in ("birth_date", "death_date"):
        event = record.birth if field == "birth_date" else record.death
        previous, event.date = event.date, value or None
        return previous
    if field in ("birth_place", "death_place"):
        event = record.birth if field == "birth_place" else record.death
        previous = event.place.raw
        event.place.raw = value or None
        event.place.country_code = present_day_country(value) if value else None
        return previous
    if field == "birth_country":
        previous, record.birth.place.country_code = record.birth.place.country_code, value.upper() or None
        return previous
    if field == "gender":
        previous, record.gender = record.gender, value or None
        return previous
    if field == "nationality":
        previous = ",".join(record.nationality.codes)
        parts = [part.strip() for part in value.split(";") if part.strip()]
        if parts and all(len(part) == 2 and part.isalpha() for part in parts):
            codes = [part.upper() for part in parts]
        else:
            codes = nationality_codes(value)
        record.nationality = Nationality(raw=value or None, codes=sorted(set(codes)))
        return previous
    if field == "languages":
        previous = ",".join(record.languages)
        record.languages = [v.strip() for v in value.split(";") if v.strip()]
        return previous
    # Ethnicity and religion: the note carries the page text the researcher relied on.
    previous = getattr(record, field).value if getattr(record, field) else None
    setattr(record, field, StatedAttribute(value=value, quote=note, source="override") if value else None)
    return previous
