"""Bytes, rates, periodic progress lines and stopping of the Ray download engine."""

from __future__ import annotations

import logging
import threading
import time

import pandas as pd
import pytest
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.images import download_images
from demographic2art.workspace import Workspace

pytestmark = [pytest.mark.slow, pytest.mark.ray]

ROUTES = {
    **{f"/ray-stats/img{i}.jpg": [ok_route(JPEG)] for i in range(5)},
    "/ray-stats/gone.jpg": [{"status": 404}],
    "/ray-stats/page.jpg": [{"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_text": "<html>no</html>"}],
}


def _source(tmp_path, server, paths) -> str:
    source = tmp_path / "source.csv"
    pd.DataFrame({"image_url": [server.url(p) for p in paths]}).to_csv(source, index=False)
    return str(source)


def test_ray_bytes_match_manifest(tmp_path, ray_cluster, caplog):
    with ScriptedServer({"routes": ROUTES}) as server:
        source = _source(tmp_path, server, ROUTES)
        with caplog.at_level(logging.INFO, logger="demographic2art.reporting"):
            summary = download_images(
                tmp_path / "ws", source=source, shard_size=2, engine="ray", respect_robots=False,
                retries=0, log_interval_s=0.001,
            )
    storage = Workspace(tmp_path / "ws").storage
    manifest = storage.read_parquet("images/manifest.parquet")
    record = storage.read_json(f"images/runs/{summary.run_id}.json")
    expected_bytes = int(manifest["bytes"].fillna(0).sum())
    assert summary.counts == {"ok": 5, "failed": 1, "rejected": 1}
    assert expected_bytes == 5 * len(JPEG) + len("<html>no</html>")
    assert summary.bytes == expected_bytes
    assert record["bytes"] == expected_bytes
    assert summary.images_per_s > 0
    assert record["items_per_s"] > 0
    lines = [r.getMessage() for r in caplog.records if r.name == "demographic2art.reporting"]
    assert lines[-1].startswith("images: 7 of 7 done (")


def test_ray_preset_stop_submits_nothing(tmp_path, ray_cluster):
    stop = threading.Event()
    stop.set()
    with ScriptedServer({"routes": ROUTES}) as server:
        source = _source(tmp_path, server, ROUTES)
        summary = download_images(
            tmp_path / "ws", source=source, shard_size=2, engine="ray", respect_robots=False,
            retries=0, stop=stop, handle_signals=False,
        )
        requests = len(server.log)
    assert summary.interrupted
    assert summary.exit_code == 130
    assert summary.finished == 0
    assert summary.total == len(ROUTES)
    assert requests == 0


def test_ray_stop_ends_scheduling(tmp_path, ray_cluster):
    paths = [f"/ray-stop/painting-{n:02d}.jpg" for n in range(16)]
    routes = {path: [ok_route(JPEG, delay_s=0.5)] for path in paths}
    stop = threading.Event()
    with ScriptedServer({"routes": routes}) as server:
        source = _source(tmp_path, server, paths)

        def stop_after_first_requests() -> None:
            deadline = time.monotonic() + 120
            while len(server.log) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            stop.set()

        watcher = threading.Thread(target=stop_after_first_requests, daemon=True)
        watcher.start()
        summary = download_images(
            tmp_path / "ws", source=source, shard_size=1, concurrency=1, engine="ray",
            respect_robots=False, retries=0, stop=stop, handle_signals=False,
        )
        watcher.join(timeout=5)
        requests = len(server.log)
    manifest = Workspace(tmp_path / "ws").storage.read_parquet("images/manifest.parquet")
    assert summary.interrupted
    assert summary.total == len(paths)
    # Two CPUs keep at most four one-image shards in flight, so most paths are never requested.
    assert requests < len(paths)
    assert summary.count("ok") == len(manifest)
    assert summary.bytes == int(manifest["bytes"].sum())
