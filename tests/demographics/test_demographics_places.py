"""Birth places to present-day countries, and lead and infobox forms of dates, on invented pages."""

from __future__ import annotations

import pytest

from demographic2art.bios.fetch import saved_page
from demographic2art.demographics import extract_page
from demographic2art.demographics.gazetteer import present_day_country, town_country


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("Smilavichy, Minsk Governorate, Russian Empire (now Belarus)", "BY"),
        ("Brussels, United Kingdom of the Netherlands", "BE"),
        ("Pontorme near Empoli, Republic of Florence", "IT"),
        ("Zaragoza Spain", "ES"),
        ("Petropavl, Russia, now Kazakhstan", "KZ"),
        ("Mariupol uezd, Russian Empire (present-day Mariupol, Ukraine)", "UA"),
        ("Lyon, France", "FR"),
        ("Boston, Massachusetts", "US"),
        ("Nowhere-in-particular", None),
    ],
)
def test_present_day_country(place, expected):
    assert present_day_country(place) == expected


def test_town_with_article():
    assert town_country("The Hague") == "NL"


def test_state_named_after_town():
    assert town_country("Duchy of Milan") == "IT"


def test_ambiguous_town_needs_preference():
    # The pages name a 'Birmingham' in England and one in Alabama.
    assert present_day_country("Birmingham", prefer=("GB",)) == "GB"
    assert present_day_country("Birmingham", prefer=("US",)) == "US"
    assert present_day_country("Birmingham") is None


def _page(lead: str, infobox: str = "", language: str = "en") -> str:
    filler = "<p>The artist exhibited paintings and drawings in many towns over a long working life.</p>"
    html = f'<div class="mw-parser-output"><table class="infobox vcard"><tbody>{infobox}</tbody></table><p>{lead}</p>{filler}</div>'
    return saved_page(f"{language}.wikipedia.org", "Invented Person", {"text": html, "categories": [{"category": "Invented_painters"}]}, None)


def test_german_lead_birth_and_death():
    record = extract_page(_page("<b>Jörg Tannwald</b> (* 3. Mai 1902 in Köln; † 1977 in Bonn) war ein Maler.", language="de"))
    assert record.birth.year == 1902
    assert record.death.year == 1977


def test_bare_span_between_commas():
    record = extract_page(_page("<b>Giovanni Ossano</b>, c. 1240 – 1302, was an Italian painter."))
    assert record.birth.year == 1240
    assert record.birth.approximate is True
    assert record.death.year == 1302


def test_name_parenthesis_before_life_span():
    record = extract_page(_page("<b>Anna Velt</b> (also known as Anna Veltri) (1507 – 1579) was a Spanish painter."))
    assert record.birth.year == 1507
    assert record.death.year == 1579


def test_reign_is_not_life_span():
    lead = "<b>Ostad Rahim</b> was a painter under Shah Karim (r. 1501–1524). He was Persian."
    record = extract_page(_page(lead))
    assert record.death.year is None


def test_dash_before_month_name():
    record = extract_page(_page("<b>Stan Boxwell</b> (1926-May 8, 2000) was an American artist."))
    assert record.birth.year == 1926
    assert record.death.year == 2000


def test_born_adjective_gives_birth_place():
    record = extract_page(_page("<b>Gabriel Maxl</b> (23 August 1840 – 24 November 1915) was a Prague-born Austrian painter."))
    assert record.birth.place.country_code == "CZ"
    assert record.nationality.codes == ["AT"]


def test_body_sentence_gives_birth_year_and_place():
    lead = "<b>Craig Mullan</b> is an American digital painter.</p><p>Mullan was born in 1964 in Lyon, France and moved to Ohio."
    record = extract_page(_page(lead))
    assert record.birth.year == 1964
    assert record.sources["birth_year"] == "body"
    assert record.birth.place.country_code == "FR"


