"""Tests of text cleaning and list splitting in the catalog loader."""

from __future__ import annotations

import pytest

from conftest import load_case
from demographic2art.catalog.load import read_artists_csv, read_artworks_csv
from demographic2art.catalog.text import clean_text, split_list
from demographic2art.keys import artwork_key


def test_meta_html_entities(shared_cases):
    case = load_case(shared_cases, "meta-html-entities")
    frame = read_artworks_csv(case["dir"] / case["input"])
    rows = {artwork_key(url): row for url, row in zip(frame["url"], frame.to_dict("records"))}
    brandvold = "ottilie-brandvold/"
    vaudrel = "casimir-vaudrel/"
    assert rows[brandvold + "still-life-with-quinces-and-a-pewter-jug-1894"]["location"] == (
        "Brandvold House & Garden, Bergen, Norway"
    )
    assert rows[brandvold + "the-miller-s-daughter-1901"]["location"] == (
        "The Miller's House Museum, Voss, Norway"
    )
    assert rows[brandvold + "evening-study"]["series"] == '"Evening" studies'
    assert rows[vaudrel + "rocks-and-water-at-etretat-1912"]["period"] == (
        "\u00c9tretat & Normandy Period"
    )
    assert rows[vaudrel + "cafe-interior-1923"]["tags"] == ["Caf\u00e9", "Interior", "Table"]
    assert rows[vaudrel + "boats-at-sunrise-study-1930"]["series"] == (
        "Boats at Sunrise \u2014 Studies"
    )
    raw_urls = [
        line.split(",")[0]
        for line in (case["dir"] / case["input"]).read_text().splitlines()[1:]
    ]
    assert frame["url"].tolist() == raw_urls


def test_meta_pipe_list(shared_cases):
    case = load_case(shared_cases, "meta-pipe-list")
    frame = read_artists_csv(case["dir"] / case["input"]).set_index("url_name")
    tolu = frame.loc["tolu-adeyemi"]
    assert tolu["name"] == "Adeyemi, Tolu"
    assert tolu["nationality"] == ["Nigerian", "British"]
    assert tolu["art_movement"] == ["Contemporary Art"]
    assert tolu["field"] == ["painting", "printmaking"]
    pappas = frame.loc["lysandros-pappas"]
    assert pappas["nationality"] == ["Greek", "Italian", "Turkish"]
    assert pappas["art_movement"] == [
        "Geometric Period (c.900 - c.700 BC)",
        "Archaic Period (700-480 BC)",
    ]
    assert pappas["field"] == ["painting", "design"]
    holt = frame.loc["mira-holt"]
    assert holt["nationality"] == []
    assert holt["art_movement"] == []
    assert holt["field"] == ["painting"]
    assert holt["pupils"] == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("&#39;quoted&#39;", "'quoted'"),
        ("&#x27;quoted&#x27;", "'quoted'"),
        ("&amp;amp;", "&amp;"),
        ("<i>Olympia</i>", "Olympia"),
        ("a <br/> b", "a b"),
        ("&lt;b&gt;", "<b>"),
        ("1 < 2", "1 < 2"),
        ("Cafe\u0301", "Caf\u00e9"),
        ("  padded   text ", "padded text"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        (" a | b ", ["a", "b"]),
        ("|", []),
        ("||a||", ["a"]),
        ("a|b|a", ["a", "b"]),
        ("Rome, Italy|Paris (France)", ["Rome, Italy", "Paris (France)"]),
        ("Caf&eacute;|Bar", ["Caf\u00e9", "Bar"]),
        ("A &#124; B", ["A | B"]),
        ("", []),
        (None, []),
    ],
)
def test_split_list(raw, items):
    assert split_list(raw) == items
