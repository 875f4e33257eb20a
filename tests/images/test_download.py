"""Downloader tests against scripted HTTP servers on 127.0.0.1."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from server import ScriptedServer

from demographic2art.cli.main import main
from demographic2art.errors import InvalidValueError, MissingFileError
from demographic2art.images import download_images, normalise_url
from demographic2art.images.urls import url_host, url_origin
from demographic2art.images.fetch import parse_retry_after
from demographic2art.images.robots import x_robots_forbids
from demographic2art.workspace import Workspace


def _jpeg(size=(300, 200), colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def _ok(body: bytes, content_type="image/jpeg", **extra) -> dict:
    return {"status": 200, "headers": {"Content-Type": content_type}, "body_bytes": body.hex(), **extra}


def _source(tmp_path: Path, urls: list[str], pages: list[str] | None = None) -> Path:
    path = tmp_path / "source.csv"
    columns = {"image_url": urls}
    if pages is not None:
        columns["url"] = pages
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def _manifest(workspace: Path) -> pd.DataFrame:
    return Workspace(workspace).storage.read_parquet("images/manifest.parquet").set_index("image_url")


def _reason(manifest: pd.DataFrame, url: str) -> str | None:
    reason = manifest.loc[url, "reason"]
    return None if pd.isna(reason) else reason


JPEG = _jpeg()
FULL = _jpeg((1024, 600))


@pytest.fixture()
def mixed_server():
    routes = {
        "/ok/alice-moreau/harbour.jpg": [_ok(FULL)],
        "/ok/alice-moreau/gzip.jpg": [_ok(JPEG, gzip=True)],
        "/bad/truncated.jpg": [_ok(JPEG[: len(JPEG) // 2])],
        "/bad/page.jpg": [_ok(b"<!doctype html><html><body>gone</body></html>", "image/jpeg")],
        "/bad/empty.jpg": [_ok(b"")],
        "/bad/missing.jpg": [{"status": 404}],
        "/flaky/once.jpg": [{"status": 500}, _ok(JPEG)],
        "/limited/seconds.jpg": [{"status": 429, "headers": {"Retry-After": "1"}}, _ok(JPEG)],
        "/noai/tagged.jpg": [_ok(JPEG, headers={"Content-Type": "image/jpeg", "X-Robots-Tag": "noindex, noai"})],
        "/private/secret.jpg": [_ok(JPEG)],
        "/robots.txt": [{"status": 200, "headers": {"Content-Type": "text/plain"}, "body_text": "User-agent: *\nDisallow: /private/\n"}],
    }
    with ScriptedServer({"routes": routes}) as server:
        yield server


def _run(tmp_path, server, paths, **options):
    urls = [server.url(p) for p in paths]
    summary = download_images(tmp_path / "ws", source=_source(tmp_path, urls), backoff_base_s=0.05, **options)
    return summary, _manifest(tmp_path / "ws"), urls


def test_download_outcomes_per_row(tmp_path, mixed_server):
    paths = [
        "/ok/alice-moreau/harbour.jpg",
        "/ok/alice-moreau/gzip.jpg",
        "/bad/truncated.jpg",
        "/bad/page.jpg",
        "/bad/empty.jpg",
        "/bad/missing.jpg",
        "/flaky/once.jpg",
        "/limited/seconds.jpg",
        "/noai/tagged.jpg",
        "/private/secret.jpg",
    ]
    summary, manifest, urls = _run(tmp_path, mixed_server, paths)
    outcome = {path: (manifest.loc[url, "status"], _reason(manifest, url)) for path, url in zip(paths, urls)}
    assert outcome["/ok/alice-moreau/harbour.jpg"] == ("ok", None)
    assert outcome["/ok/alice-moreau/gzip.jpg"] == ("ok", None)
    assert outcome["/bad/truncated.jpg"] == ("rejected", "truncated")
    assert outcome["/bad/page.jpg"] == ("rejected", "html")
    assert outcome["/bad/empty.jpg"] == ("rejected", "empty")
    assert outcome["/bad/missing.jpg"] == ("failed", "http_404")
    assert outcome["/flaky/once.jpg"] == ("ok", None)
    assert outcome["/limited/seconds.jpg"] == ("ok", None)
    assert outcome["/noai/tagged.jpg"] == ("rejected", "x_robots_tag")
    assert outcome["/private/secret.jpg"] == ("rejected", "robots_txt")
    assert summary.count("ok") == 4
    assert len(mixed_server.requests_to("/flaky/once.jpg")) == 2
    assert len(mixed_server.requests_to("/private/secret.jpg")) == 0
    assert len(mixed_server.requests_to("/robots.txt")) == 1


def test_download_stores_resized_rgb_and_manifest_values(tmp_path, mixed_server):
    summary, manifest, urls = _run(tmp_path, mixed_server, ["/ok/alice-moreau/harbour.jpg"])
    row = manifest.loc[urls[0]]
    stored = tmp_path / "ws" / "images" / "files" / "alice-moreau" / "harbour.jpg"
    with Image.open(stored) as im:
        assert im.mode == "RGB"
        assert im.size == (512, 300)
    assert row["key"] == "alice-moreau/harbour"
    assert (row["width"], row["height"]) == (1024, 600)
    assert (row["stored_width"], row["stored_height"]) == (512, 300)
    assert row["bytes"] == len(FULL)
    assert row["http_status"] == 200
    assert row["file"] == "images/files/alice-moreau/harbour.jpg"
    assert row["duration_s"] > 0
    assert summary.total == 1


def test_rejected_download_quarantined(tmp_path, mixed_server):
    _run(tmp_path, mixed_server, ["/bad/truncated.jpg"])
    quarantine = tmp_path / "ws" / "images" / "quarantine" / "bad"
    record = json.loads((quarantine / "truncated.json").read_text())
    assert record["reason"] == "truncated"
    assert (quarantine / "truncated.jpeg").read_bytes() == JPEG[: len(JPEG) // 2]
    assert not (tmp_path / "ws" / "images" / "files" / "bad").exists()


def test_robots_ignored_on_request(tmp_path, mixed_server):
    _, manifest, urls = _run(tmp_path, mixed_server, ["/private/secret.jpg", "/noai/tagged.jpg"], respect_robots=False)
    assert list(manifest.loc[urls, "status"]) == ["ok", "ok"]
    assert len(mixed_server.requests_to("/robots.txt")) == 0


def test_rerun_skips_ok_and_retries_failed(tmp_path):
    routes = {
        "/a/done.jpg": [_ok(JPEG)],
        "/a/later.jpg": [{"status": 503}, {"status": 503}, _ok(JPEG)],
    }
    with ScriptedServer({"routes": routes}) as server:
        urls = [server.url("/a/done.jpg"), server.url("/a/later.jpg")]
        source = _source(tmp_path, urls)
        first = download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False)
        second = download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False)
        done_requests = len(server.requests_to("/a/done.jpg"))
    assert first.counts == {"ok": 1, "failed": 1}
    assert second.counts == {"skipped": 1, "failed": 1}
    assert done_requests == 1
    manifest = _manifest(tmp_path / "ws")
    assert manifest.loc[urls[0], "status"] == "ok"
    assert manifest.loc[urls[1], "reason"] == "http_503"


def test_manifest_merge_keeps_earlier_rows(tmp_path):
    routes = {"/m/one.jpg": [_ok(JPEG)], "/m/two.jpg": [_ok(JPEG)]}
    with ScriptedServer({"routes": routes}) as server:
        download_images(tmp_path / "ws", source=_source(tmp_path, [server.url("/m/one.jpg")]), respect_robots=False)
        download_images(tmp_path / "ws", source=_source(tmp_path, [server.url("/m/two.jpg")]), respect_robots=False)
    manifest = _manifest(tmp_path / "ws")
    assert sorted(manifest["key"]) == ["m/one", "m/two"]
    assert list(manifest["status"]) == ["ok", "ok"]


def test_retry_after_beyond_cap_ends_rate_limited(tmp_path):
    held = {"/r/held.jpg": [{"status": 429, "headers": {"Retry-After": "3600"}}]}
    free = {"/r/free.jpg": [_ok(JPEG)]}
    with ScriptedServer({"routes": held}) as held_server, ScriptedServer({"routes": free}) as free_server:
        urls = [held_server.url("/r/held.jpg"), free_server.url("/r/free.jpg")]
        started = time.monotonic()
        summary = download_images(tmp_path / "ws", source=_source(tmp_path, urls), respect_robots=False, concurrency=1)
        elapsed = time.monotonic() - started
    manifest = _manifest(tmp_path / "ws")
    assert manifest.loc[urls[0], "status"] == "rate_limited"
    assert manifest.loc[urls[0], "reason"] == "http_429"
    assert manifest.loc[urls[1], "status"] == "ok"
    assert summary.count("rate_limited") == 1
    assert elapsed < 30


def test_retry_after_pauses_whole_host(tmp_path):
    routes = {
        "/h/held.jpg": [{"status": 429, "headers": {"Retry-After": "3600"}}],
        "/h/same-host.jpg": [_ok(JPEG)],
    }
    with ScriptedServer({"routes": routes}) as server:
        urls = [server.url("/h/held.jpg"), server.url("/h/same-host.jpg")]
        download_images(tmp_path / "ws", source=_source(tmp_path, urls), respect_robots=False, concurrency=1)
        same_host_requests = len(server.requests_to("/h/same-host.jpg"))
    manifest = _manifest(tmp_path / "ws")
    assert list(manifest.loc[urls, "status"]) == ["rate_limited", "rate_limited"]
    assert same_host_requests == 0


def test_requeued_url_retried_later_in_same_run(tmp_path):
    routes = {
        "/q/held.jpg": [{"status": 503, "headers": {"Retry-After": "2"}}, _ok(JPEG)],
        "/q/slow.jpg": [_ok(JPEG, delay_s=3)],
    }
    with ScriptedServer({"routes": routes}) as server:
        urls = [server.url("/q/held.jpg"), server.url("/q/slow.jpg")]
        download_images(tmp_path / "ws", source=_source(tmp_path, urls), respect_robots=False, retry_after_cap_s=1)
        held_requests = len(server.requests_to("/q/held.jpg"))
    manifest = _manifest(tmp_path / "ws")
    assert held_requests == 2
    assert manifest.loc[urls[0], "status"] == "ok"


def test_key_from_artwork_page_url(tmp_path):
    with ScriptedServer({"routes": {"/img/x.jpg": [_ok(JPEG)]}}) as server:
        source = _source(tmp_path, [server.url("/img/x.jpg")], ["https://www.wikiart.org/en/zoe-marchetti/jardin-1911"])
        download_images(tmp_path / "ws", source=source, respect_robots=False)
    assert (tmp_path / "ws" / "images" / "files" / "zoe-marchetti" / "jardin-1911.jpg").is_file()


def test_dry_run_plans_without_network(tmp_path):
    urls = ["http://127.0.0.1:9/x/one.jpg!Large.jpg", "http://127.0.0.1:9/x/two.jpg", ""]
    pages = ["", "", "https://www.wikiart.org/en/ana-lind/no-image"]
    summary = download_images(tmp_path / "ws", source=_source(tmp_path, urls, pages), dry_run=True)
    assert summary.counts == {"planned": 2, "skipped": 1}
    assert [row["file"] for row in summary.planned[:2]] == ["images/files/x/one.jpg", "images/files/x/two.jpg"]
    assert not (tmp_path / "ws" / "images" / "manifest.parquet").exists()


def test_invalid_source_raises(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        download_images(tmp_path / "ws", source=tmp_path / "absent.csv")
    with pytest.raises(InvalidValueError, match="is a folder, not a file"):
        download_images(tmp_path / "ws", source=tmp_path)
    with pytest.raises(InvalidValueError, match="column 'picture'"):
        download_images(tmp_path / "ws", source=_source(tmp_path, ["http://127.0.0.1:9/a.jpg"]), url_column="picture")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("http://h/a b/é.jpg!Large.jpg", "http://h/a%20b/%C3%A9.jpg!Large.jpg"),
        ("http://h/%C3%A9%20x.jpg", "http://h/%C3%A9%20x.jpg"),
        ("http://h/it's(1)*+,;=.jpg", "http://h/it's(1)*+,;=.jpg"),
        ("http://h/100%.jpg", "http://h/100%25.jpg"),
        ("http://bücher.example/x.jpg?q=ü b", "http://xn--bcher-kva.example/x.jpg?q=%C3%BC%20b"),
    ],
)
def test_normalise_url_encodes_once(raw, expected):
    assert normalise_url(raw) == expected
    assert normalise_url(expected) == expected


def test_normalise_url_original_size():
    assert normalise_url("https://h/a/b.jpg!Large.jpg", size="original") == "https://h/a/b.jpg"


@pytest.mark.parametrize("url, host, origin", [
    ("HTTPS://Uploads.WikiArt.org/a/b.jpg", "uploads.wikiart.org", "https://uploads.wikiart.org"),
    ("http://127.0.0.1:8080/x.jpg?s=1", "127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://user:secret@example.org/x.jpg", "example.org", "http://example.org"),
    ("http://[::1]:9000/x.jpg", "[::1]:9000", "http://[::1]:9000"),
])
def test_url_host_and_origin_keys(url, host, origin):
    assert url_host(url) == host
    assert url_origin(url) == origin


def test_parse_retry_after_forms():
    now = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT
    for value in ("Sun, 06 Nov 1994 08:49:47 GMT", "Sunday, 06-Nov-94 08:49:47 GMT", "Sun Nov  6 08:49:47 1994"):
        assert parse_retry_after(value, now=now) == 10.0
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None


def test_x_robots_tag_directives():
    assert x_robots_forbids(["noimageai"], "demographic2art/0.1.0")
    assert x_robots_forbids(["demographic2art: noai"], "demographic2art/0.1.0")
    assert not x_robots_forbids(["otherbot: noai"], "demographic2art/0.1.0")
    assert not x_robots_forbids(["noindex, nofollow"], "demographic2art/0.1.0")


def test_user_agent_sent(tmp_path):
    with ScriptedServer({"routes": {"/u/a.jpg": [_ok(JPEG)]}}) as server:
        download_images(tmp_path / "ws", source=_source(tmp_path, [server.url("/u/a.jpg")]), respect_robots=False, contact="mailto:lab@example.org")
        agent = server.requests_to("/u/a.jpg")[0]["headers"]["User-Agent"]
    assert agent.startswith("demographic2art/")
    assert agent.endswith("(+mailto:lab@example.org)")


def test_cli_check_json(tmp_path, capsys):
    Image.new("RGB", (40, 30), (1, 2, 3)).save(tmp_path / "good.png")
    (tmp_path / "bad.jpg").write_bytes(JPEG[:200])
    assert main(["images", "check", str(tmp_path), "--json"]) == 1  # one file is rejected
    records = {Path(r["path"]).name: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert records["good.png"]["status"] == "ok"
    assert records["good.png"]["size"] == [40, 30]
    assert records["good.png"]["mode"] == "RGB"
    assert records["bad.jpg"]["status"] == "rejected"
    assert records["bad.jpg"]["reason"] == "truncated"
    assert records["bad.jpg"]["detail"]
    assert records["good.png"]["detail"] is None


@pytest.mark.parametrize(
    "argv",
    [
        ["images", "check", "/nonexistent/folder"],
        ["images", "download", "--resize", "stretch", "--source", "x.csv"],
        ["images", "download", "--source", "/nonexistent/source.csv"],
    ],
)
def test_cli_bad_input_exits_2(tmp_path, capsys, argv):
    status = main(argv + (["-w", str(tmp_path / "ws")] if argv[1] == "download" else []))
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert error.startswith("error: ")
    assert len(error.splitlines()) == 1


def test_cli_download_dry_run(tmp_path, capsys):
    source = _source(tmp_path, ["http://127.0.0.1:9/x/one.jpg"])
    assert main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source), "--dry-run"]) == 0
    output = capsys.readouterr().out
    assert "download   x/one -> images/files/x/one.jpg" in output
    assert "planned 1" in output
