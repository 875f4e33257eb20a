"""Notifications of long jobs through apprise, received by a webhook on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.cli.main import main
from demographic2art.notify import check_notify_urls, send_notification
from demographic2art.reporting import job_report
from demographic2art.workspace import Workspace

pytest.importorskip("apprise", reason="apprise is needed to send notifications")


class WebhookReceiver:
    """Stores the JSON body of every POST; runs in a background thread."""

    def __init__(self, status: int = 200) -> None:
        self.messages: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.messages.append({"path": self.path, **json.loads(body or b"{}")})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def test_images_download_notifies_finished(tmp_path, capsys):
    routes = {"/n/a.jpg": [ok_route(JPEG)], "/n/b.jpg": [ok_route(JPEG)], "/n/gone.jpg": [{"status": 404}]}
    with ScriptedServer({"routes": routes}) as server, WebhookReceiver() as hook:
        source = tmp_path / "source.csv"
        pd.DataFrame({"image_url": [server.url(p) for p in routes]}).to_csv(source, index=False)
        code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source),
                     "--ignore-robots", "--retries", "0", "--processes", "0", "--notify", hook.url()])
    assert code == 0
    assert len(hook.messages) == 1
    message = hook.messages[0]
    assert message["path"] == "/hook"
    assert message["title"] == "d2a images download finished"
    assert "command: d2a images download" in message["message"]
    assert "status: finished" in message["message"]
    assert "counts: failed 1, ok 2" in message["message"]
    assert "reasons: http_404 1" in message["message"]


def test_images_download_failure_notifies_failed(tmp_path, capsys):
    with WebhookReceiver() as hook:
        code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", str(tmp_path / "absent.csv"),
                     "--notify", hook.url()])
    error = capsys.readouterr().err
    assert code == 2
    assert "absent.csv does not exist" in error
    assert len(hook.messages) == 1
    assert hook.messages[0]["title"] == "d2a images download failed"
    assert "status: failed" in hook.messages[0]["message"]
    assert "absent.csv does not exist" in hook.messages[0]["message"]


def test_notification_failure_keeps_job_result(tmp_path, caplog):
    with WebhookReceiver(status=500) as hook, caplog.at_level(logging.WARNING, logger="demographic2art.notify"):
        with job_report(Workspace(tmp_path / "ws"), "demographics extract", [hook.url()]) as record:
            record.counts = {"extracted": 3}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.state == "finished"
    assert len(warnings) == 1
    assert "not accepted" in warnings[0].getMessage()


def test_unreachable_notify_url_logs_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="demographic2art.notify"):
        # Port 9 on 127.0.0.1 (discard) has no listener here, so the POST is refused.
        sent = send_notification(["json://127.0.0.1:9/hook"], "title", "body")
    assert sent is False
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_invalid_notify_url_rejected():
    from demographic2art.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match="not understood by apprise"):
        check_notify_urls(["nosuchscheme://x"])


def test_bios_fetch_notifies_failed(tmp_path, capsys):
    with WebhookReceiver() as hook:
        code = main(["bios", "fetch", "-w", str(tmp_path / "ws"), "--notify", hook.url()])
    assert code == 2
    assert len(hook.messages) == 1
    assert hook.messages[0]["title"] == "d2a bios fetch failed"


@pytest.mark.parametrize(
    "argv",
    [
        ["bios", "fetch"],
        ["demographics", "extract"],
        ["train"],
        ["sweep"],
        ["analyze"],
        ["compare"],
        ["images", "download"],
    ],
)
def test_long_commands_accept_notify(argv, capsys):
    code = main([*argv, "--help"])
    assert code == 0
    assert "--notify" in capsys.readouterr().out
