"""Comparison of offline extraction with a reference table (slug, birth_year, death_year, gender, nationality, birth_country).

The reference is raw LLM output, so its values are normalised first (gender words in several
languages, country spellings) and its disagreements with the pages are listed for review
rather than trusted.
"""

from __future__ import annotations

import csv
import logging
import os
from collections import Counter
from collections.abc import Iterable

from ..errors import MissingFileError
from .countries import country_codes, nationality_codes
from .offline import extract_page
from .schema import Demographics

logger = logging.getLogger(__name__)

FIELDS = ("birth_year", "death_year", "gender", "nationality", "birth_country")
EXTRACTED_KINDS = ("biography", "other_language")

_GENDER_WORDS = {
    "female": ("female", "woman", "f", "femme", "féminin", "feminin", "femenino", "mujer", "femminile", "donna",
               "feminino", "mulher", "weiblich", "frau", "женский", "женщина", "kobieta", "feminin", "жіноча"),
    "male": ("male", "man", "m", "homme", "masculin", "masculino", "hombre", "maschile", "uomo", "homem",
             "männlich", "mann", "мужской", "мужчина", "mężczyzna", "чоловіча", "bărbat"),
    "non-binary": ("non-binary", "nonbinary", "non binary"),
}
_GENDER_TABLE = {word: gender for gender, words in _GENDER_WORDS.items() for word in words}


def normalise_gender(value: str | None) -> str | None:
    """Return 'female', 'male' or 'non-binary' for a raw gender word in any language, else None."""
    if not value:
        return None
    return _GENDER_TABLE.get(value.strip().lower())


def normalise_countries(value: str | None) -> list[str]:
    """Return the ISO codes of a raw country or nationality string ('USA', 'England', 'French')."""
    if not value:
        return []
    codes = set(country_codes(value)) or set(nationality_codes(value))
    return sorted(codes)


def _ours(record: Demographics, field: str):
    if field == "birth_year":
        return record.birth.year
    if field == "death_year":
        return record.death.year
    if field == "gender":
        return record.gender
    if field == "nationality":
        return list(record.nationality.codes) or None
    if field == "birth_country":
        code = record.birth.place.country_code
        return [code] if code else None
    raise KeyError(field)


def _reference_value(row: dict, field: str):
    raw = (row.get(field) or "").strip()
    if field in ("birth_year", "death_year"):
        try:
            return int(raw) if raw else None
        except ValueError:
            return None
    if field == "gender":
        return normalise_gender(raw)
    return normalise_countries(raw) or None


def _agree(field: str, ours, reference) -> bool:
    if field in ("nationality", "birth_country"):
        return bool(set(ours) & set(reference))
    return ours == reference


def evaluate(
    pages_dir: str | os.PathLike[str],
    reference_tsv: str | os.PathLike[str],
    *,
    extracted: Iterable[Demographics] | None = None,
    limit: int | None = None,
) -> dict:
    """Compare extraction on saved pages with a reference table, field by field.

    For each field: ``agreement`` (share of rows where both have a value and they match;
    countries match when the code sets overlap), ``recall`` (share of the reference's non-empty
    values, over biography pages, that we also fill and match), ``coverage`` (share of biography
    pages where we have a value), and ``disagreements`` (both values and our source). Pages
    that are not biographies leave the denominators and are counted under ``triage``.
    ``extracted`` reuses records already extracted (matched by ``artist_key``); ``limit`` takes
    the first N reference rows in slug order.
    """
    pages_dir = os.fspath(pages_dir)
    if not os.path.isdir(pages_dir):
        raise MissingFileError(f"pages folder {pages_dir} does not exist; unpack the saved pages there first")
    if not os.path.isfile(reference_tsv):
        raise MissingFileError(f"reference table {reference_tsv} does not exist; pass the TSV of reference values")
    with open(reference_tsv, encoding="utf-8", newline="") as handle:
        reference_rows = sorted(csv.DictReader(handle, delimiter="\t"), key=lambda r: r["slug"])
    if limit is not None:
        reference_rows = reference_rows[:limit]
    known = {r.artist_key: r for r in extracted} if extracted is not None else {}

    triage: Counter[str] = Counter()
    stats = {f: Counter() for f in FIELDS}
    disagreements: list[dict] = []
    missing_pages = []
    for row in reference_rows:
        slug = row["slug"]
        record = known.get(slug)
        if record is None:
            path = os.path.join(pages_dir, f"{slug}.html")
            if not os.path.exists(path):
                missing_pages.append(slug)
                continue
            with open(path, "rb") as handle:
                record = extract_page(handle.read(), artist_key=slug)
        triage[record.page_kind] += 1
        if record.page_kind not in EXTRACTED_KINDS:
            continue
        for field in FIELDS:
            ours = _ours(record, field)
            reference = _reference_value(row, field)
            counts = stats[field]
            counts["pages"] += 1
            counts["ours"] += ours is not None
            counts["reference"] += reference is not None
            if ours is None or reference is None:
                continue
            counts["both"] += 1
            if _agree(field, ours, reference):
                counts["agree"] += 1
            else:
                disagreements.append(
                    {"slug": slug, "field": field, "ours": ours, "reference": row.get(field),
                     "source": record.sources.get(_source_key(field))}
                )
    fields = {}
    for field, counts in stats.items():
        fields[field] = {
            "agreement": _ratio(counts["agree"], counts["both"]),
            "recall": _ratio(counts["agree"], counts["reference"]),
            "coverage": _ratio(counts["ours"], counts["pages"]),
            "both": counts["both"],
            "agree": counts["agree"],
            "reference_values": counts["reference"],
        }
    return {
        "rows": len(reference_rows),
        "missing_pages": missing_pages,
        "triage": dict(triage),
        "fields": fields,
        "disagreements": disagreements,
    }


def _source_key(field: str) -> str:
    return {"birth_country": "birth_place"}.get(field, field)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
