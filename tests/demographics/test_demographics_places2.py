"""Towns under former states that span several present-day countries, and stale gazetteer entries."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from conftest import invented_painter_page
from demographic2art.demographics import extract_page
from demographic2art.demographics.gazetteer import HISTORICAL_STATES, read_place_country


def _page(name: str, birthplace: str, nationality: str) -> str:
    return invented_painter_page(name, birthplace, nationality, born=1840, died=1910)


def test_vercelli_duchy_of_savoy_page_gives_italy():
    record = extract_page(_page("Ottavio Risaia", "Vercelli, Duchy of Savoy", "Italian"))
    assert record.birth.place.country_code == "IT"


def test_strasburg_prussia_page_gives_germany():
    record = extract_page(_page("Hermann Weichsel", "Strasburg, Prussia", "German"))
    assert record.birth.place.country_code == "DE"


def test_strasburg_prussia_never_france():
    for prefer in ((), ("FR",), ("PL",), ("US",)):
        assert read_place_country("Strasburg, Prussia", prefer).code != "FR"


def test_strasburg_west_prussia_gives_poland():
    assert read_place_country("Strasburg, West Prussia, Kingdom of Prussia").code == "PL"


def test_vercelli_read_from_town():
    reading = read_place_country("Vercelli, Duchy of Savoy")
    assert (reading.code, reading.basis) == ("IT", "town")


def test_savoy_town_in_france_stays_france():
    # Chambéry was the Duchy of Savoy's first capital and is in France.
    assert read_place_country("Chambéry, Duchy of Savoy").code == "FR"


def test_strasbourg_alsace_gives_france():
    assert read_place_country("Strasbourg, Alsace").code == "FR"


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("Drohobych, Kingdom of Galicia and Lodomeria", "UA"),
        ("Valenciennes, Habsburg Netherlands", "FR"),
        ("Utrecht, Habsburg Netherlands", "NL"),
    ],
)
def test_town_inside_state_extent_decides(place, expected):
    assert read_place_country(place).code == expected


def test_state_without_known_town_keeps_first_code():
    assert read_place_country("Zwrotnica, Russian Empire").code == "RU"


def _gazetteer() -> dict:
    text = resources.files("demographic2art.demographics").joinpath("data/gazetteer.json").read_text("utf-8")
    return json.loads(text)


def _places() -> dict:
    text = resources.files("demographic2art.demographics").joinpath("data/places.json").read_text("utf-8")
    return json.loads(text)


# Real towns named like a region or state: Baden near Vienna (AT); Bukovina and Pomerania span
# two countries, and New Brunswick, New Jersey is where the pages' table learned US.
_TOWN_NAMESAKES = {"baden", "bukovina", "pomerania", "new brunswick"}


@pytest.mark.parametrize("table", ["pages", "geonames"])
def test_gazetteer_region_names_keep_their_country(table):
    places = _places()
    known = {name.lower(): tuple(codes) for name, codes in places["historical_states"].items()}
    known |= {name.lower(): (code,) for name, code in places["regions"].items()}
    known |= {name: (code,) for name, code in HISTORICAL_STATES.items()}
    wrong = {
        name: value
        for name, value in _gazetteer()[table].items()
        if name in known and name not in _TOWN_NAMESAKES and not set(value.split("|")) & set(known[name])
    }
    assert wrong == {}


def test_bare_livonia_is_not_united_states():
    assert read_place_country("Livonia").code != "US"
