"""A scripted HTTP test server on 127.0.0.1 that plays a ``server.json`` route table.

Each route lists responses given in order, the last one repeating. A response has
``status``, ``headers`` (``{port}`` is replaced by the server's port), and a body from
``body_file`` (a file in the script's folder), ``body_text``, ``body_bytes`` or
``body_stream`` (``first_bytes_hex`` then one 0x00 byte every ``interval_s``, default
0.5 s, until the client goes away). ``delay_s`` waits before the status line and
``gzip`` compresses the body. A ``Retry-After`` header starting with ``{HTTP-date``
becomes the first whole second at least 3 s after sending, as an IMF-fixdate.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class ScriptedServer:
    """Runs a route table in a background thread; ``log`` records every request."""

    def __init__(self, script: dict[str, Any], folder: Path | None = None) -> None:
        self.script = script
        self.folder = Path(folder) if folder else None
        self.log: list[dict[str, Any]] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @classmethod
    def from_file(cls, path: Path) -> "ScriptedServer":
        return cls(json.loads(Path(path).read_text()), Path(path).parent)

    def url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.port}{target}"

    def requests_to(self, target: str) -> list[dict[str, Any]]:
        return [entry for entry in self.log if entry["path"] == target]

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next_response(self, target: str) -> dict[str, Any]:
        routes = self.script.get("routes", {})
        with self._lock:
            if target not in routes:
                return self.script.get("any_other_target", {"status": 404})
            index = self._counts.get(target, 0)
            self._counts[target] = index + 1
        responses = routes[target]
        return responses[min(index, len(responses) - 1)]

    def _body(self, response: dict[str, Any]) -> bytes:
        if "body_file" in response:
            return (self.folder / response["body_file"]).read_bytes()
        if "body_text" in response:
            return response["body_text"].encode("utf-8")
        if "body_bytes" in response:
            return bytes.fromhex(response["body_bytes"])
        return b""

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                entry = {"path": self.path, "received": time.time(), "headers": dict(self.headers)}
                with server._lock:
                    server.log.append(entry)
                response = server._next_response(self.path)
                time.sleep(response.get("delay_s", 0))
                body = server._body(response)
                headers = {}
                for name, value in response.get("headers", {}).items():
                    value = value.replace("{port}", str(server.port))
                    if name.lower() == "retry-after" and value.startswith("{HTTP-date"):
                        value = email.utils.formatdate(math.ceil(time.time()) + 3, usegmt=True)
                    headers[name] = value
                if response.get("gzip"):
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                entry["sent"] = time.time()
                entry["response_headers"] = headers
                self.send_response(response.get("status", 200))
                for name, value in headers.items():
                    self.send_header(name, value)
                if "body_stream" in response:
                    self._stream(response["body_stream"], headers)
                    return
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, stream: dict[str, Any], headers: dict[str, str]) -> None:
                self.close_connection = True
                if "Content-Length" not in headers:
                    self.send_header("Connection", "close")
                self.end_headers()
                interval = stream.get("interval_s", 0.5)
                try:
                    self.wfile.write(bytes.fromhex(stream.get("first_bytes_hex", "")))
                    self.wfile.flush()
                    while True:
                        time.sleep(interval)
                        self.wfile.write(b"\x00")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    return

        return Handler
