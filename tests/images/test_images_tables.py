"""The download's tables: CSV sources read with pyarrow, ledger parts, the merged manifest."""

from __future__ import annotations

import gzip
import io
import json
import logging
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from server import ScriptedServer
from test_images_progress import JPEG, ok_route

from demographic2art.errors import InvalidValueError
from demographic2art.images import download_images
from demographic2art.images.ledger import latest_per_key, load_ledger, merge_parts, write_part
from demographic2art.images.manifest import COLUMNS, MANIFEST_PATH, conform, rows_to_table
from demographic2art.images.plan import SourceEncodingError, iter_planned, iter_source_batches
from demographic2art.workspace import Workspace


def _records(workspace, source, columns=None):
    return [record for _, batch in iter_source_batches(workspace, source, columns=columns) for record in batch]


def test_csv_bom_quotes_and_empty_cell(tmp_path):
    source = tmp_path / "source.csv"
    source.write_bytes(
        "\ufeffimage_url,title,year\n"
        'http://127.0.0.1:9/a/one.jpg,"Harbour,\nmorning",1901\n'
        "http://127.0.0.1:9/a/two.jpg,,007\n".encode()
    )
    records = _records(Workspace(tmp_path / "ws"), source)
    assert records == [
        {"image_url": "http://127.0.0.1:9/a/one.jpg", "title": "Harbour,\nmorning", "year": "1901"},
        {"image_url": "http://127.0.0.1:9/a/two.jpg", "title": "", "year": "007"},
    ]


def test_gzipped_and_tab_separated_sources(tmp_path):
    text = "image_url\tkey\nhttp://127.0.0.1:9/a/one.jpg\tmara-lind/dunes\n"
    tsv = tmp_path / "source.tsv"
    tsv.write_text(text)
    packed = tmp_path / "source.csv.gz"
    packed.write_bytes(gzip.compress(text.replace("\t", ",").encode()))
    workspace = Workspace(tmp_path / "ws")
    assert [item.key for item in iter_planned(workspace, source=tsv)] == ["mara-lind/dunes"]
    assert [item.key for item in iter_planned(workspace, source=packed)] == ["mara-lind/dunes"]


def test_source_reads_only_the_named_columns(tmp_path):
    source = tmp_path / "source.csv"
    # The title is Latin-1, which only matters when the title column is read.
    source.write_bytes("image_url,title\nhttp://127.0.0.1:9/a/one.jpg,Sj\xf6\n".encode("latin-1"))
    workspace = Workspace(tmp_path / "ws")
    batches = list(iter_source_batches(workspace, source, columns={"image_url"}))
    assert batches == [(["image_url", "title"], [{"image_url": "http://127.0.0.1:9/a/one.jpg"}])]
    with pytest.raises(SourceEncodingError, match="is not UTF-8 text"):
        _records(workspace, source, columns={"title"})


@pytest.mark.parametrize("row", ["http://127.0.0.1:9/a/one.jpg,Harbour,extra", "http://127.0.0.1:9/a/one.jpg"])
def test_csv_wrong_field_count(tmp_path, row):
    source = tmp_path / "source.csv"
    source.write_text(f"image_url,title\n{row}\n")
    with pytest.raises(InvalidValueError, match="every row needs as many fields as the header") as error:
        _records(Workspace(tmp_path / "ws"), source)
    assert str(source) in str(error.value)


def test_empty_csv_source_names_the_fix(tmp_path):
    source = tmp_path / "source.csv"
    source.write_text("")
    with pytest.raises(InvalidValueError, match="is empty; it needs a header row"):
        list(iter_planned(Workspace(tmp_path / "ws"), source=source))


def test_header_only_source_still_checks_the_url_column(tmp_path):
    source = tmp_path / "source.csv"
    source.write_text("url,title\n")
    with pytest.raises(InvalidValueError, match="column 'image_url' is not in the source table"):
        list(iter_planned(Workspace(tmp_path / "ws"), source=source))


def _row(key, status, **values):
    return {"key": key, "status": status, **values}


