"""The LLM extractor against the OpenAI-compatible test server on 127.0.0.1 (real HTTP, real files)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from demographic2art.cli.main import main
from demographic2art.demographics.llm import LLMQuotaError, extract_llm, strict_json_schema
from demographic2art.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from llm_server import LLMTestServer, Reply, answer_json, completion  # noqa: E402

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>{name} - Wikipedia</title>
<link rel="canonical" href="https://en.wikipedia.org/wiki/{title}"></head>
<body><h1>{name}</h1><div id="mw-content-text"><div class="mw-parser-output">
<p><b>{name}</b> ({born} – {died}) was a {nationality} painter born in {place}. {pronoun} painted harbours and
portraits, and {possessive} studio stood near the river.</p><p>{name} exhibited in Vienna and Prague.</p>
</div></div>
<div id="catlinks"><div id="mw-normal-catlinks"><ul><li><a href="/wiki/Category:{born}_births">{born} births</a></li>
<li><a href="/wiki/Category:{died}_deaths">{died} deaths</a></li></ul></div></div></body></html>"""

ARTISTS = {
    "greta-wohlfahrt": dict(name="Greta Wohlfahrt", born=1871, died=1939, nationality="Austrian", place="Linz",
                            pronoun="She", possessive="her"),
    "anton-merisch": dict(name="Anton Merisch", born=1802, died=1866, nationality="Czech", place="Brno",
                          pronoun="He", possessive="his"),
    "lotte-sarnow": dict(name="Lotte Sarnow", born=1890, died=1950, nationality="German", place="Kiel",
                         pronoun="She", possessive="her"),
}


def make_workspace(root: Path, artists=ARTISTS) -> Workspace:
    """Return a workspace with one invented biography page per artist imported."""
    workspace = Workspace(root).create()
    for slug, fields in artists.items():
        html = PAGE.format(title=fields["name"].replace(" ", "_"), **fields)
        workspace.storage.write_bytes(f"bios/html/{slug}.html", html.encode())
    return workspace


def greta_answer(**overrides) -> dict:
    fields = dict(
        birth_year={"year": 1871, "approximate": False, "quote": "1871"},
        death_year={"year": 1939, "approximate": False, "quote": "1939"},
        birth_place={"place": "Linz", "country": "Austria", "quote": "born in Linz"},
        gender={"gender": "female", "quote": "She painted"},
        nationality={"nationality": "Austrian", "quote": "Austrian painter"},
    )
    fields.update(overrides)
    return completion(answer_json(**fields))


def record(workspace: Workspace, slug: str, run: str = "llm") -> dict:
    folder = "demographics/llm/json" if run == "llm" else "demographics/json"
    return workspace.storage.read_json(f"{folder}/{slug}.json")


def offline_record(tmp_path: Path, slug: str) -> dict:
    workspace = make_workspace(tmp_path / "offline")
    assert main(["demographics", "extract", "-w", str(workspace.url)]) == 0
    return record(workspace, slug, run="offline")


def run(server: LLMTestServer, workspace: Workspace, **options):
    settings = dict(base_url=server.base_url, model="test-model", api_key="sk-test-secret", max_retries=1, timeout_s=5)
    settings.update(options)
    return extract_llm(workspace, **settings)


FIELDS = ("birth", "death", "gender", "nationality")


def test_wiki_llm_refusal(tmp_path, shared_cases):
    from conftest import load_case

    case = load_case(shared_cases, "wiki-llm-refusal")
    reply = json.loads((case["dir"] / "response.json").read_text())
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", reply)
        code = main(["demographics", "extract", "-w", str(workspace.url), "--extractor", "llm",
                     "--base-url", server.base_url, "--model", "test-model"])
    assert code == 0
    greta = record(workspace, "greta-wohlfahrt")
    assert greta["llm"]["status"] == "llm_refused"
    assert greta["llm"]["refusal"] == reply["choices"][0]["message"]["refusal"]
    assert "llm" not in greta["sources"].values()
    assert greta["quotes"] == {}
    offline = offline_record(tmp_path, "greta-wohlfahrt")
    for field in FIELDS:
        assert greta[field] == offline[field], field
    assert record(workspace, "anton-merisch")["llm"]["status"] == "llm_ok"


