"""Recall, matched recall and agreement of evaluate on a hand-made table with figures worked out by hand."""

from __future__ import annotations

import json

import pytest

from demographic2art.bios.fetch import saved_page
from demographic2art.demographics.evaluate import evaluate

FILLER = "<p>The painter worked for many years in a small studio and exhibited landscapes with friends.</p>"

# slug: (title, lead paragraph, categories)
PAGES = {
    "anna-wexby": ("Anna Wexby", "<p><b>Anna Wexby</b> (3 May 1850 – 9 June 1910) was a French painter. She painted rivers.</p>",
                   ["French_women_painters"]),
    "bruno-kettel": ("Bruno Kettel", "<p><b>Bruno Kettel</b> (2 April 1860 – 5 July 1920) was a German painter. He painted barns.</p>",
                     ["German_male_painters"]),
    "carl-oddmund": ("Carl Oddmund", "<p><b>Carl Oddmund</b> was a Norwegian painter of fjords. He painted boats.</p>",
                     ["Norwegian_male_painters"]),
    "dora-fennick": ("Dora Fennick", "<p><b>Dora Fennick</b> (8 March 1880 – 1 May 1950) was a Dutch painter. She painted tulips.</p>",
                     ["Dutch_women_painters"]),
}

# Birth years: anna agrees, bruno disagrees (ours 1860), carl has no year on the page, dora has none in the reference.
REFERENCE = (
    "slug\tbirth_year\tdeath_year\tgender\tnationality\tbirth_country\n"
    "anna-wexby\t1850\t1910\tFemale\tFrench\t\n"
    "bruno-kettel\t1861\t1920\tMale\tGerman\t\n"
    "carl-oddmund\t1870\t\tMale\tNorwegian\t\n"
    "dora-fennick\t\t1950\tFemale\tDutch\t\n"
)

BRUNO_JUDGEMENT = {"slug": "bruno-kettel", "field": "birth_year", "reference": "1861", "ours": 1860,
                   "verdict": "reference_wrong", "quote": "(2 April 1860 – 5 July 1920)"}


@pytest.fixture()
def table(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for slug, (title, lead, categories) in PAGES.items():
        parse = {"text": lead + FILLER, "categories": [{"category": name} for name in categories]}
        page = saved_page("en.wikipedia.org", title, parse, None)
        (pages / f"{slug}.html").write_text(page, encoding="utf-8")
    reference = tmp_path / "reference.tsv"
    reference.write_text(REFERENCE, encoding="utf-8")
    judgements = tmp_path / "judgements.json"
    judgements.write_text(json.dumps([BRUNO_JUDGEMENT]), encoding="utf-8")
    return pages, reference, judgements


def test_recall_counts_values_given(table):
    pages, reference, _ = table
    birth = evaluate(pages, reference, judgements=False)["fields"]["birth_year"]
    # Reference values 3 (anna, bruno, carl); we give a value for 2 of them, 1 of which matches.
    assert birth["reference_values"] == 3
    assert birth["both"] == 2
    assert birth["agree"] == 1
    assert birth["recall"] == pytest.approx(0.6667)
    assert birth["matched_recall"] == pytest.approx(0.3333)
    assert birth["agreement"] == pytest.approx(0.5)


def test_recall_judged_removes_wrong_reference(table):
    pages, reference, judgements = table
    report = evaluate(pages, reference, judgements=judgements)
    birth = report["fields"]["birth_year"]
    # Bruno's reference 1861 is judged wrong: it leaves the denominators (and our value for it the numerators).
    assert report["judgements"] == {"applied": 1}
    assert birth["judged_wrong"] == 1
    assert birth["recall_judged"] == pytest.approx(0.5)
    assert birth["matched_recall_judged"] == pytest.approx(0.5)
    assert birth["agreement_judged"] == pytest.approx(1.0)
    assert birth["recall"] == pytest.approx(0.6667)


def test_recall_full_when_all_given(table):
    pages, reference, _ = table
    death = evaluate(pages, reference, judgements=False)["fields"]["death_year"]
    # Reference death years for anna, bruno and dora; the pages give all three and they match.
    assert death["reference_values"] == 3
    assert death["recall"] == pytest.approx(1.0)
    assert death["matched_recall"] == pytest.approx(1.0)


def test_recall_without_reference_values_none(table):
    pages, reference, _ = table
    birth_country = evaluate(pages, reference, judgements=False)["fields"]["birth_country"]
    assert birth_country["reference_values"] == 0
    assert birth_country["recall"] is None
    assert birth_country["matched_recall"] is None
