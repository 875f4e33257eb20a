"""Captions keep the download's imagefolder records and add the caption as ``text``."""

from __future__ import annotations

import json

from demographic2art.captions.build import _imagefolder_metadata
from demographic2art.workspace import Workspace


def test_caption_text_joins_download_record(tmp_path):
    storage = Workspace(tmp_path / "ws").storage
    downloaded = {"file_name": "a.jpg", "key": "ann/a", "style": "Baroque", "text": "old caption"}
    storage.write_text("images/files/metadata.jsonl", json.dumps(downloaded) + "\n{damaged\n")
    rows = [{"file_name": "a.jpg", "caption": "a Baroque painting"}, {"file_name": "b.jpg", "caption": "a landscape"}]

    records = [json.loads(line) for line in _imagefolder_metadata(storage, rows).splitlines()]

    assert records[0] == {"file_name": "a.jpg", "key": "ann/a", "style": "Baroque", "text": "a Baroque painting"}
    assert records[1] == {"file_name": "b.jpg", "text": "a landscape"}
    assert len(records) == 2


def test_caption_metadata_without_download_file(tmp_path):
    storage = Workspace(tmp_path / "ws").storage
    text = _imagefolder_metadata(storage, [{"file_name": "c.jpg", "caption": "a portrait"}])
    assert json.loads(text) == {"file_name": "c.jpg", "text": "a portrait"}
