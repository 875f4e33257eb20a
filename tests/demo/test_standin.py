"""The stand-in study data: real formats, determinism, hard cases and the facts on its pages."""

from __future__ import annotations

import csv
import gzip
import hashlib
import http.client
import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from lxml import html as lxml_html
from PIL import Image

from demographic2art.demo.imageserver import ImageServer
from demographic2art.demo.paintings import PALETTES, paint, style_slug
from demographic2art.demo.standin import make_standin_data
from demographic2art.errors import InvalidValueError

ARTIST_HEADER = (
    "name,url_name,Birth Date,Death Date,Birth place,Death place,Nationality,Art Movement,Genre,"
    "Field,Influenced by,Influenced on,Wikipedia,Painting School,Official site,"
    "Friends and Co-workers,Family and Relatives,Pupils,Teachers,Art institution"
)
ARTWORK_HEADER = (
    "url,Create Date,Create Location,Date,image_url,Style,Theme,Genre,Media,Location,"
    "tags,Series,Period"
)


def tree_digest(root: Path) -> str:
    """Hash every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory):
    return make_standin_data(tmp_path_factory.mktemp("standin") / "data", seed=7)


@pytest.fixture(scope="module")
def truth(standin) -> dict:
    return json.loads((standin.dest / "truth.json").read_text())


@pytest.fixture(scope="module")
def artists(standin) -> pd.DataFrame:
    return pd.read_csv(standin.dest / "wikiart" / "artists.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def artworks(standin) -> pd.DataFrame:
    return pd.read_csv(standin.dest / "wikiart" / "artworks.csv.gz", keep_default_na=False)


def page_text(standin, slug: str) -> str:
    tree = lxml_html.fromstring((standin.dest / "wikipedia" / "html" / f"{slug}.html").read_bytes())
    return " ".join(tree.text_content().split())


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_tree(standin, tmp_path: Path) -> None:
    again = make_standin_data(tmp_path / "again", seed=7)
    assert tree_digest(again.dest) == tree_digest(standin.dest)


def test_other_seed_gives_other_tree(standin, tmp_path: Path) -> None:
    other = make_standin_data(tmp_path / "other", seed=8, n_artists=8, works_per_artist=1)
    same_size = make_standin_data(tmp_path / "same", seed=7, n_artists=8, works_per_artist=1)
    assert tree_digest(other.dest) != tree_digest(same_size.dest)


def test_layout(standin) -> None:
    for relpath in [
        "README.md",
        "truth.json",
        "wikiart/artists.csv",
        "wikiart/artworks.csv.gz",
        "wikipedia/INDEX.tsv",
        "images/INDEX.tsv",
    ]:
        assert (standin.dest / relpath).is_file(), relpath


def test_readme_says_synthetic_and_seed(standin) -> None:
    readme = (standin.dest / "README.md").read_text()
    assert "synthetic" in readme
    assert "seed 7" in readme


# ---------------------------------------------------------------- catalog tables


def test_artists_csv_format(standin, artists: pd.DataFrame) -> None:
    raw = (standin.dest / "wikiart" / "artists.csv").read_bytes()
    assert raw.split(b"\r\n", 1)[0].decode() == ARTIST_HEADER
    assert raw.count(b"\r\n") == 24
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert not raw.endswith(b"\n")
    assert list(artists.columns) == ARTIST_HEADER.split(",")
    assert len(artists) == 24


def test_artists_header_matches_real_file(shared_data: Path) -> None:
    with open(shared_data / "wikiart" / "artists.csv", newline="", encoding="utf-8") as f:
        real_header = next(csv.reader(f))
    assert real_header == ARTIST_HEADER.split(",")


def test_artworks_csv_format(standin, artworks: pd.DataFrame) -> None:
    compressed = (standin.dest / "wikiart" / "artworks.csv.gz").read_bytes()
    assert compressed[4:8] == b"\0\0\0\0"  # gzip MTIME field
    raw = gzip.decompress(compressed)
    assert raw.split(b"\r\n", 1)[0].decode() == ARTWORK_HEADER
    assert raw.endswith(b"\r\n")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert list(artworks.columns) == ARTWORK_HEADER.split(",")
    assert len(artworks) == 24 * 4
    assert standin.n_artworks == 96


def test_artworks_header_matches_real_file(shared_data: Path) -> None:
    with gzip.open(shared_data / "wikiart" / "artworks.csv.gz", "rt", newline="") as f:
        real_header = next(csv.reader(f))
    assert real_header == ARTWORK_HEADER.split(",")


def test_catalog_date_forms(artists: pd.DataFrame) -> None:
    dates = list(artists["Birth Date"]) + list(artists["Death Date"])
    assert "c.300 BC" in dates
    assert any(re.fullmatch(r"c\.\d{4}", d) for d in dates)
    assert any(re.fullmatch(r"\d{1,2}-[A-Z][a-z]{2}-\d\d", d) for d in dates)
    assert any(re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", d) for d in dates)
    assert "" in list(artists["Death Date"])


def test_catalog_lists_and_prefixes(artists: pd.DataFrame) -> None:
    assert artists["url_name"].str.startswith("en/").sum() >= 1
    assert artists["Genre"].str.contains("|", regex=False).any()
    assert artists["Wikipedia"].str.startswith("https://de.wikipedia.org/wiki/").sum() == 1


def test_artwork_urls(artists: pd.DataFrame, artworks: pd.DataFrame) -> None:
    slugs = set(artists["url_name"].str.removeprefix("en/"))
    url_artists = artworks["url"].str.extract(r"^https://www\.wikiart\.org/en/([^/]+)/[^/]+$")[0]
    image_match = artworks["image_url"].str.extract(
        r"^https://uploads\d\.wikiart\.org/images/([^/]+)/([^/]+)\.jpg!Large\.jpg$"
    )
    assert url_artists.notna().all()
    assert set(url_artists) == slugs
    assert image_match[0].notna().all()
    assert (image_match[0] == url_artists).all()
    page_slugs = artworks["url"].str.rsplit("/", n=1).str[1]
    assert (image_match[1] != page_slugs).sum() >= 1
    assert (image_match[1] == page_slugs).sum() >= len(artworks) // 2


def test_artwork_styles_genres_media(artworks: pd.DataFrame) -> None:
    assert artworks["Style"].nunique() >= 6
    assert set(artworks["Genre"]) <= {"landscape", "portrait", "still life", "genre painting"}
    assert artworks["Media"].str.contains("|", regex=False).any()


# ---------------------------------------------------------------- invented people


def test_names_are_invented(artists: pd.DataFrame, shared_data: Path) -> None:
    real = pd.read_csv(shared_data / "wikiart" / "artists.csv", keep_default_na=False)
    real_names = {n.casefold() for n in real["name"]}
    real_slugs = set(real["url_name"].str.removeprefix("en/"))
    assert not {n.casefold() for n in artists["name"]} & real_names
    assert not set(artists["url_name"].str.removeprefix("en/")) & real_slugs


def test_names_are_unique(artists: pd.DataFrame) -> None:
    assert artists["name"].is_unique
    assert artists["url_name"].is_unique


def test_gender_and_nationality_mix(truth: dict) -> None:
    people = [a for a in truth["artists"] if a["page_facts"]]
    genders = [a["page_facts"]["gender"] for a in truth["artists"] if a["page_facts"]]
    nationalities = {a["page_facts"]["nationality"] for a in people}
    assert 0.4 <= genders.count("female") / len(genders) <= 0.6
    assert len(nationalities) >= 8


# ---------------------------------------------------------------- pages


def test_wikipedia_index(standin, truth: dict) -> None:
    index = pd.read_csv(standin.dest / "wikipedia" / "INDEX.tsv", sep="\t", keep_default_na=False)
    assert list(index.columns) == ["slug", "bytes", "kind", "title", "wikidata_id"]
    assert len(index) == 24
    for row in index.itertuples():
        page = standin.dest / "wikipedia" / "html" / f"{row.slug}.html"
        assert page.stat().st_size == row.bytes, row.slug
        assert row.bytes < 8000, row.slug
    kinds = index["kind"].value_counts().to_dict()
    assert kinds == {"wikipedia_en": 22, "disambiguation": 1, "wikipedia_other_lang": 1}
    assert list(index["kind"]) == [a["page_kind"] for a in truth["artists"]]


def test_pages_state_truth_facts(standin, truth: dict) -> None:
    checked = 0
    for artist in truth["artists"]:
        facts = artist["page_facts"]
        if facts is None:
            continue
        text = page_text(standin, artist["slug"])
        birth = facts["birth_year"]
        assert (f"{-birth} BC" if birth < 0 else str(birth)) in text, artist["slug"]
        if facts["death_year"] is not None:
            death = facts["death_year"]
            assert (f"{-death} BC" if death < 0 else str(death)) in text, artist["slug"]
        assert facts["birth_town"] in text, artist["slug"]
        assert facts["name"] in text, artist["slug"]
        if artist["page_kind"] == "wikipedia_en":
            assert facts["nationality"] in text, artist["slug"]
            assert facts["birth_place"] in text, artist["slug"]
            pronoun = "She" if facts["gender"] == "female" else "He"
            assert f" {pronoun} " in text, artist["slug"]
        checked += 1
    assert checked == 23


def test_english_page_structure(standin, truth: dict) -> None:
    artist = next(a for a in truth["artists"] if a["has_infobox"] and not a["page_facts"]["circa"])
    facts = artist["page_facts"]
    page = standin.dest / "wikipedia" / "html" / f"{artist['slug']}.html"
    tree = lxml_html.fromstring(page.read_bytes())
    canonical = tree.xpath('//link[@rel="canonical"]/@href')
    born_row = tree.xpath('//table[contains(@class,"infobox")]//tr[th="Born"]/td')
    bday = tree.xpath('//span[@class="bday"]/text()')
    categories = tree.xpath('//div[@id="catlinks"]//li/a/text()')
    script = " ".join(tree.xpath("//script/text()"))
    lead = tree.xpath('//div[contains(@class,"mw-parser-output")]/p')[0].text_content()
    assert canonical == [artist["wikipedia_url"]]
    assert len(born_row) == 1
    assert bday[0].startswith(f"{facts['birth_year']:04d}-")
    assert f"{facts['birth_year']} births" in categories
    assert f'"wgWikibaseItemId":"{artist["wikidata_id"]}"' in script
    assert lead.startswith(f"{facts['name']} (")
    assert f"{facts['nationality']} " in lead


def test_circa_and_bc_page(standin, truth: dict) -> None:
    ancient = truth["artists"][0]
    text = page_text(standin, ancient["slug"])
    assert ancient["catalog_birth_date"] == "c.300 BC"
    assert ancient["page_facts"]["birth_year"] == -300
    assert "(c. 300 BC – c. 240 BC)" in text
    assert "300 BC births" in text
    circa = truth["artists"][1]
    assert circa["catalog_birth_date"] == f"c.{circa['page_facts']['birth_year']}"
    assert f"c. {circa['page_facts']['birth_year']}" in page_text(standin, circa["slug"])


def test_living_artist_page(standin, truth: dict) -> None:
    living = truth["artists"][2]
    text = page_text(standin, living["slug"])
    assert living["page_facts"]["death_year"] is None
    assert "(born " in text
    assert "Living people" in text


def test_page_without_infobox(standin, truth: dict) -> None:
    artist = truth["artists"][3]
    page = (standin.dest / "wikipedia" / "html" / f"{artist['slug']}.html").read_text()
    assert artist["has_infobox"] is False
    assert "infobox" not in page
    assert artist["page_facts"]["nationality"] in page_text(standin, artist["slug"])


def test_disambiguation_page(standin, truth: dict) -> None:
    artist = truth["artists"][4]
    page = (standin.dest / "wikipedia" / "html" / f"{artist['slug']}.html").read_text()
    assert artist["page_kind"] == "disambiguation"
    assert artist["page_facts"] is None
    assert "may refer to:" in page
    assert "dmbox-disambig" in page
    assert "Human name disambiguation pages" in page


def test_german_page(standin, truth: dict) -> None:
    artist = truth["artists"][5]
    page = standin.dest / "wikipedia" / "html" / f"{artist['slug']}.html"
    tree = lxml_html.fromstring(page.read_bytes())
    text = page_text(standin, artist["slug"])
    assert artist["page_kind"] == "wikipedia_other_lang"
    canonical = tree.xpath('//link[@rel="canonical"]/@href')[0]
    assert canonical.startswith("https://de.wikipedia.org/wiki/")
    assert tree.get("lang") == "de"
    assert "* " in text
    assert " war ein" in text
    assert "Vorlage_Personendaten" in lxml_html.tostring(tree).decode()


def test_two_digit_years_match_truth(truth: dict) -> None:
    pattern = re.compile(r"\d{1,2}-[A-Z][a-z]{2}-\d\d")
    two_digit = [a for a in truth["artists"] if pattern.fullmatch(a["catalog_birth_date"])]
    assert two_digit
    for artist in two_digit:
        year = artist["page_facts"]["birth_year"] if artist["page_facts"] else None
        if year is not None:
            assert artist["catalog_birth_date"].endswith(f"-{year % 100:02d}")


# ---------------------------------------------------------------- images


def test_image_index_matches_files(standin) -> None:
    index = pd.read_csv(standin.dest / "images" / "INDEX.tsv", sep="\t", keep_default_na=False)
    assert list(index.columns) == ["path", "class_name", "width", "height", "bytes", "sha256"]
    assert len(index) == 96
    for row in index.itertuples():
        data = (standin.dest / "images" / row.path).read_bytes()
        assert len(data) == row.bytes
        assert hashlib.sha256(data).hexdigest() == row.sha256
        assert row.path.split("/")[0] == style_slug(row.class_name)
    with Image.open(standin.dest / "images" / index.path[0]) as image:
        assert image.size == (384, 288)
        assert image.mode == "RGB"


def test_images_follow_artwork_style(standin, artworks: pd.DataFrame) -> None:
    by_url = dict(zip(artworks["url"], artworks["Style"]))
    for artwork in standin.artworks:
        assert by_url[artwork.url] == artwork.style
        assert artwork.image_path.split("/")[1] == style_slug(artwork.style)


def test_paintings_are_not_flat(standin) -> None:
    for artwork in standin.artworks[:12]:
        with Image.open(standin.dest / artwork.image_path) as image:
            pixels = np.asarray(image, dtype=np.float64)
        assert pixels.std() > 20, artwork.image_path
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500, artwork.image_path


def _mean_brightness_and_saturation(style: str) -> tuple[float, float]:
    brightness, saturation = [], []
    for seed in range(4):
        image = paint(np.random.default_rng(seed), 128, 96, style)
        hsv = np.asarray(image.convert("HSV"), dtype=np.float64)
        brightness.append(np.asarray(image.convert("L"), dtype=np.float64).mean())
        saturation.append(hsv[..., 1].mean())
    return float(np.mean(brightness)), float(np.mean(saturation))


def test_styles_differ_in_brightness_and_saturation() -> None:
    impressionism = _mean_brightness_and_saturation("Impressionism")
    baroque = _mean_brightness_and_saturation("Baroque")
    expressionism = _mean_brightness_and_saturation("Expressionism")
    assert impressionism[0] > baroque[0] + 60
    assert expressionism[1] > impressionism[1] + 60


def test_paint_is_deterministic() -> None:
    first = paint(np.random.default_rng(3), 64, 48, "Symbolism")
    second = paint(np.random.default_rng(3), 64, 48, "Symbolism")
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("style", sorted(PALETTES))
def test_every_palette_paints(style: str) -> None:
    pixels = np.asarray(paint(np.random.default_rng(0), 96, 64, style), dtype=np.float64)
    assert pixels.shape == (64, 96, 3)
    assert pixels.std() > 20


def test_paint_unknown_style_raises() -> None:
    with pytest.raises(InvalidValueError, match="Cubism"):
        paint(np.random.default_rng(0), 64, 64, "Cubism")


# ---------------------------------------------------------------- serving and input checks


def test_image_routes_serve_catalog_images(standin) -> None:
    routes = standin.image_routes()
    artwork = standin.artworks[3]
    with ImageServer(routes) as server:
        url = server.url_for(artwork.image_url)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", urlsplit(url).path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert len(routes) == 96
    assert response.status == 200
    assert body == (standin.dest / artwork.image_path).read_bytes()


def test_too_few_artists_raises(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="n_artists"):
        make_standin_data(tmp_path / "d", n_artists=3)


def test_bad_sizes_raise(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="works_per_artist"):
        make_standin_data(tmp_path / "d", works_per_artist=0)
    with pytest.raises(InvalidValueError, match="image_size"):
        make_standin_data(tmp_path / "d", image_size=(8, 300))


def test_non_empty_dest_needs_overwrite(tmp_path: Path) -> None:
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep")
    with pytest.raises(InvalidValueError, match="overwrite"):
        make_standin_data(dest, n_artists=8, works_per_artist=1)
    make_standin_data(dest, n_artists=8, works_per_artist=1, overwrite=True)
    first = tree_digest(dest / "wikiart")
    make_standin_data(dest, n_artists=8, works_per_artist=1, overwrite=True)
    assert tree_digest(dest / "wikiart") == first
    assert (dest / "notes.txt").read_text() == "keep"


def test_csv_reads_back_with_csv_module(standin) -> None:
    raw = gzip.decompress((standin.dest / "wikiart" / "artworks.csv.gz").read_bytes()).decode()
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert len(rows) == 96
    assert all(len(r) == 13 for r in rows)
