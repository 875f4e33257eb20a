"""Wikidata statements as one more recorded source of demographics.

:func:`fetch_wikidata` (in ``bios.fetch``) stores the artist's item and the items it points to
(places, countries, schools, groups) in a cache, trimmed to the statements used here.
:func:`wikidata_facts` reads P21 sex or gender, P569/P570 dates of birth and death, P19/P20
places of birth and death (with the place's P17 country) and P27 citizenship. It also reads
P69 educated at, P463 member of, P135 movement and P551 residence. Countries become ISO codes
through P297. :func:`merge_wikidata` fills the fields a page left empty (source ``wikidata``)
and records a conflict where both give a value and they differ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .countries import country_codes
from .schema import Affiliation, Conflict, Demographics, Education, Nationality, Place, Residence

logger = logging.getLogger(__name__)

WIKIDATA_DIR = "bios/wikidata"
PERSON_PROPERTIES = ("P21", "P569", "P570", "P19", "P20", "P27", "P69", "P463", "P135", "P551")
LINKED_PROPERTIES = ("P17", "P297")
GENDER_ITEMS = {
    "Q6581097": "male", "Q6581072": "female", "Q2449503": "male", "Q1052281": "female",
    "Q48270": "non-binary", "Q1097630": "non-binary",
}
_START, _END, _POINT = "P580", "P582", "P585"

EntityLookup = Callable[[str], "dict | None"]
"""Return a trimmed entity by id, or None when it is not cached."""


def trim_entity(entity: dict, properties: tuple[str, ...]) -> dict:
    """Return an entity from ``wbgetentities`` reduced to its English label and the given statements."""
    claims = {}
    for prop in properties:
        values = []
        for claim in (entity.get("claims") or {}).get(prop, []):
            if claim.get("rank") == "deprecated":
                continue
            value = _snak_value(claim.get("mainsnak") or {})
            if value is None:
                continue
            value["rank"] = claim.get("rank", "normal")
            qualifiers = claim.get("qualifiers") or {}
            for key, name in ((_START, "start"), (_END, "end"), (_POINT, "point")):
                for snak in qualifiers.get(key, []):
                    qualifier = _snak_value(snak)
                    if qualifier and "time" in qualifier:
                        value[name] = _time_year(qualifier)
            values.append(value)
        if values:
            claims[prop] = values
    label = ((entity.get("labels") or {}).get("en") or {}).get("value")
    return {"id": entity.get("id"), "label": label, "claims": claims}


def _snak_value(snak: dict) -> dict | None:
    if snak.get("snaktype") not in (None, "value"):
        return None
    data = snak.get("datavalue") or {}
    kind, value = data.get("type"), data.get("value")
    if kind == "wikibase-entityid" and isinstance(value, dict):
        return {"id": value.get("id") or f"Q{value.get('numeric-id')}"}
    if kind == "time" and isinstance(value, dict):
        return {"time": value.get("time"), "precision": value.get("precision", 11)}
    if kind == "string":
        return {"string": value}
    return None


def _time_year(value: dict) -> int | None:
    text = value.get("time") or ""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").split("-", 1)[0]
    if not digits.isdigit() or int(digits) == 0:
        return None
    return sign * int(digits)


def referenced_ids(entity: dict) -> list[str]:
    """Return the item ids an entity's trimmed statements point to (P21 gender items excepted)."""
    ids = []
    for prop, values in entity.get("claims", {}).items():
        if prop == "P21":
            continue  # gender items are read from GENDER_ITEMS, not fetched
        for value in values:
            if "id" in value and value["id"] not in ids:
                ids.append(value["id"])
    return ids


def _best(values: list[dict]) -> list[dict]:
    preferred = [v for v in values if v.get("rank") == "preferred"]
    return preferred or values


def _country_code(item_id: str, lookup: EntityLookup) -> str | None:
    entity = lookup(item_id)
    if entity is None:
        return None
    for value in _best(entity["claims"].get("P297", [])):
        if value.get("string"):
            return value["string"].upper()
    codes = country_codes(entity.get("label"))
    return codes[0] if len(codes) == 1 else None


def _place(item_id: str, lookup: EntityLookup) -> Place | None:
    entity = lookup(item_id)
    if entity is None or not entity.get("label"):
        return None
    place = Place(raw=entity["label"], city=entity["label"], link_targets=[entity["label"]])
    for value in _best(entity["claims"].get("P17", [])):
        country = lookup(value["id"]) if "id" in value else None
        code = _country_code(value["id"], lookup) if "id" in value else None
        if code:
            place.country_code = code
            place.country = country.get("label") if country else None
            place.raw = f"{entity['label']}, {place.country}" if place.country else place.raw
            break
    return place


