"""Date templates, Old Style dates and disambiguation templates read from invented wikitext."""

from __future__ import annotations

import pytest

from demographic2art.demographics.wikitext import extract_wikitext, parse_date_template, wikitext_is_disambiguation


@pytest.mark.parametrize(
    ("text", "date", "year"),
    [
        ("{{Birth date|1887|7|28|df=yes}}", "1887-07-28", 1887),
        ("{{birth date|df=yes|1887|7|28}}", "1887-07-28", 1887),
        ("{{birth date and age|mf=yes|1950|5|3}}", "1950-05-03", 1950),
        ("{{bda|1950|5|3}}", "1950-05-03", 1950),
        ("{{Death date and age|1961|2|4|1887|7|28|df=y}}", "1961-02-04", 1961),
        ("{{dda|1961|2|4|1887|7|28}}", "1961-02-04", 1961),
        ("{{Birth year and age|1950}}", None, 1950),
        ("{{OldStyleDate|14 March|1871|2 March}}", "1871-03-14", 1871),
        ("{{OldStyleDateDY|11 January|1709|1708}}", "1709-01-11", 1709),
        ("{{OldStyleDateNY|12 January 1701|1 January 1700}}", "1701-01-12", 1701),
        ("[[Kostroma]], 1871", None, 1871),
    ],
)
def test_date_templates(text, date, year):
    reading = parse_date_template(text)
    assert reading.date == date
    assert reading.year == year


def test_circa_template_is_approximate():
    reading = parse_date_template("{{circa|1500}}")
    assert reading.year == 1500
    assert reading.approximate is True


def test_floruit_template_is_no_birth():
    assert parse_date_template("{{floruit|1502}}") is None


@pytest.mark.parametrize(
    "wikitext",
    ["{{disambiguation|geo|surname}}", "{{hndis|name=Hollander, Marten}}", "{{dab}}", "{{Surname}}"],
)
def test_disambiguation_templates(wikitext):
    assert wikitext_is_disambiguation("'''Marten Hollander''' may refer to:\n" + wikitext) is True


INFOBOX = """{{Short description|German painter}}
{{Infobox artist
| name        = Ilse Quandt
| birth_date  = {{Birth date|df=yes|1887|7|28}}
| birth_place = [[Wrocław|Breslau]], [[German Empire]]
| death_date  = {{death date and age|1961|2|4|1887|7|28|df=yes}}
| death_place = [[Hamburg]], [[West Germany]]
| nationality = German
}}
'''Ilse Quandt''' (28 July 1887 – 4 February 1961) was a German painter."""


def test_infobox_from_wikitext():
    record = extract_wikitext(INFOBOX, artist_key="ilse-quandt")
    assert record.birth.date == "1887-07-28"
    assert record.death.date == "1961-02-04"
    assert record.birth.place.raw == "Breslau, German Empire"
    assert record.birth.place.link_targets == ["Wrocław", "German Empire"]
    assert record.death.place.raw == "Hamburg, West Germany"
    assert record.nationality.codes == ["DE"]
