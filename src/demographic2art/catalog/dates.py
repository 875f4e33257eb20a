"""Parse the catalog's date strings and settle two-digit centuries with a record's other dates.

Conventions used by every ``year`` column of the catalog:

* ``year`` uses historical numbering: 900 BC is ``-900`` and there is no year 0.
  ``astronomical_year`` is the ISO 8601 value beside it (900 BC is ``-899``, 1 BC is ``0``),
  for arithmetic across the era boundary.
* ``year`` is the start of the period and ``end_year`` its end (inclusive) for ranges
  (``c.1802-1805``), decades (``1860s`` gives 1860-1869) and centuries (``18th century``
  gives 1701-1800, ``5th century BC`` gives -500 to -401). ``end_year`` is null for a single date.
* A part the text does not state is null; nothing is taken from today's date.
* A two-digit year (``24-Jan-74``, ``1/24/74``, ``24.01.74``) takes the latest century that
  does not put it after :data:`CATALOG_YEAR` and is flagged ``century_inferred`` and
  ``century_ambiguous``; :func:`resolve_record_dates` then checks it against the record's
  other dates. A bare number (``50``, ``800``) is always a full year.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Precision = Literal["day", "month", "year", "decade", "century"]
Era = Literal["BCE", "CE"]

CATALOG_YEAR = 2025
"""Year the WikiArt tables were scraped (January 2025); no two-digit year is put after it."""

MAX_LIFESPAN_YEARS = 110
"""Maximum life span, in years, accepted when checking a century."""

MIN_AGE_AT_FIRST_WORK = 5
"""A dated work is accepted from this many years after the artist's birth."""

MAX_YEARS_AFTER_DEATH = 1
"""A dated work is accepted up to this many years after the artist's death."""

CENTURIES_CHECKED = 4
"""Number of centuries tried for a two-digit year, counting back from the latest allowed one."""

_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
}
_MONTHS["sept"] = 9
_MONTH = r"(?P<month_name>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{1,4})"

# Full-date forms, tried in order on text without approximation or era marks.
_DAY_FORMS = [
    re.compile(rf"^(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-{_DAY}$"),
    re.compile(rf"^{_MONTH}\s*{_DAY},?\s+{_YEAR}$"),
    re.compile(rf"^{_DAY}\s+{_MONTH},?\s+{_YEAR}$"),
]
# Compact forms whose year may have two digits; the century is then inferred.
_SHORT_FORMS = [
    ("dmy", re.compile(rf"^{_DAY}[-/. ]{_MONTH}[-/. ](?P<year>\d{{2}}|\d{{4}})$")),
    ("mdy", re.compile(r"^(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{2}|\d{4})$")),
    ("dmy", re.compile(r"^(?P<first>\d{1,2})[.-](?P<second>\d{1,2})[.-](?P<year>\d{2}|\d{4})$")),
]
_MONTH_FORMS = [
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$"),
    re.compile(rf"^{_MONTH},?\s+{_YEAR}$"),
]
_YEAR_FORM = re.compile(r"^(?P<year>\d{1,4})$")
_DECADE_FORM = re.compile(r"^(?P<year>\d{1,3}0)'?s$")
_CENTURY_FORM = re.compile(r"^(?P<century>\d{1,2})(?:st|nd|rd|th)?\s*(?:century|cent\.?|c\.)$")

# A bare 'c' or 'ca' counts only before a digit, so 'CE 1802' is an era, not 'c.'.
_APPROXIMATE = re.compile(
    r"^(?:circa|approx\.?|about|cca\.?|ca\.|c\.|(?:ca|c)(?=\s*\d)|~)\s*", re.IGNORECASE
)
_ERA = re.compile(
    r"(?<![a-z])(?P<era>b\.?\s?c\.?\s?e\.?|b\.?\s?c\.?|a\.?\s?d\.?|c\.?\s?e\.?)(?![a-z])",
    re.IGNORECASE,
)
_RANGE = re.compile(r"^(?P<start>.+?)\s*(?:\s-\s|–|—|\bto\b|-)\s*(?P<end>.+)$")


@dataclass(frozen=True)
class ParsedDate:
    """A date string from the catalog, split into its stated parts.

    Every field is null (or ``False``) when the text does not state it; ``raw`` always
    keeps the text as given. See the module docstring for the year conventions.
    """

    raw: str = ""
    year: int | None = None
    month: int | None = None
    day: int | None = None
    precision: Precision | None = None
    approximate: bool = False
    era: Era | None = None
    astronomical_year: int | None = None
    end_year: int | None = None
    century_inferred: bool = False
    century_ambiguous: bool = False

    @property
    def parsed(self) -> bool:
        """Whether the text gave a year."""
        return self.year is not None

    @property
    def iso(self) -> str | None:
        """The ISO 8601 form (astronomical year, so 900 BC is ``-0899``) to the stated precision."""
        if self.astronomical_year is None:
            return None
        sign = "-" if self.astronomical_year < 0 else ""
        text = f"{sign}{abs(self.astronomical_year):04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
            if self.day is not None:
                text += f"-{self.day:02d}"
        return text

    def with_year(self, year: int, *, century_ambiguous: bool) -> "ParsedDate":
        """Return a copy moved to ``year`` (same month and day), with the ambiguity flag set."""
        return dataclasses.replace(
            self,
            year=year,
            astronomical_year=to_astronomical(year),
            century_ambiguous=century_ambiguous,
        )


