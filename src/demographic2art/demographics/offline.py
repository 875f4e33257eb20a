"""Offline demographics: birth, death, gender and nationality read from one saved Wikipedia page.

Sources, in order of precedence: the infobox, the lead sentence, the categories, and (for
gender only) pronoun counts in the body. A lower source fills only what a higher one left
null; disagreements between sources on years are kept in ``conflicts`` and flag the record for
review. Pages that are not one person's biography are not extracted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from ..bios.triage import PageKind, first_paragraph_text, page_categories, triage_tree
from .countries import country_name, demonym_codes, nationality_codes, place_country, strict_demonym_codes
from .gazetteer import present_day_country, read_place_country, split_now_note
from .dates import DateReading, clean_date_text, parse_date
from .career import apply_career
from .schema import Conflict, Demographics, LifeEvent, Nationality, Place
from .wikitext import split_top_level

logger = logging.getLogger(__name__)

BIRTH_LABELS = (
    "born", "birth", "date of birth", "naissance", "nacimiento", "nascimento", "nascita", "geboren",
    "născut", "nascut", "data urodzenia", "data i miejsce urodzenia", "urodzony", "urodzona", "дата рождения",
    "рождение", "народження", "дата народження", "роден", "född", "født", "született", "narození", "rođenje",
    "rođen", "geboren op", "doğum", "doğum tarihi", "anadan olub", "დაბადების თარიღი", "роден", "родена",
    "出生", "生誕", "出生日期",
)
BIRTH_PLACE_LABELS = (
    "place of birth", "birthplace", "lieu de naissance", "lugar de nacimiento", "local de nascimento",
    "luogo di nascita", "место рождения", "місце народження", "geburtsort", "miejsce urodzenia", "locul nașterii",
)
DEATH_LABELS = (
    "died", "death", "date of death", "décès", "mort", "fallecimiento", "muerte", "defunción", "morte",
    "falecimento", "gestorben", "decedat", "deces", "data śmierci", "data i miejsce śmierci", "zmarł", "zmarła",
    "дата смерти", "смерть", "дата смерті", "починал", "död", "døde", "død", "elhunyt", "úmrtí", "smrt",
    "umro", "overleden", "ölüm", "ölüm tarihi", "починала", "逝世", "死没", "死亡", "逝世日期",
)
DEATH_PLACE_LABELS = (
    "place of death", "lieu de décès", "lieu de mort", "lugar de fallecimiento", "lugar de muerte",
    "local de morte", "luogo di morte", "место смерти", "місце смерті", "sterbeort", "miejsce śmierci",
)
NATIONALITY_LABELS = (
    "nationality", "citizenship", "nationalité", "citoyenneté", "nacionalidad", "nacionalidade", "nazionalità",
    "cittadinanza", "staatsangehörigkeit", "nationalität", "naționalitate", "cetățenie", "cetățenia",
    "narodowość", "obywatelstwo", "гражданство", "подданство", "громадянство", "громадянство/підданство",
    "страна", "країна", "nationaliteit", "nationalitet", "medborgarskap", "állampolgárság", "národnost",
    "državljanstvo", "vatandaşlık", "гражданство (подданство)", "állampolgársága", "националност",
    "國籍", "国籍",
)
EDUCATION_LABELS = ("education", "alma mater", "training", "formation", "educación", "formação", "ausbildung", "образование")
MOVEMENT_LABELS = ("movement", "mouvement", "movimiento", "movimento", "bewegung", "стиль", "curent", "style")

_LABEL_CLEAN = re.compile(r"[\s\xa0]+")
_NON_PLACE = re.compile(r"^\W*$|^\(?\s*(?:aged?|à|idade)\b|^\d+\s*(?:ans|años|anni|anos|лет)", re.IGNORECASE)
_REFERENCE = re.compile(r"<sup\b[^>]*>.*?</sup>|<span[^>]*display:\s*none[^>]*>.*?</span>", re.IGNORECASE | re.DOTALL)
_BR = re.compile(r"<br\s*/?>|</?(?:div|p|li)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def extract_page(html: str | bytes, artist_key: str | None = None) -> Demographics:
    """Extract the demographics of the artist a saved page describes, parsing the page once.

    Disambiguation, group, topic, non-Wikipedia and error pages are not extracted: every field
    stays null, ``page_kind`` records the kind and disambiguation candidates are listed with the
    record marked for review.
    """
    raw = html if isinstance(html, str) else html.decode("utf-8", errors="replace")
    tree = HTMLParser(raw)
    triage = triage_tree(tree, raw=raw)
    record = Demographics(
        artist_key=artist_key, page_kind=triage.kind.value, language=triage.language, wikidata_id=triage.wikidata_id
    )
    if not triage.is_biography:
        record.candidates = list(triage.candidates)
        if triage.kind == PageKind.disambiguation:
            record.needs_review = True
            record.review_reasons.append("disambiguation_page")
        return record

    categories = page_categories(tree)
    _drop_invisible_nodes(tree)
    content = tree.css_first("#mw-content-text") or tree.body
    lead = first_paragraph_text(content)
    language = triage.language or "en"

    rows = _infobox_rows(tree)
    _apply_infobox(record, rows)
    _apply_lead(record, lead, language)
    _apply_categories(record, categories)
    if record.gender is None:
        _apply_gender_from_text(record, content, lead, language)
    if record.birth.place.raw is None or record.birth.year is None:
        _apply_body_birth(record, content, lead)
    if record.birth.place.raw is None and record.birth.place.country_code is None:
        _apply_born_adjective(record, lead)
    _settle_countries(record)
    _check_years(record)
    apply_career(record, rows, content, language, EDUCATION_LABELS, MOVEMENT_LABELS)
    return record


def _drop_invisible_nodes(tree: HTMLParser) -> None:
    """Remove nodes whose text a reader never sees as article text, so no cell or paragraph reads it.

    These are ``<style>`` (TemplateStyles CSS inside infobox cells), ``<script>``, ``<noscript>``
    and the ``(d)``/``(en)`` notes with which French pages mark a link to Wikidata or to another
    language's article. Triage and the categories are read before this runs.
    """
    for node in tree.css("style, script, noscript"):
        node.decompose()
    for marker in tree.css(".indicateur-langue"):
        note = marker.parent
        while note is not None and note.tag not in ("small", "sup", "td", "th", "body"):
            note = note.parent
        if note is not None and note.tag in ("small", "sup"):
            note.decompose()
        elif marker.parent is not None and marker.parent.tag == "a":
            marker.parent.decompose()


def _settle_countries(record: Demographics) -> None:
    """Read place countries again with the nationality and the link targets known.

    A town found in several countries keeps its country only where it agrees with the
    nationality. For the birth place, that ambiguity and a gazetteer country that differs from
    the stated region or the nationality mark the record for review, with the reason (such as
    'birth_place_ambiguous').
    """
    prefer = tuple(record.nationality.codes)
    for which in ("birth", "death"):
        place = getattr(record, which).place
        if not place.raw:
            continue
        reading = read_place_country(place.raw, prefer, place.link_targets)
        if reading.code or reading.review:
            place.country_code = reading.code
        if reading.review and which == "birth":
            # Death places abroad are common and expected; only the birth country is flagged.
            reason = reading.review if reading.review.startswith("birth_") else f"birth_{reading.review}"
            if reason not in record.review_reasons:
                record.needs_review = True
                record.review_reasons.append(reason)


# Infobox ------------------------------------------------------------------------------------


def _infobox_rows(tree: HTMLParser) -> list[tuple[str, Node]]:
    box = tree.css_first("table.infobox, table.infobox_v2, .infobox_v3, table.infobox_v3, table.toccolours.vcard")
    if box is None:
        return []
    rows = []
    for row in box.css("tr"):
        header = row.css_first("th")
        data = row.css_first("td")
        if header is None or data is None:
            continue
        label = _LABEL_CLEAN.sub(" ", header.text(separator=" ", strip=True)).strip().lower().rstrip(":")
        rows.append((label, data))
    return rows


def _label_in(label: str, labels: Iterable[str]) -> bool:
    return label in labels


def _apply_infobox(record: Demographics, rows: list[tuple[str, Node]]) -> None:
    for label, cell in rows:
        if _label_in(label, BIRTH_LABELS) and record.birth.year is None:
            _fill_event(record, "birth", cell, "bday", "birthplace")
        elif _label_in(label, DEATH_LABELS) and record.death.year is None:
            _fill_event(record, "death", cell, "dday", "deathplace")
        elif _label_in(label, BIRTH_PLACE_LABELS) and record.birth.place.raw is None:
            _set_place(record, "birth", _cell_lines(cell)[0] if _cell_lines(cell) else None, "infobox")
        elif _label_in(label, DEATH_PLACE_LABELS) and record.death.place.raw is None:
            _set_place(record, "death", _cell_lines(cell)[0] if _cell_lines(cell) else None, "infobox")
        elif _label_in(label, NATIONALITY_LABELS) and record.nationality.raw is None:
            text = " ".join(_cell_lines(cell))
            codes = nationality_codes(text)
            if text and codes:
                record.nationality = Nationality(raw=text, codes=codes)
                record.sources["nationality"] = "infobox"
        elif _label_in(label, EDUCATION_LABELS):
            record.education.extend(_cell_items(cell))
        elif _label_in(label, MOVEMENT_LABELS):
            record.movements.extend(_cell_items(cell))


def _fill_event(record: Demographics, which: str, cell: Node, iso_class: str, place_class: str) -> None:
    hidden = cell.css_first(f".{iso_class}")
    lines = _cell_lines(cell)
    reading = parse_date(hidden.text(strip=True)) if hidden is not None else None
    # The hidden ISO span of a death cell sits in a display:none span next to the visible date.
    full_text = cell.text(separator=" ", strip=True)
    if reading is None:
        reading = parse_date(full_text)
    elif lines:
        # Where the hidden year and the year the page shows differ ('1938' shown, '1939' hidden), the shown one wins.
        shown = parse_date(lines[0])
        if shown is not None and shown.year is not None and reading.year is not None and shown.year != reading.year:
            if not re.search(r"\d{4}-\d{2}-\d{2}", lines[0]):
                reading = shown
    if reading is not None and reading.year is not None:
        _set_event(record, which, reading, "infobox")
    place_node = cell.css_first(f".{place_class}")
    if place_node is not None:
        place = " ".join(place_node.text(separator="", strip=False).split())
    else:
        place = _place_from_lines(lines, reading)
    if place and getattr(record, which).place.raw is None:
        _set_place(record, which, place, "infobox")
        if place_node is not None:
            getattr(record, which).place.link_targets = [
                a.attributes.get("title") or "" for a in place_node.css("a[title]")
            ]


def _cell_lines(cell: Node) -> list[str]:
    """Return the visible lines of a cell (split at <br> and block tags), without footnote markers."""
    html = _REFERENCE.sub("", cell.html or "")
    inner = re.sub(r"^<td[^>]*>|</td>$", "", html.strip(), flags=re.IGNORECASE)
    lines = []
    for piece in _BR.split(inner):
        text = HTMLParser(f"<p>{piece}</p>").text(separator="", strip=False) if "<" in piece or "&" in piece else piece
        text = " ".join(text.replace("\xa0", " ").split())
        if text:
            lines.append(text)
    return lines


def _cell_items(cell: Node) -> list[str]:
    items = [a.text(strip=True) for a in cell.css("a") if a.text(strip=True) and not a.text(strip=True).startswith("[")]
    return items or [line for line in _cell_lines(cell)]


def _place_from_lines(lines: list[str], reading: DateReading | None) -> str | None:
    for index, line in enumerate(lines):
        text = clean_date_text(line)
        if reading is not None and index == 0 and reading.quote:
            text = clean_date_text(text)
            # A line holding the date can still carry the place after it ('27 octobre 1913 Toulouse').
            after = re.split(r"\d{3,4}\)?", text)
            text = after[-1] if len(after) > 1 else ""
        text = re.sub(r"\(\s*\d{4}-\d{2}-\d{2}\s*\)", "", text)
        text = _trim_place(re.sub(r"\((?:aged?|à|idade)?\s*\d{1,3}[^)]*\)", "", text))
        if re.search(r"\d{3,4}", text):
            continue
        if text and not _NON_PLACE.match(text) and re.search(r"[^\W\d_]", text):
            return text
    return None


# Lead sentence -------------------------------------------------------------------------------

_PAREN_DASH = re.compile(r"\s*(?:–|—|−|‒|\s-\s|-(?=\s*(?:c\.|ca\.|\d))|(?<=\d)-(?=[A-Z][a-z]+\.? \d))\s*")
_BIRTH_MARK = re.compile(
    r"^(?:born|b\.|né|née|nato|nata|nacido|nacida|nascido|nascida|ur\.|\*|născut(?:ă)?(?: în| la)?|"
    r"родился|родилась|народився|народилася|geboren|geb\.|född|født|roden|рођен)\s*",
    re.IGNORECASE,
)
_DEATH_MARK = re.compile(
    r"^(?:died|d\.|mort|morte|morto|morta|fallecido|fallecida|falecido|falecida|zm\.|†|decedat(?:ă)?|"
    r"умер|умерла|помер|померла|gestorben|gest\.|död|død)\s*",
    re.IGNORECASE,
)
_YEAR_RANGE = re.compile(r"\d{3,4}[–—]\d{2,4}")
_SPACED_DASH = re.compile(r"\s+[–—]\s+")
_FLORUIT = re.compile(r"\b(?:fl\.|floruit|active|activ[eo]?|actif|attivo)\b", re.IGNORECASE)
# Leads without a parenthesis: French 'né le ...', Swedish 'född ...', Romanian 'n. ...', English 'born c. 1380'.
_FR_BIRTH = re.compile(
    r"(?:\bnée?|\bfödd|(?<![\w.])n\.|\bnăscut(?:ă)?|\bborn)\s+(?:le\s+|en\s+|vers\s+|den\s+|on\s+|in\s+)?"
    r"(.{0,40}?\d{3,4}(?:\s*av\.\s*J\.-C\.)?)",
    re.IGNORECASE,
)
_FR_DEATH = re.compile(
    r"(?:\bmorte?|\bdécédée?|\bdöd|(?<![\w.])d\.|\bdecedat(?:ă)?|\bdied)\s+(?:le\s+|en\s+|vers\s+|den\s+|on\s+|in\s+)?(.{0,40}?\d{3,4})",
    re.IGNORECASE,
)
_BARE_SPAN = re.compile(
    r",\s*((?:c\.|ca\.|circa)?\s*\d{3,4})\s*[–—-]\s*((?:c\.|ca\.|circa)?\s*\d{3,4})\s*,"
)
_PLACE_AFTER = re.compile(r"^\s*(?:,\s*)?(?:in|à|a|en|em|w|we|la|în|в|у|i)\s+([^\d;,()–—]+(?:,\s*[^\d;,()–—]+)?)")
# '(26 November 1876, Utrecht – 1958)': a capitalised place straight after the date and a comma.
_PLACE_AFTER_COMMA = re.compile(r"^\s*,\s*([A-ZÀ-ÞА-ЯЁІЄЇ][^\d;,()–—]*(?:,\s*[^\d;,()–—]+)?)")
_SLAVIC_COPULA = re.compile(r"\s[–—-]\s|(?<!\w)[еє](?!\w)")
_LEAD_COPULA = re.compile(
    r"\b(?:was|is|were|are|est|était|fut|es|fue|era|è|fu|é|foi|ist|war|este|a fost|był|była|jest|was een|is een|var|är|je|bio|bila)\b",
    re.IGNORECASE,
)


def _parentheses(lead: str, limit: int = 3) -> list[str]:
    """Return up to ``limit`` top-level parentheses of the lead, each opening within 250 characters of the last."""
    found = []
    offset = 0
    while len(found) < limit:
        paren = _first_parenthesis(lead[offset:])
        if paren is None:
            break
        found.append(paren)
        offset += lead[offset:].find(paren) + len(paren) + 1
    return found


def _first_parenthesis(lead: str) -> str | None:
    start = lead.find("(")
    if start < 0 or start > 250:
        return None
    end = _closing_paren(lead, start)
    return lead[start + 1 : end] if end > 0 else None


def _apply_lead(record: Demographics, lead: str, language: str) -> None:
    if not lead:
        return
    text = re.sub(r"\[[^\]]*\]", "", lead.replace("\xa0", " "))
    birth_text = death_text = paren = None
    for candidate in _parentheses(text):
        birth_text, death_text = _split_life_span(candidate)
        if birth_text is not None or death_text is not None:
            paren = candidate
            break
    if birth_text is None and death_text is None:
        born = _FR_BIRTH.search(text[:300])
        died = _FR_DEATH.search(text[:400])
        birth_text = born.group(1) if born else None
        death_text = died.group(1) if died else None
    if birth_text is None and death_text is None:
        # 'Giovanni Cimabue, c. 1240 – 1302, was ...': a life span between commas.
        span = _BARE_SPAN.search(text[:250])
        if span:
            birth_text, death_text = span.group(1), span.group(2)
    birth = parse_date(birth_text) if birth_text else None
    death = parse_date(death_text) if death_text else None
    if birth and death and death.year is not None and death.year < 0 and birth.year is not None and birth.year > 0:
        birth = DateReading(None, -birth.year, birth.approximate, birth.quote)
    if birth_text and death and death.year and birth is None and re.fullmatch(r"\s*(?:c\.\s*)?\d{1,2}\s*", birth_text):
        birth = None
    for which, reading, part in (("birth", birth, birth_text), ("death", death, death_text)):
        if reading is None or reading.year is None:
            continue
        event = getattr(record, which)
        if event.year is None:
            _set_event(record, which, reading, "lead")
        elif event.year != reading.year:
            record.conflicts.append(
                Conflict(field=f"{which}_year", kept=event.year, kept_source=record.sources.get(f"{which}_year", ""),
                         other=reading.year, other_source="lead")
            )
        if event.place.raw is None and part:
            place = _lead_place(part, reading)
            if place:
                _set_place(record, which, place, "lead")
    if record.nationality.raw is None:
        _lead_nationality(record, text, paren)


def _split_life_span(paren: str) -> tuple[str | None, str | None]:
    """Return the birth and death parts of a lead parenthesis such as '1840–1926' or 'born 1901'."""
    segments = [s.strip() for s in re.split(r";", paren) if s.strip()]
    dated = [s for s in segments if re.search(r"\d{3,4}|\d{1,4}\s*(?:BC|av)", s)]
    if not dated:
        return None, None
    born = next((s for s in dated if _BIRTH_MARK.match(s) and not _PAREN_DASH.search(s)), None)
    died = next((s for s in dated if _DEATH_MARK.match(s)), None)
    if born and died and born != died:
        # German leads write '(* 3. Mai 1902 in Köln; † 1977 in Bonn)': one segment per event.
        return _BIRTH_MARK.sub("", born), _DEATH_MARK.sub("", died)
    segment = next((s for s in dated if _PAREN_DASH.search(s) or _BIRTH_MARK.match(s) or _DEATH_MARK.match(s)), dated[-1])
    if _FLORUIT.search(segment) and not _BIRTH_MARK.match(segment):
        return None, None
    if re.match(r"r\.\s", segment):
        # 'r. 1501–1524' is a ruler's reign, not a life span.
        return None, None
    if _YEAR_RANGE.search(segment) and _SPACED_DASH.search(segment):
        # '1715–1725 – 1761 or 1762': the spaced dash separates birth and death, and the unspaced
        # one joins the two ends of an uncertain birth year.
        parts = _SPACED_DASH.split(segment, maxsplit=1)
    else:
        parts = _PAREN_DASH.split(segment, maxsplit=1)
    if len(parts) == 2:
        left, right = parts
        left = _BIRTH_MARK.sub("", left)
        right = _DEATH_MARK.sub("", right)
        # A bare day or number before the dash ('1840–26') is not a birth date on its own.
        if not re.search(r"\d", left):
            left = None
        elif re.fullmatch(r"\d{1,2}", right.strip()) and left:
            right = left[: -2] + right.strip() if re.search(r"\d{4}$", left.strip()) else None
        return left, right
    if _DEATH_MARK.match(segment):
        return None, _DEATH_MARK.sub("", segment)
    text = _BIRTH_MARK.sub("", segment)
    if "," in text and re.search(r"\b(?:zm\.|died|†)", text):
        # Polish leads write '(ur. 3 marca 1925 w Łucku, zm. 6 kwietnia 2004 w Warszawie)'.
        born, died = re.split(r",\s*(?:zm\.|died|†)\s*", text, maxsplit=1)
        return born, died
    if re.search(r";\s*†|\s†\s", text):
        born, died = re.split(r";?\s*†\s*", text, maxsplit=1)
        return born, died
    return text, None


def _lead_place(part: str, reading: DateReading) -> str | None:
    part = re.sub(r"\[[^\]]*\]", "", part)
    index = part.find(reading.quote) if reading.quote else -1
    if index < 0:
        return None
    before = part[:index].strip(" ,")
    after = part[index + len(reading.quote):]
    match = _PLACE_AFTER.match(after) or _PLACE_AFTER_COMMA.match(after)
    if match:
        candidate = match.group(1).strip(" ,")
        if candidate and re.search(r"[^\W\d_]", candidate):
            return candidate
    before = re.sub(r"^(?:c\.|ca\.|circa)\s*$", "", before).strip(" ,")
    if before and ":" not in before and re.search(r"[^\W\d_]{3,}", before) and len(before) < 60:
        if not re.search(r"\b(?:born|c\.|ca\.|circa|baptised|baptized)\b", before, re.IGNORECASE):
            return before
    return None


def _lead_nationality(record: Demographics, lead: str, paren: str | None) -> None:
    tail = lead.split(paren, 1)[1] if paren and paren in lead else lead
    match = _LEAD_COPULA.search(tail)
    if match is None and record.language not in (None, "en"):
        # Slavic leads link name and description with a dash or 'е' ('Tachev е български живописец').
        match = _SLAVIC_COPULA.search(tail)
    if match is None:
        return
    words = re.findall(r"[^\W\d_][\w'’.-]*", tail[match.end(): match.end() + 160])
    found: list[str] = []
    codes: set[str] = set()
    born_words: list[str] = []
    words = words[:14]
    skip_next = False
    for index, word in enumerate(words):
        if skip_next:
            skip_next = False
            continue
        pair = f"{word} {words[index + 1]}" if index + 1 < len(words) else ""
        pair_codes = strict_demonym_codes(pair) if pair and word[:1].isupper() else ()
        if pair_codes:
            # Two-word nationalities: 'Puerto Rican', 'South African', 'New Zealand'.
            found.append(pair)
            codes.update(pair_codes)
            skip_next = True
            continue
        if word.lower().endswith("-born") or word.lower().endswith("-based"):
            if word.lower().endswith("-born"):
                born_words.append(word)
            continue
        # Country names ('court painter of Prussia', 'based in New Jersey') are places, not nationalities.
        word_codes = strict_demonym_codes(word) or tuple(nationality_codes(word) if "-" in word else ())
        if word_codes and (word[0].isupper() or record.language not in (None, "en")):
            found.append(word)
            codes.update(word_codes)
        elif found and word.lower() not in (
            "and", "et", "y", "e", "und", "şi", "și", "i", "then", "later", "naturalized", "naturalised",
        ):
            break
    if not found and born_words:
        # 'a French-born court painter' names no other nationality, so the birth country stands.
        for word in born_words:
            codes.update(demonym_codes(word[: -len("-born")]))
        found = [w for w in born_words if demonym_codes(w[: -len("-born")])]
    if found:
        record.nationality = Nationality(raw=" ".join(found), codes=sorted(codes))
        record.sources["nationality"] = "lead"


# Body text ------------------------------------------------------------------------------------

_MONTH_WORDS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
_PLACE_WORD = r"(?:St\.|Ste\.|Mt\.|[A-Z][\w'’-]*)"
_PLACE_NAME = rf"(?:the\s+)?{_PLACE_WORD}(?:(?:\s+|\s+(?:de|da|del|di|do|van|von|upon|sur|am|an|der|le|la|les|of)\s+)(?!{_MONTH_WORDS}){_PLACE_WORD})*"
_BODY_BIRTH_PLACE = re.compile(
    rf"(?<!-)\b[Bb]orn\b([^.;]{{0,80}}?)\b(?:in|at|on)\s+({_PLACE_NAME}(?:(?:,\s*|\s+in\s+){_PLACE_NAME}){{0,3}})"
)
# Between 'born' and the place: the bracket closing a life span, another verb or a new subject
# ('born 1973) is ... based in London', 'born in 1950 and lives in Rome', 'Born on 5 August 1934,
# he took part in ...') means the place is not the birth place.
_NOT_BIRTH_GAP = re.compile(
    r"\d\s*\)|\b(?:based|lives|lived|living|works|worked|working|settled|resides|resided|residing|moved|"
    r"raised|grew|active|is|are|now|since|until|he|she|they)\b",
    re.IGNORECASE,
)
_BORN_ADJECTIVE = re.compile(r"\b([A-Z][\w'’.]+(?:[ -][A-Z][\w'’.]+)?)-born\b")
_RELATIVE = re.compile(r"\b(?:father|mother|brother|sister|wife|husband|son|daughter|parents|family)\b.{0,40}$", re.IGNORECASE)


def _apply_body_birth(record: Demographics, content: Node | None, lead: str = "") -> None:
    """Fill the birth year and place from the first 'X was born ... in PLACE' sentences of the body.

    Only birth phrases count ('was born in', 'Born at'). A place after 'based in', 'lives in' or
    'working in' is never read as the birth place.
    """
    if content is None:
        return
    # The lead opens with the artist's name, which 'Born in Paris, Pesne ...' would add to the place.
    name_words = set(re.findall(r"[^\W\d_]+", re.split(r"[(,]|\s(?:is|was)\s", lead[:80])[0]))
    for paragraph in content.css("p")[:15]:
        text = re.sub(r"\[[^\]]*\]", "", paragraph.text(separator="", strip=False).replace("\xa0", " "))
        if record.birth.year is None:
            _body_birth_year(record, text)
        if record.birth.place.raw is not None:
            continue
        for match in _BODY_BIRTH_PLACE.finditer(text):
            sentence_start = max(text.rfind(". ", 0, match.start()), 0)
            if _RELATIVE.search(text[sentence_start: match.start() + 12]):
                continue
            gap = match.group(1).strip()
            if gap not in ("and raised", "and brought up") and _NOT_BIRTH_GAP.search(gap):
                continue
            place = re.sub(r"\s+in\s+", ", ", re.sub(r"^the\s+", "", match.group(2)))
            parts = place.split(", ")
            while len(parts) > 1 and set(parts[-1].split()) <= name_words:
                parts.pop()
            place = ", ".join(parts)
            if strict_demonym_codes(place):
                # 'Born in the Polish city of ...' names a nationality, not the place.
                continue
            _set_place(record, "birth", place, "body")
            break


def _apply_born_adjective(record: Demographics, lead: str) -> None:
    """Read 'a Prague-born Austrian painter' or 'a French-born painter' in the lead as the birth place."""
    match = _BORN_ADJECTIVE.search(lead[:400])
    if match is None:
        return
    word = match.group(1)
    codes = strict_demonym_codes(word)
    if len(codes) == 1:
        record.birth.place = Place(country=country_name(codes[0]), country_code=codes[0])
        record.sources["birth_place"] = "lead"
    elif not codes:
        _set_place(record, "birth", word, "lead")


_BODY_BIRTH_YEAR = re.compile(r"\b(?:was|were)\s+born\b([^.;]{0,80})")


def _body_birth_year(record: Demographics, text: str) -> None:
    for match in _BODY_BIRTH_YEAR.finditer(text):
        sentence_start = max(text.rfind(". ", 0, match.start()), 0)
        if _RELATIVE.search(text[sentence_start: match.start() + 12]):
            continue
        reading = parse_date(match.group(1))
        if reading is not None and reading.year is not None and reading.year > 0:
            _set_event(record, "birth", reading, "body")
            return


# Categories ------------------------------------------------------------------------------------

_BIRTH_CATEGORY = re.compile(r"^(\d{1,4})( BC)? births$|^(?:geboren|naissance en|nacidos en|nati nel|nascidos em|urodzeni w|родившиеся в|народились) (\d{3,4})\b", re.IGNORECASE)
_DEATH_CATEGORY = re.compile(r"^(\d{1,4})( BC)? deaths$|^(?:gestorben|décès en|fallecidos en|morti nel|mortos em|zmarli w|умершие в|померли) (\d{3,4})\b", re.IGNORECASE)
_OCCUPATION = (
    r"painters|artists|sculptors|printmakers|illustrators|photographers|engravers|draughtsmen|draftsmen|"
    r"designers|architects|muralists|watercolourists|watercolorists|ceramists|potters|cartoonists|"
    r"installation artists|video artists|performance artists|women artists|people|expatriates|emigrants"
)
_NATIONALITY_CATEGORY = re.compile(
    rf"^(?:\d{{1,2}}(?:st|nd|rd|th)-century )?((?:[A-Z][\w'-]+ ?){{1,3}}?) (?:(?:women|female|male|modern|contemporary|abstract|landscape|portrait|still life|genre|history|marine|religious|romantic|impressionist|expressionist|surrealist|symbolist|realist|academic|baroque|renaissance|court|war|avant-garde) )*(?:{_OCCUPATION})\b"
)


def _apply_categories(record: Demographics, categories: list[str]) -> None:
    for which, pattern in (("birth", _BIRTH_CATEGORY), ("death", _DEATH_CATEGORY)):
        for category in categories:
            match = pattern.match(category)
            if not match:
                continue
            year = int(match.group(1) or match.group(3))
            if match.group(2):
                year = -year
            event = getattr(record, which)
            if event.year is None:
                event.year = year
                record.sources[f"{which}_year"] = "categories"
            elif abs(event.year) != abs(year):
                record.conflicts.append(
                    Conflict(field=f"{which}_year", kept=event.year, kept_source=record.sources.get(f"{which}_year", ""),
                             other=year, other_source="categories")
                )
            break
    if record.gender is None:
        gender = _category_gender(categories)
        if gender:
            record.gender = gender
            record.sources["gender"] = "categories"
    if record.nationality.raw is None:
        words: list[str] = []
        codes: set[str] = set()
        for category in categories:
            match = _NATIONALITY_CATEGORY.match(category)
            if not match or re.search(r"\b(?:of|from|in|descent)\b", category):
                continue
            demonym = match.group(1).strip()
            found = nationality_codes(demonym)
            if found and demonym not in words:
                words.append(demonym)
                codes.update(found)
        if words:
            record.nationality = Nationality(raw=", ".join(words), codes=sorted(codes))
            record.sources["nationality"] = "categories"


def _category_gender(categories: list[str]) -> str | None:
    joined = " | ".join(categories).lower()
    if re.search(r"\bnon-binary\b|\bgenderqueer\b", joined):
        return "non-binary"
    female = re.search(r"\bwomen\b|\bfemale\b|\bfrauen?\b|\bfemmes?\b|\bmujeres\b|\bdonne\b|\bmulheres\b", joined)
    male = re.search(r"\bmale (?:painters|artists|sculptors|photographers|printmakers|writers|poets|composers|illustrators)\b|\bmännlich", joined)
    if female and not male:
        return "female"
    if male and not female:
        return "male"
    return None


# Gender from pronouns and grammatical gender ---------------------------------------------------

_PRONOUNS: dict[str, tuple[str, str]] = {
    "en": (r"\b(?:she|her|hers|herself)\b", r"\b(?:he|his|him|himself)\b"),
    "nl": (r"\b(?:zij|ze|haar)\b", r"\b(?:hij|zijn|hem)\b"),
    "sv": (r"\b(?:hon|henne|hennes)\b", r"\b(?:han|honom|hans)\b"),
    "no": (r"\b(?:hun|henne|hennes)\b", r"\b(?:han|ham|hans)\b"),
    "fr": (r"\b(?:elle|née|une peintre|une artiste|sculptrice|photographe française)\b", r"\b(?:il|né|un peintre|un artiste|sculpteur)\b"),
    "es": (r"\b(?:nacida|una pintora|pintora|escultora|artista española|ella)\b", r"\b(?:nacido|un pintor|pintor|escultor|él)\b"),
    "it": (r"\b(?:nata|pittrice|scultrice|è stata|una artista)\b", r"\b(?:nato|pittore|scultore|è stato|un artista)\b"),
    "pt": (r"\b(?:nascida|pintora|escultora|uma artista|ela)\b", r"\b(?:nascido|pintor|escultor|um artista|ele)\b"),
    "de": (r"\b(?:sie|ihr|ihre|Malerin|Künstlerin|Bildhauerin|Fotografin)\b", r"\b(?:er|sein|seine|seinen|Maler|Künstler|Bildhauer|Fotograf)\b"),
    "ro": (r"\b(?:născută|pictoriță|artistă|sculptoriță)\b", r"\b(?:născut|pictor|sculptor|artist)\b"),
    "pl": (r"\b(?:malarka|urodziła|była|artystka|rzeźbiarka)\b", r"\b(?:malarz|urodził|był|artysta|rzeźbiarz)\b"),
    "ru": (r"(?:родилась|художница|скульпторша|она\b|была\b)", r"(?:родился|художник\b|скульптор\b|он\b|был\b)"),
    "uk": (r"(?:народилася|художниця|вона\b|була\b)", r"(?:народився|художник\b|скульптор\b|він\b|був\b)"),
    "bg": (r"(?:родена|художничка|тя\b)", r"(?:роден\b|художник\b|той\b)"),
    "hr": (r"\b(?:rođena|slikarica|umjetnica)\b", r"\b(?:rođen|slikar|umjetnik)\b"),
    "cs": (r"\b(?:narodila|malířka|umělkyně)\b", r"\b(?:narodil|malíř|umělec)\b"),
    "sr": (r"(?:рођена|сликарка)", r"(?:рођен\b|сликар\b)"),
    "hu": (r"\b(?:festőnő|asszony)\b", r"\b(?:festő|szobrász)\b"),
}
_PRONOUN_FLAGS = re.IGNORECASE


def _apply_gender_from_text(record: Demographics, content: Node | None, lead: str, language: str) -> None:
    patterns = _PRONOUNS.get(language)
    if patterns is None or content is None:
        return
    paragraphs = [p.text(separator=" ", strip=True) for p in content.css("p")[:12]]
    text = " ".join(paragraphs) or lead
    flags = 0 if language == "de" else _PRONOUN_FLAGS
    female = len(re.findall(patterns[0], text, flags))
    male = len(re.findall(patterns[1], text, flags))
    # A clear margin is required: the winner needs at least 2 hits and twice the other count.
    if female >= 2 and female >= 2 * male + 1:
        record.gender = "female"
    elif male >= 2 and male >= 2 * female + 1:
        record.gender = "male"
    if record.gender:
        record.sources["gender"] = "body"


# Helpers -------------------------------------------------------------------------------------


def _set_event(record: Demographics, which: str, reading: DateReading, source: str) -> None:
    event: LifeEvent = getattr(record, which)
    event.year = reading.year
    event.date = reading.date
    event.approximate = reading.approximate
    record.sources[f"{which}_year"] = source
    if reading.date:
        record.sources[f"{which}_date"] = source


_PLACE_NOISE = re.compile(r"^(?:г\.|r\.|roku|in|à|a|en|em|w|între|between)\s+(?=\S)|,?\s+(?:in|en|à|on)$", re.IGNORECASE)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_NOT_PLACE_START = re.compile(
    rf"^(?:{_MONTH_WORDS}|\d|bap\.|real name|sometimes|also|née?|born|died|c\.|ca\.|circa|CE|BC|AD)\b|^[a-z]",
)


def _looks_like_place(text: str, source: str) -> bool:
    """Reject lead fragments that are no place: dates, name notes ('real name ...') and native-script names."""
    if not re.search(r"[^\W\d_]{2,}", text) or text.lower() in ("between", "and", "or", "free"):
        return False
    if len(text) <= 2 or _NOT_PLACE_START.match(text):
        return False
    # A lead parenthesis often opens with the name in its own script ('田嶋 宏行, Tajima Hiroyuki').
    return not (source == "lead" and _CJK.search(text))


def _set_place(record: Demographics, which: str, text: str | None, source: str) -> None:
    if not text:
        return
    text = re.sub(r"\s+(?=[,)])|(?<=\()\s+", "", " ".join(text.split()))
    text = _trim_place(_PLACE_NOISE.sub("", _trim_place(text)))
    if not _looks_like_place(text, source):
        return
    # The '(now ...)' note names the present-day place, so it is no comma part of the place as written.
    written, _ = split_now_note(text)
    country, codes = place_country(written)
    parts = _place_parts(written)
    place = Place(raw=text, city=parts[0] if parts and parts[0] != country else None)
    if len(parts) > 2:
        place.region = ", ".join(parts[1:-1]) if country == parts[-1] else ", ".join(parts[1:])
    code = present_day_country(text)
    if codes:
        place.country = country
    if code:
        place.country_code = code
    getattr(record, which).place = place
    record.sources[f"{which}_place"] = source


def _trim_place(text: str) -> str:
    """Strip separators and unmatched parentheses from the ends of a place, keeping 'Oyonnax (Ain)' whole."""
    text = text.strip(" ,;")
    while text:
        trimmed = text
        if text.startswith("(") and text.endswith(")") and _closing_paren(text, 0) == len(text) - 1:
            trimmed = text[1:-1]
        elif text.endswith("(") or (text.endswith(")") and text.count(")") > text.count("(")):
            trimmed = text[:-1]
        elif text.startswith(")") or (text.startswith("(") and text.count("(") > text.count(")")):
            trimmed = text[1:]
        trimmed = trimmed.strip(" ,;")
        if trimmed == text:
            break
        text = trimmed
    return text


def _closing_paren(text: str, start: int) -> int:
    """Return the index of the parenthesis that closes the one at ``start``, or -1."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _place_parts(text: str) -> list[str]:
    """Split a place at the commas outside parentheses, then split a 'Town (Region)' qualifier off.

    'Ueno (Ayama district, préfecture de Mie)' gives ['Ueno', 'Ayama district', 'préfecture de Mie'].
    """
    parts = split_top_level(text, ",", "(", ")")
    split: list[str] = []
    for part in (p.strip() for p in parts):
        opening = part.find("(")
        if opening > 0 and _closing_paren(part, opening) == len(part) - 1:
            split.append(part[:opening].strip())
            split.extend(_place_parts(part[opening + 1 : -1]))
        elif part:
            split.append(part)
    return [part for part in split if part]


def _check_years(record: Demographics) -> None:
    birth, death = record.birth.year, record.death.year
    if birth is not None and death is not None and (death < birth or death - birth > 110):
        record.needs_review = True
        record.review_reasons.append("implausible_life_span")
    if record.conflicts:
        record.needs_review = True
        record.review_reasons.append("sources_disagree")


def country_label(code: str | None) -> str | None:
    """Return the English short name for an ISO alpha-2 code, or None."""
    return country_name(code) if code else None
