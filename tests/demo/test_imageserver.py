"""The demo's image server, tested over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from demographic2art.demo.imageserver import ImageServer, wikiart_path
from demographic2art.errors import InvalidValueError, MissingFileError

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


def request(server: ImageServer, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    """Send one request with http.client, which never goes through a proxy."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture()
def painting(tmp_path: Path) -> Path:
    path = tmp_path / "painting.jpg"
    path.write_bytes(JPEG)
    return path


def test_serves_file_byte_for_byte(painting: Path) -> None:
    route = "/images/velmora-quistad/morning-harbour.jpg!Large.jpg"
    with ImageServer({route: painting}) as server:
        status, headers, body = request(server, route)
    assert status == 200
    assert body == JPEG
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Length"] == str(len(JPEG))


def test_unknown_path_is_404(painting: Path) -> None:
    with ImageServer({"/a.jpg": painting}) as server:
        status, _, _ = request(server, "/b.jpg")
        status_parent, _, _ = request(server, "/")
    assert status == 404
    assert status_parent == 404


def test_percent_encoded_path_matches(painting: Path) -> None:
    with ImageServer({"/images/odrin pelleway/storm.jpg!Large.jpg": painting}) as server:
        status, _, body = request(server, "/images/odrin%20pelleway/storm.jpg%21Large.jpg")
    assert status == 200
    assert body == JPEG


def test_encoded_route_matches_plain_request(painting: Path) -> None:
    with ImageServer({"/images/a/b%21Large.jpg": painting}) as server:
        status, _, _ = request(server, "/images/a/b!Large.jpg")
    assert status == 200


def test_head_sends_headers_only(painting: Path) -> None:
    with ImageServer({"/p.jpg": painting}) as server:
        status, headers, body = request(server, "/p.jpg", method="HEAD")
    assert status == 200
    assert headers["Content-Length"] == str(len(JPEG))
    assert body == b""


def test_bytes_route_and_content_type() -> None:
    routes = {"/page.html": b"<p>hi</p>", "/blob": b"\x00\x01"}
    with ImageServer(routes) as server:
        _, html_headers, html_body = request(server, "/page.html")
        _, blob_headers, _ = request(server, "/blob")
    assert html_body == b"<p>hi</p>"
    assert html_headers["Content-Type"] == "text/html"
    assert blob_headers["Content-Type"] == "application/octet-stream"


def test_serves_parallel_requests(painting: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ImageServer({"/p.jpg": painting}) as server:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: request(server, "/p.jpg"), range(16)))
    assert [status for status, _, _ in results] == [200] * 16
    assert all(body == JPEG for _, _, body in results)


def test_stop_closes_port(painting: Path) -> None:
    server = ImageServer({"/p.jpg": painting}).start()
    port = server.port
    server.stop()
    server.stop()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    with pytest.raises(ConnectionRefusedError):
        connection.request("GET", "/p.jpg")
    connection.close()


def test_base_url_and_url_for(painting: Path) -> None:
    image_url = "https://uploads3.wikiart.org/images/a-b/c.jpg!Large.jpg"
    with ImageServer({"/images/a-b/c.jpg!Large.jpg": painting}) as server:
        base = server.base_url
        rewritten = server.url_for(image_url)
        status, _, body = request(server, urlsplit(rewritten).path)
    assert base == f"http://127.0.0.1:{urlsplit(base).port}"
    assert rewritten == base + "/images/a-b/c.jpg!Large.jpg"
    assert status == 200
    assert body == JPEG


def test_port_before_start_raises(painting: Path) -> None:
    server = ImageServer({"/p.jpg": painting})
    with pytest.raises(InvalidValueError):
        server.base_url


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        ImageServer({"/p.jpg": tmp_path / "absent.jpg"})


def test_relative_route_raises(painting: Path) -> None:
    with pytest.raises(InvalidValueError):
        ImageServer({"p.jpg": painting})


@pytest.mark.parametrize(
    ("image_url", "expected"),
    [
        (
            "https://uploads3.wikiart.org/images/a-b/c.jpg!Large.jpg",
            "/images/a-b/c.jpg!Large.jpg",
        ),
        (
            "https://uploads0.wikiart.org/00333/images/x/y-1890.jpg",
            "/00333/images/x/y-1890.jpg",
        ),
        ("https://uploads.wikiart.org/images/a/b%C3%A9.jpg?x=1#f", "/images/a/bé.jpg"),
    ],
)
def test_wikiart_path(image_url: str, expected: str) -> None:
    assert wikiart_path(image_url) == expected


def test_wikiart_path_without_path_raises() -> None:
    with pytest.raises(InvalidValueError):
        wikiart_path("https://uploads.wikiart.org")
