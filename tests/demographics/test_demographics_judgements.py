"""Judged reference values in evaluate: applied only with the quote on the page and the value unchanged."""

from __future__ import annotations

import json

from demographic2art.bios.fetch import saved_page
from demographic2art.cli.main import main
from demographic2art.demographics.evaluate import evaluate, load_judgements

LEAD = "<p><b>Marta Quellberg</b> (14 March 1871 – 2 May 1938) was a French painter of harbour scenes.</p>"
FILLER = "<p>She studied in Lyon and later worked in Paris, where she exhibited her paintings with friends.</p>"


def _setup(tmp_path, reference_birth: str, judgement: dict | None):
    pages = tmp_path / "pages"
    pages.mkdir()
    page = saved_page("en.wikipedia.org", "Marta Quellberg",
                      {"text": LEAD + FILLER, "categories": [{"category": "French_women_painters"}]}, None)
    (pages / "marta-quellberg.html").write_text(page, encoding="utf-8")
    reference = tmp_path / "reference.tsv"
    reference.write_text(
        "slug\tbirth_year\tdeath_year\tgender\tnationality\tbirth_country\n"
        f"marta-quellberg\t{reference_birth}\t1938\tFemale\tFrench\t\n",
        encoding="utf-8",
    )
    judgements = tmp_path / "judgements.json"
    judgements.write_text(json.dumps([judgement] if judgement else []), encoding="utf-8")
    return pages, reference, judgements


def _judgement(**changes) -> dict:
    entry = {"slug": "marta-quellberg", "field": "birth_year", "reference": "1870", "ours": 1871,
             "verdict": "reference_wrong", "quote": "(14 March 1871 – 2 May 1938)"}
    entry.update(changes)
    return entry


def test_judgement_removes_wrong_reference(tmp_path):
    pages, reference, judgements = _setup(tmp_path, "1870", _judgement())
    report = evaluate(pages, reference, judgements=judgements)
    birth = report["fields"]["birth_year"]
    assert birth["agreement"] == 0.0
    assert birth["agreement_judged"] is None
    assert birth["recall_judged"] is None
    assert report["judgements"] == {"applied": 1}
    assert report["disagreements"][0]["judged_reference_wrong"] is True


def test_judgement_without_quote_on_page_ignored(tmp_path):
    pages, reference, judgements = _setup(tmp_path, "1870", _judgement(quote="born 14 March 1871 in Lyon"))
    report = evaluate(pages, reference, judgements=judgements)
    assert report["judgements"] == {"quote_not_found": 1}
    assert report["fields"]["birth_year"]["agreement_judged"] == 0.0


def test_stale_judgement_ignored(tmp_path):
    pages, reference, judgements = _setup(tmp_path, "1869", _judgement())
    report = evaluate(pages, reference, judgements=judgements)
    assert report["judgements"] == {"stale": 1}


def test_range_verdict_not_removed(tmp_path):
    pages, reference, judgements = _setup(tmp_path, "1870", _judgement(verdict="range"))
    report = evaluate(pages, reference, judgements=judgements)
    assert report["judgements"] == {"range": 1}
    assert report["fields"]["birth_year"]["judged_wrong"] == 0


def test_packaged_judgements_have_quotes():
    judgements = load_judgements()
    assert len(judgements) >= 20
    for entry in judgements.values():
        assert entry["quote"]
        assert entry["verdict"] in ("reference_wrong", "range")


def test_evaluate_cli_prints_judged_figures(tmp_path, capsys):
    pages, reference, judgements = _setup(tmp_path, "1870", _judgement())
    assert main(["demographics", "evaluate", "--pages", str(pages), "--reference", str(reference),
                 "--judgements", str(judgements)]) == 0
    output = capsys.readouterr().out
    assert "judged" in output
    assert "'applied': 1" in output
