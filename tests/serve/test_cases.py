"""Failure cases of the web app, against a real waitress server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from serve_helpers import SlowGenerator, generator, live_server, make_app, tiny_model, wait_for_state  # noqa: F401

from conftest import load_case
from demographic2art.workspace import Workspace

# Bounds that are part of correct behaviour get a 3x margin for a loaded 2-core machine.
MARGIN = 3


def _json_get(base: str):
    def get(url: str) -> dict:
        return httpx.get(base + url, timeout=10).json()

    return get


def _load(case: dict) -> dict:
    return json.loads((case["dir"] / case["input"]).read_text())


def _raw_request(port: int, target: bytes, *, method: bytes = b"GET", body: bytes = b"", headers: bytes = b"") -> bytes:
    """Send one HTTP/1.1 request byte-for-byte and return the whole response."""
    request = (
        method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1:" + str(port).encode()
        + b"\r\nConnection: close\r\n" + headers + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.slow
def test_app_concurrent_same_seed(shared_cases, make_app, generator, live_server, caplog):
    case = load_case(shared_cases, "app-concurrent-same-seed")
    load = _load(case)
    body = load["request"]["json"]
    app = make_app(generator, queue_size=load["server_config"]["queue_max"])
    server = live_server(app)
    get = _json_get(server.base)
    caplog.set_level(logging.INFO)

    lone_id = httpx.post(server.base + "/api/jobs", json=body, timeout=10).json()["id"]
    lone = wait_for_state(get, lone_id, ("done", "failed"), 60)
    lone_hash = hashlib.sha256(httpx.get(server.base + lone["result_urls"][0], timeout=10).content).hexdigest()

    barrier = threading.Barrier(load["concurrency"])

    def submit(_):
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            return client.post(server.base + "/api/jobs", json=body)

    with ThreadPoolExecutor(load["concurrency"]) as pool:
        responses = list(pool.map(submit, range(load["concurrency"])))
    assert [r.status_code for r in responses] == [202] * load["concurrency"]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == load["concurrency"]

    hashes = []
    for job_id in ids:
        record = wait_for_state(get, job_id, ("done", "failed", "cancelled"), 120)
        assert record["state"] == "done"
        for url in record["result_urls"]:
            hashes.append(hashlib.sha256(httpx.get(server.base + url, timeout=10).content).hexdigest())
    assert len(hashes) == load["concurrency"]
    assert set(hashes) == {lone_hash}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.exc_info] == []
    assert "IndexError" not in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.slow
def test_app_queue_overflow_503(shared_cases, make_app, generator, live_server):
    case = load_case(shared_cases, "app-queue-overflow-503")
    load = _load(case)
    config = load["server_config"]
    body = load["request"]["json"]
    app = make_app(SlowGenerator(generator, config["job_seconds"]), queue_size=config["queue_max"])
    server = live_server(app)
    get = _json_get(server.base)

    first = httpx.post(server.base + "/api/jobs", json=body, timeout=10).json()["id"]
    wait_for_state(get, first, ("running",), 30, interval_s=0.05)

    barrier = threading.Barrier(5)

    def submit(_):
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            started = time.monotonic()
            response = client.post(server.base + "/api/jobs", json=body)
            return response, time.monotonic() - started, time.time()

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(submit, range(5)))
    first_record = get(f"/api/jobs/{first}")
    statuses = sorted(r.status_code for r, _, _ in results)
    assert statuses == [202, 202, 503, 503, 503]
    rejected = [(r, elapsed, at) for r, elapsed, at in results if r.status_code == 503]
    for response, elapsed, answered_at in rejected:
        assert elapsed < 1 * MARGIN
        assert int(response.headers["Retry-After"]) >= 1
        assert response.headers["Retry-After"].isdigit()
        assert response.json() == {"error": "queue_full"}
        assert first_record["state"] == "running"
        assert first_record["finished"] is None

    accepted = [first] + [r.json()["id"] for r, _, _ in results if r.status_code == 202]
    for job_id in accepted:
        record = wait_for_state(get, job_id, ("done", "failed", "cancelled"), 3 * config["job_seconds"] * MARGIN)
        assert record["state"] == "done"
        for url in record["result_urls"]:
            assert httpx.get(server.base + url, timeout=10).status_code == 200



def _read_response(sock) -> bytes:
    """Read one HTTP response: the head, then as many body bytes as Content-Length gives.

    The server may send the head and the body in separate packets, so one recv() is not enough.
    """
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.mark.slow
def test_app_long_job_timeout(shared_cases, make_app, generator, live_server):
    case = load_case(shared_cases, "app-long-job-timeout")
    scenario = _load(case)
    config = scenario["server_config"]
    app = make_app(SlowGenerator(generator, config["job_seconds"]))
    queue = app.extensions["d2a_queue"]
    worker = queue._thread
    server = live_server(app, channel_timeout=config["channel_timeout_s"])
    body = json.dumps(scenario["request"]["json"]).encode()

    submitted = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:" + str(server.port).encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body
        )
        head = _read_response(sock)
        answered = time.monotonic() - submitted
        time.sleep(max(0.0, 1.0 - answered))
    status_line, _, rest = head.partition(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in rest.split(b"\r\n\r\n")[0].split(b"\r\n"))}
    job_id = json.loads(head.split(b"\r\n\r\n", 1)[1])["id"]
    assert status_line.split(b" ")[1] == b"202"
    assert answered < 1 * MARGIN
    assert headers[b"location"] == f"/api/jobs/{job_id}".encode()

    get = _json_get(server.base)
    assert get(f"/api/jobs/{job_id}")["state"] in ("queued", "running")
    record = wait_for_state(get, job_id, ("done", "failed", "cancelled"), 16 * MARGIN, interval_s=0.5)
    done_after = time.monotonic() - submitted
    assert record["state"] == "done"
    assert done_after < 16 * MARGIN
    image = httpx.get(server.base + record["result_urls"][0], timeout=10)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert queue._thread is worker
    assert worker.is_alive()
    assert server.thread.is_alive()


def test_app_path_traversal(shared_cases, make_app, generator, live_server, tmp_path):
    case = load_case(shared_cases, "app-path-traversal")
    workspace = Workspace(tmp_path / "traversal").create()
    secret = b"SECRET-OUTSIDE-GALLERY"
    workspace.storage.write_bytes("app.py", b"import os  # " + secret + b"\n")
    workspace.storage.write_bytes("config.toml", b"[d2a]\nkey = '" + secret + b"'\n")
    app = make_app(generator, workspace=workspace)
    server = live_server(app)
    get = _json_get(server.base)
    job_id = httpx.post(server.base + "/api/jobs", json={"prompt": "a harbour", "steps": 1}, timeout=10).json()["id"]
    result_url = wait_for_state(get, job_id, ("done",), 60)["result_urls"][0]
    image_route = result_url[: result_url.rindex("/") + 1]

    lines = [line for line in (case["dir"] / case["input"]).read_bytes().split(b"\n") if line]
    targets = [
        line.replace(b"{image_route}", image_route.encode()).replace(b"{result_url}", result_url.encode())
        for line in lines
    ]
    responses = [_raw_request(server.port, target) for target in targets]
    for target, response in zip(targets[:-1], responses[:-1]):
        body = response.split(b"\r\n\r\n", 1)[1]
        assert _status(response) in (400, 404), target
        assert b"root:" not in body, target
        assert secret not in body, target
        assert b"import " not in body, target
    assert _status(responses[-1]) == 200
    assert b"content-type: image/png" in responses[-1].lower()


@pytest.mark.parametrize(
    "target",
    [
        "/gallery/..%5c..%5cconfig.toml",
        "/gallery/%2e%2e%5cconfig.toml",
        "/gallery/%2fetc%2fpasswd",
        "/gallery/C:%5cWindows%5cwin.ini",
        "/gallery/.hidden.png",
        "/gallery/%c0%ae%c0%ae%2fconfig.toml",
        "/gallery/%25%32%65%25%32%65/config.toml",
        "/gallery/name.png%00.json",
        "/gallery/..",
        "/gallery/.",
        "/gallery//config.toml",
        "/gallery/config.toml",
        "/gallery/link.png",
    ],
)
def test_gallery_rejects_paths_outside(make_app, generator, tmp_path, target):
    workspace = Workspace(tmp_path / "variants").create()
    workspace.storage.write_bytes("config.toml", b"SECRET")
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"SECRET")
    (tmp_path / "variants" / "gallery" / "link.png").symlink_to(outside)
    client = make_app(generator, workspace=workspace).test_client()
    response = client.get(target)
    assert response.status_code in (400, 404)
    assert b"SECRET" not in response.data


def test_app_memory_flat(shared_cases, make_app, generator):
    case = load_case(shared_cases, "app-memory-flat")
    quick = _load(case)["quick_test"]
    history_size = quick["server_config"]["history_max"]
    app = make_app(generator, history_size=history_size)
    queue = app.extensions["d2a_queue"]
    client = app.test_client()
    body = _load(case)["request"]["json"]
    held_counts = []
    for number in range(1, quick["requests"] + 1):
        job_id = client.post("/api/jobs", json={**body, "seed": 1000 + number}).get_json()["id"]
        held_counts.append(queue.held_jobs())
        record = wait_for_state(lambda url: client.get(url).get_json(), job_id, ("done",), 60)
        assert client.get(record["result_urls"][0]).status_code == 200
        held_counts.append(queue.held_jobs())
        history = client.get("/api/history").get_json()["jobs"]
        assert len(history) <= history_size
        assert sum(len(job["results"]) for job in history) <= history_size
    assert max(held_counts) <= history_size
    assert held_counts[-1] == history_size
