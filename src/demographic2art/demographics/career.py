"""Education, affiliations, residences and interactions read offline from one biography page.

Sources: the infobox's education, alma mater, training and movement rows, and English body
sentences such as "studied at the Académie Julian", "entered the Imperial Academy of Arts in
1871", "member of the Skagen group", "moved to Paris in 1890", "settled in Munich",
"studied under Gustave Moreau" and "a friend of Paul Gauguin". The patterns favour precision
over recall: a school must carry an institution word, a place must resolve to a country, and a
person's name must be at least two capitalised words. Each item records its source and the page
text it was read from; a year is kept only when the matched phrase gives one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from selectolax.lexbor import LexborNode as Node

from .countries import place_country
from .gazetteer import town_country
from .schema import Affiliation, Demographics, Education, Interaction, Place, Residence

MAX_PARAGRAPHS = 40
"""Body paragraphs read per page; long articles keep their career facts near the top."""

_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’.\-]*"
_LINK = r"(?:of|de|des|du|der|für|di|del|della|the|and|&|d'|van|von|la|le|of the|des Beaux)"
_NAME = rf"{_WORD}(?:\s+(?:{_LINK}\s+)?{_WORD}){{0,6}}"
_PERSON = rf"{_WORD}(?:\s+(?:(?:de|van|von|der|da|di|le|la|van der|van den)\s+)?{_WORD}){{1,3}}"
_YEAR = r"(?:in|from|c\.|around)\s+(?P<year>1[0-9]{3}|20[0-9]{2})"
_INSTITUTION = re.compile(
    r"\b(?:Acad[eé]m\w*|Akademi\w*|Accademia|Academia|School|Schule|College|University|Universit\w+|Institute|"
    r"Institut\w*|Conservatory|Conservatoire|[EÉ]cole|Art Students League|Kunstgewerbeschule|Polytechnic|"
    r"Lyc[eé]e|Gymnasium|Bauhaus|Slade|Atelier|Seminary)\b"
)

_EDUCATION = re.compile(
    rf"\b(?:studied|trained|enrolled|studying|training|educated|entered|attended|admitted to)\s+"
    rf"(?:(?:art|painting|sculpture|architecture)\s+)?(?:at|in)?\s*(?:the\s+)?(?P<school>{_NAME})(?:\s+{_YEAR})?"
)
_TEACHER = re.compile(
    rf"\b(?:studied|trained|worked|apprenticed)\s+(?:under|with|to)\s+(?:the\s+(?:painter|sculptor|artist)\s+)?"
    rf"(?P<name>{_PERSON})|\b(?:a\s+)?(?:pupil|student|apprentice)\s+of\s+(?:the\s+(?:painter|sculptor)\s+)?(?P<name2>{_PERSON})"
)
_FRIEND = re.compile(
    rf"\b(?:a\s+)?(?:close\s+|lifelong\s+)?friend\s+of\s+(?:the\s+(?:painter|sculptor|poet|writer)\s+)?(?P<name>{_PERSON})"
    rf"|\bbefriended\s+(?:the\s+(?:painter|sculptor|poet|writer)\s+)?(?P<name2>{_PERSON})"
)
_RESIDENCE = re.compile(
    rf"\b(?P<verb>moved|relocated|emigrated|returned|settled|lived|visited|travell?ed)\s+(?:to|in|back to)?\s*"
    rf"(?P<place>{_WORD}(?:\s+{_WORD})?(?:,\s+{_WORD}(?:\s+{_WORD})?)?)(?:\s+{_YEAR})?"
)
_MEMBER = re.compile(
    rf"\b(?:founding\s+|active\s+|full\s+|honorary\s+)?member\s+of\s+(?:the\s+)?(?P<group>{_NAME})(?:\s+{_YEAR})?"
)
_SELF_TAUGHT = re.compile(r"self[- ]taught|autodidact", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])\.\s+(?=[A-Z])")
_TRAILING_LINK = re.compile(rf"(?:\s+{_LINK})+$")
_VISIT_VERBS = ("visited", "travelled", "traveled")
_GROUP_KINDS = (
    ("academy", re.compile(r"Acad[eé]m|Akademi|Accademia|Academia")),
    ("society", re.compile(r"Society|Soci[eé]t[eé]|Association|Union|Club|Guild|Verein|League")),
    ("institution", re.compile(r"Museum|Institute|University|College|School")),
)


def apply_career(record: Demographics, rows: Iterable[tuple[str, Node]], content: Node | None,
                 language: str, education_labels: Iterable[str], movement_labels: Iterable[str]) -> None:
    """Append the education, affiliation, residence and interaction items found on one page to ``record``."""
    education_labels, movement_labels = tuple(education_labels), tuple(movement_labels)
    for label, cell in rows:
        if any(name in label for name in education_labels):
            for item in _cell_texts(cell):
                if _SELF_TAUGHT.search(item):
                    continue
                if _INSTITUTION.search(item) or not re.fullmatch(_PERSON, item):
                    _add_education(record, item, None, "infobox", item)
                else:
                    # Training rows often name the teacher rather than a school.
                    _add_interaction(record, item, "pupil", "teacher", "infobox", item)
        elif any(name in label for name in movement_labels):
            for item in _cell_texts(cell):
                _add_affiliation(record, item, "movement", None, "infobox", item)
    if content is None or language != "en":
        return
    for paragraph in content.css("p")[:MAX_PARAGRAPHS]:
        text = re.sub(r"\[[^\]]*\]", "", paragraph.text(separator="", strip=False).replace("\xa0", " "))
        for sentence in _SENTENCE_END.split(" ".join(text.split())):
            _read_sentence(record, sentence)


def _cell_texts(cell: Node) -> list[str]:
    links = [a.text(strip=True) for a in cell.css("a")]
    items = [text for text in links if text and not text.startswith("[")]
    if not items:
        items = [line.strip() for line in cell.text(separator="\n").split("\n")]
    return [" ".join(item.split()) for item in items if len(item.strip()) > 2 and not item.strip().isdigit()]


def _read_sentence(record: Demographics, sentence: str) -> None:
    for match in _EDUCATION.finditer(sentence):
        school = _clean_name(match.group("school"))
        if _INSTITUTION.search(school):
            _add_education(record, school, _year(match), "body", match.group(0))
    for match in _TEACHER.finditer(sentence):
        name = _clean_name(match.group("name") or match.group("name2"))
        if not _INSTITUTION.search(name):
            _add_interaction(record, name, "pupil", "teacher", "body", match.group(0))
    for match in _FRIEND.finditer(sentence):
        name = _clean_name(match.group("name") or match.group("name2"))
        if not _INSTITUTION.search(name):
            _add_interaction(record, name, "friend", "friend", "body", match.group(0))
    for match in _RESIDENCE.finditer(sentence):
        place = _clean_name(match.group("place"))
        kind = "visit" if match.group("verb") in _VISIT_VERBS else "residence"
        _add_residence(record, place, kind, _year(match), match.group(0))
    for match in _MEMBER.finditer(sentence):
        group = _clean_name(match.group("group"))
        if len(group) > 3:
            _add_affiliation(record, group, _group_kind(group), _year(match), "body", match.group(0))


def _clean_name(text: str) -> str:
    return _TRAILING_LINK.sub("", text.strip(" ,;.'’"))


def _year(match: re.Match) -> int | None:
    year = match.groupdict().get("year")
    return int(year) if year else None


def _group_kind(group: str) -> str:
    for kind, pattern in _GROUP_KINDS:
        if pattern.search(group):
            return kind
    return "group"


def _add_education(record: Demographics, school: str, year: int | None, source: str, quote: str) -> None:
    if any(item.school == school for item in record.education_details):
        return
    record.education_details.append(Education(school=school, year=year, source=source, quote=quote))
    if school not in record.education:
        record.education.append(school)


def _add_affiliation(record: Demographics, group: str, kind: str, year: int | None, source: str, quote: str) -> None:
    if any(item.group == group for item in record.affiliations):
        return
    record.affiliations.append(Affiliation(group=group, kind=kind, start_year=year, source=source, quote=quote))
    if kind == "movement" and group not in record.movements:
        record.movements.append(group)


def _add_residence(record: Demographics, place_text: str, kind: str, year: int | None, quote: str) -> None:
    country, codes = place_country(place_text)
    if "," in place_text and not codes:
        # 'Paris, De Sá' is a town followed by the next clause, not 'town, country'.
        place_text = place_text.split(",")[0].strip()
    city = place_text.split(",")[0].strip()
    if not codes:
        code = town_country(city)
        codes = (code,) if code else ()
    if not codes:
        return
    if any(item.place.raw == place_text and item.start_year == year for item in record.residences):
        return
    place = Place(raw=place_text, city=None if city == country else city, country=country, country_code=codes[0])
    record.residences.append(Residence(place=place, kind=kind, start_year=year, source="body", quote=quote))


def _add_interaction(record: Demographics, name: str, artist_role: str, other_role: str, source: str, quote: str) -> None:
    if len(name.split()) < 2 or any(item.name == name for item in record.interactions):
        return
    record.interactions.append(
        Interaction(name=name, artist_role=artist_role, other_role=other_role, source=source, quote=quote)
    )
