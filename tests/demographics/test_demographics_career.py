"""Offline education, affiliations, residences and interactions on pages written for these tests."""

from __future__ import annotations

from demographic2art.bios.fetch import saved_page
from demographic2art.demographics import extract_page

INFOBOX = """<table class="infobox vcard"><tbody>
<tr><th class="infobox-label">Born</th><td>3 May 1850<br>Odense, Denmark</td></tr>
<tr><th class="infobox-label">Education</th><td><a href="/wiki/A">Royal Danish Academy of Fine Arts</a></td></tr>
<tr><th class="infobox-label">Training</th><td>Self-taught</td></tr>
<tr><th class="infobox-label">Movement</th><td><a href="/wiki/S">Skagen Painters</a></td></tr>
</tbody></table>"""

BODY = """<p><b>Nils Varberg</b> (3 May 1850 – 9 June 1910) was a Danish painter.</p>
<p>He studied at the Académie Julian in 1874 and was a pupil of Léon Bonnat. He entered the Imperial Academy of Arts
in 1871. He moved to Paris in 1876 and settled in Copenhagen, Denmark. He visited Rome in 1880.</p>
<p>Varberg became a member of the Free Exhibition Society in 1891. He was a close friend of Peder Kroyer.
He studied the light of the coast and moved to the countryside. He was born in a house near the harbour.</p>"""


def varberg():
    parse = {"text": INFOBOX + BODY, "categories": [{"category": "Danish_male_painters"}]}
    return extract_page(saved_page("en.wikipedia.org", "Nils Varberg", parse, None), artist_key="nils-varberg")


def test_career_education_from_infobox_and_body():
    record = varberg()
    education = [(e.school, e.year, e.source) for e in record.education_details]
    assert education == [
        ("Royal Danish Academy of Fine Arts", None, "infobox"),
        ("Académie Julian", 1874, "body"),
        ("Imperial Academy of Arts", 1871, "body"),
    ]


def test_career_education_quote_from_page():
    record = varberg()
    assert record.education_details[1].quote == "studied at the Académie Julian in 1874"


def test_career_self_taught_not_a_school():
    record = varberg()
    assert all("taught" not in e.school.lower() for e in record.education_details)


def test_career_affiliations():
    record = varberg()
    affiliations = [(a.group, a.kind, a.start_year, a.source) for a in record.affiliations]
    assert affiliations == [
        ("Skagen Painters", "movement", None, "infobox"),
        ("Free Exhibition Society", "society", 1891, "body"),
    ]


def test_career_residences_and_visits():
    record = varberg()
    residences = [(r.place.raw, r.place.country_code, r.kind, r.start_year) for r in record.residences]
    assert residences == [
        ("Paris", "FR", "residence", 1876),
        ("Copenhagen, Denmark", "DK", "residence", None),
        ("Rome", "IT", "visit", 1880),
    ]


def test_career_interactions():
    record = varberg()
    interactions = [(i.name, i.artist_role, i.other_role, i.source) for i in record.interactions]
    assert interactions == [
        ("Léon Bonnat", "pupil", "teacher", "body"),
        ("Peder Kroyer", "friend", "friend", "body"),
    ]


def test_career_training_row_names_teacher():
    infobox = ('<table class="infobox"><tbody><tr><th class="infobox-label">Training</th>'
               '<td><a href="/wiki/G">Gentile Marvano</a></td></tr></tbody></table>')
    parse = {"text": infobox + "<p><b>Ugo Tessa</b> (1390 – 1450) was an Italian painter.</p>",
             "categories": [{"category": "Italian_male_painters"}]}
    record = extract_page(saved_page("en.wikipedia.org", "Ugo Tessa", parse, None))
    assert record.education_details == []
    assert [(i.name, i.other_role, i.source) for i in record.interactions] == [("Gentile Marvano", "teacher", "infobox")]
