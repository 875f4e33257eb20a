"""Caption templates: artwork metadata and artist demographics in natural phrases.

Captions describe the artist's attributes (gender, nationality, birth decade, movement)
and never the artist's name, so a model learns attributes rather than identities. The
same functions build the web app's prompts and the comparison portfolios, so training
and generation speak one language.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

ATTRIBUTES = ("gender", "nationality", "birth_decade", "movement")

# Paraphrased templates. {subject} is the artwork part ("a landscape painting in the
# Impressionism style"), {artist} the demographic part, {year} an optional ", 1885".
TEMPLATES = (
    "{subject} by {artist}{year}",
    "{subject}, painted by {artist}{year}",
    "{subject}{year}, the work of {artist}",
    "{subject}{year}, made by {artist}",
)
# Genres that name a kind of work themselves rather than a painting's subject.
WORK_GENRES = {
    "sculpture", "calligraphy", "graffiti", "photo", "photography", "design", "installation",
    "sketch and study", "sketch", "study", "poster", "illustration", "tapestry", "mosaic",
    "utensil", "ornament", "architecture", "advertisement", "caricature", "miniature",
}
NEUTRAL_ARTIST = "an artist"


@dataclass(frozen=True)
class ArtistAttributes:
    """Demographic attributes of an artist as they appear in captions and prompts."""

    gender: str | None = None
    nationality: str | None = None
    birth_decade: int | None = None
    movement: str | None = None

    @classmethod
    def from_birth_year(cls, birth_year: int | float | None, **values) -> "ArtistAttributes":
        decade = None
        if birth_year is not None and not (isinstance(birth_year, float) and math.isnan(birth_year)):
            decade = int(birth_year) // 10 * 10
        return cls(birth_decade=decade, **values)

    def without(self, *names: str) -> "ArtistAttributes":
        return replace(self, **{name: None for name in names})


@dataclass(frozen=True)
class ArtworkFields:
    """Artwork metadata used in captions; every field is optional."""

    style: str | None = None
    genre: str | None = None
    year: int | None = None
    media: tuple[str, ...] = field(default_factory=tuple)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _decade_text(decade: int) -> str:
    if decade < 0:
        return f"the {abs(decade)}s BC"
    return f"the {decade}s"


def demographic_phrase(attributes: ArtistAttributes) -> str:
    """Return ``'a female French artist born in the 1840s'`` from the attributes present."""
    words = [w for w in (attributes.gender, attributes.nationality) if w]
    phrase = " ".join(words + ["artist"])
    phrase = f"{_article(phrase)} {phrase}"
    if attributes.movement:
        phrase += f" of the {attributes.movement} movement"
    if attributes.birth_decade is not None:
        phrase += f" born in {_decade_text(attributes.birth_decade)}"
    return phrase


def subject_phrase(artwork: ArtworkFields) -> tuple[str, str]:
    """Return the artwork phrase with and without its article (``'a landscape painting ...'``)."""
    genre = (artwork.genre or "").strip()
    noun = "painting"
    if genre and genre.lower() not in ("painting", "unknown"):
        as_work = "painting" in genre.lower() or genre.lower() in WORK_GENRES
        noun = genre if as_work else f"{genre} painting"
    bare = noun
    if artwork.media:
        bare += f" in {', '.join(artwork.media[:2])}"
    if artwork.style:
        bare += f" in the {artwork.style} style"
    return f"{_article(bare)} {bare}", bare


def compose_caption(
    artwork: ArtworkFields,
    attributes: ArtistAttributes,
    *,
    template: int = 0,
    include_year: bool = True,
) -> str:
    """Return one caption for an artwork from template number ``template``."""
    subject, bare = subject_phrase(artwork)
    artist = demographic_phrase(attributes)
    year = ""
    if include_year and artwork.year is not None:
        year = f", {artwork.year}" if artwork.year > 0 else f", {-artwork.year} BC"
    text = TEMPLATES[template % len(TEMPLATES)].format(
        subject=subject, subject_bare=bare, artist=artist, year=year
    )
    return text


def drop_attributes(attributes: ArtistAttributes, dropout: float, rng: random.Random) -> ArtistAttributes:
    """Drop each attribute with probability ``dropout`` so a model also sees each one alone."""
    if dropout <= 0:
        return attributes
    dropped = [name for name in ATTRIBUTES if rng.random() < dropout]
    return attributes.without(*dropped)
