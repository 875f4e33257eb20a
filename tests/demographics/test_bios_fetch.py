"""d2a bios fetch against a MediaWiki and Wikibase API served on 127.0.0.1 (invented articles)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from demographic2art.bios.fetch import fetch_bios
from demographic2art.bios.mediawiki import page_title_from_url
from demographic2art.cli.main import main
from demographic2art.demographics.workspace_io import extract_workspace
from demographic2art.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from wiki_server import WikiPage, WikiTestServer, entity, item_claim, string_claim, time_claim  # noqa: E402

MARTA_HTML = """<div class="mw-parser-output"><table class="infobox vcard"><tbody>
<tr><th colspan="2">Marta Quellberg</th></tr>
<tr><th scope="row">Born</th><td>Marta Anna Quellberg<br><span style="display:none">(<span class="bday">1871-03-14</span>)</span>14 March 1871<br><span class="birthplace"><a href="/wiki/Lyon" title="Lyon">Lyon</a>, France</span></td></tr>
<tr><th scope="row">Died</th><td>2 May 1938<span style="display:none">(1938-05-02)</span> (aged 67)<br><a href="/wiki/Paris" title="Paris">Paris</a>, France</td></tr>
<tr><th scope="row">Nationality</th><td>French</td></tr>
</tbody></table>
<p><b>Marta Anna Quellberg</b> (14 March 1871 – 2 May 1938) was a French painter of harbour scenes.</p>
<p>She studied in Lyon and later worked in Paris, where she exhibited her paintings with her friends.</p>
</div>"""

JORG_HTML = """<div class="mw-parser-output">
<p><b>Jörg Tannwald</b> (* 1902 in Kleinhausen; † 1977) war ein Maler und Grafiker.</p>
<p>Er studierte an der Kunstakademie und stellte seine Bilder in vielen Städten aus.</p>
</div>"""

PAGES = [
    WikiPage("Marta Quellberg", 101, 9001, MARTA_HTML, ["1871 births", "1938 deaths", "French women painters"], "Q9101"),
    WikiPage("Jörg Tannwald", 102, 9002, JORG_HTML, ["Maler (Deutschland)"], "Q9102"),
]
REDIRECTS = {
    "M. Quellberg": "Marta Quellberg",
    "Loop A": "Loop B", "Loop B": "Loop A",
    "Hop 1": "Hop 2", "Hop 2": "Hop 3", "Hop 3": "Hop 4", "Hop 4": "Marta Quellberg",
}
ENTITIES = {
    "Q9101": entity("Q9101", "Marta Quellberg", [
        item_claim("P21", "Q6581072"), time_claim("P569", "+1871-03-14T00:00:00Z"),
        time_claim("P570", "+1938-05-02T00:00:00Z"), item_claim("P19", "Q456"), item_claim("P27", "Q142"),
        item_claim("P135", "Q40415"),
    ]),
    "Q9102": entity("Q9102", "Jörg Tannwald", [
        item_claim("P21", "Q6581097"), time_claim("P569", "+1902-00-00T00:00:00Z", 9),
        time_claim("P570", "+1978-00-00T00:00:00Z", 9), item_claim("P19", "Q9900"), item_claim("P27", "Q183"),
        item_claim("P69", "Q9800"),
    ]),
    "Q456": entity("Q456", "Lyon", [item_claim("P17", "Q142")]),
    "Q9900": entity("Q9900", "Kleinhausen", [item_claim("P17", "Q183")]),
    "Q142": entity("Q142", "France", [string_claim("P297", "FR")]),
    "Q183": entity("Q183", "Germany", [string_claim("P297", "DE")]),
    "Q40415": entity("Q40415", "Impressionism", []),
    "Q9800": entity("Q9800", "Kunstakademie Kleinhausen", []),
}
URLS = {
    "marta-quellberg": "https://en.wikipedia.org/wiki/Marta_Quellberg",
    "jorg-tannwald": "https://de.wikipedia.org/wiki/J%C3%B6rg_Tannwald",
}


def _server(**options) -> WikiTestServer:
    return WikiTestServer(PAGES, redirects=REDIRECTS, entities=ENTITIES, **options)


def test_fetch_stores_page_and_ids(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    with _server() as server:
        summary = fetch_bios(workspace, urls=URLS, api_url=server.api_url, min_interval_s=0)
    assert summary.statuses == {"ok": 2}
    meta = workspace.storage.read_json("bios/api/marta-quellberg.json")
    assert meta["revision_id"] == 9001
    assert meta["wikidata_id"] == "Q9101"
    triage = workspace.storage.read_parquet("bios/triage.parquet").set_index("artist_key")
    assert triage.loc["marta-quellberg", "kind"] == "biography"
    assert triage.loc["jorg-tannwald", "kind"] == "other_language"
    assert triage.loc["marta-quellberg", "wikidata_id"] == "Q9101"


def test_fetch_sends_user_agent_and_maxlag(tmp_path):
    with _server() as server:
        fetch_bios(Workspace(tmp_path / "ws"), urls=URLS, api_url=server.api_url, min_interval_s=0)
    for request in server.requests:
        assert request["headers"]["User-Agent"].startswith("demographic2art/")
        assert request["params"]["maxlag"] == "5"
        assert request["params"]["format"] == "json"


def test_rerun_sends_nothing(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    with _server() as server:
        fetch_bios(workspace, urls=URLS, api_url=server.api_url, min_interval_s=0, wikidata=True,
                   wikidata_api_url=server.api_url)
        sent = len(server.requests)
        summary = fetch_bios(workspace, urls=URLS, api_url=server.api_url, min_interval_s=0, wikidata=True,
                             wikidata_api_url=server.api_url)
    assert len(server.requests) == sent
    assert summary.cached == 2
    assert summary.requests_sent == 0


@pytest.mark.parametrize(
    ("title", "status"),
    [("M._Quellberg", "ok"), ("Loop_A", "redirect_loop"), ("Hop_1", "too_many_redirects"), ("No_Such_Page", "missing")],
)
def test_redirects_loops_and_missing(tmp_path, title, status):
    workspace = Workspace(tmp_path / "ws")
    with _server() as server:
        summary = fetch_bios(workspace, urls={"someone": f"https://en.wikipedia.org/wiki/{title}"},
                             api_url=server.api_url, min_interval_s=0)
    assert summary.statuses == {status: 1}
    assert workspace.storage.read_json("bios/api/someone.json")["status"] == status


def test_redirect_chain_recorded(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    with _server() as server:
        fetch_bios(workspace, urls={"marta": "https://en.wikipedia.org/wiki/M._Quellberg"}, api_url=server.api_url,
                   min_interval_s=0)
    meta = workspace.storage.read_json("bios/api/marta.json")
    assert meta["redirects"] == ["Marta Quellberg"]
    assert meta["title"] == "Marta Quellberg"


def test_non_wikipedia_url_not_requested(tmp_path):
    with _server() as server:
        summary = fetch_bios(Workspace(tmp_path / "ws"), urls={"x": "https://example.org/artist", "y": ""},
                             api_url=server.api_url, min_interval_s=0)
    assert summary.statuses == {"not_wikipedia_url": 1, "no_url": 1}
    assert server.requests == []


def test_maxlag_error_retried(tmp_path):
    with _server(maxlag_titles={"Marta Quellberg"}) as server:
        summary = fetch_bios(Workspace(tmp_path / "ws"), urls={"marta-quellberg": URLS["marta-quellberg"]},
                             api_url=server.api_url, min_interval_s=0)
    assert summary.statuses == {"ok": 1}
    assert [r["params"]["action"] for r in server.requests] == ["query", "query", "parse"]


def test_wikidata_fills_other_language_page(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    with _server() as server:
        summary = fetch_bios(workspace, urls=URLS, api_url=server.api_url, min_interval_s=0, wikidata=True,
                             wikidata_api_url=server.api_url)
    assert summary.wikidata_items == 8
    extract_workspace(workspace)
    jorg = workspace.storage.read_json("demographics/json/jorg-tannwald.json")
    assert jorg["birth"]["year"] == 1902
    assert jorg["nationality"]["codes"] == ["DE"]
    assert jorg["sources"]["nationality"] == "wikidata"
    assert jorg["gender"] == "male"
    assert jorg["education_details"][0]["school"] == "Kunstakademie Kleinhausen"
    assert jorg["birth"]["place"]["country_code"] == "DE"


def test_wikidata_conflict_flagged(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    with _server() as server:
        fetch_bios(workspace, urls=URLS, api_url=server.api_url, min_interval_s=0, wikidata=True,
                   wikidata_api_url=server.api_url)
    extract_workspace(workspace)
    jorg = workspace.storage.read_json("demographics/json/jorg-tannwald.json")
    assert jorg["death"]["year"] == 1977
    assert {"field": "death_year", "kept": 1977, "kept_source": "lead", "other": 1978, "other_source": "wikidata"} in jorg["conflicts"]
    assert jorg["needs_review"] is True


def test_wikidata_agrees_with_english_page(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    with _server() as server:
        fetch_bios(workspace, urls=URLS, api_url=server.api_url, min_interval_s=0, wikidata=True,
                   wikidata_api_url=server.api_url)
    extract_workspace(workspace)
    marta = workspace.storage.read_json("demographics/json/marta-quellberg.json")
    assert marta["birth"]["date"] == "1871-03-14"
    assert marta["conflicts"] == []
    assert marta["gender"] == "female"
    assert "Impressionism" in marta["movements"]


def test_catalog_years_cross_checked(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    catalog = pd.DataFrame({
        "artist_key": ["marta-quellberg", "jorg-tannwald"], "wikipedia_url": [URLS["marta-quellberg"], URLS["jorg-tannwald"]],
        "birth_year": pd.array([1971, 1902], dtype="Int64"), "birth_century_inferred": [True, False],
        "death_year": pd.array([1938, 1975], dtype="Int64"), "death_century_inferred": [False, False],
    })
    workspace.storage.write_parquet("catalog/artists.parquet", catalog)
    with _server() as server:
        assert main(["bios", "fetch", "-w", str(tmp_path / "ws"), "--api-url", server.api_url, "--min-interval", "0"]) == 0
    extract_workspace(workspace)
    marta = workspace.storage.read_json("demographics/json/marta-quellberg.json")
    assert "catalog_century" in marta["review_reasons"]
    jorg = workspace.storage.read_json("demographics/json/jorg-tannwald.json")
    assert "catalog_year" in jorg["review_reasons"]


def test_fetch_without_catalog_exits_2(tmp_path):
    assert main(["bios", "fetch", "-w", str(tmp_path / "ws"), "--api-url", "http://127.0.0.1:9/w/api.php"]) == 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://en.wikipedia.org/wiki/Marta_Quellberg", ("en.wikipedia.org", "Marta Quellberg")),
        ("https://fr.m.wikipedia.org/wiki/Andr%C3%A9_Dupont", ("fr.wikipedia.org", "André Dupont")),
        ("https://en.wikipedia.org/w/index.php?title=Marta_Quellberg&oldid=1", ("en.wikipedia.org", "Marta Quellberg")),
        ("https://www.example.org/wiki/Marta", None),
        ("", None),
    ],
)
def test_page_title_from_url(url, expected):
    assert page_title_from_url(url) == expected
