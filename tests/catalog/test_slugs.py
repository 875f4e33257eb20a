"""Tests of matching artwork-URL artist slugs to artist keys."""

from __future__ import annotations

import pytest

from conftest import load_case
from demographic2art.catalog.build import build_catalog
from demographic2art.catalog.load import read_artists_csv
from demographic2art.catalog.slugs import build_slug_index
from demographic2art.keys import dashed_slug, slugify
from demographic2art.workspace import Workspace


def test_meta_slug_accents(shared_cases, tmp_path):
    case = load_case(shared_cases, "meta-slug-accents")
    artists = read_artists_csv(case["dir"] / "artists.csv")
    for name, url_name in zip(artists["name"], artists["url_name"]):
        assert slugify(name) == url_name
    workspace = Workspace(tmp_path / "ws").create()
    summary = build_catalog(
        workspace, case["dir"] / "artists.csv", case["dir"] / "artworks.csv"
    )
    artworks = workspace.storage.read_parquet("catalog/artworks.parquet")
    assert summary.unmatched_slugs == 0
    assert len(artworks) == 4
    assert artworks["artist_key"].notna().sum() == 4
    assert sorted(artworks["artist_key"]) == sorted(artists["url_name"])
    expected = {
        "zoe-lukasiewicz-bronnum": "zoe-lukasiewicz-bronnum",
        "j-rg-stra-mann": "jorg-strassmann",
        "dorde-ciric": "dorde-ciric",
        "ana-elebi": "ana-celebi",
    }
    assert dict(zip(artworks["artist_slug"], artworks["artist_key"])) == expected


@pytest.mark.parametrize(
    ("name", "transliterated", "dashed"),
    [
        ("Paweł Łoś", "pawel-los", "pawe-o"),
        ("Søren Ærø", "soren-aero", "s-ren-r"),
        ("Þóra Œuvre", "thora-oeuvre", "ra-uvre"),
        ("Işıl Çay", "isil-cay", "i-l-ay"),
        ("Đorđe Ćirić", "dorde-ciric", "or-e-iri"),
        ("Jeanne d'Arc", "jeanne-d-arc", "jeanne-d-arc"),
        ("Anna  Marie-Lund", "anna-marie-lund", "anna-marie-lund"),
    ],
)
def test_slug_variants_match(name, transliterated, dashed):
    assert slugify(name) == transliterated
    assert dashed_slug(name) == dashed
    index = build_slug_index([("some-key", [name])])
    assert index.match(transliterated)[0] == "some-key"
    assert index.match(dashed)[0] == "some-key"


def test_other_script_name_matches_exact_key():
    index = build_slug_index([("ilya-repin", ["Илья Репин"])])
    assert index.match("ilya-repin") == ("ilya-repin", "exact")
    assert index.match("ilia-repin") == (None, "unmatched")


def test_exact_key_wins_over_name_variant():
    index = build_slug_index([("anna-lund", ["Anna Lund"]), ("lund-anna", ["Anna Lund"])])
    assert index.match("lund-anna") == ("lund-anna", "exact")
    assert index.match("anna-lund") == ("anna-lund", "exact")


def test_shared_name_variant_is_reported():
    index = build_slug_index([("lund-1", ["Anna Lund"]), ("lund-2", ["Anna Lund"])])
    assert index.match("anna-lund") == ("lund-1", "transliterated")
    assert index.conflicts == {"anna-lund": ["lund-1", "lund-2"]}


def test_real_catalog_unmatched_slugs(shared_data):
    """Exact matching leaves 55 slugs (3,421 rows); name variants bring it to 42 (2,270 rows)."""
    import pandas as pd

    from demographic2art.keys import split_artwork_url

    artists = read_artists_csv(shared_data / "wikiart" / "artists.csv")
    urls = pd.read_csv(
        shared_data / "wikiart" / "artworks.csv.gz", usecols=["url"], dtype=str, engine="pyarrow"
    )["url"]
    slugs = urls.map(lambda url: split_artwork_url(url)[0])
    keys = set(artists["artist_key"])
    exact_unmatched = slugs[~slugs.isin(keys)]
    assert exact_unmatched.nunique() == 55
    assert len(exact_unmatched) == 3421

    names = artists.groupby("artist_key", sort=False)["name"].agg(list)
    index = build_slug_index(names.items())
    matches = {slug: index.match(slug) for slug in slugs.unique()}
    unmatched = slugs[slugs.map(lambda slug: matches[slug][0] is None)]
    assert unmatched.nunique() == 42
    assert len(unmatched) == 2270
    assert matches["joaqu-n-sorolla"] == ("joaquin-sorolla", "dashed")
