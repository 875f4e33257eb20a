"""imagefolder metadata.jsonl and WebDataset tar shards written by the download."""

from __future__ import annotations

import io
import json
import tarfile

import pandas as pd
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.images import download_images
from demographic2art.images.webdataset import sample_key
from demographic2art.workspace import Workspace

ROUTES = {"/images/edda-morrow/fjord.jpg": [ok_route(JPEG)], "/images/edda-morrow/st.-ives.jpg": [ok_route(JPEG)],
          "/images/ilse-varn/gone.jpg": [{"status": 404}]}
PAGES = ["https://www.wikiart.org/en/edda-morrow/fjord-at-dusk-1880", "https://www.wikiart.org/en/edda-morrow/st.-ives",
         "https://www.wikiart.org/en/ilse-varn/gone"]


def _download(tmp_path, **options):
    with ScriptedServer({"routes": ROUTES}) as server:
        source = tmp_path / "source.csv"
        pd.DataFrame({
            "url": PAGES,
            "image_url": [server.url(p) for p in ROUTES],
            "Style": ["Realism", "Impressionism", "Baroque"],
            "Genre": ["landscape", "marina", "portrait"],
            "Create Date": ["1880", "1901", ""],
        }).to_csv(source, index=False)
        return download_images(tmp_path / "ws", source=source, retries=0, respect_robots=False,
                               decode_processes=0, **options)


def test_metadata_jsonl_imagefolder_layout(tmp_path):
    _download(tmp_path)
    text = (tmp_path / "ws/images/files/metadata.jsonl").read_text()
    records = [json.loads(line) for line in text.splitlines()]
    by_key = {r["key"]: r for r in records}
    assert len(records) == 2
    assert by_key["edda-morrow/fjord-at-dusk-1880"]["file_name"] == "edda-morrow/fjord-at-dusk-1880.jpg"
    assert (tmp_path / "ws/images/files" / by_key["edda-morrow/fjord-at-dusk-1880"]["file_name"]).is_file()
    assert by_key["edda-morrow/fjord-at-dusk-1880"]["style"] == "Realism"
    assert by_key["edda-morrow/fjord-at-dusk-1880"]["genre"] == "landscape"
    assert by_key["edda-morrow/fjord-at-dusk-1880"]["year"] == "1880"


def test_metadata_adds_caption_text(tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    captions = pd.DataFrame({"key": ["edda-morrow/fjord-at-dusk-1880"], "caption": ["a fjord at dusk"]})
    workspace.storage.write_parquet("captions/captions.parquet", captions)
    _download(tmp_path)
    records = [json.loads(line) for line in (tmp_path / "ws/images/files/metadata.jsonl").read_text().splitlines()]
    texts = {r["key"]: r.get("text") for r in records}
    assert texts["edda-morrow/fjord-at-dusk-1880"] == "a fjord at dusk"
    assert texts["edda-morrow/st.-ives"] is None


def test_webdataset_tar_read_back(tmp_path):
    summary = _download(tmp_path, webdataset=True, webdataset_shard_size=1)
    root = tmp_path / "ws/images"
    assert summary.webdataset_shards == ["images/webdataset/00000.tar", "images/webdataset/00001.tar"]
    with tarfile.open(root / "webdataset/00001.tar") as archive:
        names = archive.getnames()
        image = archive.extractfile(f"{sample_key('edda-morrow/st.-ives')}.jpg").read()
        record = json.load(archive.extractfile(f"{sample_key('edda-morrow/st.-ives')}.json"))
    assert names == ["edda-morrow/st%2E-ives.jpg", "edda-morrow/st%2E-ives.json"]
    assert image == (root / "files/edda-morrow/st.-ives.jpg").read_bytes()
    assert record["key"] == "edda-morrow/st.-ives"
    assert record["style"] == "Impressionism"


def test_webdataset_unchanged_shards_kept(tmp_path):
    _download(tmp_path, webdataset=True)
    second = _download(tmp_path, webdataset=True)
    assert second.webdataset_shards == []
    assert (tmp_path / "ws/images/webdataset/00000.tar").is_file()
