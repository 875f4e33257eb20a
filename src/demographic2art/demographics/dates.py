"""Reading dates and years from infobox cells and lead sentences in the languages of the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS: dict[str, int] = {}
_MONTH_NAMES = {
    # English, German, French, Spanish, Italian, Portuguese, Dutch, Romanian, Swedish/Norwegian.
    1: "january jan januar janvier enero gennaio janeiro januari ianuarie",
    2: "february feb februar février fevrier febrero febbraio fevereiro februari februarie",
    3: "march mar märz mars marzo março maart martie",
    4: "april apr avril abril aprile aprilie",
    5: "may mai mayo maggio maio mei",
    6: "june jun juni juin junio giugno junho iunie",
    7: "july jul juli juillet julio luglio julho iulie",
    8: "august aug août aout agosto augustus",
    9: "september sep sept septembre septiembre setiembre settembre setembro septembrie",
    10: "october oct oktober octobre octubre ottobre outubro octombrie",
    11: "november nov novembre noviembre novembro noiembrie",
    12: "december dec dezember décembre decembre diciembre dicembre dezembro decembrie",
}
_SLAVIC_MONTHS = {
    # Russian and Bulgarian/Ukrainian genitive forms, Polish genitive forms, Czech/Croatian forms.
    1: "января січня януари stycznia ledna siječnja", 2: "февраля лютого февруари lutego února veljače",
    3: "марта березня март marca března ožujka", 4: "апреля квітня април kwietnia dubna travnja",
    5: "мая травня май maja května svibnja", 6: "июня червня юни czerwca června lipnja",
    7: "июля липня юли lipca července srpnja", 8: "августа серпня август sierpnia srpna kolovoza",
    9: "сентября вересня септември września září rujna", 10: "октября жовтня октомври października října listopada",
    11: "ноября листопада ноември listopada listopadu studenoga", 12: "декабря грудня декември grudnia prosince prosinca",
}
for number, names in list(_MONTH_NAMES.items()) + list(_SLAVIC_MONTHS.items()):
    for name in names.split():
        MONTHS.setdefault(name, number)

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_BRACKETS = re.compile(r"\[[^\]]*\]")
_AGE_LOOSE = re.compile(r"\(\s*(?:aged?|age)\s*\d{1,3}\s*\)|\(\d{1,3}\s*(?:ans|años|anni|anos|лет|года?|jahre|years)\)", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_BC = r"(?:BC|B\.C\.|BCE|B\.C\.E\.|av\.\s*J\.-C\.|a\.\s*C\.|v\.\s*Chr\.|до н\.\s*э\.)"
_APPROX = re.compile(r"\b(?:c\.|ca\.|circa|cca\.?|um|vers|hacia|verso|около|approx\.?|approximately)\s*$|~\s*$", re.IGNORECASE)
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:er|\.|º|°)?\s+(?:de\s+)?({_MONTH_ALT})\.?,?\s+(?:de\s+)?(\d{{1,4}})(?!\d)", re.IGNORECASE
)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}}),?\s+(\d{{1,4}})(?!\d)", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_ALT})\.?\s+(?:de\s+)?(\d{{3,4}})(?!\d)", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\d.,])(\d{1,4})(?![\d])")
_UNCERTAIN_AFTER = re.compile(r"\s*\?|s\b|\s*(?:or|ou|oder|o|/|–|—)\s*\d{2,4}(?!\d)", re.IGNORECASE)


@dataclass
class DateReading:
    """One date read from text: ISO date when the day is known, year (BC negative), approximate flag."""

    date: str | None
    year: int | None
    approximate: bool
    quote: str


def clean_date_text(text: str) -> str:
    """Drop footnote markers, '[O.S. ...]' brackets and '(aged N)' notes from a date text."""
    text = _BRACKETS.sub(" ", text.replace("\xa0", " "))
    text = re.sub(r"\(\s*O\.S\.[^)]*\)", " ", text)
    text = _AGE_LOOSE.sub(" ", text)
    return " ".join(text.split())


def parse_date(text: str, *, allow_bare_year: bool = True) -> DateReading | None:
    """Return the first date in ``text`` (day-month-year, month-day-year, month-year or a year).

    A hidden ISO date (``1887-07-28``) wins over the visible text. 'c.', 'circa' and similar
    mark the value approximate; 'BC' makes the year negative. Ages in brackets are removed first,
    so '(aged 73)' is never read as a year.
    """
    if not text:
        return None
    iso = _ISO.search(text)
    cleaned = clean_date_text(text)
    bc = re.search(_BC, cleaned) is not None
    if iso:
        year, month, day = (int(g) for g in iso.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            approx = bool(re.search(r"\b(?:c\.|circa|ca\.)", cleaned[: cleaned.find(iso.group(0))] if iso.group(0) in cleaned else ""))
            return DateReading(f"{year:04d}-{month:02d}-{day:02d}", year, approx, iso.group(0))
    for pattern, order in ((_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy")):
        match = pattern.search(cleaned)
        if match:
            if order == "dmy":
                day, month, year = int(match.group(1)), MONTHS[match.group(2).lower()], int(match.group(3))
            else:
                month, day, year = MONTHS[match.group(1).lower()], int(match.group(2)), int(match.group(3))
            if 1 <= day <= 31 and year > 31:
                approx = bool(_APPROX.search(cleaned[: match.start()]))
                if bc:
                    return DateReading(None, -year, approx, match.group(0))
                return DateReading(f"{year:04d}-{month:02d}-{day:02d}", year, approx, match.group(0))
    match = _MONTH_YEAR.search(cleaned)
    if match:
        year = int(match.group(2))
        approx = bool(_APPROX.search(cleaned[: match.start()]))
        return DateReading(None, -year if bc else year, approx, match.group(0))
    if not allow_bare_year:
        return None
    for match in _YEAR.finditer(cleaned):
        year = int(match.group(1))
        if year == 0 or (year < 100 and not bc):
            continue
        before = cleaned[: match.start()]
        if re.search(r"\b(?:fl\.|floruit|active|actif|activo|attivo)\s*$", before, re.IGNORECASE):
            return None
        # '1580?', a decade such as 'the 1580s' and two candidate years ('1761 or 1762', '1715–1725')
        # are approximate; the first year is kept.
        approx = bool(_APPROX.search(before)) or bool(_UNCERTAIN_AFTER.match(cleaned[match.end():]))
        return DateReading(None, -year if bc else year, approx, match.group(0))
    return None
