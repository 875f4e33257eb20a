"""Bad input to `d2a images download`: non-UTF-8 sources, deleted images, garbage notify URLs."""

from __future__ import annotations

import json
import logging
import tarfile

import pandas as pd
import pytest
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.cli.main import main
from demographic2art.errors import InvalidValueError
from demographic2art.images import download_images
from demographic2art.images.imagefolder import METADATA_PATH
from demographic2art.images.webdataset import write_webdataset
from demographic2art.reporting import JobRecord, ProgressTracker, latest_records, write_record
from demographic2art.workspace import Workspace

ROUTES = {"/images/tove-arnsk/harbour.jpg": [ok_route(JPEG)], "/images/tove-arnsk/pier.jpg": [ok_route(JPEG)]}


def _download(tmp_path, **options):
    with ScriptedServer({"routes": ROUTES}) as server:
        source = tmp_path / "source.csv"
        pd.DataFrame({"image_url": [server.url(path) for path in ROUTES]}).to_csv(source, index=False)
        return download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False,
                               decode_processes=0, **options)


def test_source_url_not_utf8_exit_2(tmp_path, capsys):
    source = tmp_path / "source.csv"
    source.write_bytes("image_url,title\nhttp://127.0.0.1:9/Sj\xf6.jpg,Harbour\n".encode("latin-1"))
    code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source)])
    err = capsys.readouterr().err
    assert code == 2
    assert "is not UTF-8 text" in err
    assert "Traceback" not in err


def test_source_title_not_utf8_keeps_images(tmp_path):
    with ScriptedServer({"routes": ROUTES}) as server:
        source = tmp_path / "source.csv"
        lines = ["image_url,title"] + [f"{server.url(path)},Sj\xf6" for path in ROUTES]
        source.write_bytes("\n".join(lines).encode("latin-1"))
        summary = download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False, decode_processes=0)
    records = [json.loads(line) for line in (tmp_path / "ws" / METADATA_PATH).read_text().splitlines()]
    assert summary.counts == {"ok": 2}
    assert [record["key"] for record in records] == ["tove-arnsk/harbour", "tove-arnsk/pier"]
    assert "title" not in records[0]


def test_webdataset_skips_deleted_images(tmp_path):
    _download(tmp_path)
    root = tmp_path / "ws/images/files"
    (root / "tove-arnsk/harbour.jpg").unlink()
    written = write_webdataset(Workspace(tmp_path / "ws"), shard_size=10)
    with tarfile.open(tmp_path / "ws" / written[0]) as archive:
        names = archive.getnames()
    assert names == ["tove-arnsk/pier.jpg", "tove-arnsk/pier.json"]


def test_metadata_skips_deleted_images(tmp_path):
    _download(tmp_path)
    (tmp_path / "ws/images/files/tove-arnsk/pier.jpg").unlink()
    # The rerun cannot reach the server (it is closed), so the deleted image stays missing.
    source = tmp_path / "source.csv"
    summary = download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False, decode_processes=0,
                              webdataset=True, timeout_s=2, deadline_s=3)
    records = [json.loads(line) for line in (tmp_path / "ws" / METADATA_PATH).read_text().splitlines()]
    assert [record["key"] for record in records] == ["tove-arnsk/harbour"]
    assert summary.metadata_lines == 1


def test_notify_garbage_one_line(tmp_path, capsys):
    source = tmp_path / "source.csv"
    source.write_text("image_url\n", encoding="utf-8")
    code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source), "--notify", "garbage"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert "notification URL 'garbage'" in captured.err


def test_notify_closed_port_keeps_result(tmp_path, capsys):
    source = tmp_path / "source.csv"
    source.write_text("image_url\n", encoding="utf-8")
    # Port 9 (discard) on 127.0.0.1 has no listener here, so the notification fails to send.
    code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source),
                 "--notify", "json://127.0.0.1:9/hook"])
    assert code == 0
    records = list((tmp_path / "ws/images/runs").glob("*.json"))
    assert json.loads(records[0].read_text())["state"] == "finished"


def test_latest_record_same_second(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    # Run ids share the start second, and their random suffixes sort against the start order.
    first = JobRecord("images download", "20260101T000000-ffffff", started="2026-01-01T00:00:00+00:00", started_ns=1)
    second = JobRecord("images download", "20260101T000000-000000", started="2026-01-01T00:00:00+00:00", started_ns=2)
    write_record(workspace, first)
    write_record(workspace, second)
    assert latest_records(workspace)["images download"].run_id == "20260101T000000-000000"


def test_final_summary_logged_on_close(caplog):
    tracker = ProgressTracker("images", total=2, log_interval_s=3600)
    with caplog.at_level(logging.INFO, logger="demographic2art.reporting"):
        tracker.add("ok", None, 10)
        tracker.add("failed", "http_404", None)
        tracker.close()
    lines = [record.getMessage() for record in caplog.records if record.name == "demographic2art.reporting"]
    assert lines == ["images: 2 of 2 done (failed 1, ok 1), " + lines[-1].rsplit(", ", 1)[1]]


def test_status_skips_malformed_records(tmp_path, capsys):
    _download(tmp_path)
    runs = tmp_path / "ws/images/runs"
    (runs / "zz-list.json").write_text("[1, 2]", encoding="utf-8")
    (runs / "zz-binary.json").write_bytes(b"\xff\xfe\x00")
    (runs / "zz-types.json").write_text(json.dumps({"command": 5, "run_id": None, "started": None}), encoding="utf-8")
    (runs / "zz-missing.json").write_text(json.dumps({"state": "finished"}), encoding="utf-8")
    code = main(["status", "-w", str(tmp_path / "ws")])
    out = capsys.readouterr().out
    assert code == 0
    assert "images download        finished" in out


def test_resume_other_max_side_rejected(tmp_path, capsys):
    _download(tmp_path, max_side=64)
    code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(tmp_path / "source.csv"),
                 "--max-side", "32"])
    err = capsys.readouterr().err
    assert code == 2
    assert "were made with --max-side 64, not 32" in err


def test_resume_other_resize_rejected(tmp_path):
    _download(tmp_path, max_side=64)
    with pytest.raises(InvalidValueError, match="--resize 'keep', not 'center-crop'"):
        download_images(tmp_path / "ws", source=tmp_path / "source.csv", max_side=64, resize_mode="center_crop")


def test_resume_same_settings_allowed(tmp_path):
    _download(tmp_path, max_side=64)
    summary = download_images(tmp_path / "ws", source=tmp_path / "source.csv", max_side=64, decode_processes=0)
    assert summary.counts == {"skipped": 2}
