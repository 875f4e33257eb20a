"""Downloads into an s3:// workspace served by moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from PIL import Image
from server import ScriptedServer

from demographic2art.images import download_images
from demographic2art.workspace import Workspace


@pytest.fixture()
def s3_endpoint(monkeypatch):
    """Start moto's S3 server on 127.0.0.1 with one bucket and fake credentials."""
    import boto3
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bucket")
    yield endpoint
    server.stop()


def _jpeg(size=(800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_download_to_s3_workspace(tmp_path, s3_endpoint):
    body = _jpeg()
    routes = {
        "/s3/one.jpg": [{"status": 200, "headers": {"Content-Type": "image/jpeg"}, "body_bytes": body.hex()}],
        "/s3/two.jpg": [{"status": 404}],
    }
    with ScriptedServer({"routes": routes}) as server:
        source = tmp_path / "source.csv"
        pd.DataFrame({"image_url": [server.url(p) for p in routes]}).to_csv(source, index=False)
        workspace = Workspace("s3://bucket/study", endpoint_url=s3_endpoint)
        first = download_images(workspace, source=source, respect_robots=False, retries=0, decode_processes=0)
        second = download_images(workspace, source=source, respect_robots=False, retries=0, decode_processes=0)
        requests = len(server.log)
    storage = Workspace("s3://bucket/study", endpoint_url=s3_endpoint).storage
    manifest = storage.read_parquet("images/manifest.parquet").set_index("key")
    stored = Image.open(io.BytesIO(storage.read_bytes("images/files/s3/one.jpg")))
    assert first.counts == {"ok": 1, "failed": 1}
    assert second.counts == {"skipped": 2}
    assert requests == 2
    assert manifest.loc["s3/one", "status"] == "ok"
    assert manifest.loc["s3/two", "reason"] == "http_404"
    assert stored.size == (512, 384)
    assert storage.glob("images/parts/*.parquet") == []