def test_shown_infobox_year_wins_over_hidden():
    infobox = (
        '<tr><th scope="row">Died</th><td>1938<span style="display:none">&nbsp;(<span class="dday">1939</span>)</span>'
        '<br><div class="deathplace">Paris, France</div></td></tr>'
    )
    record = extract_page(_page("<b>Alex Jacobi</b> (1887 – 1938) was a painter.", infobox))
    assert record.death.year == 1938


def test_country_name_in_lead_is_not_nationality():
    record = extract_page(_page("<b>Luis Roura</b> (born 1976) is a Puerto Rican painter based in New Jersey."))
    assert record.nationality.codes == ["PR"]


def test_born_demonym_is_fallback_nationality():
    record = extract_page(_page("<b>Antoine Pesnel</b> (29 May 1683 – 5 August 1757) was a French-born court painter of Prussia."))
    assert record.nationality.codes == ["FR"]


DISAMBIGUATION = """<div class="mw-parser-output"><p><b>Marten Hollbeck</b> may refer to:</p><ul>
<li><a href="/wiki/Marten_Hollbeck_(painter)" title="Marten Hollbeck (painter)">Marten Hollbeck (painter)</a> (1622–1680), Dutch painter</li>
<li><a href="/wiki/Marten_Hollbeck_(politician)" title="Marten Hollbeck (politician)">Marten Hollbeck (politician)</a> (1811–1870), Dutch politician</li>
<li><a href="/wiki/Marten_Hollbeck_(footballer)" title="Marten Hollbeck (footballer)">Marten Hollbeck (footballer)</a> (born 1990)</li>
</ul><table class="dmbox dmbox-disambig"><tr><td>This disambiguation page lists articles associated with the title Marten Hollbeck.</td></tr></table></div>"""


def test_disambiguation_candidate_matching_years(tmp_path):
    import pandas as pd

    from demographic2art.bios.importer import import_pages
    from demographic2art.demographics.workspace_io import extract_workspace
    from demographic2art.workspace import Workspace

    pages = tmp_path / "pages"
    pages.mkdir()
    page = saved_page("en.wikipedia.org", "Marten Hollbeck", {
        "text": DISAMBIGUATION, "categories": [{"category": "Human_name_disambiguation_pages"}]}, None)
    (pages / "marten-hollbeck.html").write_text(page, encoding="utf-8")
    workspace = Workspace(tmp_path / "ws")
    workspace.storage.write_parquet("catalog/artists.parquet", pd.DataFrame({
        "artist_key": ["marten-hollbeck"], "birth_year": pd.array([1622], dtype="Int64"),
        "death_year": pd.array([1680], dtype="Int64"),
    }))
    import_pages(workspace, pages)
    extract_workspace(workspace)
    record = workspace.storage.read_json("demographics/json/marten-hollbeck.json")
    assert record["page_kind"] == "disambiguation"
    assert record["matched_candidate"] == "Marten Hollbeck (painter)"
    assert record["birth"]["year"] is None


def test_candidate_without_matching_years():
    from demographic2art.bios.triage import candidate_for_years

    page = saved_page("en.wikipedia.org", "Marten Hollbeck", {"text": DISAMBIGUATION, "categories": []}, None)
    assert candidate_for_years(page, 1700, 1750) is None
    assert candidate_for_years(page, 1811, None) == "Marten Hollbeck (politician)"


def test_us_state_not_split_into_country():
    assert present_day_country("Union City, New Jersey") == "US"


@pytest.mark.parametrize(
    "lead",
    [
        "<b>Tajimo Hiroshi</b> (田嶋 宏, Tajimo Hiroshi, 1911 – 1984) was a Japanese painter.",
        "<b>Franco Botti</b> (real name Franco di Giovanni; 1446 – 1498) was an Italian painter.",
        "<b>Pablo Pachón</b> (bap. 3 November 1564 – 1644) was a Spanish painter.",
    ],
)
def test_lead_fragments_are_not_places(lead):
    record = extract_page(_page(lead))
    assert record.birth.place.raw is None