def wikidata_facts(item_id: str, lookup: EntityLookup) -> dict:
    """Return the demographic facts of a cached item: years, dates, places, gender, countries, lists."""
    person = lookup(item_id)
    if person is None:
        return {}
    claims = person.get("claims", {})
    facts: dict = {"wikidata_id": item_id, "label": person.get("label")}
    for prop, which in (("P569", "birth"), ("P570", "death")):
        values = _best(claims.get(prop, []))
        if values:
            value = values[0]
            year = _time_year(value)
            precision = value.get("precision", 11)
            facts[f"{which}_year"] = year
            facts[f"{which}_approximate"] = precision < 9
            text = (value.get("time") or "").lstrip("+")
            if precision >= 11 and year is not None and year > 0:
                facts[f"{which}_date"] = text[:10]
    for prop, which in (("P19", "birth_place"), ("P20", "death_place")):
        values = _best(claims.get(prop, []))
        place = _place(values[0]["id"], lookup) if values and "id" in values[0] else None
        if place is not None:
            facts[which] = place
    genders = [GENDER_ITEMS.get(v.get("id", "")) for v in _best(claims.get("P21", []))]
    if genders and genders[0]:
        facts["gender"] = genders[0]
    codes = sorted({c for v in claims.get("P27", []) if "id" in v for c in [_country_code(v["id"], lookup)] if c})
    if codes:
        labels = [(lookup(v["id"]) or {}).get("label") for v in claims.get("P27", []) if "id" in v]
        facts["nationality"] = Nationality(raw=", ".join(label for label in labels if label), codes=codes)
    facts["education"] = [
        Education(school=_label(v, lookup), year=v.get("end") or v.get("point"), source="wikidata")
        for v in claims.get("P69", []) if _label(v, lookup)
    ]
    facts["affiliations"] = [
        Affiliation(group=_label(v, lookup), kind=kind, start_year=v.get("start"), end_year=v.get("end"), source="wikidata")
        for prop, kind in (("P463", "member"), ("P135", "movement"))
        for v in claims.get(prop, []) if _label(v, lookup)
    ]
    facts["residences"] = [
        Residence(place=_place(v["id"], lookup) or Place(raw=_label(v, lookup)), start_year=v.get("start"),
                  end_year=v.get("end"), source="wikidata")
        for v in claims.get("P551", []) if _label(v, lookup)
    ]
    return facts


def _label(value: dict, lookup: EntityLookup) -> str | None:
    entity = lookup(value["id"]) if "id" in value else None
    return entity.get("label") if entity else None


def merge_wikidata(record: Demographics, facts: dict) -> Demographics:
    """Fill empty fields of ``record`` from Wikidata facts and record conflicts; returns the record."""
    if not facts:
        return record
    record.wikidata_id = record.wikidata_id or facts.get("wikidata_id")
    for which in ("birth", "death"):
        event = getattr(record, which)
        year = facts.get(f"{which}_year")
        if year is not None:
            if event.year is None:
                event.year = year
                event.approximate = facts.get(f"{which}_approximate", False)
                event.date = event.date or facts.get(f"{which}_date")
                record.sources[f"{which}_year"] = "wikidata"
            elif event.year != year:
                _conflict(record, f"{which}_year", event.year, year)
        place = facts.get(f"{which}_place")
        if place is not None:
            if event.place.raw is None:
                event.place = place
                record.sources[f"{which}_place"] = "wikidata"
            elif event.place.country_code is None and place.country_code:
                event.place.country_code = place.country_code
                event.place.country = place.country
                record.sources[f"{which}_country"] = "wikidata"
            elif place.country_code and event.place.country_code != place.country_code:
                _conflict(record, f"{which}_country", event.place.country_code, place.country_code)
    gender = facts.get("gender")
    if gender:
        if record.gender is None:
            record.gender = gender
            record.sources["gender"] = "wikidata"
        elif record.gender != gender:
            _conflict(record, "gender", record.gender, gender)
    nationality = facts.get("nationality")
    if nationality is not None:
        if not record.nationality.codes:
            record.nationality = nationality
            record.sources["nationality"] = "wikidata"
        elif not set(record.nationality.codes) & set(nationality.codes):
            _conflict(record, "nationality", ",".join(record.nationality.codes), ",".join(nationality.codes))
    record.education_details.extend(facts.get("education", []))
    record.affiliations.extend(facts.get("affiliations", []))
    record.residences.extend(facts.get("residences", []))
    for affiliation in facts.get("affiliations", []):
        if affiliation.kind == "movement" and affiliation.group not in record.movements:
            record.movements.append(affiliation.group)
    return record


def _conflict(record: Demographics, field: str, kept, other) -> None:
    source_key = {"birth_country": "birth_place", "death_country": "death_place"}.get(field, field)
    record.conflicts.append(
        Conflict(field=field, kept=kept, kept_source=record.sources.get(source_key, ""), other=other, other_source="wikidata")
    )
    record.needs_review = True
    if "sources_disagree" not in record.review_reasons:
        record.review_reasons.append("sources_disagree")


def wikidata_lookup(storage):
    """Return a function that reads trimmed Wikidata entities from the workspace cache (None when absent)."""
    cache: dict[str, dict | None] = {}

    def lookup(item_id: str) -> dict | None:
        if item_id not in cache:
            path = f"{WIKIDATA_DIR}/{item_id}.json"
            cache[item_id] = storage.read_json(path) if storage.exists(path) else None
        return cache[item_id]

    return lookup
