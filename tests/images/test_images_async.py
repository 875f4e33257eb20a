"""The async fetcher, the shared TLS context and the engine's worker-process hooks.

Servers are real HTTP servers on 127.0.0.1 (``server.ScriptedServer``); nothing is mocked.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from demographic2art.images.client import AiohttpTransport, ssl_context
from demographic2art.images.httpx_transport import HttpxTransport, build_async_client
from demographic2art.images.decode import EncodeOptions
from demographic2art.images.engine import EngineSettings, run_items
from demographic2art.images.workers import _share
from demographic2art.images.fetch import AsyncFetcher, FetchConfig
from demographic2art.images.plan import PlannedImage
from demographic2art.workspace import Workspace
from server import ScriptedServer

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _jpeg_hex() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 30, 200)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue().hex()


def _settings(**fetch) -> EngineSettings:
    return EngineSettings(
        fetch=FetchConfig(respect_robots=False, retries=0, **fetch),
        encode=EncodeOptions(max_pixels=10**8, max_side=32, resize_mode="keep", enlarge=False,
                             image_format="jpeg", quality=90),
        concurrency=4,
        decode_processes=0,
    )


def _fetch_all(urls: list[str], config: FetchConfig):
    async def main():
        async with build_async_client(user_agent="d2a-test", concurrency=8) as client:
            fetcher = AsyncFetcher(client, config)
            return await asyncio.gather(*(fetcher.fetch(url) for url in urls))

    return asyncio.run(main())


def test_trickling_body_ends_at_deadline():
    routes = {"/slow.jpg": [{"status": 200, "headers": {"Content-Type": "image/jpeg"},
                             "body_stream": {"first_bytes_hex": "ffd8ff", "interval_s": 0.2}}]}
    with ScriptedServer({"routes": routes}) as server:
        started = time.monotonic()
        (result,) = _fetch_all([server.url("/slow.jpg")], FetchConfig(timeout_s=1.0, read_timeout_s=10.0, retries=0,
                                                                      respect_robots=False))
        elapsed = time.monotonic() - started
    assert (result.status, result.reason) == ("failed", "timeout")
    # The deadline is 1 s; a loaded 2-core machine gets a 3x margin.
    assert elapsed < 3.0
    assert elapsed >= 0.9


def test_per_host_limit_caps_open_requests():
    routes = {f"/p/{n}.jpg": [{"status": 200, "body_bytes": _jpeg_hex(), "delay_s": 0.3}] for n in range(6)}
    with ScriptedServer({"routes": routes}) as server:
        results = _fetch_all([server.url(f"/p/{n}.jpg") for n in range(6)],
                             FetchConfig(per_host=2, retries=0, respect_robots=False))
        spans = [(entry["received"], entry["sent"]) for entry in server.log]
    overlap = max(sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans)
    assert [r.status for r in results] == ["ok"] * 6
    assert overlap <= 2


def test_ssl_context_built_once_per_ca_file():
    if not SYSTEM_BUNDLE.is_file():
        pytest.skip(f"{SYSTEM_BUNDLE} is not on this machine")
    first = ssl_context(SYSTEM_BUNDLE)
    assert ssl_context(str(SYSTEM_BUNDLE)) is first
    assert first.cert_store_stats()["x509_ca"] > 100


def test_worker_share_splits_limits():
    settings = _settings(per_host=8, rate_limit_per_host=4.0)
    settings.concurrency = 32
    share = _share(settings, 2)
    assert share.concurrency == 16
    assert share.fetch.per_host == 4
    assert share.fetch.rate_limit_per_host == 2.0


def _items(server: ScriptedServer, count: int) -> list[tuple[int, PlannedImage]]:
    return [
        (0, PlannedImage(key=f"ada-lin/work-{n}", url=None, image_url=server.url(f"/i/{n}.jpg"),
                         request_url=server.url(f"/i/{n}.jpg"), file=f"images/ada-lin/work-{n}.jpg"))
        for n in range(count)
    ]


def test_progress_callback_gets_each_row(tmp_path):
    routes = {f"/i/{n}.jpg": [{"status": 200, "body_bytes": _jpeg_hex()}] for n in range(3)}
    seen: list[str] = []
    with ScriptedServer({"routes": routes}) as server:
        stats = run_items(Workspace(tmp_path / "ws"), _items(server, 3), _settings(),
                          progress=lambda row: seen.append(row["status"]))
    assert seen == ["ok", "ok", "ok"]
    assert stats.counts["ok"] == 3


def test_stop_flag_starts_no_item(tmp_path):
    stop = threading.Event()
    stop.set()
    with ScriptedServer({"routes": {}}) as server:
        stats = run_items(Workspace(tmp_path / "ws"), _items(server, 3), _settings(), stop=stop)
        requests = len(server.log)
    assert sum(stats.counts.values()) == 0
    assert requests == 0


def test_two_processes_store_every_image(tmp_path):
    routes = {f"/i/{n}.jpg": [{"status": 200, "body_bytes": _jpeg_hex()}] for n in range(8)}
    settings = _settings(per_host=4)
    settings.decode_processes = 2
    with ScriptedServer({"routes": routes}) as server:
        stats = run_items(Workspace(tmp_path / "ws"), _items(server, 8), settings)
    stored = sorted(p.name for p in (tmp_path / "ws" / "images" / "ada-lin").iterdir())
    assert stats.counts["ok"] == 8
    assert stored == sorted(f"work-{n}.jpg" for n in range(8))


def _transports():
    return {
        "httpx": lambda: HttpxTransport(build_async_client(user_agent="d2a-test", concurrency=4)),
        "aiohttp": lambda: AiohttpTransport(user_agent="d2a-test", concurrency=4),
    }


@pytest.mark.parametrize("name", ["httpx", "aiohttp"])
def test_transports_give_same_results(name):
    body = _jpeg_hex()
    routes = {
        "/r/start.jpg": [{"status": 302, "headers": {"Location": "/r/end.jpg"}}],
        "/r/end.jpg": [{"status": 200, "body_bytes": body, "gzip": True}],
        "/r/gone.jpg": [{"status": 404}],
        "/r/loop.jpg": [{"status": 301, "headers": {"Location": "/r/loop.jpg"}}],
    }
    config = FetchConfig(retries=0, respect_robots=False, max_redirects=3)

    async def main(urls):
        transport = _transports()[name]()
        try:
            fetcher = AsyncFetcher(transport, config)
            return [await fetcher.fetch(url) for url in urls]
        finally:
            await transport.aclose()

    with ScriptedServer({"routes": routes}) as server:
        moved, gone, looping = asyncio.run(main([server.url(p) for p in ("/r/start.jpg", "/r/gone.jpg", "/r/loop.jpg")]))
        end_url = server.url("/r/end.jpg")
    assert (moved.status, moved.final_url) == ("ok", end_url)
    assert moved.body == bytes.fromhex(body)
    assert (gone.status, gone.reason) == ("failed", "http_404")
    assert (looping.status, looping.reason) == ("failed", "too_many_redirects")


@pytest.mark.parametrize("name", ["httpx", "aiohttp"])
def test_transports_report_refused_connection(name):
    with ScriptedServer({"routes": {}}) as server:
        closed_url = server.url("/c/any.jpg")
    config = FetchConfig(retries=0, respect_robots=False, timeout_s=5.0)

    async def main():
        transport = _transports()[name]()
        try:
            return await AsyncFetcher(transport, config).fetch(closed_url)
        finally:
            await transport.aclose()

    result = asyncio.run(main())
    assert (result.status, result.reason, result.transient) == ("failed", "connection_error", True)