def test_latest_per_key_sorted():
    table = pa.concat_tables([
        rows_to_table([_row("b", "failed", reason="timeout"), _row("a", "ok", http_status=200)]),
        rows_to_table([_row("c", "ok"), _row("b", "ok", http_status=200, width=640)]),
        rows_to_table([_row("a", "failed", reason="http_404", http_status=404)]),
    ])
    merged = latest_per_key(table).to_pylist()
    assert [(row["key"], row["status"], row["http_status"]) for row in merged] == [
        ("a", "failed", 404), ("b", "ok", 200), ("c", "ok", None)]
    assert merged[1]["width"] == 640


def test_merged_manifest_pandas_types(tmp_path):
    storage = Workspace(tmp_path / "ws").storage
    write_part(storage, "images/parts/run-00000.parquet",
               [_row("mara-lind/dunes", "ok", http_status=200, bytes=4096, width=900, height=600, duration_s=0.25,
                     sha256="ab" * 32, file="images/files/mara-lind/dunes.jpg"),
                _row("mara-lind/quay", "failed", reason="http_404", http_status=404)])
    write_part(storage, "images/parts/run-00001.parquet", [_row("mara-lind/quay", "ok", http_status=200)])
    assert load_ledger(storage)["mara-lind/quay"] == ("ok", None, None)
    assert merge_parts(storage) == 2
    assert not list((tmp_path / "ws" / "images" / "parts").glob("*.parquet"))
    frame = pd.read_parquet(tmp_path / "ws" / MANIFEST_PATH)
    assert list(frame.columns) == COLUMNS
    assert str(frame["http_status"].dtype) == "Int64"
    assert str(frame["width"].dtype) == "Int64"
    assert frame["duration_s"].dtype == "float64"
    assert isinstance(frame["key"].dtype, pd.StringDtype)
    assert frame["width"].tolist()[0] == 900
    assert frame["width"].isna().tolist() == [False, True]
    assert frame["status"].tolist() == ["ok", "ok"]


def test_manifest_of_an_older_version_is_conformed(tmp_path):
    # An older manifest written through pandas: float sizes, no flags or final_url columns.
    older = pd.DataFrame({"key": ["mara-lind/dunes"], "status": ["ok"], "width": [900.0], "http_status": [None]})
    buffer = io.BytesIO()
    older.to_parquet(buffer, index=False)
    table = conform(pq.ParquetFile(io.BytesIO(buffer.getvalue())).read())
    row = table.to_pylist()[0]
    assert table.column_names == COLUMNS
    assert row["width"] == 900
    assert isinstance(row["width"], int)
    assert row["flags"] is None
    assert row["final_url"] is None
    assert row["http_status"] is None


_DOWNLOAD_WITHOUT_PANDAS = """
import json, sys
from demographic2art.images import download_images
summary = download_images(sys.argv[1], source=sys.argv[2], decode_processes=0, retries=0)
print(json.dumps({"counts": summary.counts, "modules": sorted(m for m in ("pandas", "httpx") if m in sys.modules)}))
"""


def test_download_imports_neither_pandas_nor_httpx(tmp_path):
    """pandas and httpx each cost about 0.1-0.2 s of start-up that a download does not need."""
    routes = {"/images/mara-lind/dunes.jpg": [ok_route(JPEG)],
              "/robots.txt": [{"status": 200, "body_text": "User-agent: *\nAllow: /\n"}]}
    with ScriptedServer({"routes": routes}) as server:
        source = tmp_path / "source.csv"
        source.write_text(f"image_url,title\n{server.url('/images/mara-lind/dunes.jpg')},Dunes\n")
        result = subprocess.run([sys.executable, "-c", _DOWNLOAD_WITHOUT_PANDAS, str(tmp_path / "ws"), str(source)],
                                capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"counts": {"ok": 1}, "modules": []}
    metadata = (tmp_path / "ws" / "images" / "files" / "metadata.jsonl").read_text().splitlines()
    assert json.loads(metadata[0])["title"] == "Dunes"


