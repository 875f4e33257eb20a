"""Build the cleaned catalog: ``catalog/artists.parquet``, ``artworks.parquet``, ``problems.json``.

``artists.parquet`` has one row per artist key (rows sharing a ``url_name`` are merged
into the first one, and their other names go to ``name_variants``):

=============================  ==============================================================
column                         content
=============================  ==============================================================
artist_key                     normalised ``url_name`` (``en/`` prefix dropped), unique
name, url_name                 cleaned name and the ``url_name`` as written in the CSV
name_variants                  list of the other names found under the same key
birth_* / death_*              parsed date after record resolution: ``year``, ``month``,
                               ``day``, ``precision``, ``approximate``, ``era``,
                               ``astronomical_year``, ``end_year``, ``century_inferred``,
                               ``century_ambiguous``, ``iso``, ``raw`` (text as written) and
                               ``status`` (``parsed``, ``empty`` or ``unparseable``)
birth_place, death_place       cleaned text
nationality, art_movement,     lists from the ``|``-separated cells
genre, field, influenced_by,
influenced_on, painting_school,
friends_and_co_workers,
family_and_relatives, pupils,
teachers, art_institution
wikipedia_url, official_site   links as written
matched_slugs                  list of artwork-URL artist slugs joined to this artist
artwork_count                  number of rows in ``artworks.parquet`` for this artist
=============================  ==============================================================

``artworks.parquet`` has one row per artwork key (deduplicated by ``url``, first row kept):

=============================  ==============================================================
column                         content
=============================  ==============================================================
key                            ``<artist-slug>/<painting-slug>`` from :func:`keys.artwork_key`
artist_slug, painting_slug     the two parts of ``key``
artist_key                     joined artist key, null when the slug matches no artist
artist_match                   ``exact``, ``transliterated``, ``dashed`` or ``unmatched``
title                          readable title from the painting slug, trailing year removed
url, image_url                 as written in the CSV
year, year_end                 start and end year (historical numbering, 900 BC is -900)
year_precision, year_approximate, year_era, year_astronomical
date_raw                       the date text the year comes from
date_source                    ``create_date``, ``date`` or null
date_status                    ``parsed``, ``empty`` or ``unparseable``
style                          cleaned ``Style`` text; ``styles`` is its list of items
genre, media, tags             lists
location, series, period,      cleaned text
theme, create_location
=============================  ==============================================================

The year comes from ``Create Date``, or else from the first ``|``/``;`` piece of ``Date``
that parses. Three pairs of distinct URLs in the full catalog give the same key (for
example ``salome`` and ``salom%C3%A9``); the first URL keeps the key and the others are
listed under ``key_collisions`` in ``problems.json``.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InvalidValueError
from ..keys import normalise_slug, split_artwork_url
from ..workspace import Workspace
from .dates import ParsedDate, parse_date, resolve_record_dates
from .load import ARTIST_LIST_COLUMNS, read_artists_csv, read_artworks_csv
from .slugs import build_slug_index

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

ARTISTS_PATH = "catalog/artists.parquet"
ARTWORKS_PATH = "catalog/artworks.parquet"
PROBLEMS_PATH = "catalog/problems.json"
MAX_EXAMPLES = 10
"""Examples kept per problem in ``problems.json``; unmatched slugs are all listed."""

DATE_FIELDS = (
    "year",
    "month",
    "day",
    "precision",
    "approximate",
    "era",
    "astronomical_year",
    "end_year",
    "century_inferred",
    "century_ambiguous",
)


@dataclass
class CatalogSummary:
    """Counts and output paths of one catalog build."""

    artists: int
    artworks: int
    artwork_rows_read: int
    duplicate_rows: int
    unmatched_slugs: int
    unmatched_artworks: int
    ambiguous_centuries: int
    paths: dict[str, str] = field(default_factory=dict)
    # Artwork rows dropped, by kind; they add up to artwork_rows_read - artworks.
    dropped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_catalog(
    workspace: Workspace | str,
    artists_csv: str | os.PathLike[str],
    artworks_csv: str | os.PathLike[str],
    *,
    artists: list[str] | None = None,
    limit: int | None = None,
) -> CatalogSummary:
    """Read, clean and join the two WikiArt tables and write the catalog into ``workspace``.

    ``artists`` keeps only these artist keys (slugs are normalised, so ``en/x`` is ``x``);
    an unknown key raises :class:`InvalidValueError`. ``limit`` caps the number of
    artworks kept per artist, in the order of the CSV; dates are resolved with all of an
    artist's artworks before the cap. Problems found on the way are counted, with
    examples, in ``catalog/problems.json``.
    """
    if limit is not None and limit < 1:
        raise InvalidValueError(f"limit {limit} is invalid; use a positive number of artworks")
    if isinstance(workspace, (str, os.PathLike)):
        workspace = Workspace(workspace).create()
    problems: dict[str, dict[str, Any]] = {}

    artist_rows = read_artists_csv(artists_csv)
    artwork_rows = read_artworks_csv(artworks_csv)
    artists_frame = _merge_artists(artist_rows, problems)
    artworks_frame = _deduplicate_artworks(artwork_rows, problems)
    artworks_frame = _add_keys(artworks_frame, problems)
    _join_artists(artworks_frame, artists_frame, problems)
    _add_artwork_dates(artworks_frame, problems)
    _add_titles(artworks_frame)
    _add_artist_dates(artists_frame, artworks_frame, problems)
    cleaned_rows = len(artworks_frame)

    if artists:
        artists_frame, artworks_frame = _select_artists(artists_frame, artworks_frame, artists)
    if limit is not None:
        artworks_frame = artworks_frame.groupby("artist_slug", sort=False).head(limit)
    artists_frame = _add_artwork_counts(artists_frame, artworks_frame)

    storage = workspace.storage
    storage.write_parquet(ARTISTS_PATH, artists_frame.reset_index(drop=True))
    storage.write_parquet(ARTWORKS_PATH, artworks_frame.reset_index(drop=True))
    storage.write_json(PROBLEMS_PATH, problems)
    workspace.record_settings(
        "catalog",
        {
            "artists_csv": os.fspath(artists_csv),
            "artworks_csv": os.fspath(artworks_csv),
            "artists": list(artists) if artists else None,
            "limit": limit,
        },
    )
    summary = CatalogSummary(
        artists=len(artists_frame),
        artworks=len(artworks_frame),
        artwork_rows_read=len(artwork_rows),
        duplicate_rows=problems["duplicate_rows"]["count"],
        unmatched_slugs=problems["unmatched_artist_slugs"]["count"],
        unmatched_artworks=problems["unmatched_artist_slugs"]["rows"],
        ambiguous_centuries=problems["ambiguous_centuries"]["count"],
        dropped={
            "duplicate rows": problems["duplicate_rows"]["count"],
            "conflicting duplicate urls": problems["conflicting_duplicate_urls"]["rows_dropped"],
            "invalid urls": problems["invalid_urls"]["count"],
            "key collisions": problems["key_collisions"]["count"],
            "not selected by --artist or --limit": cleaned_rows - len(artworks_frame),
        },
        paths={
            "artists": f"{storage.url}/{ARTISTS_PATH}",
            "artworks": f"{storage.url}/{ARTWORKS_PATH}",
            "problems": f"{storage.url}/{PROBLEMS_PATH}",
        },
    )
    logger.info("catalog built: %d artists, %d artworks", summary.artists, summary.artworks)
    return summary


def _record(problems: dict, name: str, examples: list, count: int | None = None, **extra) -> None:
    problems[name] = {
        "count": len(examples) if count is None else count,
        **extra,
        "examples": examples[:MAX_EXAMPLES],
    }


def _merge_artists(rows: "pd.DataFrame", problems: dict) -> "pd.DataFrame":
    """Merge rows that share an artist key into the first one, keeping the other names."""
    prefixed = rows.loc[rows["url_name"].str.contains("/"), "url_name"].tolist()
    _record(problems, "prefixed_url_names", prefixed)

    names = rows.groupby("artist_key", sort=False)["name"].agg(list)
    duplicated = names[names.map(len) > 1]
    _record(
        problems,
        "duplicated_url_names",
        [{"artist_key": key, "names": value} for key, value in duplicated.items()],
    )
    frame = rows.drop_duplicates("artist_key", keep="first").copy()
    frame["name_variants"] = [
        [name for name in dict.fromkeys(names[key]) if name != first]
        for key, first in zip(frame["artist_key"], frame["name"])
    ]
    frame = frame.rename(columns={"wikipedia": "wikipedia_url"})
    return frame.reset_index(drop=True)


def _deduplicate_artworks(rows: "pd.DataFrame", problems: dict) -> "pd.DataFrame":
    """Drop exact duplicate rows, then keep the first row of each remaining repeated url."""
    as_text = rows.astype(str)
    exact = as_text.duplicated(keep="first")
    _record(problems, "duplicate_rows", rows.loc[exact, "url"].head(MAX_EXAMPLES).tolist(),
            count=int(exact.sum()))
    distinct = rows.loc[~exact]
    repeated = distinct["url"].duplicated(keep="first")
    _record(
        problems,
        "conflicting_duplicate_urls",
        distinct.loc[repeated, "url"].drop_duplicates().head(MAX_EXAMPLES).tolist(),
        count=int(distinct.loc[repeated, "url"].nunique()),
        rows_dropped=int(repeated.sum()),
    )
    return distinct.loc[~repeated].reset_index(drop=True)


def _add_keys(frame: "pd.DataFrame", problems: dict) -> "pd.DataFrame":
    """Add ``key``, ``artist_slug`` and ``painting_slug``; report invalid urls and key collisions."""
    import pandas as pd

    artist_slugs, painting_slugs, invalid = [], [], []
    for url in frame["url"]:
        try:
            artist_slug, painting_slug = split_artwork_url(url)
        except InvalidValueError:
            invalid.append(url)
            artist_slug = painting_slug = None
        artist_slugs.append(artist_slug)
        painting_slugs.append(painting_slug)
    _record(problems, "invalid_urls", invalid)
    frame = frame.assign(artist_slug=artist_slugs, painting_slug=painting_slugs)
    frame = frame.loc[frame["artist_slug"].notna()].copy()
    frame.insert(0, "key", frame["artist_slug"] + "/" + frame["painting_slug"])

    colliding = frame["key"].duplicated(keep="first")
    first_url = frame.drop_duplicates("key").set_index("key")["url"]
    _record(
        problems,
        "key_collisions",
        [
            {"key": key, "kept_url": first_url[key], "dropped_url": url}
            for key, url in zip(frame.loc[colliding, "key"], frame.loc[colliding, "url"])
        ],
    )
    frame = frame.loc[~colliding].reset_index(drop=True)
    missing_images = frame.loc[frame["image_url"] == "", "key"].tolist()
    _record(problems, "missing_image_urls", missing_images)
    return pd.DataFrame(frame)


def _join_artists(artworks: "pd.DataFrame", artists: "pd.DataFrame", problems: dict) -> None:
    """Add ``artist_key`` and ``artist_match`` to ``artworks`` and ``matched_slugs`` to ``artists``."""
    names = {
        key: [first, *variants]
        for key, first, variants in zip(
            artists["artist_key"], artists["name"], artists["name_variants"]
        )
    }
    index = build_slug_index(names.items())
    matches = {slug: index.match(slug) for slug in artworks["artist_slug"].unique()}
    artworks["artist_key"] = artworks["artist_slug"].map(lambda slug: matches[slug][0])
    artworks["artist_match"] = artworks["artist_slug"].map(lambda slug: matches[slug][1])

    rows_per_slug = Counter(artworks["artist_slug"])
    unmatched = sorted(slug for slug, (key, _) in matches.items() if key is None)
    problems["unmatched_artist_slugs"] = {
        "count": len(unmatched),
        "rows": sum(rows_per_slug[slug] for slug in unmatched),
        "slugs": {slug: rows_per_slug[slug] for slug in unmatched},
    }
    _record(
        problems,
        "slug_variant_matches",
        [
            {"artist_slug": slug, "artist_key": key, "method": method}
            for slug, (key, method) in sorted(matches.items())
            if key is not None and method != "exact"
        ],
    )
    _record(
        problems,
        "slug_variant_conflicts",
        [{"slug": slug, "artist_keys": keys} for slug, keys in index.conflicts.items()],
    )
    matched: dict[str, list[str]] = {key: [] for key in artists["artist_key"]}
    for slug, (key, _) in matches.items():
        if key is not None:
            matched[key].append(slug)
    artists["matched_slugs"] = artists["artist_key"].map(lambda key: sorted(matched[key]))


def _date_of_artwork(create_date: str, date: str) -> tuple[ParsedDate, str | None]:
    if create_date:
        return parse_date(create_date), "create_date"
    for piece in re.split(r"[|;]", date):
        parsed = parse_date(piece)
        if parsed.parsed:
            return parsed, "date"
    return parse_date(date), ("date" if date else None)


def _add_artwork_dates(frame: "pd.DataFrame", problems: dict) -> None:
    """Add the ``year*`` and ``date_*`` columns, parsing each distinct date text once."""
    import pandas as pd

    pairs = list(zip(frame["create_date"], frame["date"]))
    parsed = {pair: _date_of_artwork(*pair) for pair in set(pairs)}
    dates = [parsed[pair][0] for pair in pairs]
    frame["year"] = pd.array([d.year for d in dates], dtype="Int64")
    frame["year_end"] = pd.array([d.end_year for d in dates], dtype="Int64")
    frame["year_precision"] = [d.precision for d in dates]
    frame["year_approximate"] = [d.approximate for d in dates]
    frame["year_era"] = [d.era for d in dates]
    frame["year_astronomical"] = pd.array([d.astronomical_year for d in dates], dtype="Int64")
    frame["date_raw"] = [d.raw for d in dates]
    frame["date_source"] = [parsed[pair][1] for pair in pairs]
    frame["date_status"] = [_status(d) for d in dates]
    unparseable = frame.loc[frame["date_status"] == "unparseable"]
    _record(
        problems,
        "unparseable_artwork_dates",
        [{"key": k, "raw": raw} for k, raw in zip(unparseable["key"], unparseable["date_raw"])],
        count=len(unparseable),
    )
    problems["undated_artworks"] = {"count": int((frame["date_status"] == "empty").sum())}


def _status(date: ParsedDate) -> str:
    if date.parsed:
        return "parsed"
    return "unparseable" if date.raw.strip() else "empty"


def title_from_slug(painting_slug: str, year: int | None = None) -> str:
    """Make a readable title from a painting slug, dropping a trailing year.

    The trailing number is dropped when it equals the artwork's year (sign ignored) or
    is a four-digit year from 1000 to 2099, also when WikiArt added a ``-<n>`` counter
    after it. A lone ``s`` after a word is an English possessive: ``the-miller-s-daughter``
    gives ``The miller's daughter``.
    """
    words = [word for word in str(painting_slug).split("-") if word]
    if len(words) > 1 and words[-1].isdigit() and _is_title_year(int(words[-1]), year):
        words = words[:-1]
    elif (
        len(words) > 2
        and words[-1].isdigit()
        and len(words[-1]) <= 2
        and words[-2].isdigit()
        and _is_title_year(int(words[-2]), year)
    ):
        words = words[:-2]
    text = " ".join(words)
    text = re.sub(r"(?<=\w) s\b", "'s", text)
    return text[:1].upper() + text[1:]


def _is_title_year(number: int, year: int | None) -> bool:
    if year is not None and number == abs(year):
        return True
    return 1000 <= number <= 2099


def _add_titles(frame: "pd.DataFrame") -> None:
    import pandas as pd

    frame["title"] = [
        title_from_slug(slug, None if pd.isna(year) else int(year))
        for slug, year in zip(frame["painting_slug"], frame["year"].astype(object))
    ]


def _add_artist_dates(artists: "pd.DataFrame", artworks: "pd.DataFrame", problems: dict) -> None:
    """Parse birth and death dates and settle inferred centuries with each artist's artworks."""
    import pandas as pd

    dated = artworks.loc[artworks["year"].notna() & artworks["artist_key"].notna()]
    years_by_artist = dated.groupby("artist_key")["year"].agg(lambda years: list(map(int, years)))
    births, deaths = [], []
    for key, birth_text, death_text in zip(
        artists["artist_key"], artists["birth_date"], artists["death_date"]
    ):
        birth, death = parse_date(birth_text), parse_date(death_text)
        if birth.century_inferred or death.century_inferred:
            birth, death = resolve_record_dates(birth, death, years_by_artist.get(key, []))
        births.append(birth)
        deaths.append(death)
    for prefix, dates in (("birth", births), ("death", deaths)):
        for name in DATE_FIELDS:
            values = [getattr(date, name) for date in dates]
            if name in ("year", "month", "day", "astronomical_year", "end_year"):
                values = pd.array(values, dtype="Int64")
            artists[f"{prefix}_{name}"] = values
        artists[f"{prefix}_iso"] = [date.iso for date in dates]
        artists[f"{prefix}_raw"] = [date.raw for date in dates]
        artists[f"{prefix}_status"] = [_status(date) for date in dates]
    artists.drop(columns=["birth_date", "death_date"], inplace=True)

    unparseable = [
        {"artist_key": key, "field": prefix, "raw": date.raw}
        for prefix, dates in (("birth", births), ("death", deaths))
        for key, date in zip(artists["artist_key"], dates)
        if _status(date) == "unparseable"
    ]
    _record(problems, "unparseable_artist_dates", unparseable)
    ambiguous = [
        {"artist_key": key, "field": prefix, "raw": date.raw, "year": date.year}
        for prefix, dates in (("birth", births), ("death", deaths))
        for key, date in zip(artists["artist_key"], dates)
        if date.century_ambiguous
    ]
    resolved = sum(
        1 for dates in (births, deaths) for date in dates
        if date.century_inferred and not date.century_ambiguous
    )
    _record(problems, "ambiguous_centuries", ambiguous, resolved_centuries=resolved)


def _select_artists(
    artists: "pd.DataFrame", artworks: "pd.DataFrame", wanted: list[str]
) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    keys = list(dict.fromkeys(normalise_slug(slug) for slug in wanted))
    known = set(artists["artist_key"])
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise InvalidValueError(
            f"artist {', '.join(unknown)} is not in the artists table; "
            "use url_name values such as 'thomas-fearnley'"
        )
    artists = artists.loc[artists["artist_key"].isin(keys)]
    artworks = artworks.loc[artworks["artist_key"].isin(keys)]
    return artists, artworks


def _add_artwork_counts(artists: "pd.DataFrame", artworks: "pd.DataFrame") -> "pd.DataFrame":
    counts = artworks["artist_key"].value_counts()
    artists = artists.copy()
    artists["artwork_count"] = artists["artist_key"].map(counts).fillna(0).astype("int64")
    list_columns = [c for c in ARTIST_LIST_COLUMNS if c in artists.columns]
    front = ["artist_key", "name", "url_name", "name_variants"]
    rest = [c for c in artists.columns if c not in front and c not in list_columns]
    return artists[front + list_columns + rest]
