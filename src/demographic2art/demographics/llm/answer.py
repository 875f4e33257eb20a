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


class ArtistAnswer(_Strict):
    """Everything the LLM is asked for about one artist; null where the text does not say."""

    birth_year: YearAnswer
    death_year: YearAnswer
    birth_place: PlaceAnswer
    death_place: PlaceAnswer
    gender: GenderAnswer
    nationality: NationalityAnswer


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
