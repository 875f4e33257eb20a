"""The structured answer the LLM returns for one artist, and its strict JSON schema.

OpenAI's strict structured outputs accept a subset of JSON schema: every object lists all its
properties as required, sets ``additionalProperties`` to false and gives no defaults, so a value
the page does not state is ``null`` rather than absent. :func:`strict_json_schema` derives that
schema from the pydantic models below, which also validate the reply.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_NAME = "artist_demographics"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class YearAnswer(_Strict):
    """A year with the text it was read from."""

    year: int | None = Field(description="Year as an integer; BC years are negative (900 BC is -900).")
    approximate: bool | None = Field(description="True for circa, 'about' or a range of years.")
    quote: str | None = Field(description="The exact words of the input text that state the year.")


class PlaceAnswer(_Strict):
    """A place as the page writes it, with its country."""

    place: str | None = Field(description="The place as written, e.g. 'Lyon, France'.")
    country: str | None = Field(description="The country of the place, in English.")
    quote: str | None = Field(description="The exact words of the input text that name the place.")


class GenderAnswer(_Strict):
    """The gender the page states or implies through pronouns."""

    gender: Literal["female", "male", "non-binary"] | None
    quote: str | None = Field(description="The exact words of the input text that show the gender.")


class NationalityAnswer(_Strict):
    """Nationality as the page states it."""

    nationality: str | None = Field(description="Nationality as written, e.g. 'Japanese-Canadian'.")
    quote: str | None = Field(description="The exact words of the input text that state the nationality.")


class EducationAnswer(_Strict):
    """One school, academy or teacher's studio the artist studied at."""

    school: str | None = Field(description="The school as written, e.g. 'Académie Julian'.")
    degree: str | None = Field(description="The degree or diploma, when the text names one.")
    year: int | None = Field(description="Year of study or graduation stated with it.")
    quote: str | None = Field(description="The exact words of the input text that name the school.")


class LanguageAnswer(_Strict):
    """A language the text states the artist spoke or wrote."""

    language: str | None = Field(description="The language's English name, e.g. 'French'.")
    quote: str | None = Field(description="The exact words of the input text that state it.")


class AffiliationAnswer(_Strict):
    """Membership of a movement, group, society, academy or institution."""

    group: str | None = Field(description="The group as written, e.g. 'Der Blaue Reiter'.")
    kind: Literal["movement", "group", "society", "academy", "institution", "other"] | None
    start_year: int | None = Field(description="Year the membership began, when stated.")
    end_year: int | None = Field(description="Year the membership ended, when stated.")
    quote: str | None = Field(description="The exact words of the input text that state the membership.")


class ResidenceAnswer(_Strict):
    """A place the artist lived in (residence) or travelled to (visit)."""

    place: str | None = Field(description="The place as written, e.g. 'Paris'.")
    country: str | None = Field(description="The country of the place, in English.")
    kind: Literal["residence", "visit"] | None
    start_year: int | None = Field(description="Year the stay began, when stated.")
    end_year: int | None = Field(description="Year the stay ended, when stated.")
    quote: str | None = Field(description="The exact words of the input text that state the stay.")


class InteractionAnswer(_Strict):
    """Contact with another named person."""

    name: str | None = Field(description="The other person's name as written.")
    artist_role: str | None = Field(description="The artist's role, e.g. 'pupil', 'friend', 'spouse'.")
    other_role: str | None = Field(description="The other person's role, e.g. 'teacher', 'friend', 'patron'.")
    year: int | None = Field(description="Year of the contact, when stated.")
    place: str | None = Field(description="Place of the contact, when stated.")
    quote: str | None = Field(description="The exact words of the input text that state the contact.")


class StatedAnswer(_Strict):
    """A sensitive attribute (ethnicity, religion), only where the text states it in words."""

    value: str | None = Field(description="The attribute as the text states it; null unless stated explicitly.")
    quote: str | None = Field(description="The exact words of the input text that state it.")


class ArtistAnswer(_Strict):
    """Everything the LLM is asked for about one artist; null where the text does not say."""

    birth_year: YearAnswer
    death_year: YearAnswer
    birth_place: PlaceAnswer
    death_place: PlaceAnswer
    gender: GenderAnswer
    nationality: NationalityAnswer
    education: list[EducationAnswer] | None
    languages: list[LanguageAnswer] | None
    affiliations: list[AffiliationAnswer] | None
    residences: list[ResidenceAnswer] | None
    interactions: list[InteractionAnswer] | None
    ethnicity: StatedAnswer
    religion: StatedAnswer


def _strictify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _strictify(value) for key, value in node.items() if key not in ("default", "title")}
        if node.get("type") == "object" and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strictify(item) for item in node]
    return node


@lru_cache(maxsize=8)
def _cached_schema(model: type[BaseModel]) -> str:
    return json.dumps(_strictify(model.model_json_schema()))


def strict_json_schema(model: type[BaseModel] = ArtistAnswer) -> dict[str, Any]:
    """Return the strict-mode JSON schema of ``model``: all properties required, nullable, no extras."""
    return json.loads(_cached_schema(model))


def response_format(model: type[BaseModel] = ArtistAnswer) -> dict[str, Any]:
    """Return the ``response_format`` object of a chat completion request in strict mode."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": strict_json_schema(model)},
    }


def schema_hash(model: type[BaseModel] = ArtistAnswer) -> str:
    """Return the SHA-256 of the canonical strict schema; it changes whenever a field changes."""
    canonical = json.dumps(strict_json_schema(model), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
