"""Worker processes of the local engine: a worker or the engine process killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

_RUN = """
import sys
from demographic2art.images import download_images
download_images(sys.argv[1], source=sys.argv[2], shard_size=2, concurrency=2, respect_robots=False,
                decode_processes=2, retries=0)
"""


def _start(tmp_path, server, paths) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """Start a download of ``paths`` with two worker processes and return it once both workers fetch."""
    source = tmp_path / "source.csv"
    source.write_text("image_url\n" + "".join(server.url(path) + "\n" for path in paths))
    process = subprocess.Popen([sys.executable, "-c", _RUN, str(tmp_path / "ws"), str(source)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    workers = []
    while (len(workers) < 2 or len(server.log) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
        workers = psutil.Process(process.pid).children()
    assert len(workers) == 2
    return process, workers


def test_killed_worker_ends_the_run_with_its_name(tmp_path):
    routes = {f"/w/img{i}.jpg": [ok_route(JPEG, delay_s=0.3)] for i in range(12)}
    with ScriptedServer({"routes": routes}) as server:
        process, workers = _start(tmp_path, server, list(routes))
        os.kill(workers[0].pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "exited with status -9" in stderr
    assert "image worker process d2a-images-" in stderr


def test_killed_engine_process_stops_its_workers(tmp_path):
    routes = {f"/e/img{i}.jpg": [ok_route(JPEG, delay_s=0.3)] for i in range(40)}
    with ScriptedServer({"routes": routes}) as server:
        process, workers = _start(tmp_path, server, list(routes))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=20)
        served = len(server.log)
    assert alive == []
    # The workers finish the items they have and take no new ones, so most URLs are never requested.
    assert served < len(routes)