def test_valid_answer_fills_fields_with_quotes(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", greta_answer(death_place={"place": "Wien", "country": "Austria", "quote": "Wien"}))
        summary = run(server, workspace)
        body = server.chat_requests()[0]
        auth = [h.get("Authorization") for h in server.headers]
    greta = record(workspace, "greta-wohlfahrt")
    assert greta["llm"]["status"] == "llm_ok"
    assert greta["birth"]["year"] == 1871
    assert greta["sources"]["birth_year"] == "llm"
    assert greta["quotes"]["gender"] == "She painted"
    assert greta["birth"]["place"]["country_code"] == "AT"
    assert greta["nationality"]["codes"] == ["AT"]
    assert greta["death"]["place"]["raw"] is None  # the quote "Wien" is not in the page
    assert greta["llm"]["quotes_dropped"] == ["death_place"]
    assert summary.quotes_dropped == 1
    assert body["temperature"] == 0
    assert body["response_format"]["json_schema"]["strict"] is True
    assert auth[0] == "Bearer sk-test-secret"
    assert "sk-test-secret" not in workspace.storage.read_text("demographics/llm/run.json")
    assert "sk-test-secret" not in workspace.storage.read_text("d2a.toml")


def test_strict_schema_all_required_nullable():
    schema = strict_json_schema()
    objects = [schema, *schema["$defs"].values()]
    for node in objects:
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])
    for node in schema["$defs"].values():
        for name, prop in node["properties"].items():
            assert {"type": "null"} in prop["anyOf"], name
            assert "default" not in prop, name


BAD_REPLIES = [
    ("truncated", completion('{"birth_year": {"year": 18', finish_reason="length"), "llm_truncated"),
    ("content_filter", completion(None, finish_reason="content_filter"), "llm_content_filter"),
    ("empty_choices", {"id": "x", "choices": [], "usage": None}, "llm_empty"),
    ("no_content", completion(None), "llm_empty"),
    ("not_json", completion("Greta was born in 1871."), "llm_invalid_json"),
    ("extra_key", completion(json.dumps({**json.loads(answer_json()), "hobbies": None})), "llm_schema_invalid"),
    ("missing_key", completion(json.dumps({k: v for k, v in json.loads(answer_json()).items() if k != "gender"})),
     "llm_schema_invalid"),
    ("wrong_type", completion(answer_json(birth_year={"year": "1871", "approximate": False, "quote": "1871"})),
     "llm_schema_invalid"),
    ("http_400", Reply(status=400, body={"error": {"message": "bad request"}}), "llm_http_error"),
    ("http_500", Reply(status=500, body={"error": {"message": "server error"}}), "llm_http_error"),
]


@pytest.mark.parametrize("name,reply,status", BAD_REPLIES, ids=[case[0] for case in BAD_REPLIES])
def test_bad_reply_keeps_offline_values(tmp_path, name, reply, status):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", *[reply] * 3)  # first call plus one repair or one retry
        summary = run(server, workspace)
    greta = record(workspace, "greta-wohlfahrt")
    assert greta["llm"]["status"] == status
    assert "llm" not in greta["sources"].values()
    offline = offline_record(tmp_path, "greta-wohlfahrt")
    for field in FIELDS:
        assert greta[field] == offline[field], field
    assert summary.statuses["llm_ok"] == 2


