"""Synthetic stand-in study data laid out like the real data folder.

:func:`make_standin_data` invents artists (names built from syllables, so none is a
real person), their WikiArt catalog rows, saved Wikipedia pages and painting-like
JPEGs, and writes them in the real folder's formats::

    README.md                    says the data is synthetic and names the seed
    truth.json                   the facts each invented page states
    wikiart/artists.csv          WikiArt artist table (CRLF, last row unterminated)
    wikiart/artworks.csv.gz      WikiArt artwork table (CRLF, gzip with mtime 0)
    wikipedia/html/<slug>.html   saved Wikipedia pages, a few KB each
    wikipedia/INDEX.tsv          slug, bytes, kind, title, wikidata_id
    images/<style>/<n>.jpg       one painting per artwork, in its style's folder
    images/INDEX.tsv             path, class_name, width, height, bytes, sha256

The same seed and parameters give byte-identical files. The pages include the hard
cases of the real folder: circa and BC dates, two-digit catalog years, a living
artist, a page without an infobox, a disambiguation page and a German page.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import html
import io
import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidValueError
from .imageserver import wikiart_path
from .paintings import paint, style_slug

logger = logging.getLogger(__name__)

ARTIST_COLUMNS = [
    "name", "url_name", "Birth Date", "Death Date", "Birth place", "Death place", "Nationality",
    "Art Movement", "Genre", "Field", "Influenced by", "Influenced on", "Wikipedia",
    "Painting School", "Official site", "Friends and Co-workers", "Family and Relatives",
    "Pupils", "Teachers", "Art institution",
]  # fmt: skip
ARTWORK_COLUMNS = [
    "url", "Create Date", "Create Location", "Date", "image_url", "Style", "Theme", "Genre",
    "Media", "Location", "tags", "Series", "Period",
]  # fmt: skip
MIN_ARTISTS = 8  # one artist per hard case, plus two ordinary ones

STYLES = (
    "Impressionism", "Baroque", "Expressionism", "Romanticism", "Symbolism", "Realism",
    "Post-Impressionism", "Art Nouveau (Modern)",
)  # fmt: skip
GENRES = ("landscape", "portrait", "still life", "genre painting")
MEDIA = ("oil|canvas", "oil|panel", "watercolor|paper", "tempera|panel", "gouache|cardboard", "")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
    "Oktober", "November", "Dezember",
)  # fmt: skip


@dataclass(frozen=True)
class Nationality:
    """A nationality with the words the pages and catalog need in English and German."""

    adjective: str
    country: str
    adjective_de: str
    country_de: str
    uses_mdy_dates: bool = False


NATIONALITIES = (
    Nationality("Norwegian", "Norway", "norwegisch", "Norwegen"),
    Nationality("French", "France", "französisch", "Frankreich"),
    Nationality("German", "Germany", "deutsch", "Deutschland"),
    Nationality("Italian", "Italy", "italienisch", "Italien"),
    Nationality("Dutch", "Netherlands", "niederländisch", "Niederlande"),
    Nationality("Polish", "Poland", "polnisch", "Polen"),
    Nationality("American", "United States", "US-amerikanisch", "Vereinigte Staaten", True),
    Nationality("Spanish", "Spain", "spanisch", "Spanien"),
)

# Syllables chosen so that the names read as names but belong to no known person.
GIVEN_START = ("Vel", "Od", "Ma", "Sil", "Ther", "Al", "Qui", "Bra", "Ele", "Ysol", "Cor", "Tam")
GIVEN_FEMALE_END = ("mora", "eline", "risse", "anda", "ethe", "iva", "oria", "enna")
GIVEN_MALE_END = ("rin", "vard", "tholt", "mund", "aric", "ebert", "ovan", "ias")
FAMILY_START = ("Quist", "Pelle", "Harn", "Voss", "Drel", "Mab", "Orv", "Tessel", "Lund", "Crave")
FAMILY_END = ("ad", "way", "ersby", "ancourt", "ino", "wick", "holm", "enko", "arra", "eux")
PLACE_START = ("Vel", "Ost", "Ham", "Bre", "Kor", "Lis", "Mar", "Sand")
PLACE_END = ("mark", "haven", "dorf", "ola", "by", "ezza", "ijk", "owo")
TITLE_WORDS = (
    "morning", "harbour", "orchard", "river", "evening", "garden", "portrait", "sisters",
    "storm", "bridge", "market", "window", "meadow", "lamp", "shore", "hills",
)  # fmt: skip


@dataclass
class StandinArtist:
    """One invented artist: the true facts, the catalog spelling and the page kind.

    Years use historical numbering (300 BC is -300, no year zero). ``birth_month`` and
    ``birth_day`` are 0 where only the year is known (circa dates).
    """

    name: str
    slug: str
    url_name: str
    gender: str
    nationality: Nationality
    birth_year: int
    birth_month: int
    birth_day: int
    death_year: int | None
    death_month: int
    death_day: int
    birth_town: str
    death_town: str | None
    style: str
    genre: str
    circa: bool
    page_kind: str
    wikidata_id: str
    catalog_birth_date: str = ""
    catalog_death_date: str = ""

    @property
    def birth_place(self) -> str:
        return f"{self.birth_town}, {self.nationality.country}"

    @property
    def death_place(self) -> str:
        return f"{self.death_town}, {self.nationality.country}" if self.death_town else ""

    @property
    def wiki_title(self) -> str:
        return self.name.replace(" ", "_")

    @property
    def wikipedia_url(self) -> str:
        lang = "de" if self.page_kind == "wikipedia_other_lang" else "en"
        return f"https://{lang}.wikipedia.org/wiki/{self.wiki_title}"


@dataclass(frozen=True)
class StandinArtwork:
    """One catalog artwork and the stand-in painting written for it."""

    url: str
    image_url: str
    style: str
    image_path: str  # relative to the data folder, e.g. ``images/baroque/3.jpg``


@dataclass
class StandinSummary:
    """What :func:`make_standin_data` wrote, with the artwork-to-image mapping."""

    dest: Path
    seed: int
    n_artists: int
    n_artworks: int
    n_pages: int
    n_images: int
    styles: tuple[str, ...]
    artworks: list[StandinArtwork] = field(default_factory=list)

    def image_routes(self) -> dict[str, Path]:
        """Return the URL path of each artwork's ``image_url`` mapped to its local JPEG.

        The mapping fits :class:`~demographic2art.demo.imageserver.ImageServer`, which
        then serves every catalog image from 127.0.0.1.
        """
        return {wikiart_path(a.image_url): self.dest / a.image_path for a in self.artworks}


# ---------------------------------------------------------------- invented artists


def _invent_name(rng: np.random.Generator, gender: str, taken: set[str]) -> str:
    ends = GIVEN_FEMALE_END if gender == "female" else GIVEN_MALE_END
    for _ in range(1000):
        given = str(rng.choice(GIVEN_START)) + str(rng.choice(ends))
        family = str(rng.choice(FAMILY_START)) + str(rng.choice(FAMILY_END))
        name = f"{given} {family}"
        if name not in taken:
            taken.add(name)
            return name
    raise InvalidValueError(
        f"could not invent {len(taken) + 1} distinct names; use fewer artists"
    )


def _invent_town(rng: np.random.Generator) -> str:
    return str(rng.choice(PLACE_START)) + str(rng.choice(PLACE_END))


def _slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _page_kind(index: int) -> str:
    """Assign the hard page kinds to fixed positions so every study contains each of them."""
    hard_kinds = {3: "no_infobox", 4: "disambiguation", 5: "wikipedia_other_lang"}
    return hard_kinds.get(index, "wikipedia_en")


def _invent_artists(rng: np.random.Generator, n_artists: int) -> list[StandinArtist]:
    taken: set[str] = set()
    artists = []
    for index in range(n_artists):
        gender = "female" if index % 2 == 0 else "male"
        name = _invent_name(rng, gender, taken)
        nationality = NATIONALITIES[index % len(NATIONALITIES)]
        if index == 0:  # an ancient artist with circa BC dates
            birth_year, death_year, circa = -300, -240, True
        elif index == 1:  # circa dates in the modern era
            birth_year, circa = int(rng.integers(1780, 1830)), True
            death_year = birth_year + int(rng.integers(35, 80))
        elif index == 2:  # a living artist
            birth_year, death_year, circa = int(rng.integers(1950, 1990)), None, False
        else:
            birth_year, circa = int(rng.integers(1790, 1940)), False
            death_year = birth_year + int(rng.integers(28, 95))
        month_day = (0, 0) if circa else (int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        death_month_day = (
            (0, 0) if circa or death_year is None
            else (int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        )  # fmt: skip
        slug = _slugify(name)
        artist = StandinArtist(
            name=name,
            slug=slug,
            url_name=f"en/{slug}" if index % 9 == 7 else slug,
            gender=gender,
            nationality=nationality,
            birth_year=birth_year,
            birth_month=month_day[0],
            birth_day=month_day[1],
            death_year=death_year,
            death_month=death_month_day[0],
            death_day=death_month_day[1],
            birth_town=_invent_town(rng),
            death_town=_invent_town(rng) if death_year is not None else None,
            style=STYLES[int(rng.integers(len(STYLES)))] if index >= len(STYLES) else STYLES[index],
            genre=str(rng.choice(GENRES)),
            circa=circa,
            page_kind=_page_kind(index),
            # Wikidata has no items this high, so the ids point at nothing real.
            wikidata_id=f"Q9{index + 1:08d}",
        )
        artist.catalog_birth_date = _catalog_date(
            rng, artist.birth_year, artist.birth_month, artist.birth_day, circa
        )
        artist.catalog_death_date = _catalog_date(
            rng, artist.death_year, artist.death_month, artist.death_day, circa
        )
        artists.append(artist)
    return artists


def _catalog_date(
    rng: np.random.Generator, year: int | None, month: int, day: int, circa: bool
) -> str:
    """Spell a date in one of the catalog's mixed forms."""
    if year is None:
        return ""
    if year < 0:
        return f"c.{-year} BC"
    if circa:
        return f"c.{year}"
    form = rng.choice(["mdy", "year", "two_digit", "two_digit", "mdy"])
    if form == "year":
        return str(year)
    if form == "two_digit":
        # The century is lost, as in the catalog's "24-Jan-74".
        return f"{day}-{MONTHS[month - 1][:3]}-{year % 100:02d}"
    return f"{MONTHS[month - 1]} {day}, {year}"


