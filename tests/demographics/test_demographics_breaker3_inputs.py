"""Bad input to `d2a demographics extract --pages` and `d2a demographics evaluate`: one error line, exit 2."""

from __future__ import annotations

import json
import tarfile

import pytest

from demographic2art.bios.fetch import saved_page
from demographic2art.bios.importer import iter_saved_pages
from demographic2art.cli.main import main
from demographic2art.demographics.evaluate import evaluate, load_judgements
from demographic2art.errors import InvalidValueError

HEADER = "slug\tbirth_year\tdeath_year\tgender\tnationality\tbirth_country\n"
PAGE_TEXT = "<p><b>Mira Tolland</b> (3 May 1850 – 9 June 1910) was a French painter. She painted rivers.</p>" + (
    "<p>The painter worked for many years in a small studio and exhibited landscapes with friends.</p>"
)


@pytest.fixture()
def pages_dir(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    parse = {"text": PAGE_TEXT, "categories": [{"category": "French_women_painters"}]}
    (folder / "mira-tolland.html").write_text(saved_page("en.wikipedia.org", "Mira Tolland", parse, None), encoding="utf-8")
    return folder


def _truncated_archive(tmp_path, mode: str, suffix: str):
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(20):
        # Random-looking text so the compressed archive stays large enough to cut in the middle.
        (folder / f"artist-{number}.html").write_bytes(bytes((i * 7919 + number) % 251 for i in range(20000)).hex().encode())
    archive = tmp_path / f"pages{suffix}"
    with tarfile.open(archive, mode) as tar:
        tar.add(folder, arcname="html")
    data = archive.read_bytes()
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(data[: len(data) // 2])
    return truncated


@pytest.mark.parametrize(("mode", "suffix"), [("w:xz", ".tar.xz"), ("w", ".tar"), ("w:gz", ".tar.gz")])
def test_truncated_archive_exit_2(tmp_path, capsys, mode, suffix):
    truncated = _truncated_archive(tmp_path, mode, suffix)
    code = main(["demographics", "extract", "-w", str(tmp_path / "ws"), "--pages", str(truncated)])
    err = capsys.readouterr().err
    assert code == 2
    assert "is truncated or corrupt" in err
    assert str(truncated) in err
    assert "Traceback" not in err


def test_truncated_archive_library_error(tmp_path):
    truncated = _truncated_archive(tmp_path, "w:xz", ".tar.xz")
    with pytest.raises(InvalidValueError, match="truncated or corrupt"):
        list(iter_saved_pages(truncated))


def test_junk_pages_recorded_not_fatal(tmp_path, capsys, pages_dir):
    (pages_dir / "zero-byte.html").write_bytes(b"")
    (pages_dir / "binary-junk.html").write_bytes(b"\xff\xfe\x00\x81junk\x00" * 50)
    (pages_dir / "empty-html.html").write_bytes(b"<html></html>")
    (pages_dir / "latin-one.html").write_bytes("<html><body><p>Malm\xf6 painter</p></body></html>".encode("latin-1"))
    code = main(["demographics", "extract", "-w", str(tmp_path / "ws"), "--pages", str(pages_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert "extracted 5 pages" in out
    assert "biography 1" in out


def _reference(tmp_path, text: str | bytes):
    path = tmp_path / "reference.tsv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_reference_not_utf8_exit_2(tmp_path, capsys, pages_dir):
    reference = _reference(tmp_path, HEADER.encode() + "mira-tolland\t1850\t1910\tf\tFran\xe7aise\tFR\n".encode("latin-1"))
    code = main(["demographics", "evaluate", "--pages", str(pages_dir), "--reference", str(reference)])
    err = capsys.readouterr().err
    assert code == 2
    assert "is not UTF-8 text" in err


def test_reference_folder_named_as_folder(tmp_path, capsys, pages_dir):
    code = main(["demographics", "evaluate", "--pages", str(pages_dir), "--reference", str(pages_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert "is a folder, not a file" in err


def test_pages_file_named_as_file(tmp_path, capsys):
    reference = _reference(tmp_path, HEADER)
    code = main(["demographics", "evaluate", "--pages", str(reference), "--reference", str(reference)])
    err = capsys.readouterr().err
    assert code == 2
    assert "is a file, not a folder" in err


def test_reference_non_numeric_years_listed(tmp_path, pages_dir):
    reference = _reference(tmp_path, HEADER + "mira-tolland\tc. 1850\t19x0\tf\tFrench\tFrance\n")
    report = evaluate(pages_dir, reference, judgements=False)
    assert report["invalid_reference"] == [
        {"slug": "mira-tolland", "field": "birth_year", "value": "c. 1850"},
        {"slug": "mira-tolland", "field": "death_year", "value": "19x0"},
    ]
    assert report["fields"]["birth_year"]["reference_values"] == 0
    assert report["fields"]["gender"]["agreement"] == 1.0


def test_reference_non_numeric_years_cli(tmp_path, capsys, pages_dir):
    reference = _reference(tmp_path, HEADER + "mira-tolland\tabc\t1910\tf\tFrench\tFrance\n")
    code = main(["demographics", "evaluate", "--pages", str(pages_dir), "--reference", str(reference)])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 reference years are not integers" in out


def test_reference_missing_columns_exit_2(tmp_path, capsys, pages_dir):
    reference = _reference(tmp_path, "slug\tbirth_year\nmira-tolland\t1850\n")
    code = main(["demographics", "evaluate", "--pages", str(pages_dir), "--reference", str(reference)])
    err = capsys.readouterr().err
    assert code == 2
    assert "lacks the columns death_year, gender, nationality, birth_country" in err


@pytest.mark.parametrize("content", ['{"slug": "x"}', "[1, 2]", '[{"slug": "x"}]', "[1, 2", b"\xff\xfe"])
def test_judgements_wrong_shape_rejected(tmp_path, content):
    path = tmp_path / "judgements.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidValueError, match="judgements file"):
        load_judgements(path)


def test_judgements_wrong_shape_cli(tmp_path, capsys, pages_dir):
    reference = _reference(tmp_path, HEADER + "mira-tolland\t1850\t1910\tf\tFrench\tFrance\n")
    judgements = tmp_path / "judgements.json"
    judgements.write_text(json.dumps({"slug": "mira-tolland"}), encoding="utf-8")
    code = main(["demographics", "evaluate", "--pages", str(pages_dir), "--reference", str(reference),
                 "--judgements", str(judgements)])
    err = capsys.readouterr().err
    assert code == 2
    assert "--no-judgements" in err


def test_extracted_record_invalid_names_file(tmp_path, capsys, pages_dir):
    reference = _reference(tmp_path, HEADER + "mira-tolland\t1850\t1910\tf\tFrench\tFrance\n")
    extracted = tmp_path / "json"
    extracted.mkdir()
    (extracted / "mira-tolland.json").write_text("{bad", encoding="utf-8")
    code = main(["demographics", "evaluate", "--pages", str(pages_dir), "--reference", str(reference),
                 "--extracted", str(extracted)])
    err = capsys.readouterr().err
    assert code == 2
    assert "mira-tolland.json is not a demographics record" in err
