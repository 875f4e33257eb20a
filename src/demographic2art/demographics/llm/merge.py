"""Merging a validated LLM answer into the offline record of the same page.

A value fills its field only when its quote occurs in the input text; a value whose quote does
not is dropped and its field named in ``llm.quotes_dropped``. Where the LLM gives no usable
value, the offline value stays. Where both give different values, the LLM value is kept and the
disagreement is recorded in ``conflicts``.
"""

from __future__ import annotations

from ..countries import country_codes, nationality_codes, place_country
from ..schema import (
    Affiliation,
    Conflict,
    Demographics,
    Education,
    Interaction,
    LLMOutcome,
    Nationality,
    Place,
    Residence,
    StatedAttribute,
)
from .answer import ArtistAnswer
from .prompts import quote_in_text

SOURCE = "llm"


def _conflict(record: Demographics, field: str, new: str | int | None, old: str | int | None) -> None:
    if old is not None and new != old:
        record.conflicts.append(
            Conflict(field=field, kept=new, kept_source=SOURCE, other=old, other_source=record.sources.get(field, "offline"))
        )


def _accept(record: Demographics, outcome: LLMOutcome, field: str, quote: str | None, input_text: str) -> bool:
    if quote_in_text(quote, input_text):
        return True
    outcome.quotes_dropped.append(field)
    return False


def _place(text: str, country: str | None) -> Place:
    text = " ".join(text.split()).strip(" ,;")
    found_country, codes = place_country(text)
    if not codes and country:
        codes, found_country = country_codes(country), country
    parts = [p.strip() for p in text.split(",") if p.strip()]
    place = Place(raw=text, city=parts[0] if parts and parts[0] != found_country else None)
    if codes:
        place.country = found_country
        place.country_code = codes[0]
    return place


def merge_answer(record: Demographics, answer: ArtistAnswer, input_text: str, outcome: LLMOutcome) -> Demographics:
    """Return a copy of the offline ``record`` with the answer's quoted values filled in (source ``llm``)."""
    merged = record.model_copy(deep=True)
    for which in ("birth", "death"):
        year = getattr(answer, f"{which}_year")
        field = f"{which}_year"
        if year.year is not None and _accept(merged, outcome, field, year.quote, input_text):
            event = getattr(merged, which)
            _conflict(merged, field, year.year, event.year)
            if event.year != year.year:
                event.date = None
                merged.sources.pop(f"{which}_date", None)
            event.year = year.year
            event.approximate = bool(year.approximate)
            merged.sources[field] = SOURCE
            merged.quotes[field] = year.quote
        place = getattr(answer, f"{which}_place")
        field = f"{which}_place"
        if place.place and _accept(merged, outcome, field, place.quote, input_text):
            event = getattr(merged, which)
            new_place = _place(place.place, place.country)
            _conflict(merged, f"{which}_country", new_place.country_code, event.place.country_code)
            event.place = new_place
            merged.sources[field] = SOURCE
            merged.quotes[field] = place.quote
    if answer.gender.gender is not None and _accept(merged, outcome, "gender", answer.gender.quote, input_text):
        _conflict(merged, "gender", answer.gender.gender, merged.gender)
        merged.gender = answer.gender.gender
        merged.sources["gender"] = SOURCE
        merged.quotes["gender"] = answer.gender.quote
    nationality = answer.nationality
    if nationality.nationality and _accept(merged, outcome, "nationality", nationality.quote, input_text):
        codes = nationality_codes(nationality.nationality)
        _conflict(merged, "nationality", ",".join(codes) or None, ",".join(merged.nationality.codes) or None)
        merged.nationality = Nationality(raw=nationality.nationality, codes=codes)
        merged.sources["nationality"] = SOURCE
        merged.quotes["nationality"] = nationality.quote
    _merge_lists(merged, answer, input_text, outcome)
    if merged.conflicts and "sources_disagree" not in merged.review_reasons:
        merged.needs_review = True
        merged.review_reasons.append("sources_disagree")
    merged.llm = outcome
    return merged


def _merge_lists(record: Demographics, answer: ArtistAnswer, input_text: str, outcome: LLMOutcome) -> None:
    """Append the quoted education, language, affiliation, residence and interaction items, and set ethnicity and religion.

    An item whose quote is not in the input text is dropped and named ``<field>[<index>]`` in
    ``outcome.quotes_dropped``.
    """
    for index, item in enumerate(answer.education or []):
        if item.school and _accept(record, outcome, f"education[{index}]", item.quote, input_text):
            record.education_details.append(
                Education(school=item.school, degree=item.degree, year=item.year, source=SOURCE, quote=item.quote)
            )
            if item.school not in record.education:
                record.education.append(item.school)
    for index, item in enumerate(answer.languages or []):
        if item.language and _accept(record, outcome, f"languages[{index}]", item.quote, input_text):
            if item.language not in record.languages:
                record.languages.append(item.language)
            record.quotes[f"languages:{item.language}"] = item.quote
            record.sources["languages"] = SOURCE
    for index, item in enumerate(answer.affiliations or []):
        if item.group and _accept(record, outcome, f"affiliations[{index}]", item.quote, input_text):
            record.affiliations.append(Affiliation(
                group=item.group, kind=item.kind, start_year=item.start_year, end_year=item.end_year,
                source=SOURCE, quote=item.quote,
            ))
            if item.kind == "movement" and item.group not in record.movements:
                record.movements.append(item.group)
    for index, item in enumerate(answer.residences or []):
        if item.place and _accept(record, outcome, f"residences[{index}]", item.quote, input_text):
            record.residences.append(Residence(
                place=_place(item.place, item.country), kind=item.kind or "residence",
                start_year=item.start_year, end_year=item.end_year, source=SOURCE, quote=item.quote,
            ))
    for index, item in enumerate(answer.interactions or []):
        if item.name and _accept(record, outcome, f"interactions[{index}]", item.quote, input_text):
            record.interactions.append(Interaction(
                name=item.name, artist_role=item.artist_role, other_role=item.other_role, year=item.year,
                place=item.place, source=SOURCE, quote=item.quote,
            ))
    for name in ("ethnicity", "religion"):
        stated = getattr(answer, name)
        # Sensitive attributes are kept only with a quote that occurs in the text, never inferred.
        if stated.value and _accept(record, outcome, name, stated.quote, input_text):
            setattr(record, name, StatedAttribute(value=stated.value, quote=stated.quote, source=SOURCE))
            record.sources[name] = SOURCE
