"""SIGINT during `d2a images download`: clean stop, exit 130, and a rerun that fetches only the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.images.ledger import load_ledger
from demographic2art.workspace import Workspace

PATHS = [f"/slow/painting-{n:02d}.jpg" for n in range(24)]
ROUTES = {path: [ok_route(JPEG, delay_s=0.25)] for path in PATHS}


def _start_download(tmp_path, server):
    """Start `d2a images download` of PATHS in its own process group; return once 6 requests arrived."""
    source = tmp_path / "source.csv"
    pd.DataFrame({"image_url": [server.url(p) for p in PATHS]}).to_csv(source, index=False)
    argv = [sys.executable, "-m", "demographic2art", "images", "download", "-w", str(tmp_path / "ws"),
            "--source", str(source), "--ignore-robots", "--concurrency", "2", "--processes", "2", "--no-progress"]
    # A new session, so the signal goes to the whole process group as a terminal's Ctrl-C does.
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(server.log) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    return argv, process


def test_sigint_stops_and_rerun_resumes(tmp_path):
    with ScriptedServer({"routes": ROUTES}) as server:
        argv, process = _start_download(tmp_path, server)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        first_paths = {entry["path"] for entry in server.log}
        manifest = Workspace(tmp_path / "ws").storage.read_parquet("images/manifest.parquet")
        done = set(manifest.loc[manifest["status"] == "ok", "key"])
        before = len(server.log)
        rerun = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        second_paths = [entry["path"] for entry in server.log[before:]]
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "rerun the same command to resume" in stderr
    assert len(done) >= 6
    assert len(done) < len(PATHS)
    assert rerun.returncode == 0
    assert len(first_paths) < len(PATHS)
    assert sorted(second_paths) == sorted(p for p in PATHS if f"slow/{p.rsplit('/', 1)[1][:-4]}" not in done)


def test_second_signal_keeps_finished_rows(tmp_path):
    """A second SIGTERM aborts at once, yet the rows of finished images are written.

    Items still in flight at the abort may have a file without a row; the rerun fetches
    those again and writes the same file.
    """
    with ScriptedServer({"routes": ROUTES}) as server:
        argv, process = _start_download(tmp_path, server)
        os.killpg(process.pid, signal.SIGTERM)
        time.sleep(0.1)
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        storage = Workspace(tmp_path / "ws").storage
        stored = {path.removeprefix("images/files/").removesuffix(".jpg") for path in storage.glob("images/files/**/*.jpg")}
        # The aborted run merged its parts into the manifest; load_ledger reads both.
        ledger = load_ledger(storage)
        before = len(server.log)
        rerun = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        refetched = {entry["path"] for entry in server.log[before:]}
        manifest = storage.read_parquet("images/manifest.parquet")
    finished = {key for key, (status, _reason, _file) in ledger.items() if status == "ok"}
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert finished
    assert finished <= stored
    assert rerun.returncode == 0
    assert not {f"/{key}.jpg" for key in finished} & refetched
    assert sorted(manifest["status"]) == ["ok"] * len(PATHS)
