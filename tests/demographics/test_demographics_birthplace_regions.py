"""Birth places read through stated countries, former states, regions and link targets, on invented pages."""

from __future__ import annotations

import pytest

from conftest import invented_painter_page
from demographic2art.demographics import extract_page
from demographic2art.demographics.gazetteer import read_place_country


def _page(name: str, birthplace_html: str, nationality: str) -> str:
    return invented_painter_page(name, birthplace_html, nationality, born=1880, died=1950)


def _link(text: str, title: str | None = None) -> str:
    return f'<a href="/wiki/{(title or text).replace(" ", "_")}" title="{title or text}">{text}</a>'


@pytest.mark.parametrize(
    ("name", "birthplace", "nationality", "expected"),
    [
        ("Kuno Wertheim", f"{_link('Hanover')}, {_link('German Empire')}", "German", "DE"),
        ("Edna Ballarat", f"{_link('Portland, Victoria', 'Portland, Victoria')}", "Australian", "AU"),
        ("Hilda Portmore", "Portland, Victoria", "Australian", "AU"),
        ("Silas Marlow", "Woodstock, Oxfordshire", "English", "GB"),
        ("Amos Medway", "Rochester, Kent", "English", "GB"),
        ("Theon Aegis", "Colophon, Ionia", "Greek", "TR"),
        ("Elias Kanaan", "Bethlehem, Mutasarrifate of Jerusalem, Ottoman Empire", "Palestinian", "PS"),
        ("Jaan Kivimets", f"{_link('Wask', 'Ivaski')}, {_link('Governorate of Livonia')}, {_link('Russian Empire')}", "Estonian", "EE"),
        ("Nathan Quoddy", f"{_link('Saint Andrews', 'Saint Andrews, New Brunswick')}, {_link('Colony of New Brunswick')}, {_link('British North America')}", "American", "CA"),
        ("Jakob Untersee", _link("Berlingen", "Berlingen, Switzerland"), "Swiss", "CH"),
        ("Carlo Langhe", "Alba, Piedmont", "Italian", "IT"),
    ],
)
def test_birth_country_from_stated_place(name, birthplace, nationality, expected):
    record = extract_page(_page(name, birthplace, nationality))
    assert record.birth.place.country_code == expected


def test_hanover_german_empire_is_germany():
    # Jamaica has a parish named Hanover, which the German Empire rules out.
    assert read_place_country("Hanover, German Empire").code == "DE"


def test_region_wins_over_gazetteer_town():
    assert read_place_country("Portland, Victoria").basis == "region"


def test_link_target_gives_country():
    reading = read_place_country("Berlingen", (), ["Berlingen, Switzerland"])
    assert (reading.code, reading.basis) == ("CH", "link")


@pytest.mark.parametrize("town", ["Cambridge", "Portland", "Rochester", "Woodstock", "Bethlehem", "Rio"])
def test_bare_ambiguous_town_without_nationality_stays_empty(town):
    reading = read_place_country(town)
    assert (reading.code, reading.review) == (None, "birth_place_ambiguous")


def test_bare_ambiguous_town_resolves_to_nationality():
    assert read_place_country("Cambridge", ("GB",)).code == "GB"


def test_bare_ambiguous_town_against_nationality_is_flagged():
    record = extract_page(_page("Orrin Fenwick", "Cambridge", "Japanese"))
    assert record.birth.place.country_code is None
    assert "birth_place_ambiguous" in record.review_reasons
    assert record.needs_review is True


def test_rio_for_a_brazilian_is_brazil():
    assert read_place_country("Rio", ("BR",)).code == "BR"


def test_gazetteer_town_against_nationality_is_flagged():
    # 'Lyon' is a town the pages place in France only; a Japanese artist born there is kept and flagged.
    reading = read_place_country("Lyon", ("JP",))
    assert (reading.code, reading.review) == ("FR", "town_country_disagrees_with_nationality")


def test_gazetteer_town_against_region_is_flagged():
    # 'Lyon' (France in the pages) followed by an Australian state.
    reading = read_place_country("Lyon, Victoria")
    assert (reading.code, reading.review) == ("AU", "town_country_disagrees_with_region")