def to_astronomical(year: int) -> int:
    """Convert a historical year (no year 0, 1 BC is -1) to its astronomical number (1 BC is 0)."""
    return year + 1 if year < 0 else year


def parse_date(text: object) -> ParsedDate:
    """Parse one catalog date string; unparseable or empty text gives a result with only ``raw``.

    Never raises: the caller tells parsed from unparseable dates with ``result.parsed``.
    """
    raw = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    cleaned = _normalise_text(raw)
    if not cleaned:
        return ParsedDate(raw=raw)
    approximate = False
    if cleaned.endswith("?"):
        approximate = True
        cleaned = cleaned.rstrip("?").strip()
    side = _parse_side(cleaned)
    if side is not None:
        return _finish(raw, side, approximate=approximate)
    match = _RANGE.match(cleaned)
    if match is None:
        return ParsedDate(raw=raw)
    start = _parse_side(match["start"])
    end = _parse_side(match["end"])
    if start is None or end is None:
        return ParsedDate(raw=raw)
    start, end = _share_era(start, end)
    start_year = start["year"]
    end_year = end.get("end_year", end["year"])
    if end_year < start_year:
        return ParsedDate(raw=raw)
    start["end_year"] = end_year
    start["approximate"] = start["approximate"] or end["approximate"]
    start["century_inferred"] = start["century_inferred"] or end["century_inferred"]
    return _finish(raw, start, approximate=approximate)


