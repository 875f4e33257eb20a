"""Comparison of offline extraction with a reference table (slug, birth_year, death_year, gender, nationality, birth_country).

The reference is raw LLM output, so its values are normalised first (gender words in several
languages, country spellings) and its disagreements with the pages are listed for review
rather than trusted.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable
from importlib import resources

from ..errors import InvalidValueError, MissingFileError
from .countries import country_codes, nationality_codes
from .offline import extract_page
from .schema import Demographics

logger = logging.getLogger(__name__)

FIELDS = ("birth_year", "death_year", "gender", "nationality", "birth_country")
EXTRACTED_KINDS = ("biography", "other_language")
JUDGEMENTS_RESOURCE = "data/reference_judgements.json"

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


REFERENCE_COLUMNS = ("slug", "birth_year", "death_year", "gender", "nationality", "birth_country")


def check_pages_dir(pages_dir: str | os.PathLike[str]) -> str:
    """Return the pages folder as a string, or raise ``MissingFileError`` naming the folder to pass.

    An unpack folder whose pages sit in ``wikipedia/html/`` below it is named in the message.
    """
    pages_dir = os.fspath(pages_dir)
    if not os.path.isdir(pages_dir):
        problem = "is a file, not a folder" if os.path.exists(pages_dir) else "does not exist"
        raise MissingFileError(f"pages folder {pages_dir} {problem}; unpack the saved pages into a folder and pass it")
    nested = os.path.join(pages_dir, "wikipedia", "html")
    if os.path.isdir(nested) and not any(name.endswith(".html") for name in os.listdir(pages_dir)):
        raise MissingFileError(f"pages folder {pages_dir} contains no pages; pages are in {nested}; pass that")
    return pages_dir


def evaluate(
    pages_dir: str | os.PathLike[str] | None,
    reference_tsv: str | os.PathLike[str],
    *,
    extracted: Iterable[Demographics] | None = None,
    limit: int | None = None,
    judgements: str | os.PathLike[str] | None | bool = None,
) -> dict:
    """Compare extraction on saved pages with a reference table, field by field.

    For each field: ``agreement`` (share of rows where both have a value and they match;
    countries match when the code sets overlap), ``recall`` (share of the reference's non-empty
    values, over biography pages, for which we give a value, whether or not it matches),
    ``matched_recall`` (share of the reference's non-empty values that we fill and match),
    ``coverage`` (share of biography pages where we have a value), and ``disagreements`` (both
    values and our source). Pages
    that are not biographies leave the denominators and are counted under ``triage``.
    ``extracted`` reuses records already extracted (matched by ``artist_key``); with
    ``pages_dir`` None only those records are compared, and judgement quotes are checked on no
    page (they count as ``quote_not_found``). ``limit`` takes the first N reference rows in slug order.

    ``agreement_judged``, ``recall_judged`` and ``matched_recall_judged`` leave out the reference values judged wrong
    (verdict ``reference_wrong``; a ``range`` verdict only marks a page range holding both values)
    in ``judgements`` (a JSON list of slug, field, reference, ours, verdict and quote; by default
    the packaged ``data/reference_judgements.json``, ``False`` for none). A judgement counts only
    while the reference value is still the one judged, we still disagree, and its quote occurs in
    the page text; ``judgements`` in the report counts those applied, stale and unverified.
    """
    if pages_dir is None:
        if extracted is None:
            raise InvalidValueError("no pages folder and no extracted records given; pass --pages or an extraction")
        pages_dir = ""
    else:
        pages_dir = check_pages_dir(pages_dir)
    reference_rows = _read_reference(reference_tsv)
    if limit is not None:
        reference_rows = reference_rows[:limit]
    known = {r.artist_key: r for r in extracted} if extracted is not None else {}
    judged = load_judgements(judgements) if judgements is not False else {}
    judgement_stats: Counter[str] = Counter()

    triage: Counter[str] = Counter()
    stats = {f: Counter() for f in FIELDS}
    disagreements: list[dict] = []
    invalid_reference = _invalid_reference_years(reference_rows)
    missing_pages = []
    for row in reference_rows:
        slug = row["slug"]
        record = known.get(slug)
        path = os.path.join(pages_dir, f"{slug}.html") if pages_dir else ""
        page_bytes = None
        if record is None:
            if not path or not os.path.exists(path):
                missing_pages.append(slug)
                continue
            with open(path, "rb") as handle:
                page_bytes = handle.read()
            record = extract_page(page_bytes, artist_key=slug)
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
            agree = ours is not None and reference is not None and _agree(field, ours, reference)
            judgement = judged.get((slug, field))
            wrong = False
            if judgement is not None and reference is not None and not agree:
                if judgement["reference"] != (row.get(field) or "").strip():
                    judgement_stats["stale"] += 1
                elif not _quote_on_page(judgement["quote"], path, page_bytes):
                    judgement_stats["quote_not_found"] += 1
                elif judgement.get("verdict") != "reference_wrong":
                    # A 'range' verdict: the page gives a range holding both values, so neither is wrong.
                    judgement_stats[judgement.get("verdict") or "no_verdict"] += 1
                else:
                    judgement_stats["applied"] += 1
                    wrong = True
            counts["judged_wrong"] += wrong
            if ours is None or reference is None:
                continue
            counts["both"] += 1
            if agree:
                counts["agree"] += 1
            else:
                disagreements.append(
                    {"slug": slug, "field": field, "ours": ours, "reference": row.get(field),
                     "source": record.sources.get(_source_key(field)), "judged_reference_wrong": wrong}
                )
                counts["both_judged_wrong"] += wrong
    fields = {}
    for field, counts in stats.items():
        fields[field] = {
            "agreement": _ratio(counts["agree"], counts["both"]),
            "recall": _ratio(counts["both"], counts["reference"]),
            "matched_recall": _ratio(counts["agree"], counts["reference"]),
            "agreement_judged": _ratio(counts["agree"], counts["both"] - counts["both_judged_wrong"]),
            "recall_judged": _ratio(
                counts["both"] - counts["both_judged_wrong"], counts["reference"] - counts["judged_wrong"]
            ),
            "matched_recall_judged": _ratio(counts["agree"], counts["reference"] - counts["judged_wrong"]),
            "judged_wrong": counts["judged_wrong"],
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
        "judgements": dict(judgement_stats),
        "disagreements": disagreements,
        "invalid_reference": invalid_reference,
    }


def _read_reference(reference_tsv: str | os.PathLike[str]) -> list[dict]:
    """Read the reference TSV and return its rows sorted by slug, after checking its file, encoding and columns."""
    if not os.path.isfile(reference_tsv):
        problem = "is a folder, not a file" if os.path.isdir(reference_tsv) else "does not exist"
        raise MissingFileError(f"reference table {reference_tsv} {problem}; pass the TSV of reference values")
    try:
        with open(reference_tsv, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            missing = [c for c in REFERENCE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidValueError(
                    f"reference table {reference_tsv} lacks the columns {', '.join(missing)}; "
                    f"it must be tab-separated with {', '.join(REFERENCE_COLUMNS)}"
                )
            return sorted(reader, key=lambda r: r["slug"] or "")
    except UnicodeDecodeError as exc:
        raise InvalidValueError(
            f"reference table {reference_tsv} is not UTF-8 text (byte {exc.start}); save it as UTF-8 tab-separated values"
        ) from exc


def _invalid_reference_years(rows: list[dict]) -> list[dict]:
    """Return ``{slug, field, value}`` for each non-empty reference year that is not an integer.

    Such values count as missing reference values, so the report lists them for review.
    """
    invalid = []
    for row in rows:
        for field in ("birth_year", "death_year"):
            raw = (row.get(field) or "").strip()
            if raw and _reference_value(row, field) is None:
                invalid.append({"slug": row["slug"], "field": field, "value": raw})
    if invalid:
        logger.warning("%d reference years are not integers and count as missing, first: %s", len(invalid), invalid[0])
    return invalid


def load_extracted_records(folder: str | os.PathLike[str]) -> list[Demographics]:
    """Return the records of a folder of ``<slug>.json`` files written by an earlier extraction."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise MissingFileError(f"extracted records folder {folder} does not exist; pass the demographics/json folder")
    from pydantic import ValidationError

    records = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                data = handle.read()
            try:
                records.append(Demographics.model_validate_json(data))
            except ValidationError as exc:
                error = exc.errors()[0]
                field = ".".join(str(part) for part in error.get("loc", ()))
                detail = f"{field}: {error['msg']}" if field else error["msg"]
                raise InvalidValueError(
                    f"extracted record {path} is not a demographics record ({detail}); "
                    "extract again with 'd2a demographics extract' or remove the file"
                ) from exc
    return records


def load_judgements(path: str | os.PathLike[str] | None = None) -> dict[tuple[str, str], dict]:
    """Return the judged reference values by (slug, field) from a JSON list (default: the packaged one)."""
    if path is None:
        text = resources.files("demographic2art.demographics").joinpath(JUDGEMENTS_RESOURCE).read_text("utf-8")
    else:
        if not os.path.isfile(path):
            raise MissingFileError(f"judgements file {path} does not exist; pass a JSON list of judgements")
        with open(path, "rb") as handle:
            text = handle.read()
    try:
        entries = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidValueError(f"judgements file {path} is not valid JSON ({exc}); fix it or pass --no-judgements") from exc
    required = ("slug", "field", "reference", "quote")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and all(k in e for k in required) for e in entries):
        raise InvalidValueError(
            f"judgements file {path} is not a JSON list of objects with {', '.join(required)}; "
            "fix it or pass --no-judgements"
        )
    return {(entry["slug"], entry["field"]): entry for entry in entries}


