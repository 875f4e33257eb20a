"""Keys of planned images from a URL list: rows that share a key, and the URL column option."""

from __future__ import annotations

import logging

from demographic2art.cli.main import main
from demographic2art.images.plan import iter_planned
from demographic2art.workspace import Workspace


def _write_list(path, column: str, urls: list[str]) -> str:
    path.write_text(column + "\n" + "".join(url + "\n" for url in urls), "utf-8")
    return str(path)


def test_plan_warns_on_shared_key(tmp_path, caplog):
    source = _write_list(tmp_path / "urls.csv", "image_url", [
        "http://127.0.0.1:9/a/big.jpg",
        "http://127.0.0.1:9/a/big.png",
        "http://127.0.0.1:9/a/big.jpg",
    ])
    workspace = Workspace(tmp_path / "ws").create()

    with caplog.at_level(logging.WARNING, logger="demographic2art.images.plan"):
        planned = list(iter_planned(workspace, source=source))

    assert [item.image_url for item in planned] == ["http://127.0.0.1:9/a/big.jpg"]
    warnings = [record.getMessage() for record in caplog.records if "row skipped" in record.getMessage()]
    assert len(warnings) == 1
    assert "http://127.0.0.1:9/a/big.png" in warnings[0]
    assert "'key' column" in warnings[0]


def test_download_url_column_option(tmp_path, capsys):
    source = _write_list(tmp_path / "urls.csv", "picture", ["http://127.0.0.1:9/a/one.jpg"])

    code = main(["images", "download", "-w", str(tmp_path / "ws"), "--source", source,
                 "--url-column", "picture", "--dry-run"])

    assert code == 0
    assert "a/one" in capsys.readouterr().out