def _normalise_text(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def _finish(raw: str, side: dict, *, approximate: bool) -> ParsedDate:
    year = side["year"]
    return ParsedDate(
        raw=raw,
        year=year,
        month=side.get("month"),
        day=side.get("day"),
        precision=side["precision"],
        approximate=side["approximate"] or approximate,
        era=side.get("era"),
        astronomical_year=to_astronomical(year),
        end_year=side.get("end_year"),
        century_inferred=side["century_inferred"],
        century_ambiguous=side["century_inferred"],
    )


def _share_era(start: dict, end: dict) -> tuple[dict, dict]:
    """Apply an era written on one side of a range to the other side ('700-480 BC')."""
    if start.get("era") is None and end.get("era") == "BCE":
        start = _to_bce(start)
        start["era"] = "BCE"
    elif end.get("era") is None and start.get("era") == "BCE":
        end = _to_bce(end)
        end["era"] = "BCE"
    return start, end


def _to_bce(side: dict) -> dict:
    side = dict(side)
    year, end_year = side["year"], side.get("end_year")
    if end_year is None:
        side["year"] = -year
    else:
        side["year"], side["end_year"] = -end_year, -year
    return side


def _parse_side(text: str) -> dict | None:
    """Parse one date (no range): approximation mark, era mark and the date itself."""
    text = text.strip()
    approximate = False
    match = _APPROXIMATE.match(text)
    if match:
        approximate = True
        text = text[match.end():]
    era = None
    eras = list(_ERA.finditer(text))
    if len(eras) == 1:
        mark = re.sub(r"[\s.]", "", eras[0]["era"]).upper()
        era = "BCE" if mark.startswith("B") else "CE"
        text = (text[: eras[0].start()] + " " + text[eras[0].end():]).strip()
    elif len(eras) > 1:
        return None
    match = _APPROXIMATE.match(text)
    if match:
        approximate = True
        text = text[match.end():]
    parts = _parse_plain(text.strip())
    if parts is None:
        return None
    parts["approximate"] = approximate
    if era is not None:
        if parts["century_inferred"] or parts["year"] == 0:
            return None
        parts = _to_bce(parts) if era == "BCE" else parts
        parts["era"] = era
    elif parts["year"] == 0:
        return None
    return parts


def _parse_plain(text: str) -> dict | None:
    """Parse a date without approximation or era marks into a dict of its parts."""
    lowered = text.lower()
    for pattern in _DAY_FORMS:
        match = pattern.match(lowered)
        if match:
            return _day_parts(int(match["year"]), _month_of(match), int(match["day"]), False)
    for order, pattern in _SHORT_FORMS:
        match = pattern.match(lowered)
        if match:
            return _short_parts(order, match)
    for pattern in _MONTH_FORMS:
        match = pattern.match(lowered)
        if match:
            month = _month_of(match)
            if not 1 <= month <= 12:
                return None
            return _parts(int(match["year"]), "month", month=month)
    match = _YEAR_FORM.match(lowered)
    if match:
        return _parts(int(match["year"]), "year")
    match = _DECADE_FORM.match(lowered)
    if match:
        start = int(match["year"])
        if start % 100 == 0 and start >= 100:
            return _parts(start, "century", end_year=start + 99)
        return _parts(start, "decade", end_year=start + 9)
    match = _CENTURY_FORM.match(lowered)
    if match and int(match["century"]) >= 1:
        century = int(match["century"])
        return _parts((century - 1) * 100 + 1, "century", end_year=century * 100)
    return None


def _month_of(match: re.Match) -> int:
    if match.groupdict().get("month_name"):
        return _MONTHS[match["month_name"]]
    return int(match["month"])


def _parts(year: int, precision: Precision, **extra) -> dict:
    return {"year": year, "precision": precision, "century_inferred": False, **extra}


def _day_parts(year: int, month: int, day: int, century_inferred: bool) -> dict | None:
    if not 1 <= month <= 12 or year == 0:
        return None
    # Leap years follow the proleptic Gregorian calendar, which is what the catalog uses.
    if not 1 <= day <= calendar.monthrange(max(year, 1), month)[1]:
        return None
    return _parts(year, "day", month=month, day=day) | {"century_inferred": century_inferred}


def _short_parts(order: str, match: re.Match) -> dict | None:
    year_text = match["year"]
    if match.groupdict().get("month_name"):
        month, day = _MONTHS[match["month_name"]], int(match["day"])
    else:
        first, second = int(match["first"]), int(match["second"])
        if order == "mdy":
            # US order unless the first number cannot be a month ('24/1/74').
            month, day = (second, first) if first > 12 >= second else (first, second)
        else:
            day, month = first, second
    if len(year_text) == 4:
        return _day_parts(int(year_text), month, day, False)
    return _day_parts(latest_century_year(int(year_text)), month, day, True)


def latest_century_year(two_digits: int) -> int:
    """Return the latest year ending in ``two_digits`` that is not after :data:`CATALOG_YEAR`."""
    year = (CATALOG_YEAR // 100) * 100 + two_digits
    return year if year <= CATALOG_YEAR else year - 100


def resolve_record_dates(
    birth: ParsedDate,
    death: ParsedDate,
    artwork_years: Iterable[int | None] = (),
) -> tuple[ParsedDate, ParsedDate]:
    """Correct inferred centuries of a birth and death date using the record's other dates.

    A combination of centuries fits when death is not before birth, the life lasts at
    most :data:`MAX_LIFESPAN_YEARS`, and every dated work lies between birth +
    :data:`MIN_AGE_AT_FIRST_WORK` and death + :data:`MAX_YEARS_AFTER_DEATH` (or within
    a maximal life span of the birth when there is no death date). The latest fitting
    combination is taken; a date's ``century_ambiguous`` flag is cleared only when
    exactly one century fits it. When nothing fits, both dates are returned unchanged.
    """
    years = [year for year in artwork_years if year is not None]
    first_work = min(years) if years else None
    last_work = max(years) if years else None
    fitting = [
        (birth_year, death_year)
        for birth_year in _candidates(birth)
        for death_year in _candidates(death)
        if _fits(birth_year, death_year, first_work, last_work)
    ]
    if not fitting:
        return birth, death
    birth_year, death_year = max(fitting, key=lambda pair: (pair[0] or 0, pair[1] or 0))
    if birth.century_inferred:
        ambiguous = len({pair[0] for pair in fitting}) > 1
        birth = birth.with_year(birth_year, century_ambiguous=ambiguous)
    if death.century_inferred:
        ambiguous = len({pair[1] for pair in fitting}) > 1
        death = death.with_year(death_year, century_ambiguous=ambiguous)
    return birth, death


def _candidates(date: ParsedDate) -> list[int | None]:
    if date.year is None:
        return [None]
    if not date.century_inferred:
        return [date.year]
    return [date.year - 100 * step for step in range(CENTURIES_CHECKED)]


def _fits(
    birth: int | None, death: int | None, first_work: int | None, last_work: int | None
) -> bool:
    if birth is not None and death is not None:
        if death < birth or death - birth > MAX_LIFESPAN_YEARS:
            return False
    if first_work is None:
        return True
    if birth is not None:
        if first_work < birth + MIN_AGE_AT_FIRST_WORK:
            return False
        if death is None and last_work > birth + MAX_LIFESPAN_YEARS:
            return False
    if death is not None:
        if last_work > death + MAX_YEARS_AFTER_DEATH:
            return False
        if birth is None and first_work < death - MAX_LIFESPAN_YEARS + MIN_AGE_AT_FIRST_WORK:
            return False
    return True