def _page_text(path: str, page_bytes: bytes | None) -> str:
    from selectolax.lexbor import LexborHTMLParser

    if page_bytes is None:
        if not path or not os.path.exists(path):
            return ""
        with open(path, "rb") as handle:
            page_bytes = handle.read()
    tree = LexborHTMLParser(page_bytes.decode("utf-8", errors="replace"))
    node = tree.body or tree.root
    return _squash(node.text(separator=" ") if node is not None else "")


def _squash(text: str) -> str:
    """Collapse whitespace, and the spaces that joining text nodes puts before ',' or inside brackets."""
    text = " ".join(text.replace("\xa0", " ").replace("\u2011", "-").split())
    text = re.sub(r"\s+([,.;:)\]])", r"\1", text)
    return re.sub(r"([(\[])\s+", r"\1", text)


def _quote_on_page(quote: str, path: str, page_bytes: bytes | None) -> bool:
    return bool(quote) and _squash(quote) in _page_text(path, page_bytes)


def _source_key(field: str) -> str:
    return {"birth_country": "birth_place"}.get(field, field)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def evaluate_extraction(
    workspace,
    reference_tsv: str | os.PathLike[str],
    *,
    pages: str | os.PathLike[str] | None = None,
    extracted: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    judgements: str | os.PathLike[str] | None | bool = None,
) -> dict:
    """Run :func:`evaluate` as ``d2a demographics evaluate`` does, with a workspace's extraction by default.

    With ``pages`` the pages are extracted (or ``extracted`` records reused) and compared; with
    neither, the records in ``WORKSPACE/demographics/json`` are compared, and judgement quotes are
    checked on the workspace's imported pages where it contains them.
    """
    from .workspace_io import JSON_DIR

    if pages is not None:
        pages = check_pages_dir(pages)
        records = load_extracted_records(extracted) if extracted else None
        return evaluate(pages, reference_tsv, extracted=records, limit=limit, judgements=judgements)
    if extracted is None:
        if not workspace.storage.exists(JSON_DIR):
            raise MissingFileError(
                f"no extraction in {workspace.url}/{JSON_DIR}; run 'd2a demographics extract -w {workspace.url}' "
                "first or pass --pages with a folder of saved pages"
            )
        extracted = workspace.storage.local_path(JSON_DIR)
        records = load_extracted_records(extracted)
        if not records:
            raise MissingFileError(
                f"{workspace.url}/{JSON_DIR} contains no extracted records; run 'd2a demographics extract -w {workspace.url}' "
                "first or pass --pages with a folder of saved pages"
            )
    else:
        records = load_extracted_records(extracted)
    html = workspace.storage.local_path("bios/html")
    pages_dir = html if os.path.isdir(html) and os.listdir(html) else None
    return evaluate(pages_dir, reference_tsv, extracted=records, limit=limit, judgements=judgements)

