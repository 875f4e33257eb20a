"""Download settings given on the command line: stored format and quality, body size, Retry-After cap."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pandas as pd
from PIL import Image
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.cli.main import main
from demographic2art.reporting import JobRecord, write_record
from demographic2art.workspace import Workspace

ROUTES = {"/images/mara-lind/dunes.jpg": [ok_route(JPEG)], "/images/mara-lind/quay.jpg": [ok_route(JPEG)]}


def _download(tmp_path, server, *options: str) -> int:
    source = tmp_path / "source.csv"
    source.write_text("image_url\n" + "".join(server.url(path) + "\n" for path in ROUTES))
    return main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source), "--ignore-robots",
                 "--processes", "0", "--retries", "0", "--no-progress", *options])


def _manifest(tmp_path) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "ws" / "images" / "manifest.parquet").set_index("key")


def test_format_and_quality_options(tmp_path):
    with ScriptedServer({"routes": ROUTES}) as server:
        assert _download(tmp_path, server, "--format", "png") == 0
    manifest = _manifest(tmp_path)
    stored = tmp_path / "ws" / manifest.loc["mara-lind/dunes", "file"]
    assert stored.suffix == ".png"
    with Image.open(stored) as picture:
        assert picture.format == "PNG"


def test_changed_format_on_resume_names_the_option(tmp_path, capsys):
    with ScriptedServer({"routes": ROUTES}) as server:
        assert _download(tmp_path, server, "--quality", "80") == 0
        assert _download(tmp_path, server, "--quality", "70") == 2
    assert "pass --quality 80 to resume" in capsys.readouterr().err


def test_max_bytes_option_rejects_larger_bodies(tmp_path):
    with ScriptedServer({"routes": ROUTES}) as server:
        _download(tmp_path, server, "--max-bytes", "100")
    manifest = _manifest(tmp_path)
    assert set(manifest["reason"]) == {"too_large"}


def test_retry_after_cap_option_requeues_long_waits(tmp_path):
    routes = {"/images/mara-lind/dunes.jpg": [{"status": 429, "headers": {"Retry-After": "30"}}, ok_route(JPEG)]}
    with ScriptedServer({"routes": routes}) as server:
        source = tmp_path / "source.csv"
        source.write_text("image_url\n" + server.url("/images/mara-lind/dunes.jpg") + "\n")
        status = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source), "--ignore-robots",
                       "--processes", "0", "--retries", "1", "--retry-after-cap", "0.5", "--no-progress"])
    manifest = _manifest(tmp_path)
    # A 30 s wait is beyond the 0.5 s cap, and nothing else runs, so the URL ends the run as rate_limited.
    assert status == 0
    assert manifest.loc["mara-lind/dunes", "status"] == "rate_limited"


def test_status_shows_a_run_whose_process_is_gone(tmp_path, capsys):
    workspace = Workspace(tmp_path / "ws").create()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = JobRecord(command="images download", run_id="killed", host=socket.gethostname(), pid=int(finished.stdout))
    write_record(workspace, record)
    write_record(workspace, JobRecord(command="train", run_id="alive", host=socket.gethostname(), pid=os.getpid()))
    assert main(["status", "-w", str(tmp_path / "ws")]) == 0
    lines = capsys.readouterr().out.splitlines()
    killed = next(line for line in lines if "images download" in line)
    alive = next(line for line in lines if line.strip().startswith("train"))
    assert "stopped" in killed
    assert f"process {record.pid} is gone" in killed
    assert "running" in alive
    assert "no end recorded" in alive