def test_damaged_gzip_sources_are_one_error(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    not_gzip = tmp_path / "plain.csv.gz"
    not_gzip.write_text("image_url\nhttp://127.0.0.1:9/a/one.jpg\n")
    with pytest.raises(InvalidValueError, match="is not a readable gzip file"):
        _records(workspace, not_gzip)
    rows = "image_url\n" + "".join(f"http://127.0.0.1:9/a/img{i}.jpg\n" for i in range(20_000))
    packed = gzip.compress(rows.encode())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InvalidValueError, match="could not be read to its end"):
        _records(workspace, cut)


def test_upper_case_gzip_and_tab_separated_gzip_sources(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    upper = tmp_path / "SOURCE.CSV.GZ"
    upper.write_bytes(gzip.compress(b"image_url\nhttp://127.0.0.1:9/a/one.jpg\n"))
    tabbed = tmp_path / "source.tsv.gz"
    tabbed.write_bytes(gzip.compress(b"image_url\ttitle\nhttp://127.0.0.1:9/a/two.jpg\tQuay\n"))
    assert [item.key for item in iter_planned(workspace, source=upper)] == ["a/one"]
    assert _records(workspace, tabbed) == [{"image_url": "http://127.0.0.1:9/a/two.jpg", "title": "Quay"}]


def test_source_with_old_mac_line_ends(tmp_path):
    source = tmp_path / "source.csv"
    source.write_bytes(b"image_url,title\rhttp://127.0.0.1:9/a/one.jpg,Dunes\rhttp://127.0.0.1:9/a/two.jpg,Quay\r")
    records = _records(Workspace(tmp_path / "ws"), source)
    assert [record["title"] for record in records] == ["Dunes", "Quay"]


def test_parse_error_one_short_line(tmp_path):
    source = tmp_path / "source.csv"
    long_title = "x" * 500
    source.write_text(f'image_url,title\nhttp://127.0.0.1:9/a/one.jpg,"{long_title}\nmore",extra\n')
    with pytest.raises(InvalidValueError) as error:
        _records(Workspace(tmp_path / "ws"), source)
    message = str(error.value)
    assert "\n" not in message
    assert "x" * 300 not in message
    assert "..." in message


def test_blank_first_line_names_the_fix(tmp_path):
    source = tmp_path / "source.csv"
    source.write_text("\nimage_url\nhttp://127.0.0.1:9/a/one.jpg\n")
    with pytest.raises(InvalidValueError, match="no column names in its first line"):
        _records(Workspace(tmp_path / "ws"), source)


def test_skipped_rows_are_counted_after_the_first_five(tmp_path, caplog):
    source = tmp_path / "source.csv"
    source.write_text("image_url,url\n" + "".join(",\n" for _ in range(12)) + "http://127.0.0.1:9/a/one.jpg,\n")
    with caplog.at_level(logging.WARNING, logger="demographic2art.images.plan"):
        planned = list(iter_planned(Workspace(tmp_path / "ws"), source=source))
    messages = [record.getMessage() for record in caplog.records]
    assert [item.key for item in planned] == ["a/one"]
    assert len(messages) == 6
    assert all(message.startswith("row skipped: ") for message in messages[:5])
    assert messages[5] == "12 source rows skipped in all; the first 5 are listed above"


def test_dry_run_counts_skipped_rows(tmp_path):
    routes = {"/images/mara-lind/dunes.jpg": [ok_route(JPEG)], "/images/mara-lind/quay.jpg": [ok_route(JPEG)]}
    with ScriptedServer({"routes": routes}) as server:
        source = tmp_path / "source.csv"
        source.write_text("image_url,title\n" + "".join(f"{server.url(p)},None\n" for p in routes))
        download_images(tmp_path / "ws", source=source, respect_robots=False, decode_processes=0, retries=0)
        summary = download_images(tmp_path / "ws", source=source, dry_run=True)
    records = [json.loads(line) for line in (tmp_path / "ws" / "images/files/metadata.jsonl").read_text().splitlines()]
    assert summary.counts == {"skipped": 2}
    assert [row["action"] for row in summary.planned] == ["skip", "skip"]
    # "None" is a title here, not a missing value.
    assert [record["title"] for record in records] == ["None", "None"]