# ---------------------------------------------------------------- dates on pages


def _year_text(year: int) -> str:
    return f"{-year} BC" if year < 0 else str(year)


def _page_date(artist: StandinArtist, which: str) -> str:
    """Spell a birth or death date as a page's visible text ("27 December 1802")."""
    year = artist.birth_year if which == "birth" else artist.death_year
    month = artist.birth_month if which == "birth" else artist.death_month
    day = artist.birth_day if which == "birth" else artist.death_day
    assert year is not None
    if artist.circa or month == 0:
        return f"c. {_year_text(year)}"
    if artist.nationality.uses_mdy_dates:
        return f"{MONTHS[month - 1]} {day}, {year}"
    return f"{day} {MONTHS[month - 1]} {year}"


def _iso(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


def _age(artist: StandinArtist) -> int:
    assert artist.death_year is not None
    had_birthday = (artist.death_month, artist.death_day) >= (artist.birth_month, artist.birth_day)
    return artist.death_year - artist.birth_year - (0 if had_birthday else 1)


# ---------------------------------------------------------------- Wikipedia pages


def _link(title: str) -> str:
    escaped = html.escape(title)
    return f'<a href="/wiki/{html.escape(title.replace(" ", "_"))}" title="{escaped}">{escaped}</a>'


def _categories(
    labels: list[str],
    heading: str = "Categories",
    prefix: str = "Category",
    help_page: str = "Help:Category",
) -> str:
    items = "".join(
        f'<li><a href="/wiki/{prefix}:{html.escape(c.replace(" ", "_"))}" '
        f'title="{prefix}:{html.escape(c)}">{html.escape(c)}</a></li>'
        for c in labels
    )
    return (
        '<div id="catlinks" class="catlinks" data-mw="interface">'
        '<div id="mw-normal-catlinks" class="mw-normal-catlinks">'
        f'<a href="/wiki/{help_page}" title="{help_page}">{heading}</a>: <ul>{items}</ul>'
        "</div></div>"
    )


def _page(
    artist: StandinArtist, *, lang: str, title: str, short: str, content: str, categories: str
) -> str:
    host = f"{lang}.wikipedia.org"
    site_sub, retrieved = (
        ("Aus Wikipedia, der freien Enzyklopädie", "Abgerufen von")
        if lang == "de"
        else ("From Wikipedia, the free encyclopedia", "Retrieved from")
    )
    rlconf = json.dumps(
        {
            "wgPageName": artist.wiki_title,
            "wgTitle": artist.name,
            "wgArticleId": int(artist.wikidata_id[1:]) % 10_000_000,
            "wgIsArticle": True,
            "wgWikibaseItemId": artist.wikidata_id,
        },
        separators=(",", ":"),
    )
    return f"""<!DOCTYPE html>
<html class="client-nojs" lang="{lang}" dir="ltr">
<head>
<meta charset="UTF-8">
<title>{html.escape(title)}</title>
<script>RLCONF={rlconf};</script>
<link rel="canonical" href="https://{host}/wiki/{artist.wiki_title}">
</head>
<body class="skin-vector mediawiki ltr">
<h1 id="firstHeading" class="firstHeading mw-first-heading"><span class="mw-page-title-main">{html.escape(artist.name)}</span></h1>
<div id="bodyContent" class="vector-body">
<div id="siteSub" class="noprint">{site_sub}</div>
<div id="mw-content-text" class="mw-body-content"><div class="mw-content-ltr mw-parser-output" lang="{lang}" dir="ltr">
<div class="shortdescription nomobile noexcerpt noprint searchaux" style="display:none">{html.escape(short)}</div>
{content}
</div></div>
<div class="printfooter" data-nosnippet="">{retrieved} "<a dir="ltr" href="https://{host}/w/index.php?title={artist.wiki_title}">https://{host}/w/index.php?title={artist.wiki_title}</a>"</div>
{categories}
</div>
<a href="https://www.wikidata.org/wiki/Special:EntityPage/{artist.wikidata_id}" title="Wikidata item">Wikidata item</a>
</body>
</html>
"""


def _infobox(artist: StandinArtist) -> str:
    born = _page_date(artist, "birth")
    if not artist.circa:
        born = (
            f'<span style="display:none"> (<span class="bday">'
            f"{_iso(artist.birth_year, artist.birth_month, artist.birth_day)}</span>) </span>{born}"
        )
    birthplace = (
        f'<div style="display:inline" class="birthplace">{_link(artist.birth_town)}, '
        f"{html.escape(artist.nationality.country)}</div>"
    )
    rows = [
        f'<tr><th scope="row" class="infobox-label">Born</th>'
        f'<td class="infobox-data">{born}<br />{birthplace}</td></tr>'
    ]
    if artist.death_year is not None:
        died = _page_date(artist, "death")
        if not artist.circa:
            died += (
                f'<span style="display:none">('
                f"{_iso(artist.death_year, artist.death_month, artist.death_day)})</span>"
                f" (aged&#160;{_age(artist)})"
            )
        deathplace = (
            f'<div style="display:inline" class="deathplace">{_link(artist.death_town or "")}, '
            f"{html.escape(artist.nationality.country)}</div>"
        )
        rows.append(
            f'<tr><th scope="row" class="infobox-label">Died</th>'
            f'<td class="infobox-data">{died}<br />{deathplace}</td></tr>'
        )
    rows += [
        f'<tr><th scope="row" class="infobox-label">Nationality</th>'
        f'<td class="infobox-data">{artist.nationality.adjective}</td></tr>',
        '<tr><th scope="row" class="infobox-label">Known&#160;for</th>'
        '<td class="infobox-data">Painting</td></tr>',
        f'<tr><th scope="row" class="infobox-label">Movement</th>'
        f'<td class="infobox-data category">{_link(artist.style)}</td></tr>',
    ]
    return (
        '<table class="infobox biography vcard"><tbody><tr><th colspan="2" class="infobox-above" '
        f'style="font-size:125%;"><div class="fn">{html.escape(artist.name)}</div></th></tr>'
        + "".join(rows)
        + "</tbody></table>"
    )


def _english_content(rng: np.random.Generator, artist: StandinArtist, infobox: bool) -> str:
    subject, possessive = ("She", "Her") if artist.gender == "female" else ("He", "His")
    adjective = artist.nationality.adjective
    genre = {"genre painting": "genre"}.get(artist.genre, artist.genre)
    article = "an" if adjective[0] in "AEIOU" else "a"
    if artist.death_year is None:
        lead = f"(born {_page_date(artist, 'birth')}) is {article} {adjective} {genre} painter."
    else:
        lead = (
            f"({_page_date(artist, 'birth')} – {_page_date(artist, 'death')}) "
            f"was {article} {adjective} {genre} painter."
        )
    teacher_town = _invent_town(rng)
    paragraphs = [
        f"<p><b>{html.escape(artist.name)}</b> {lead}</p>",
        '<div class="mw-heading mw-heading2"><h2 id="Life">Life</h2></div>',
        f"<p>{html.escape(artist.name.split()[0])} was born in {_link(artist.birth_town)}, "
        f"{artist.nationality.country}. {subject} studied drawing in {teacher_town} "
        f"and later travelled to paint outdoors.</p>",
        '<div class="mw-heading mw-heading2"><h2 id="Work">Work</h2></div>',
        f"<p>{possessive} paintings are associated with {_link(artist.style)}. "
        f"{subject} exhibited {genre} works for much of {possessive.lower()} career.</p>",
    ]
    return (_infobox(artist) if infobox else "") + "\n" + "\n".join(paragraphs)


def _english_categories(artist: StandinArtist) -> list[str]:
    labels = [f"{_year_text(artist.birth_year)} births"]
    if artist.death_year is None:
        labels.append("Living people")
    else:
        labels.append(f"{_year_text(artist.death_year)} deaths")
    labels.append(f"People from {artist.birth_town}")
    group = "women" if artist.gender == "female" else "male"
    labels.append(f"{artist.nationality.adjective} {group} painters")
    return labels


def _german_content(artist: StandinArtist) -> str:
    def spelled(year: int | None, month: int, day: int) -> str:
        assert year is not None
        return f"{day}. {MONTHS_DE[month - 1]} {year}" if month else _year_text(year)

    adjective = artist.nationality.adjective_de
    noun = "Malerin" if artist.gender == "female" else "Maler"
    ending = "e" if artist.gender == "female" else "er"
    born = spelled(artist.birth_year, artist.birth_month, artist.birth_day)
    birth = f"* {born} in {_link(artist.birth_town)}, {_link(artist.nationality.country_de)}"
    if artist.death_year is None:
        lead = f"({birth}) ist ein{'e' if ending == 'e' else ''} {adjective}{ending} {noun}."
        died = ""
    else:
        died = spelled(artist.death_year, artist.death_month, artist.death_day)
        death = f"† {died} in {_link(artist.death_town or '')}"
        article = "eine" if ending == "e" else "ein"
        lead = f"({birth}; {death}) war {article} {adjective}{ending} {noun}."
    personendaten = (
        '<table class="metadata rahmenfarbe1" id="Vorlage_Personendaten"><tbody>'
        f"<tr><td>NAME</td><td>{html.escape(artist.name)}</td></tr>"
        f"<tr><td>KURZBESCHREIBUNG</td><td>{adjective}{ending} {noun}</td></tr>"
        f"<tr><td>GEBURTSDATUM</td><td>{born}</td></tr>"
        f"<tr><td>GEBURTSORT</td><td>{_link(artist.birth_town)}</td></tr>"
        f"<tr><td>STERBEDATUM</td><td>{died}</td></tr>"
        "</tbody></table>"
    )
    return (
        f"<p><b>{html.escape(artist.name)}</b> {lead}</p>\n"
        f"<p>{'Sie' if artist.gender == 'female' else 'Er'} malte vor allem im Stil des "
        f"{_link(artist.style)}.</p>\n{personendaten}"
    )


def _disambiguation_content(artist: StandinArtist) -> str:
    return (
        f"<p><b>{html.escape(artist.name)}</b> may refer to:</p>\n<ul>"
        f"<li>{_link(artist.name + ' (painter)')} "
        f"({artist.birth_year}–{artist.death_year or ''}), "
        f"{artist.nationality.adjective} painter</li>"
        f"<li>{_link(artist.name + ' (rower)')}, {artist.nationality.adjective} rower</li></ul>\n"
        '<div role="note" id="disambigbox" class="metadata plainlinks dmbox dmbox-disambig">'
        '<div class="dmbox-body"><p>This <a href="/wiki/Help:Disambiguation" '
        'title="Help:Disambiguation">disambiguation</a> page lists articles about people with '
        "the same name.</p></div></div>"
    )


def render_page(rng: np.random.Generator, artist: StandinArtist) -> tuple[str, str]:
    """Render an artist's saved Wikipedia page; return ``(html, title)``."""
    if artist.page_kind == "disambiguation":
        title = f"{artist.name} - Wikipedia"
        page = _page(
            artist,
            lang="en",
            title=title,
            short="Topics referred to by the same term",
            content=_disambiguation_content(artist),
            categories=_categories(["Human name disambiguation pages"], heading="Category"),
        )
        return page, title

    if artist.page_kind == "wikipedia_other_lang":
        title = f"{artist.name} – Wikipedia"
        labels = [
            f"Maler ({artist.nationality.country_de})",
            f"Geboren {_year_text(artist.birth_year)}",
        ]
        if artist.death_year is not None:
            labels.append(f"Gestorben {_year_text(artist.death_year)}")
        labels.append("Frau" if artist.gender == "female" else "Mann")
        noun = "e Malerin" if artist.gender == "female" else "er Maler"
        page = _page(
            artist,
            lang="de",
            title=title,
            short=f"{artist.nationality.adjective_de}{noun}",
            content=_german_content(artist),
            categories=_categories(
                labels, heading="Kategorien", prefix="Kategorie", help_page="Wikipedia:Kategorien"
            ),
        )
        return page, title

    title = f"{artist.name} - Wikipedia"
    death = "" if artist.death_year is None else _year_text(artist.death_year)
    page = _page(
        artist,
        lang="en",
        title=title,
        short=f"{artist.nationality.adjective} painter ({_year_text(artist.birth_year)}–{death})",
        content=_english_content(rng, artist, infobox=artist.page_kind != "no_infobox"),
        categories=_categories(_english_categories(artist)),
    )
    return page, title


def _index_kind(page_kind: str) -> str:
    return "wikipedia_en" if page_kind == "no_infobox" else page_kind


def page_facts(artist: StandinArtist) -> dict | None:
    """Return the facts an artist's page states, or None for a disambiguation page."""
    if artist.page_kind == "disambiguation":
        return None
    return {
        "name": artist.name,
        "gender": artist.gender,
        "birth_year": artist.birth_year,
        "death_year": artist.death_year,
        "circa": artist.circa,
        "nationality": artist.nationality.adjective,
        "birth_country": artist.nationality.country,
        "birth_place": artist.birth_place,
        "birth_town": artist.birth_town,
    }


# ---------------------------------------------------------------- catalog tables


def _artist_row(rng: np.random.Generator, artist: StandinArtist) -> dict[str, str]:
    row = dict.fromkeys(ARTIST_COLUMNS, "")
    row.update(
        {
            "name": artist.name,
            "url_name": artist.url_name,
            "Birth Date": artist.catalog_birth_date,
            "Death Date": artist.catalog_death_date,
            "Birth place": artist.birth_place if rng.random() < 0.8 else artist.nationality.country,
            "Death place": artist.death_place,
            "Nationality": artist.nationality.adjective if rng.random() < 0.85 else "",
            "Art Movement": artist.style,
            "Genre": artist.genre if rng.random() < 0.5 else f"{artist.genre}|portrait",
            "Field": "painting" if rng.random() < 0.7 else "painting|drawing",
            "Wikipedia": artist.wikipedia_url,
        }
    )
    return row


def _artworks(
    rng: np.random.Generator, artist: StandinArtist, works_per_artist: int, first_number: int
) -> list[tuple[dict[str, str], str]]:
    """Invent an artist's catalog rows; return each row with its image's style."""
    rows = []
    start = artist.birth_year + 20
    end = artist.death_year if artist.death_year is not None else 2024
    used: set[str] = set()
    for offset in range(works_per_artist):
        year = int(rng.integers(start, max(end, start + 1)))
        n_words = int(rng.integers(1, 4))
        words = [str(w) for w in rng.choice(TITLE_WORDS, size=n_words, replace=False)]
        base = "-".join(words)
        painting_slug = f"{base}--{-year}" if year < 0 else f"{base}-{year}"
        while painting_slug in used:
            painting_slug += "-1"
        used.add(painting_slug)
        # Some image files are named unlike their pages, as in the catalog ("x--735" vs "x-735").
        file_stem = painting_slug
        if (first_number + offset) % 4 == 3:
            file_stem = f"{base}-{abs(year)}" if year < 0 else base
        style = artist.style if rng.random() < 0.8 else STYLES[int(rng.integers(len(STYLES)))]
        date = f"{-year} BC" if year < 0 else str(year)
        host = f"uploads{int(rng.integers(0, 9))}.wikiart.org"
        row = {
            "url": f"https://www.wikiart.org/en/{artist.slug}/{painting_slug}",
            "Create Date": date,
            "Create Location": artist.birth_town if rng.random() < 0.3 else "",
            "Date": date,
            "image_url": f"https://{host}/images/{artist.slug}/{file_stem}.jpg!Large.jpg",
            "Style": style,
            "Theme": "",
            "Genre": artist.genre if rng.random() < 0.75 else str(rng.choice(GENRES)),
            "Media": str(rng.choice(MEDIA)),
            "Location": "Private Collection" if rng.random() < 0.5 else "",
            "tags": "|".join(w.capitalize() for w in words),
            "Series": "",
            "Period": "",
        }
        rows.append((row, style))
    return rows


def _csv_bytes(columns: list[str], rows: list[dict[str, str]], *, final_newline: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    text = buffer.getvalue()
    if not final_newline:
        text = text.removesuffix("\r\n")
    return text.encode("utf-8")


# ---------------------------------------------------------------- writing


def _prepare_dest(dest: Path, overwrite: bool) -> None:
    owned = ("README.md", "truth.json", "wikiart", "wikipedia", "images")
    if dest.exists() and not dest.is_dir():
        raise InvalidValueError(f"stand-in data folder {dest} is a file; name a folder")
    if dest.is_dir() and any(dest.iterdir()):
        if not overwrite:
            raise InvalidValueError(
                f"stand-in data folder {dest} is not empty; "
                "name an empty folder or pass overwrite=True"
            )
        for name in owned:
            path = dest / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def _readme(seed: int, n_artists: int, n_artworks: int) -> str:
    return f"""# Stand-in study data (synthetic)

Everything in this folder is synthetic: generated by demographic2art with seed {seed}.
The {n_artists} artists, their pages and their {n_artworks} artworks are invented, and
their names are built from syllables so that none names a real person. The paintings
are generated images, not artworks.

The layout and file formats copy the real data folder:
`wikiart/artists.csv`, `wikiart/artworks.csv.gz`, `wikipedia/html/<slug>.html`,
`wikipedia/INDEX.tsv`, `images/<style>/<n>.jpg` and `images/INDEX.tsv`.
`truth.json` lists the facts each page states, for checking extraction.
"""


def make_standin_data(
    dest: str | os.PathLike[str],
    *,
    seed: int = 0,
    n_artists: int = 24,
    works_per_artist: int = 4,
    image_size: tuple[int, int] = (384, 288),
    overwrite: bool = False,
) -> StandinSummary:
    """Write a synthetic study into ``dest``, laid out like the real data folder.

    ``image_size`` is (width, height) in pixels. ``dest`` must be a local folder that is
    missing or empty; with ``overwrite=True`` the files this function writes are
    replaced and other files are left alone. The same arguments give byte-identical files.
    """
    if n_artists < MIN_ARTISTS:
        raise InvalidValueError(
            f"n_artists={n_artists} is too few to include every hard case; "
            f"use at least {MIN_ARTISTS}"
        )
    if works_per_artist < 1:
        raise InvalidValueError(f"works_per_artist={works_per_artist} must be at least 1")
    width, height = image_size
    if width < 16 or height < 16:
        raise InvalidValueError(
            f"image_size={image_size} is too small; use at least (16, 16) pixels"
        )

    dest = Path(dest)
    _prepare_dest(dest, overwrite)
    rng = np.random.default_rng(seed)
    artists = _invent_artists(rng, n_artists)

    artist_rows = [_artist_row(rng, a) for a in artists]
    artists_csv = _csv_bytes(ARTIST_COLUMNS, artist_rows, final_newline=False)
    _write(dest / "wikiart" / "artists.csv", artists_csv)

    pages_dir = dest / "wikipedia" / "html"
    pages_dir.mkdir(parents=True)
    index_lines = ["slug\tbytes\tkind\ttitle\twikidata_id"]
    for artist in artists:
        text, title = render_page(rng, artist)
        data = text.encode("utf-8")
        _write(pages_dir / f"{artist.slug}.html", data)
        fields = [artist.slug, str(len(data)), _index_kind(artist.page_kind), title]
        index_lines.append("\t".join([*fields, artist.wikidata_id]))
    _write(dest / "wikipedia" / "INDEX.tsv", ("\n".join(index_lines) + "\n").encode("utf-8"))

    artwork_rows: list[dict[str, str]] = []
    artworks: list[StandinArtwork] = []
    image_lines = ["path\tclass_name\twidth\theight\tbytes\tsha256"]
    for artist in artists:
        for row, style in _artworks(rng, artist, works_per_artist, len(artwork_rows)):
            number = len(artwork_rows)
            relpath = f"{style_slug(style)}/{number}.jpg"
            jpeg = _jpeg_bytes(paint(rng, width, height, style))
            _write(dest / "images" / relpath, jpeg)
            sha256 = hashlib.sha256(jpeg).hexdigest()
            fields = [relpath, style, str(width), str(height), str(len(jpeg)), sha256]
            image_lines.append("\t".join(fields))
            artwork_rows.append(row)
            artwork = StandinArtwork(row["url"], row["image_url"], style, f"images/{relpath}")
            artworks.append(artwork)
    csv_data = _csv_bytes(ARTWORK_COLUMNS, artwork_rows, final_newline=True)
    _write(dest / "wikiart" / "artworks.csv.gz", gzip.compress(csv_data, compresslevel=6, mtime=0))
    _write(dest / "images" / "INDEX.tsv", ("\n".join(image_lines) + "\n").encode("utf-8"))

    truth = {
        "seed": seed,
        "generator": "demographic2art.demo.standin",
        "year_numbering": "historical: 300 BC is -300, no year zero",
        "artists": [_truth_entry(a) for a in artists],
        "artworks": [asdict(a) for a in artworks],
    }
    truth_json = json.dumps(truth, indent=1, ensure_ascii=False) + "\n"
    _write(dest / "truth.json", truth_json.encode("utf-8"))
    _write(dest / "README.md", _readme(seed, n_artists, len(artworks)).encode("utf-8"))

    summary = StandinSummary(
        dest=dest,
        seed=seed,
        n_artists=n_artists,
        n_artworks=len(artworks),
        n_pages=len(artists),
        n_images=len(artworks),
        styles=tuple(sorted({a.style for a in artworks})),
        artworks=artworks,
    )
    logger.info(
        "wrote stand-in data to %s: %d artists, %d artworks, seed %d",
        dest, summary.n_artists, summary.n_artworks, seed,
    )  # fmt: skip
    return summary


def _truth_entry(artist: StandinArtist) -> dict:
    return {
        "slug": artist.slug,
        "url_name": artist.url_name,
        "name": artist.name,
        "page_kind": _index_kind(artist.page_kind),
        "has_infobox": artist.page_kind in ("wikipedia_en",),
        "wikipedia_url": artist.wikipedia_url,
        "wikidata_id": artist.wikidata_id,
        "catalog_birth_date": artist.catalog_birth_date,
        "catalog_death_date": artist.catalog_death_date,
        "style": artist.style,
        "page_facts": page_facts(artist),
    }


def _jpeg_bytes(image) -> bytes:
    buffer = io.BytesIO()
    # Fixed settings and no metadata keep the bytes the same from run to run.
    image.save(buffer, format="JPEG", quality=88, optimize=False, progressive=False, subsampling=2)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
