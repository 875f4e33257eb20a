"""Progress lines, final statistics JSON and run records of image downloads."""

from __future__ import annotations

import io
import logging

import pandas as pd
from PIL import Image
from server import ScriptedServer

from demographic2art.cli.main import main
from demographic2art.images import download_images
from demographic2art.reporting import ProgressTracker, latest_records
from demographic2art.status import workspace_status
from demographic2art.workspace import Workspace


def _jpeg(size=(320, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 60, 30)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


JPEG = _jpeg()


def ok_route(body: bytes, **extra) -> dict:
    return {"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_bytes": body.hex(), **extra}


ROUTES = {
    "/s/one.jpg": [ok_route(JPEG)],
    "/s/two.jpg": [ok_route(JPEG)],
    "/s/three.jpg": [ok_route(JPEG)],
    "/s/gone.jpg": [{"status": 404}],
    "/s/page.jpg": [{"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_text": "<html>no</html>"}],
}


def _run(tmp_path, **options):
    with ScriptedServer({"routes": ROUTES}) as server:
        source = tmp_path / "source.csv"
        pd.DataFrame({"image_url": [server.url(p) for p in ROUTES]}).to_csv(source, index=False)
        return download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False,
                               decode_processes=0, **options)


def test_stats_json_values(tmp_path):
    summary = _run(tmp_path)
    storage = Workspace(tmp_path / "ws").storage
    stats = storage.read_json(f"images/runs/{summary.run_id}.json")
    assert stats["command"] == "images download"
    assert stats["state"] == "finished"
    assert stats["counts"] == {"ok": 3, "failed": 1, "rejected": 1}
    assert stats["reasons"] == {"http_404": 1, "html": 1}
    assert stats["total"] == 5
    assert stats["bytes"] == 3 * len(JPEG) + len("<html>no</html>")
    assert stats["items_per_s"] > 0
    assert stats["wall_s"] > 0
    assert stats["finished"] is not None


def test_periodic_summary_logged(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="demographic2art.reporting"):
        _run(tmp_path, log_interval_s=0.001)
    lines = [r.getMessage() for r in caplog.records if r.name == "demographic2art.reporting"]
    assert len(lines) >= 2
    assert lines[-1].startswith("images: 5 of 5 done (")
    assert "ok 3" in lines[-1]


def test_tracker_summary_line():
    tracker = ProgressTracker("images", total=4, log_interval_s=3600)
    tracker.add("ok", None, 100)
    tracker.add("failed", "http_404", None)
    assert tracker.bytes == 100
    assert tracker.failures == 1
    assert tracker.summary_line().startswith("images: 2 of 4 done (failed 1, ok 1), ")


def test_status_shows_last_run(tmp_path, capsys):
    _run(tmp_path)
    second = _run(tmp_path)
    latest = latest_records(Workspace(tmp_path / "ws"))
    report = workspace_status(Workspace(tmp_path / "ws"))
    code = main(["status", "-w", str(tmp_path / "ws")])
    out = capsys.readouterr().out
    assert latest["images download"].run_id == second.run_id
    assert [job.command for job in report.jobs] == ["images download"]
    assert code == 0
    assert "images download" in out
    assert "finished" in out


def test_cli_prints_stats_table(tmp_path, capsys):
    with ScriptedServer({"routes": ROUTES}) as server:
        source = tmp_path / "source.csv"
        pd.DataFrame({"image_url": [server.url(p) for p in ROUTES]}).to_csv(source, index=False)
        code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source),
                     "--ignore-robots", "--retries", "0", "--processes", "0", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "download statistics" in out
    assert "http_404" in out
    assert "images/s" in out
    assert "images/runs/" in out
