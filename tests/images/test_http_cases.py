"""Downloader tests that play each http failure case's server.json on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pandas as pd
import pytest
from server import ScriptedServer

from conftest import load_case
from demographic2art.images import download_images
from demographic2art.workspace import Workspace


def _source(tmp_path: Path, urls: list[str]) -> Path:
    path = tmp_path / "source.csv"
    pd.DataFrame({"image_url": urls}).to_csv(path, index=False)
    return path


def _manifest(workspace: Path) -> pd.DataFrame:
    return Workspace(workspace).storage.read_parquet("images/manifest.parquet").set_index("image_url")


def test_http_nonascii_url(shared_cases, tmp_path):
    case = load_case(shared_cases, "http-nonascii-url")
    target = "/images/zo%C3%A9-marchetti/jardin%20%C3%A0%20menton-1911.jpg!Large.jpg"
    served = (case["dir"] / "painting.png").read_bytes()
    with ScriptedServer.from_file(case["dir"] / "server.json") as server:
        lines = (case["dir"] / "urls.txt").read_text(encoding="utf-8").splitlines()
        urls = [line.replace("{port}", str(server.port)) for line in lines if line.strip()]
        assert len(urls) == 3
        for index, url in enumerate(urls):
            workspace = tmp_path / f"ws{index}"
            summary = download_images(workspace, source=_source(tmp_path, [url]))
            assert summary.count("ok") == 1
            row = _manifest(workspace).loc[url]
            assert row["status"] == "ok"
            assert row["http_status"] == 200
            assert row["sha256"] == "d837004d337b1da3a77000e6346a839ee25db33cd8156a0324981ab387be94a7"
            assert row["sha256"] == hashlib.sha256(served).hexdigest()
        image_requests = [entry["path"] for entry in server.log if entry["path"] != "/robots.txt"]
    assert image_requests == [target] * 3
    assert not any("%25" in path for path in image_requests)


def test_http_redirect_chain(shared_cases, tmp_path):
    case = load_case(shared_cases, "http-redirect-chain")
    with ScriptedServer.from_file(case["dir"] / "server.json") as server:
        chain_url, loop_url = server.url("/a"), server.url("/loop1")
        download_images(tmp_path / "chain", source=_source(tmp_path, [chain_url]))
        chain_requests = [e["path"] for e in server.log if e["path"] != "/robots.txt"]
        started = time.monotonic()
        download_images(tmp_path / "loop", source=_source(tmp_path, [loop_url]), timeout_s=30)
        loop_elapsed = time.monotonic() - started
        loop_requests = [e["path"] for e in server.log if e["path"] != "/robots.txt"][len(chain_requests):]

    assert chain_requests == ["/a", "/b", "/c", "/files/painting.png"]
    chain = _manifest(tmp_path / "chain").loc[chain_url]
    assert chain["status"] == "ok"
    assert chain["final_url"] == f"http://127.0.0.1:{server.port}/files/painting.png"
    assert chain["sha256"] == "5fe8db65eb75841f492e3646b22dd879aa44a1df46237b5d782139697adcdc12"

    loop = _manifest(tmp_path / "loop").loc[loop_url]
    assert loop["status"] == "failed"
    assert loop["reason"] == "too_many_redirects"
    # The first request plus 10 followed hops, so the hop limit ended the loop.
    assert len(loop_requests) == 11
    assert loop_elapsed < 6.0  # 2 s bound with a 3x margin for a loaded machine


def test_http_retry_after_date(shared_cases, tmp_path):
    case = load_case(shared_cases, "http-retry-after-date")
    with ScriptedServer.from_file(case["dir"] / "server.json") as server:
        url = server.url("/img/still-life.png")
        download_images(tmp_path / "ws", source=_source(tmp_path, [url]))
        requests = server.requests_to("/img/still-life.png")
    assert len(requests) == 2
    named_instant = pd.Timestamp(requests[0]["response_headers"]["Retry-After"]).timestamp()
    assert named_instant - requests[0]["sent"] >= 3.0
    assert requests[1]["received"] >= named_instant
    assert requests[1]["received"] - requests[0]["sent"] <= 15.0  # 5 s bound with a 3x margin
    row = _manifest(tmp_path / "ws").loc[url]
    assert row["status"] == "ok"
    assert row["sha256"] == "e3f4e25a65b690146eb15a7844e3624528474a6aff3e1aed6e9303e81eff920b"


def test_http_trickle_server(shared_cases, tmp_path):
    case = load_case(shared_cases, "http-trickle-server")
    script = json.loads((case["dir"] / "server.json").read_text())
    timeout_s = script["downloader_config"]["timeout_s"]
    with ScriptedServer(script, case["dir"]) as server:
        url = server.url("/img/endless.jpg")
        started = time.monotonic()
        download_images(tmp_path / "ws", source=_source(tmp_path, [url]), timeout_s=timeout_s)
        elapsed = time.monotonic() - started
    row = _manifest(tmp_path / "ws").loc[url]
    assert row["status"] == "failed"
    assert row["reason"] == "timeout"
    assert elapsed < 18.0  # 6 s bound with a 3x margin for a loaded machine
    assert elapsed >= timeout_s - 0.5
    assert list((tmp_path / "ws" / "images").rglob("*.jpg")) == []
