"""Ledger, resume, streaming, rate limit, deadline and decode-pool tests on 127.0.0.1 servers."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from server import ScriptedServer

from demographic2art.images import download_images
from demographic2art.images.httpx_transport import DnsCache
from demographic2art.images.fetch import HostGate
from demographic2art.images.ledger import is_transient
from demographic2art.images.plan import iter_planned, iter_source_batches
from demographic2art.workspace import Workspace


def _jpeg(size=(640, 400), seed=0) -> bytes:
    import numpy as np

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _ok(body: bytes, **extra) -> dict:
    return {"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_bytes": body.hex(), **extra}


def _source(tmp_path: Path, urls: list[str], name: str = "source.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame({"image_url": urls}).to_csv(path, index=False)
    return path


def _manifest(root: Path) -> pd.DataFrame:
    return Workspace(root).storage.read_parquet("images/manifest.parquet").set_index("key")


JPEG = _jpeg()


def test_rerun_retries_only_transient(tmp_path):
    routes = {
        "/l/done.jpg": [_ok(JPEG)],
        "/l/gone.jpg": [{"status": 404}, _ok(JPEG)],
        "/l/busy.jpg": [{"status": 503}, _ok(JPEG)],
    }
    with ScriptedServer({"routes": routes}) as server:
        urls = [server.url(p) for p in routes]
        source = _source(tmp_path, urls)
        download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False)
        second = download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False)
        counts = {p: len(server.requests_to(p)) for p in routes}
    manifest = _manifest(tmp_path / "ws")
    assert counts == {"/l/done.jpg": 1, "/l/gone.jpg": 1, "/l/busy.jpg": 2}
    assert second.counts == {"skipped": 2, "ok": 1}
    assert manifest.loc["l/gone", "reason"] == "http_404"
    assert manifest.loc["l/busy", "status"] == "ok"


def test_retry_failed_retries_permanent(tmp_path):
    routes = {"/p/gone.jpg": [{"status": 404}, _ok(JPEG)]}
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, [server.url("/p/gone.jpg")])
        download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False)
        download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False, retry_failed=True)
        requests = len(server.requests_to("/p/gone.jpg"))
    assert requests == 2
    assert _manifest(tmp_path / "ws").loc["p/gone", "status"] == "ok"


def test_transient_reasons():
    assert is_transient("failed", "http_503")
    assert is_transient("failed", "timeout")
    assert is_transient("rate_limited", "http_429")
    assert not is_transient("failed", "http_404")
    assert not is_transient("rejected", "truncated")
    assert not is_transient("ok", None)


def test_shards_write_parts_then_merge(tmp_path):
    routes = {f"/s/img{i}.jpg": [_ok(JPEG)] for i in range(5)}
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, [server.url(p) for p in routes])
        summary = download_images(tmp_path / "ws", source=source, shard_size=2, respect_robots=False, decode_processes=0)
    manifest = _manifest(tmp_path / "ws")
    assert summary.counts == {"ok": 5}
    assert len(manifest) == 5
    assert list((tmp_path / "ws" / "images" / "parts").glob("*.parquet")) == []


_KILLED_RUN = """
import sys
from demographic2art.images import download_images
download_images(sys.argv[1], source=sys.argv[2], shard_size=2, concurrency=1, respect_robots=False, decode_processes=0)
"""


def test_sigkill_then_rerun_loses_nothing(tmp_path):
    routes = {f"/k/img{i}.jpg": [_ok(JPEG, delay_s=0.4)] for i in range(8)}
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, [server.url(p) for p in routes])
        process = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(tmp_path / "ws"), str(source)])
        deadline = time.monotonic() + 60
        while len(server.log) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        parts = sorted((tmp_path / "ws" / "images" / "parts").glob("*.parquet"))
        download_images(tmp_path / "ws", source=source, shard_size=2, respect_robots=False, decode_processes=0)
        counts = {p: len(server.requests_to(p)) for p in routes}
    manifest = _manifest(tmp_path / "ws")
    assert len(parts) >= 1
    assert counts["/k/img0.jpg"] == 1
    assert counts["/k/img1.jpg"] == 1
    assert len(manifest) == 8
    assert set(manifest["status"]) == {"ok"}
    assert all((tmp_path / "ws" / file).is_file() for file in manifest["file"])


def test_source_read_in_batches(tmp_path):
    source = _source(tmp_path, [f"http://127.0.0.1:9/b/img{i}.jpg" for i in range(25)])
    batches = list(iter_source_batches(Workspace(tmp_path / "ws"), source, batch_rows=10))
    assert [len(records) for _, records in batches] == [10, 10, 5]
    assert batches[0][0] == ["image_url"]


def test_parquet_plan_streams_with_limit(tmp_path):
    path = tmp_path / "source.parquet"
    pd.DataFrame({"image_url": [f"http://127.0.0.1:9/q/img{i}.jpg" for i in range(50)]}).to_parquet(path)
    planned = list(iter_planned(Workspace(tmp_path / "ws"), source=path, limit=3))
    assert [item.key for item in planned] == ["q/img0", "q/img1", "q/img2"]


def test_token_bucket_spaces_requests(tmp_path):
    routes = {f"/t/img{i}.jpg": [_ok(JPEG)] for i in range(5)}
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, [server.url(p) for p in routes])
        download_images(tmp_path / "ws", source=source, rate_limit_per_host=5.0, respect_robots=False, decode_processes=0)
        received = sorted(entry["received"] for entry in server.log)
    span = received[-1] - received[0]
    # Five requests at 5 per second with a burst of 1 need at least 4 intervals of 0.2 s.
    assert span >= 0.8 * 0.95


def test_token_bucket_allows_burst():
    gate = HostGate(per_host=4, rate_per_s=1.0, burst=3)
    now = time.monotonic()
    starts = [gate.reserve("h", cap_s=100.0) for _ in range(4)]
    assert all(start - now < 0.1 for start in starts[:3])
    assert starts[3] - now >= 0.9


def test_dns_cache_resolves_once():
    cache = DnsCache(ttl_s=60)
    first = cache.resolve("localhost", 80)
    second = cache.resolve("localhost", 80)
    assert first == second
    assert cache.lookups == 1


def test_download_by_host_name(tmp_path):
    with ScriptedServer({"routes": {"/n/img.jpg": [_ok(JPEG)]}}) as server:
        url = f"http://localhost:{server.port}/n/img.jpg"
        summary = download_images(tmp_path / "ws", source=_source(tmp_path, [url]), respect_robots=False)
    assert summary.counts == {"ok": 1}


def test_image_deadline_bounds_retries(tmp_path):
    routes = {"/d/busy.jpg": [{"status": 503}]}
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, [server.url("/d/busy.jpg")])
        started = time.monotonic()
        download_images(tmp_path / "ws", source=source, retries=20, backoff_base_s=0.3, deadline_s=1.0, respect_robots=False)
        elapsed = time.monotonic() - started
        requests = len(server.requests_to("/d/busy.jpg"))
    manifest = _manifest(tmp_path / "ws")
    assert manifest.loc["d/busy", "status"] == "failed"
    assert requests < 21
    # Deadline 1 s with the 3x margin for a loaded machine, plus process start-up.
    assert elapsed < 3 * 1.0 + 2.0


def test_decode_pool_matches_inline(tmp_path):
    bodies = [_jpeg((1200, 900), seed=i) for i in range(3)]
    routes = {f"/c/img{i}.jpg": [_ok(body)] for i, body in enumerate(bodies)}
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, [server.url(p) for p in routes])
        download_images(tmp_path / "inline", source=source, respect_robots=False, decode_processes=0)
        download_images(tmp_path / "pool", source=source, respect_robots=False, decode_processes=2)
    columns = ["status", "sha256", "width", "height", "stored_width", "stored_height"]
    inline = _manifest(tmp_path / "inline")[columns]
    pool = _manifest(tmp_path / "pool")[columns]
    assert inline.equals(pool)
    assert list(pool["stored_width"]) == [512, 512, 512]
    for i in range(3):
        assert (tmp_path / "inline" / "images/files/c" / f"img{i}.jpg").read_bytes() == (
            tmp_path / "pool" / "images/files/c" / f"img{i}.jpg"
        ).read_bytes()


def test_dry_run_reports_shards(tmp_path):
    source = _source(tmp_path, [f"http://127.0.0.1:9/r/img{i}.jpg" for i in range(7)])
    summary = download_images(tmp_path / "ws", source=source, shard_size=3, dry_run=True)
    assert summary.shards == 3
    assert summary.counts == {"planned": 7}


@pytest.mark.parametrize("original, expected", [(False, "/o/a.jpg!Large.jpg"), (True, "/o/a.jpg")])
def test_size_suffix_option(tmp_path, original, expected):
    routes = {"/o/a.jpg!Large.jpg": [_ok(JPEG)], "/o/a.jpg": [_ok(JPEG)]}
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, [server.url("/o/a.jpg!Large.jpg")])
        download_images(tmp_path / "ws", source=source, original_size=original, respect_robots=False)
        paths = [entry["path"] for entry in server.log]
    assert paths == [expected]
