"""Offline extraction on the failure cases and on pages written for invented artists."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_case
from demographic2art.bios import triage_page
from demographic2art.demographics import extract_page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def _case_record(shared_cases, case_id):
    case = load_case(shared_cases, case_id)
    return extract_page((case["dir"] / case["input"]).read_text(encoding="utf-8"))


def test_wiki_birth_date_template(shared_cases):
    record = _case_record(shared_cases, "wiki-birth-date-template")
    assert record.birth.date == "1887-07-28"
    assert record.death.date == "1961-02-04"
    assert record.birth.year == 1887
    assert record.death.year == 1961
    assert record.birth.place.raw == "Breslau, German Empire"
    assert record.birth.place.link_targets == ["Wrocław", "German Empire"]
    assert record.death.place.raw == "Hamburg, West Germany"
    assert record.nationality.raw == "German"
    assert record.gender == "female"


def test_wiki_disambiguation(shared_cases):
    record = _case_record(shared_cases, "wiki-disambiguation")
    assert record.page_kind == "disambiguation"
    assert record.birth.year is None
    assert record.death.year is None
    assert record.birth.place.raw is None
    assert record.gender is None
    assert record.nationality.raw is None
    assert record.candidates == [
        "Marten Hollander (painter)",
        "Marten Hollander (politician)",
        "Marten Hollander (footballer)",
    ]
    assert record.needs_review is True


def test_wiki_oldstyle_date(shared_cases):
    record = _case_record(shared_cases, "wiki-oldstyle-date")
    assert record.birth.date == "1871-03-14"
    assert record.birth.year == 1871
    assert record.death.date == "1938-05-09"
    assert record.death.year == 1938
    assert record.birth.place.raw == "Kostroma, Russian Empire"
    assert record.death.place.raw == "Leningrad, Soviet Union"
    assert all(1871 <= c.other <= 1938 for c in record.conflicts if isinstance(c.other, int))


def test_circa_lead_without_infobox():
    record = extract_page((FIXTURES / "ilse-varnholt.html").read_text(encoding="utf-8"))
    assert record.birth.year == 1612
    assert record.birth.approximate is True
    assert record.death.year == 1671
    assert record.gender == "female"
    assert record.nationality.codes == ["BE"]


def test_bc_life_span_is_negative():
    record = extract_page((FIXTURES / "tharon-of-ellis.html").read_text(encoding="utf-8"))
    assert record.birth.year == -480
    assert record.birth.approximate is True
    assert record.death.year == -415
    assert record.nationality.codes == ["GR"]


def test_floruit_is_not_birth_year():
    record = extract_page((FIXTURES / "oskar-brandell.html").read_text(encoding="utf-8"))
    assert record.page_kind == "biography"
    assert record.birth.year is None
    assert record.death.year is None
    assert record.nationality.codes == ["DE"]


def test_aged_suffix_never_a_year():
    html = (
        '<html><head><title>X - Wikipedia</title><link rel="canonical" href="https://en.wikipedia.org/wiki/X">'
        '</head><body><div id="mw-content-text"><table class="infobox biography vcard"><tr><th>Born</th>'
        "<td>March 3, 1850<br>Lyon, France</td></tr><tr><th>Died</th><td>1923 (aged 73)</td></tr></table>"
        "<p><b>Jules Invente</b> was a French engraver whose plates his son printed after his death.</p>"
        "</div><div id=\"mw-normal-catlinks\"><ul><li><a>French engravers</a></li></ul></div></body></html>"
    )
    record = extract_page(html)
    assert record.birth.date == "1850-03-03"
    assert record.birth.place.country_code == "FR"
    assert record.death.year == 1923


@pytest.mark.parametrize(
    "kind_markup",
    [
        '<table class="dmbox dmbox-setindex"><tr><td>index</td></tr></table>',
        "",
    ],
)
def test_name_index_pages_triaged(kind_markup):
    html = (
        '<html><head><title>Varn - Wikipedia</title><link rel="canonical" href="https://en.wikipedia.org/wiki/Varn">'
        '</head><body><div id="mw-content-text"><p><b>Varn</b> is a surname of Low German origin, recorded in Bremen parish books from the sixteenth century. It may refer to:</p><ul>'
        '<li><a href="/wiki/Ada_Varn" title="Ada Varn">Ada Varn</a> (1901–1980), painter</li></ul>'
        f"{kind_markup}</div></body></html>"
    )
    triage = triage_page(html)
    assert triage.kind.value == "disambiguation"
    assert triage.candidates == ["Ada Varn"]


def test_not_wikipedia_and_error_pages():
    other = '<html><head><title>Studio</title><link rel="canonical" href="https://example.org/"></head><body>' + "text " * 40 + "</body></html>"
    assert triage_page(other).kind.value == "not_wikipedia"
    assert triage_page("<html><head><title>404 Not Found</title></head><body>gone</body></html>").kind.value == "error"
    assert extract_page(other).birth.year is None
