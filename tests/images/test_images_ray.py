"""The Ray engine on a real local Ray cluster gives the local engine's results."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from server import ScriptedServer

from demographic2art.images import download_images
from demographic2art.workspace import Workspace

pytestmark = [pytest.mark.slow, pytest.mark.ray]


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (500, 700, 3), dtype=np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _routes() -> dict:
    routes = {
        f"/ray/img{i}.jpg": [{"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_bytes": _jpeg(i).hex()}]
        for i in range(6)
    }
    routes["/ray/gone.jpg"] = [{"status": 404}]
    routes["/ray/page.jpg"] = [{"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_text": "<html>no</html>"}]
    return routes


def test_ray_engine_matches_local(tmp_path, ray_cluster):
    routes = _routes()
    with ScriptedServer({"routes": routes}) as server:
        source = tmp_path / "source.csv"
        pd.DataFrame({"image_url": [server.url(p) for p in routes]}).to_csv(source, index=False)
        local = download_images(tmp_path / "local", source=source, shard_size=3, respect_robots=False, retries=0)
        distributed = download_images(
            tmp_path / "ray", source=source, shard_size=3, engine="ray", respect_robots=False, retries=0
        )
    columns = ["status", "reason", "sha256", "width", "height", "stored_width", "stored_height", "file"]
    local_rows = Workspace(tmp_path / "local").storage.read_parquet("images/manifest.parquet").set_index("key")[columns]
    ray_rows = Workspace(tmp_path / "ray").storage.read_parquet("images/manifest.parquet").set_index("key")[columns]
    assert distributed.counts == local.counts
    assert local.counts == {"ok": 6, "failed": 1, "rejected": 1}
    assert ray_rows.equals(local_rows)
    for file in local_rows["file"].dropna():
        assert (tmp_path / "ray" / file).read_bytes() == (tmp_path / "local" / file).read_bytes()
    assert list((tmp_path / "ray" / "images" / "parts").glob("*.parquet")) == []


def _task_workers():
    import psutil

    return [p for p in psutil.process_iter(["cmdline"]) if "ray::run_shard" in " ".join(p.info["cmdline"] or [])]


def test_ray_worker_killed_mid_shard(tmp_path, ray_cluster):
    import signal
    import threading
    import time

    routes = {
        f"/kill/img{i}.jpg": [{"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_bytes": _jpeg(i).hex(), "delay_s": 0.5}]
        for i in range(6)
    }
    with ScriptedServer({"routes": routes}) as server:
        source = tmp_path / "source.csv"
        pd.DataFrame({"image_url": [server.url(p) for p in routes]}).to_csv(source, index=False)
        outcome = {}

        def run() -> None:
            outcome["summary"] = download_images(
                tmp_path / "ws", source=source, shard_size=3, concurrency=1, engine="ray", respect_robots=False
            )

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 60
        while len(server.log) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _task_workers()
        for worker in workers[:1]:
            worker.send_signal(signal.SIGKILL)
        thread.join(timeout=120)
    manifest = Workspace(tmp_path / "ws").storage.read_parquet("images/manifest.parquet")
    assert len(workers) >= 1
    assert outcome["summary"].counts == {"ok": 6}
    assert len(manifest) == 6
    assert set(manifest["status"]) == {"ok"}
