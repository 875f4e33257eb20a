"""Demographic records extracted for one artist.

Every field is null when the page does not state it. ``sources`` records where each field came
from (``infobox``, ``lead``, ``categories``, ``body``; later ``llm``, ``wikidata``, ``override``),
so a later source can be merged in without changing the models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Gender = Literal["female", "male", "non-binary"]
FieldSource = str
"""Origin of a value: ``infobox``, ``lead``, ``categories``, ``body`` (later ``llm``, ``wikidata``, ``override``)."""


class YearValue(BaseModel):
    """A year as read from one source. BC years are negative (900 BC is -900, no year zero)."""

    year: int | None = None
    approximate: bool = False
    source: FieldSource | None = None
    quote: str | None = None


class Place(BaseModel):
    """A place as the page shows it (``raw``), with the parts that could be recognised."""

    raw: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code")
    link_targets: list[str] = Field(default_factory=list, description="titles of the linked articles")


class LifeEvent(BaseModel):
    """Birth or death: full ISO date where the page gives the day, the year, and the place."""

    date: str | None = Field(default=None, description="ISO 8601 date (YYYY-MM-DD) when the day is known")
    year: int | None = Field(default=None, description="BC years are negative; no year zero")
    approximate: bool = False
    place: Place = Field(default_factory=Place)


class Nationality(BaseModel):
    """Nationality as written on the page, with the ISO alpha-2 codes of the countries it names."""

    raw: str | None = None
    codes: list[str] = Field(default_factory=list)


class Conflict(BaseModel):
    """Two sources that disagree on one field; the first value is the one kept."""

    field: str
    kept: str | int | None
    kept_source: FieldSource
    other: str | int | None
    other_source: FieldSource


class LLMOutcome(BaseModel):
    """How the LLM call for one record ended (``status`` is ``llm_ok`` or a named failure)."""

    status: str
    model: str | None = None
    refusal: str | None = Field(default=None, description="the model's refusal text, kept verbatim")
    detail: str | None = Field(default=None, description="error message or validation failure")
    quotes_dropped: list[str] = Field(default_factory=list, description="fields whose quote is not in the input text")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False


class Education(BaseModel):
    """One school or teacher the artist studied at or with."""

    school: str
    degree: str | None = None
    year: int | None = Field(default=None, description="year of study or graduation")
    source: FieldSource | None = None
    quote: str | None = Field(default=None, description="the page text the value was read from")


class Affiliation(BaseModel):
    """Membership of a group, movement, society or institution."""

    group: str
    kind: str | None = Field(default=None, description="movement, group, society, academy, institution, ...")
    start_year: int | None = None
    end_year: int | None = None
    source: FieldSource | None = None
    quote: str | None = Field(default=None, description="the page text the value was read from")


class Residence(BaseModel):
    """A place the artist lived in (``kind`` residence) or visited (``kind`` visit)."""

    place: Place
    kind: Literal["residence", "visit"] = "residence"
    start_year: int | None = None
    end_year: int | None = None
    source: FieldSource | None = None
    quote: str | None = Field(default=None, description="the page text the value was read from")


class Interaction(BaseModel):
    """Contact with another person: teacher, pupil, spouse, friend, patron, collaborator."""

    name: str
    artist_role: str | None = Field(default=None, description="the artist's role, e.g. pupil")
    other_role: str | None = Field(default=None, description="the other person's role, e.g. teacher")
    year: int | None = None
    place: str | None = None
    source: FieldSource | None = None
    quote: str | None = Field(default=None, description="the page text the value was read from")


class StatedAttribute(BaseModel):
    """A sensitive attribute (ethnicity, religion) kept only where the page states it, with the quote."""

    value: str
    quote: str = Field(description="the page text that states the value")
    source: FieldSource | None = None


class Demographics(BaseModel):
    """Demographic record of one artist, extracted from one saved page."""

    artist_key: str | None = None
    page_kind: str
    language: str | None = None
    birth: LifeEvent = Field(default_factory=LifeEvent)
    death: LifeEvent = Field(default_factory=LifeEvent)
    gender: Gender | None = None
    nationality: Nationality = Field(default_factory=Nationality)
    education: list[str] = Field(default_factory=list)
    movements: list[str] = Field(default_factory=list)
    sources: dict[str, FieldSource] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list)
    candidates: list[str] = Field(default_factory=list)
    quotes: dict[str, str] = Field(default_factory=dict, description="field -> input text an LLM value came from")
    education_details: list[Education] = Field(default_factory=list)
    affiliations: list[Affiliation] = Field(default_factory=list)
    residences: list[Residence] = Field(default_factory=list)
    interactions: list[Interaction] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list, description="languages spoken, as English names")
    ethnicity: StatedAttribute | None = Field(default=None, description="left out of exports unless enabled")
    religion: StatedAttribute | None = Field(default=None, description="left out of exports unless enabled")
    wikidata_id: str | None = None
    matched_candidate: str | None = Field(
        default=None, description="disambiguation candidate whose entry shows the catalog's years"
    )
    llm: LLMOutcome | None = None