def test_code_fenced_answer_is_used(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    content = greta_answer()["choices"][0]["message"]["content"]
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", completion(f"```json\n{content}\n```"))
        run(server, workspace)
    greta = record(workspace, "greta-wohlfahrt")
    assert greta["llm"]["status"] == "llm_code_fenced"
    assert greta["sources"]["gender"] == "llm"


def test_invalid_answer_repaired_once(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", completion("not json"), greta_answer())
        run(server, workspace)
        greta_calls = [r for r in server.chat_requests() if "Greta Wohlfahrt" in json.dumps(r["messages"])]
    greta = record(workspace, "greta-wohlfahrt")
    assert greta["llm"]["status"] == "llm_repaired"
    assert greta["birth"]["year"] == 1871
    assert len(greta_calls) == 2
    assert greta_calls[1]["messages"][2]["content"] == "not json"


def test_slow_reply_times_out(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", *[Reply(body=greta_answer(), delay_s=3)] * 2)
        started = time.monotonic()
        run(server, workspace, timeout_s=0.5)
        elapsed = time.monotonic() - started
    greta = record(workspace, "greta-wohlfahrt")
    assert greta["llm"]["status"] == "llm_timeout"
    assert elapsed < 3 * (2 * 0.5 + 0.5)  # two attempts of 0.5 s and one 0.5 s back-off, 3x margin


def test_retry_after_honoured(tmp_path):
    workspace = make_workspace(tmp_path / "ws", {"greta-wohlfahrt": ARTISTS["greta-wohlfahrt"]})
    limited = Reply(status=429, headers={"Retry-After": "1"}, body={"error": {"message": "slow down", "code": "rate_limit_exceeded"}})
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", limited, greta_answer())
        started = time.monotonic()
        run(server, workspace)
        elapsed = time.monotonic() - started
    assert record(workspace, "greta-wohlfahrt")["llm"]["status"] == "llm_ok"
    assert elapsed >= 1.0
    assert elapsed < 3 * 1.0 + 3


def test_quota_error_fails_fast(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    quota = Reply(status=429, body={"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                                              "code": "insufficient_quota"}})
    with LLMTestServer(responder=lambda body: quota) as server:
        with pytest.raises(LLMQuotaError, match="quota is used up"):
            run(server, workspace)
        code = main(["demographics", "extract", "-w", str(workspace.url), "--extractor", "llm",
                     "--base-url", server.base_url, "--model", "test-model"])
    assert code == 2


def test_rerun_sends_nothing(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", completion("I can't"), completion(None, refusal="No."))
        first = run(server, workspace)
        sent_first = len(server.chat_requests())
        second = run(server, workspace)
        sent_second = len(server.chat_requests()) - sent_first
    assert first.sent == 3
    assert second.sent == 0
    assert sent_second == 0
    assert second.cached == 3
    assert second.cost.cost_usd == 0
    assert record(workspace, "greta-wohlfahrt")["llm"]["cached"] is True


def test_transient_failure_not_cached(tmp_path):
    workspace = make_workspace(tmp_path / "ws", {"greta-wohlfahrt": ARTISTS["greta-wohlfahrt"]})
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", *[Reply(status=503, body={"error": {"message": "busy"}})] * 2)
        first = run(server, workspace)
        second = run(server, workspace)
    assert first.statuses == {"llm_http_error": 1}
    assert second.sent == 1
    assert second.statuses == {"llm_ok": 1}


def test_cost_accounting_per_call_and_run(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        summary = run(server, workspace, model="gpt-4o-mini")
    greta = record(workspace, "greta-wohlfahrt")
    assert greta["llm"]["prompt_tokens"] == 800
    assert greta["llm"]["completion_tokens"] == 120
    assert greta["llm"]["cost_usd"] == pytest.approx((800 * 0.15 + 120 * 0.60) / 1e6)
    assert summary.cost.prompt_tokens == 2400
    assert summary.cost.cost_usd == pytest.approx(3 * (800 * 0.15 + 120 * 0.60) / 1e6)


def test_dry_run_estimates_and_sends_nothing(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer() as server:
        summary = run(server, workspace, model="gpt-4o-mini", dry_run=True)
        sent = len(server.chat_requests())
    assert sent == 0
    assert summary.cost.estimated is True
    assert summary.cost.calls == 3
    assert summary.cost.prompt_tokens > 3 * 100
    assert summary.cost.cost_usd > 0
    assert not workspace.storage.exists("demographics/llm/demographics.parquet")


def test_missing_base_url_exits_2(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    assert main(["demographics", "extract", "-w", str(workspace.url), "--extractor", "llm", "--model", "m"]) == 2


def test_concurrency_limit_respected(tmp_path):
    artists = {f"painter-{i}": dict(ARTISTS["anton-merisch"], name=f"Painter Number{i}") for i in range(12)}
    workspace = make_workspace(tmp_path / "ws", artists)
    with LLMTestServer(responder=lambda body: Reply(body=completion(answer_json()), delay_s=0.3)) as server:
        summary = run(server, workspace, concurrency=4)
        peak = server.max_active
    assert summary.statuses == {"llm_ok": 12}
    assert peak == 4


def test_batch_mode_matches_by_custom_id(tmp_path):
    workspace = make_workspace(tmp_path / "ws")
    with LLMTestServer(batch_polls=2) as server:
        server.queue("Greta Wohlfahrt", greta_answer())
        server.queue("Lotte Sarnow", Reply(status=500, body={"error": {"message": "failed"}}))
        server.queue("Anton Merisch", completion(None, refusal="No."))
        summary = run(server, workspace, model="gpt-4o-mini", batch=True, poll_interval_s=0.05)
    assert summary.statuses == {"llm_ok": 1, "llm_http_error": 1, "llm_refused": 1}
    assert record(workspace, "greta-wohlfahrt")["birth"]["year"] == 1871
    assert record(workspace, "lotte-sarnow")["llm"]["status"] == "llm_http_error"
    assert summary.cost.cost_usd == pytest.approx(2 * (800 * 0.15 + 120 * 0.60) / 1e6 * 0.5)


def test_compare_lists_disagreements(tmp_path, capsys):
    workspace = make_workspace(tmp_path / "ws")
    assert main(["demographics", "extract", "-w", str(workspace.url)]) == 0
    with LLMTestServer() as server:
        server.queue("Greta Wohlfahrt", greta_answer(birth_year={"year": 1870, "approximate": False, "quote": "1871"}))
        run(server, workspace)
    from demographic2art.demographics.compare import compare_runs

    result = compare_runs("offline", "llm", workspace=workspace)
    birth = [d for d in result.disagreements if d.field == "birth_year"]
    assert result.artists == 3
    assert len(birth) == 1
    assert birth[0].artist_key == "greta-wohlfahrt"
    assert (birth[0].value_a, birth[0].value_b) == (1871, 1870)
    assert birth[0].source_b == "llm"
    assert main(["demographics", "compare", "offline", "llm", "-w", str(workspace.url)]) == 0
    assert "greta-wohlfahrt  birth_year  1871 (lead)  1870 (llm)" in capsys.readouterr().out
