"""Tests of the catalog build on invented fixture tables, on the real catalog and via the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from demographic2art.catalog.build import build_catalog, title_from_slug
from demographic2art.catalog.load import read_artworks_csv
from demographic2art.errors import InvalidValueError, MissingFileError
from demographic2art.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalog"
REPO = Path(__file__).resolve().parents[2]
ARTIST_COLUMNS = {
    "artist_key", "name", "url_name", "name_variants", "nationality", "art_movement", "genre",
    "field", "birth_year", "birth_month", "birth_day", "birth_precision", "birth_approximate",
    "birth_era", "birth_astronomical_year", "birth_end_year", "birth_century_inferred",
    "birth_century_ambiguous", "birth_iso", "birth_raw", "birth_status", "death_year",
    "death_raw", "death_century_ambiguous", "birth_place", "death_place", "wikipedia_url",
    "matched_slugs", "artwork_count",
}
ARTWORK_COLUMNS = {
    "key", "artist_slug", "painting_slug", "artist_key", "artist_match", "title", "url",
    "image_url", "year", "year_end", "year_precision", "year_approximate", "year_era",
    "year_astronomical", "date_raw", "date_source", "date_status", "style", "styles", "genre",
    "media", "tags", "location", "series", "period", "theme", "create_location",
}


@pytest.fixture()
def fixture_catalog(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    summary = build_catalog(workspace, FIXTURES / "artists.csv", FIXTURES / "artworks.csv")
    artists = workspace.storage.read_parquet("catalog/artists.parquet").set_index("artist_key")
    artworks = workspace.storage.read_parquet("catalog/artworks.parquet").set_index("key")
    problems = workspace.storage.read_json("catalog/problems.json")
    return summary, artists, artworks, problems


def test_build_fixture_counts(fixture_catalog):
    summary, artists, artworks, problems = fixture_catalog
    assert summary.artists == 4
    assert summary.artworks == 7
    assert summary.artwork_rows_read == 8
    assert summary.duplicate_rows == 1
    assert problems["duplicated_url_names"]["count"] == 1
    assert problems["prefixed_url_names"]["examples"] == ["en/edda-morrow"]
    assert problems["unmatched_artist_slugs"]["slugs"] == {"nobody-known": 1}
    assert problems["missing_image_urls"]["examples"] == ["edda-morrow/the-pilot-s-house"]
    assert problems["undated_artworks"]["count"] == 1


def test_build_fixture_artists(fixture_catalog):
    _, artists, _, _ = fixture_catalog
    edda = artists.loc["edda-morrow"]
    assert edda["url_name"] == "en/edda-morrow"
    assert edda["birth_iso"] == "1851-04-02"
    assert edda["death_iso"] == "1919-06-11"
    assert bool(edda["death_century_ambiguous"]) is False
    assert list(edda["nationality"]) == ["Norwegian", "Danish"]
    assert edda["birth_place"] == "Troms\u00f8, Norway"
    berenice = artists.loc["berenice-olafsdottir"]
    assert berenice["birth_year"] == 1964
    assert bool(berenice["birth_century_ambiguous"]) is False
    assert list(berenice["matched_slugs"]) == ["b-r-nice-olafsd-ttir"]
    kallias = artists.loc["kallias-the-potter"]
    assert kallias["birth_year"] == -520
    assert kallias["birth_era"] == "BCE"
    assert kallias["death_year"] == -460
    ivo = artists.loc["ivo-brankovic"]
    assert ivo["name"] == "Ivo Brankovi\u0107"
    assert list(ivo["name_variants"]) == ["Ivo Brankovic"]


def test_build_fixture_artworks(fixture_catalog):
    _, _, artworks, _ = fixture_catalog
    fjord = artworks.loc["edda-morrow/fjord-at-dusk-1880"]
    assert fjord["title"] == "Fjord at dusk"
    assert fjord["location"] == "Morrow & Sons Gallery, Oslo"
    assert list(fjord["tags"]) == ["Fjord", "Dusk"]
    assert fjord["year"] == 1880
    pilot = artworks.loc["edda-morrow/the-pilot-s-house"]
    assert pilot["title"] == "The pilot's house"
    assert bool(pilot["year_approximate"]) is True
    red = artworks.loc["b-r-nice-olafsd-ttir/red-field-1990"]
    assert red["artist_key"] == "berenice-olafsdottir"
    assert red["artist_match"] == "dashed"
    assert red["style"] == "Abstract Art|Color Field Painting"
    assert list(red["styles"]) == ["Abstract Art", "Color Field Painting"]
    amphora = artworks.loc["kallias-the-potter/amphora-with-runners--500"]
    assert amphora["year"] == -500
    assert amphora["year_astronomical"] == -499
    assert amphora["title"] == "Amphora with runners"
    lost = artworks.loc["nobody-known/lost-sketch"]
    assert pd.isna(lost["artist_key"])
    assert lost["artist_match"] == "unmatched"
    assert lost["date_status"] == "empty"


def test_build_filters_and_limit(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    summary = build_catalog(
        workspace,
        FIXTURES / "artists.csv",
        FIXTURES / "artworks.csv",
        artists=["en/edda-morrow", "berenice-olafsdottir"],
        limit=1,
    )
    artworks = workspace.storage.read_parquet("catalog/artworks.parquet")
    assert summary.artists == 2
    assert sorted(artworks["artist_key"]) == ["berenice-olafsdottir", "edda-morrow"]
    assert workspace.settings()["catalog"]["limit"] == 1


def test_build_rejects_unknown_artist(tmp_path):
    with pytest.raises(InvalidValueError, match="nobody"):
        build_catalog(
            tmp_path / "ws", FIXTURES / "artists.csv", FIXTURES / "artworks.csv",
            artists=["nobody"],
        )


def test_build_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="missing.csv"):
        build_catalog(tmp_path / "ws", tmp_path / "missing.csv", FIXTURES / "artworks.csv")


@pytest.mark.parametrize(
    ("slug", "year", "title"),
    [
        ("the-miller-s-daughter-1901", 1901, "The miller's daughter"),
        ("fayum-mummy-portrait-70-0", 70, "Fayum mummy portrait"),
        ("hirschfeld-krater-735", -735, "Hirschfeld krater"),
        ("study-3", None, "Study 3"),
        ("composition-1925", None, "Composition"),
        ("1", None, "1"),
    ],
)
def test_title_from_slug(slug, year, title):
    assert title_from_slug(slug, year) == title


def test_cli_build_writes_parquet(tmp_path):
    workspace = tmp_path / "ws"
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "d2a"), "catalog", "build",
         "--artists-csv", str(FIXTURES / "artists.csv"),
         "--artworks-csv", str(FIXTURES / "artworks.csv"), "-w", str(workspace)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "4 artists, 7 artworks" in result.stdout
    artists = pd.read_parquet(workspace / "catalog" / "artists.parquet")
    artworks = pd.read_parquet(workspace / "catalog" / "artworks.parquet")
    assert ARTIST_COLUMNS <= set(artists.columns)
    assert ARTWORK_COLUMNS <= set(artworks.columns)


def test_cli_missing_file_exits_2(tmp_path):
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "d2a"), "catalog", "build",
         "--artists-csv", str(tmp_path / "missing.csv"),
         "--artworks-csv", str(FIXTURES / "artworks.csv"), "-w", str(tmp_path / "ws")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "missing.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_real_artworks_distinct_keys(shared_data):
    """174,353 distinct urls give 174,353 distinct keys, accents and leading '-' kept."""
    from demographic2art.keys import artwork_key

    frame = read_artworks_csv(shared_data / "wikiart" / "artworks.csv.gz")
    assert len(frame) == 206011
    assert frame["url"].nunique() == 174353
    keys = {artwork_key(url) for url in frame["url"].unique()}
    assert len(keys) == 174353


@pytest.mark.slow
def test_real_catalog_build(shared_data, tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    summary = build_catalog(
        workspace, shared_data / "wikiart" / "artists.csv",
        shared_data / "wikiart" / "artworks.csv.gz",
    )
    artists = workspace.storage.read_parquet("catalog/artists.parquet").set_index("artist_key")
    problems = workspace.storage.read_json("catalog/problems.json")
    assert summary.artists == 3046
    assert summary.artworks == 174353
    assert summary.duplicate_rows == 24897
    assert problems["key_collisions"]["count"] == 0
    assert problems["unmatched_artist_slugs"]["count"] == 42

    fearnley = artists.loc["thomas-fearnley"]
    assert fearnley["birth_iso"] == "1802-12-27"
    assert fearnley["death_iso"] == "1842-01-16"
    goldberg = artists.loc["chaim-goldberg"]
    assert goldberg["birth_iso"] == "1917-03-20"
    assert bool(goldberg["birth_century_ambiguous"]) is False
    pottery = artists.loc["ancient-greek-pottery"]
    assert pottery["birth_year"] == -900
    assert bool(pottery["birth_approximate"]) is True
    assert pottery["death_year"] == -31
    assert pottery["death_astronomical_year"] == -30
    apelles = artists.loc["apelles"]
    assert apelles["birth_year"] == -370
    assert pd.isna(apelles["death_year"])
    sejka = artists.loc["leonid-sejka"]
    assert sejka["name"] == "Leonid \u0160ejka"
    assert list(sejka["name_variants"]) == ["Leonid Sejka"]
