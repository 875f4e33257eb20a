"""A local HTTP server that serves chosen files at chosen URL paths.

The demo rewrites each catalog ``image_url`` to ``http://127.0.0.1:<port>`` plus the
URL's path (see :func:`wikiart_path`), so the real downloader fetches stand-in paintings
over real HTTP without leaving the machine.
"""

from __future__ import annotations

import http.server
import logging
import mimetypes
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import InvalidValueError, MissingFileError

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


def wikiart_path(image_url: str) -> str:
    """Return the percent-decoded path of an image URL.

    ``https://uploads3.wikiart.org/images/a-b/c.jpg!Large.jpg`` gives
    ``/images/a-b/c.jpg!Large.jpg``. Query and fragment are dropped.
    """
    parts = urlsplit(image_url)
    if not parts.path:
        raise InvalidValueError(f"image URL {image_url!r} has no path; pass a full http(s) URL")
    return unquote(parts.path)


def _content_type(url_path: str, source: Path | bytes) -> str:
    """Guess the media type from the file name, ignoring WikiArt's ``!Large.jpg`` suffix."""
    names = [source.name] if isinstance(source, Path) else []
    names += [url_path, url_path.split("!", 1)[0]]
    for name in names:
        guessed, _ = mimetypes.guess_type(name)
        if guessed:
            return guessed
    return "application/octet-stream"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _RouteServer

    def do_GET(self) -> None:  # noqa: N802 (name fixed by http.server)
        self._respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802 (name fixed by http.server)
        self._respond(with_body=False)

    def _respond(self, with_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        source = self.server.routes.get(path)
        if source is None:
            self.send_error(404, "Not Found")
            return
        try:
            body = source if isinstance(source, bytes) else source.read_bytes()
        except OSError as exc:
            logger.error("image server could not read %s for %s: %s", source, path, exc)
            self.send_error(500, "Internal Server Error")
            return
        self.send_response(200)
        self.send_header("Content-Type", _content_type(path, source))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    # The parameter name ``format`` is fixed by http.server.
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)


class _RouteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict[str, Path | bytes]) -> None:
        self.routes = routes
        super().__init__((HOST, 0), _Handler)


class ImageServer:
    """Serve ``routes`` (URL path -> file or bytes) on 127.0.0.1 at an ephemeral port.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. Requests match
    after percent-decoding, so ``/images/a/b%21Large.jpg`` finds the route
    ``/images/a/b!Large.jpg``. Unknown paths get 404. Files are read on each request.
    """

    def __init__(self, routes: dict[str, Path | bytes]) -> None:
        self.routes: dict[str, Path | bytes] = {}
        for url_path, source in routes.items():
            key = unquote(url_path)
            if not key.startswith("/"):
                raise InvalidValueError(f"route {url_path!r} must start with '/'")
            if not isinstance(source, bytes):
                source = Path(source)
                if not source.is_file():
                    raise MissingFileError(f"file {source} for route {url_path!r} not found")
            self.routes[key] = source
        self._server: _RouteServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise InvalidValueError(
                "image server is not running; call start() or use it in a with block"
            )
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The server's root URL, ``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    def url_for(self, path: str) -> str:
        """Return the full URL of a route path, or of the path of a full image URL."""
        if "://" in path:
            path = wikiart_path(path)
        return self.base_url + path

    def start(self) -> ImageServer:
        """Bind the port, serve in a daemon thread and return self."""
        if self._server is not None:
            return self
        self._server = _RouteServer(self.routes)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="d2a-image-server", daemon=True
        )
        self._thread.start()
        logger.info("image server started at %s with %d routes", self.base_url, len(self.routes))
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Calling it again does nothing."""
        if self._server is None:
            return
        url = self.base_url
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        logger.info("image server at %s stopped", url)

    def __enter__(self) -> ImageServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
