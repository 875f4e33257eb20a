"""Worker processes of the local engine: a worker or the engine process killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.images.ledger import load_ledger
from demographic2art.reporting import latest_records
from demographic2art.workspace import Workspace

_RUN = """
import sys
from demographic2art.cli.main import main
sys.exit(main(["images", "download", "-w", sys.argv[1], "--source", sys.argv[2], "--concurrency", "2",
               "--ignore-robots", "--processes", sys.argv[3], "--retries", "0", "--no-progress"]))
"""


def _run(tmp_path, source, processes: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _RUN, str(tmp_path / "ws"), str(source), str(processes)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _start(tmp_path, server, paths) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """Start a download of ``paths`` with two worker processes and return it once both workers fetch."""
    source = tmp_path / "source.csv"
    source.write_text("image_url\n" + "".join(server.url(path) + "\n" for path in paths))
    process = _run(tmp_path, source, 2)
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
    ledger = load_ledger(Workspace(tmp_path / "ws").storage)
    stored = [p for p in (tmp_path / "ws" / "images" / "files").rglob("*.jpg")]
    assert process.returncode == 1
    assert "Traceback" not in stderr
    assert "error: image worker process d2a-images-" in stderr
    assert "exited with status -9" in stderr
    # Every image stored before the worker died has its row, so a rerun does not fetch it again.
    assert stored
    assert all(ledger[f"w/{p.stem}"][0] == "ok" for p in stored)


def test_killed_engine_process_stops_its_workers(tmp_path):
    routes = {f"/e/img{i}.jpg": [ok_route(JPEG, delay_s=0.3)] for i in range(40)}
    with ScriptedServer({"routes": routes}) as server:
        process, workers = _start(tmp_path, server, list(routes))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=20)
        served = len(server.log)
    assert alive == []
    assert "Traceback" not in process.stderr.read()
    # The workers finish the items they have and take no new ones, so most URLs are never requested.
    assert served < len(routes)


@pytest.mark.parametrize("processes", [0, 2])
def test_late_bad_row_keeps_stored_rows(tmp_path, processes):
    routes = {f"/f/img{i}.jpg": [ok_route(JPEG, delay_s=0.3)] for i in range(4)}
    with ScriptedServer({"routes": routes}) as server:
        source = tmp_path / "source.csv"
        # The bad row lies beyond pyarrow's first block of 1 MB, so it is read while images download.
        filler = "".join(f"::not-a-url-{i}\n" for i in range(80_000))
        source.write_text("image_url\n" + "".join(server.url(p) + "\n" for p in routes) + filler + "a,b,c\n")
        process = _run(tmp_path, source, processes)
        _, stderr = process.communicate(timeout=120)
        requests = len(server.log)
    workspace = Workspace(tmp_path / "ws")
    ledger = load_ledger(workspace.storage)
    record = latest_records(workspace)["images download"]
    assert process.returncode == 2
    assert "could not be parsed as CSV" in stderr
    assert requests == 4
    assert [ledger[f"f/img{i}"][0] for i in range(4)] == ["ok"] * 4
    # The failed run's record counts what it finished, and its rows are merged into the manifest.
    assert record.state == "failed"
    assert record.counts["ok"] == 4
    assert (tmp_path / "ws" / "images" / "manifest.parquet").is_file()
