"""Dates, places and page kinds read from wikitext (the ``wikitext`` of the MediaWiki ``parse`` response).

Date templates keep their values in positional parameters mixed with flags such as ``df=yes``
in any position: ``{{Birth date|1887|7|28|df=yes}}``, ``{{birth date and age|...}}``,
``{{bda|...}}``, ``{{Death date and age|1961|2|4|1887|7|28}}`` (death first), ``{{dda|...}}``,
``{{Birth year and age|1950}}``, ``{{circa|1500}}``. The Old Style templates give the New
Style (Gregorian) date first: ``{{OldStyleDate|14 March|1871|2 March}}``,
``{{OldStyleDateDY|11 January|1709|1708}}`` and ``{{OldStyleDateNY|12 January 1701|1 January 1700}}``.
"""

from __future__ import annotations

import re

from .dates import DateReading, parse_date
from .gazetteer import present_day_country
from .schema import Demographics, Nationality, Place
from .countries import nationality_codes

_TEMPLATE = re.compile(r"\{\{\s*([^{}|]+?)\s*(\|[^{}]*)?\}\}")
_LINK = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]|]*)\]\]")
_DATE_TEMPLATES = {
    "birth date", "birth date and age", "bda", "birth-date", "birth date and age2", "death date", "death date and age",
    "dda", "death-date", "start date", "end date",
}
_YEAR_TEMPLATES = {"birth year", "birth year and age", "death year", "death year and age", "circa", "c.", "floruit", "fl."}
_OLD_STYLE = {"oldstyledate", "oldstyledatedy", "oldstyledateny", "os", "o.s."}
_DISAMBIGUATION = re.compile(
    r"\{\{\s*(?:disambiguation|disambig|dab|hndis|human name disambiguation|surname|given name|set index article|"
    r"geodis|place name disambiguation)\s*(?:\||\}\})",
    re.IGNORECASE,
)


def template_params(argument_text: str | None) -> tuple[list[str], dict[str, str]]:
    """Split a template's ``|a|b|df=yes`` text into positional and named parameters."""
    positional: list[str] = []
    named: dict[str, str] = {}
    for piece in (argument_text or "").split("|")[1:]:
        key, sep, value = piece.partition("=")
        if sep and re.fullmatch(r"\s*[A-Za-z_][\w -]*\s*", key):
            named[key.strip().lower()] = value.strip()
        else:
            positional.append(piece.strip())
    return positional, named


def parse_date_template(text: str) -> DateReading | None:
    """Return the first date a wikitext value gives through a date template, or None.

    Plain text without a template is read with :func:`parse_date` after links are unwrapped.
    """
    for match in _TEMPLATE.finditer(text or ""):
        name = match.group(1).strip().lower()
        positional, _ = template_params(match.group(2))
        numbers = [p for p in positional if p]
        if name in _DATE_TEMPLATES and numbers and numbers[0].lstrip("-").isdigit():
            return _ymd(numbers[:3], match.group(0))
        if name in _YEAR_TEMPLATES and numbers:
            year_match = re.search(r"-?\d{1,4}", numbers[0])
            if year_match:
                year = int(year_match.group(0))
                approximate = name in ("circa", "c.")
                if name in ("floruit", "fl."):
                    return None
                return DateReading(None, year, approximate, match.group(0))
        if name in _OLD_STYLE and numbers:
            new_style = numbers[0] if name == "oldstyledateny" else f"{numbers[0]} {numbers[1] if len(numbers) > 1 else ''}"
            reading = parse_date(new_style)
            if reading is not None:
                return DateReading(reading.date, reading.year, reading.approximate, match.group(0))
    plain = _TEMPLATE.sub(" ", _LINK.sub(r"\1", text or ""))
    return parse_date(plain)


def _ymd(parts: list[str], quote: str) -> DateReading | None:
    try:
        values = [int(p) for p in parts]
    except ValueError:
        return None
    year = values[0]
    if len(values) == 3 and 1 <= values[1] <= 12 and 1 <= values[2] <= 31 and year > 0:
        return DateReading(f"{year:04d}-{values[1]:02d}-{values[2]:02d}", year, False, quote)
    return DateReading(None, year, False, quote)


def wikitext_is_disambiguation(wikitext: str) -> bool:
    """Return True when the wikitext carries a disambiguation or name-index template (with any parameters)."""
    return bool(_DISAMBIGUATION.search(wikitext or ""))


def infobox_params(wikitext: str) -> dict[str, str]:
    """Return the named parameters of the first ``{{Infobox ...}}`` template (nested templates kept as text)."""
    start = re.search(r"\{\{\s*Infobox", wikitext or "", re.IGNORECASE)
    if start is None:
        return {}
    depth, index, body = 0, start.start(), ""
    while index < len(wikitext):
        if wikitext.startswith("{{", index):
            depth += 1
            index += 2
            continue
        if wikitext.startswith("}}", index):
            depth -= 1
            index += 2
            if depth == 0:
                body = wikitext[start.start() + 2: index - 2]
                break
            continue
        index += 1
    params: dict[str, str] = {}
    pieces = split_top_level(body, "|", "{[", "}]")
    for piece in pieces[1:]:
        key, sep, value = piece.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip()
    return params


def split_top_level(text: str, separator: str, openers: str, closers: str) -> list[str]:
    """Split ``text`` at each ``separator`` that no bracket of ``openers``/``closers`` encloses.

    A closing bracket without its opening one is ignored, so splitting goes on after it.
    """
    pieces: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char in openers:
            depth += 1
        elif char in closers and depth > 0:
            depth -= 1
        if char == separator and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    return pieces


def plain_text(value: str) -> str:
    """Return wikitext with links unwrapped, templates and references removed."""
    value = re.sub(r"<ref[^>]*/>|<ref[^>]*>.*?</ref>", "", value or "", flags=re.DOTALL)
    value = _LINK.sub(r"\1", value)
    value = _TEMPLATE.sub("", value)
    return " ".join(re.sub(r"<[^>]+>", " ", value).split()).strip(" ,")


def extract_wikitext(wikitext: str, artist_key: str | None = None) -> Demographics:
    """Read birth, death, places and nationality from a page's wikitext infobox (source ``infobox``)."""
    if wikitext_is_disambiguation(wikitext):
        record = Demographics(artist_key=artist_key, page_kind="disambiguation", needs_review=True)
        record.review_reasons.append("disambiguation_page")
        return record
    record = Demographics(artist_key=artist_key, page_kind="biography")
    params = infobox_params(wikitext)
    for which in ("birth", "death"):
        reading = parse_date_template(params.get(f"{which}_date", ""))
        if reading is not None and reading.year is not None:
            event = getattr(record, which)
            event.year, event.date, event.approximate = reading.year, reading.date, reading.approximate
            record.sources[f"{which}_year"] = "infobox"
        place = plain_text(params.get(f"{which}_place", ""))
        if place:
            targets = [m.group(0)[2:].split("|")[0].rstrip("]") for m in _LINK.finditer(params.get(f"{which}_place", ""))]
            getattr(record, which).place = Place(raw=place, country_code=present_day_country(place, link_targets=targets), link_targets=targets)
            record.sources[f"{which}_place"] = "infobox"
    nationality = plain_text(params.get("nationality", "") or params.get("citizenship", ""))
    if nationality:
        record.nationality = Nationality(raw=nationality, codes=nationality_codes(nationality))
        record.sources["nationality"] = "infobox"
    return record
