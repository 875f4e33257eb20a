"""Extraction, triage and evaluation on the real saved pages (facts checked by reading each page)."""

from __future__ import annotations

import csv

import pytest

from demographic2art.bios.triage import triage_page
from demographic2art.demographics import evaluate, extract_page

# slug: (page_kind, birth_year, death_year, gender, nationality codes, birth country code)
VERIFIED = {
    "thomas-fearnley": ("biography", 1802, 1842, "male", ["NO"], None),
    "aaron-siskind": ("biography", 1903, 1991, "male", ["US"], "US"),
    "mary-cassatt": ("biography", 1844, 1926, "female", ["US"], "US"),
    "berthe-morisot": ("biography", 1841, 1895, "female", ["FR"], "FR"),
    "adrien-dax": ("other_language", 1913, 1979, "male", ["FR"], "FR"),
    "alvaro-lapa": ("other_language", 1939, 2006, None, ["PT"], "PT"),
    "dieter-asmus": ("other_language", 1939, None, "male", ["DE"], "DE"),
    "alberto-biasi": ("other_language", 1937, None, "male", ["IT"], "IT"),
    "takis": ("disambiguation", None, None, None, [], None),
    "olusola-david-ayibiowu": ("topic", None, None, None, [], None),
}


@pytest.mark.parametrize("slug", sorted(VERIFIED))
def test_verified_artist(real_pages, slug):
    kind, birth, death, gender, nationality, birth_country = VERIFIED[slug]
    record = extract_page((real_pages / f"{slug}.html").read_bytes(), artist_key=slug)
    assert record.page_kind == kind
    assert record.birth.year == birth
    assert record.death.year == death
    assert record.gender == gender
    assert record.nationality.codes == nationality
    assert record.birth.place.country_code == birth_country


def test_museum_article_yields_no_facts(real_pages):
    record = extract_page((real_pages / "olusola-david-ayibiowu.html").read_bytes())
    assert record.birth.place.raw is None
    assert record.sources == {}


def test_disambiguation_lists_candidates(real_pages):
    record = extract_page((real_pages / "takis.html").read_bytes())
    assert record.needs_review is True
    assert len(record.candidates) >= 2


def test_triage_matches_index_kinds(real_pages, shared_data):
    with open(shared_data / "wikipedia" / "INDEX.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    non_english = [r for r in rows if r["kind"] != "wikipedia_en"]
    expected = {
        "wikipedia_other_lang": "other_language",
        "disambiguation": "disambiguation",
        "not_wikipedia": "not_wikipedia",
        "error_or_empty": "error",
    }
    mismatches = [
        r["slug"]
        for r in non_english
        if triage_page((real_pages / f"{r['slug']}.html").read_bytes()).kind.value != expected[r["kind"]]
    ]
    assert mismatches == []


@pytest.mark.slow
def test_evaluate_sample_floors(real_pages, shared_data):
    report = evaluate(real_pages, shared_data / "reference" / "llm_reference_dev.tsv", limit=300)
    fields = report["fields"]
    # Measured on these 300 rows; floors leave a margin below the measured values.
    assert fields["birth_year"]["agreement"] >= 0.97
    assert fields["death_year"]["agreement"] >= 0.97
    assert fields["gender"]["agreement"] >= 0.97
    assert fields["nationality"]["agreement"] >= 0.94
    assert fields["birth_country"]["agreement"] >= 0.85
    assert fields["birth_year"]["recall"] >= 0.95
    assert fields["gender"]["recall"] >= 0.95
    assert fields["nationality"]["recall"] >= 0.94


# slug, field, value: each read on the page (lead, infobox or body) when the extractor was extended.
PAGE_FACTS = [
    ("cimabue", "birth_year", 1240),  # lead 'c. 1240 – 1302,' without a parenthesis
    ("han-gan", "birth_year", 706),  # a name parenthesis before '(c. 706–783)'
    ("rune-jansson", "birth_year", 1918),  # Swedish 'född 15 december 1918'
    ("huang-yongyu", "birth_year", 1924),  # Chinese infobox label
    ("stanley-boxer", "death_year", 2000),  # '(1926-May 8, 2000)'
    ("alexandre-jacovleff", "death_year", 1938),  # shown year 1938, hidden 1939
    ("craig-mullins", "birth_year", 1964),  # body 'was born in 1964 in California'
    ("etienne-hajdu", "nationality", ["FR"]),  # 'Hungarian-born French sculptor'
    ("frederick-sommer", "birth_country", "IT"),  # 'born in Angri, Italy'
    ("chaim-soutine", "birth_country", "BY"),  # '... Russian Empire (now Belarus)'
    ("alfred-stevens", "birth_country", "BE"),  # 'Brussels, United Kingdom of the Netherlands'
]


@pytest.mark.parametrize(("slug", "field", "value"), PAGE_FACTS)
def test_page_fact(real_pages, slug, field, value):
    record = extract_page((real_pages / f"{slug}.html").read_bytes(), artist_key=slug)
    found = {
        "birth_year": record.birth.year,
        "death_year": record.death.year,
        "nationality": record.nationality.codes,
        "birth_country": record.birth.place.country_code,
    }[field]
    assert found == value


def test_group_of_brothers(real_pages):
    assert triage_page((real_pages / "le-nain-brothers.html").read_bytes()).kind.value == "group"


@pytest.mark.slow
def test_evaluate_all_judged_targets(real_pages, shared_data):
    report = evaluate(real_pages, shared_data / "reference" / "llm_reference_dev.tsv")
    fields = report["fields"]
    # Targets on the judged figures. Recall is the share of reference values we give a value for;
    # matched recall (measured 87% for birth country) also needs the values to agree.
    assert fields["birth_year"]["agreement_judged"] >= 0.97
    assert fields["death_year"]["agreement_judged"] >= 0.97
    assert fields["gender"]["agreement_judged"] >= 0.97
    assert fields["nationality"]["agreement_judged"] >= 0.95
    assert fields["birth_country"]["agreement_judged"] >= 0.90
    assert fields["birth_year"]["recall_judged"] >= 0.99
    assert fields["death_year"]["recall_judged"] >= 0.98
    assert fields["gender"]["recall_judged"] >= 0.98
    assert fields["nationality"]["recall_judged"] >= 0.98
    assert fields["birth_country"]["recall_judged"] >= 0.90
    assert fields["birth_year"]["matched_recall_judged"] >= 0.98
    assert fields["birth_country"]["matched_recall_judged"] >= 0.85
    assert report["judgements"].get("quote_not_found", 0) == 0
