"""Download planning: read the artwork table, derive keys and file names, apply filters."""

from __future__ import annotations

import csv
import gzip
import logging
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import keys
from ..errors import InvalidValueError, MissingFileError
from ..workspace import Workspace
from .urls import normalise_url

logger = logging.getLogger(__name__)

CATALOG_ARTWORKS = "catalog/artworks.parquet"
FILES_DIR = "images/files"
QUARANTINE_DIR = "images/quarantine"
IMAGE_SUFFIXES = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
_SIZE_SUFFIX = re.compile(r"![A-Za-z]+\.[A-Za-z0-9]+$")
_STYLE_COLUMNS = ("style", "Style", "styles")
SOURCE_BATCH_ROWS = 20_000
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
# Characters of a source row quoted in an error message.
QUOTED_ROW_CHARS = 200
# Skipped source rows named one by one in the log; the rest are counted in one line.
LOGGED_SKIPS = 5


@dataclass
class PlannedImage:
    """One artwork to fetch: its key, page URL, listed and normalised image URL and file."""

    key: str
    url: str | None
    image_url: str | None
    request_url: str | None
    file: str
    problem: str | None = None


def key_from_image_url(image_url: str) -> str:
    """Return ``'<artist>/<painting>'`` from an image URL path (folder, then file stem).

    ``.../images/claude-monet/water-lilies-1916.jpg!Large.jpg`` gives
    ``claude-monet/water-lilies-1916``; a URL with a one-segment path uses the host as
    the artist part.
    """
    parts = urlsplit(str(image_url).strip())
    segments = [s for s in unquote(parts.path).split("/") if s]
    if not segments:
        raise InvalidValueError(f"image URL {image_url!r} has no file name in its path")
    stem = _SIZE_SUFFIX.sub("", segments[-1])
    stem = posixpath.splitext(stem)[0] or stem
    folder = segments[-2] if len(segments) > 1 else (parts.hostname or "unknown")
    artist, painting = keys.normalise_slug(folder), keys.normalise_slug(stem)
    if not artist or not painting:
        raise InvalidValueError(f"image URL {image_url!r} gives no usable artist and painting names")
    return f"{artist}/{painting}"


def _check_catalog(workspace: Workspace) -> None:
    if not workspace.storage.exists(CATALOG_ARTWORKS):
        raise MissingFileError(
            f"{workspace.url}/{CATALOG_ARTWORKS} does not exist; run 'd2a catalog' first "
            "or pass --source with a CSV or Parquet file of image URLs"
        )


def _source_file(source: str | os.PathLike[str]) -> Path:
    """Return ``source`` as a path, or raise one error when it is missing or a folder."""
    path = Path(source)
    if path.is_dir():
        raise InvalidValueError(f"source {path} is a folder, not a file; pass a CSV or Parquet file of image URLs")
    if not path.is_file():
        raise MissingFileError(f"source file {path} does not exist; pass a CSV or Parquet file of image URLs")
    return path


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "nan", "None", "<NA>") else text


def _row_key(record: dict[str, Any], image_url: str | None) -> str:
    key = _text(record.get("key"))
    if key:
        return key
    page_url = _text(record.get("url"))
    if page_url:
        try:
            return keys.artwork_key(page_url)
        except InvalidValueError:
            logger.debug("page URL %r has no artist/painting path; using the image URL", page_url)
    if image_url:
        return key_from_image_url(image_url)
    raise InvalidValueError("row has neither a key, a page URL nor an image URL")


def iter_source_batches(
    workspace: Workspace,
    source: str | os.PathLike[str] | None,
    batch_rows: int = SOURCE_BATCH_ROWS,
    columns: set[str] | None = None,
) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """Yield ``(columns, records)`` batches of ``batch_rows`` rows of the artwork table without loading it whole.

    Parquet and CSV files (plain or gzip) are both streamed with pyarrow. CSV cells are
    read as text, an empty cell as ``""``. When ``columns`` is given, records contain only
    those of them that the table has, while the first item still lists all columns.
    Raises :class:`MissingFileError` for a missing source, :class:`SourceEncodingError`
    for CSV text that is not UTF-8, and :class:`InvalidValueError` for an unknown file
    type, an empty or damaged file, or a row with more or fewer fields than the header.
    """
    # pyarrow.parquet and pyarrow.csv are imported here: each costs start-up time that
    # a command reading the other kind of file need not pay.
    if source is None:
        import pyarrow.parquet as pq

        _check_catalog(workspace)
        with workspace.storage.open(CATALOG_ARTWORKS, "rb") as handle:
            yield from _parquet_batches(pq.ParquetFile(handle), batch_rows, columns)
        return
    path = _source_file(source)
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        yield from _parquet_batches(pq.ParquetFile(path), batch_rows, columns)
        return
    if not name.endswith(CSV_SUFFIXES):
        raise InvalidValueError(
            f"source file {path} is neither CSV ({', '.join(CSV_SUFFIXES)}) nor Parquet (.parquet); rename or convert it"
        )
    separator = "\t" if name.endswith((".tsv", ".tsv.gz")) else ","
    yield from _csv_batches(path, separator, name.endswith(".gz"), batch_rows, columns)


class SourceEncodingError(InvalidValueError):
    """A CSV source whose text is not UTF-8."""


def _csv_header(path: Path, separator: str, compressed: bool) -> list[str]:
    """Return the column names of the CSV file at ``path``, reading only its first line."""
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as handle:
            line = handle.readline()
    except (OSError, EOFError) as exc:
        raise InvalidValueError(f"source file {path} is not a readable gzip file ({exc}); compress it again") from exc
    if not line:
        raise InvalidValueError(f"source file {path} is empty; it needs a header row that names its columns")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceEncodingError(
            f"source file {path} is not UTF-8 text (its header); save it as UTF-8 CSV or as Parquet"
        ) from exc
    # A file with old Mac line ends (CR only) is one line to readline.
    text = text.splitlines()[0] if text.strip() else ""
    try:
        return next(csv.reader([text], delimiter=separator), [])
    except csv.Error as exc:
        raise InvalidValueError(f"source file {path} has a header that cannot be parsed as CSV ({exc})") from exc


def _csv_batches(path: Path, separator: str, compressed: bool, batch_rows: int, columns: set[str] | None):
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = _csv_header(path, separator, compressed)
    if not any(names):
        raise InvalidValueError(
            f"source file {path} has no column names in its first line; the first line must name the columns"
        )
    selected = [c for c in names if c in columns] if columns is not None else names
    if not selected:
        # pyarrow would read every column when none is named. The caller reports its missing columns.
        yield names, []
        return
    yielded = False
    try:
        stream = pa.input_stream(str(path), compression="gzip" if compressed else None)
        reader = pa_csv.open_csv(
            stream,
            parse_options=pa_csv.ParseOptions(delimiter=separator, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in selected}, include_columns=selected, strings_can_be_null=False
            ),
        )
        pending: list[dict[str, Any]] = []
        for batch in reader:
            pending.extend(batch.to_pylist())
            while len(pending) >= batch_rows:
                yield names, pending[:batch_rows]
                yielded = True
                del pending[:batch_rows]
    except pa.ArrowInvalid as exc:
        # pyarrow's message quotes the row, which may be long or span lines.
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= QUOTED_ROW_CHARS else detail[:QUOTED_ROW_CHARS] + "..."
        if "UTF8" in detail:
            raise SourceEncodingError(
                f"source file {path} is not UTF-8 text ({detail}); save it as UTF-8 CSV or as Parquet"
            ) from exc
        raise InvalidValueError(
            f"source file {path} could not be parsed as CSV ({detail}); every row needs as many fields as the header, "
            "and fields that contain the separator need quotes"
        ) from exc
    except (OSError, EOFError) as exc:
        raise InvalidValueError(f"source file {path} could not be read to its end ({exc}); check or replace it") from exc
    if pending or not yielded:
        yield names, pending


def _parquet_batches(parquet, batch_rows: int, columns: set[str] | None):
    names = list(parquet.schema_arrow.names)
    selected = [c for c in names if c in columns] if columns is not None else None
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=selected):
        yield names, batch.to_pylist()


class _SkippedRows:
    """Warnings about skipped source rows: the first few one by one, the rest as one count."""

    def __init__(self) -> None:
        self.count = 0

    def warn(self, message: str, *args: Any) -> None:
        self.count += 1
        if self.count <= LOGGED_SKIPS:
            logger.warning("row skipped: " + message, *args)

    def close(self) -> None:
        if self.count > LOGGED_SKIPS:
            logger.warning("%d source rows skipped in all; the first %d are listed above", self.count, LOGGED_SKIPS)


def iter_planned(
    workspace: Workspace,
    *,
    source=None,
    url_column: str = "image_url",
    limit: int | None = None,
    artists=None,
    styles=None,
    image_format: str = "jpeg",
    original_size: bool = False,
) -> Iterator[PlannedImage]:
    """Yield the artworks to fetch, one per key, after filters and ``limit``, streaming the source."""
    if image_format not in IMAGE_SUFFIXES:
        raise InvalidValueError(f"image format {image_format!r} is not one of {', '.join(IMAGE_SUFFIXES)}")
    if limit is not None and int(limit) < 0:
        raise InvalidValueError(f"limit {limit} must be zero or a positive number of artworks")
    wanted_artists = {keys.normalise_slug(a) for a in artists} if artists else None
    wanted_styles = {str(s).strip().lower() for s in styles} if styles else None
    suffix = IMAGE_SUFFIXES[image_format]
    size = "original" if original_size else "large"
    # Key -> image URL of the row that took it.
    seen: dict[str, str | None] = {}
    checked = False
    style_column = None
    needed = {url_column, "key", "url", *_STYLE_COLUMNS}
    skipped = _SkippedRows()
    try:
        for columns, records in iter_source_batches(workspace, source, columns=needed):
            if not checked:
                if url_column not in columns:
                    raise InvalidValueError(
                        f"column {url_column!r} is not in the source table (columns: {', '.join(map(str, columns))}); "
                        "name the image URL column with --url-column (url_column in Python)"
                    )
                style_column = next((c for c in _STYLE_COLUMNS if c in columns), None)
                if wanted_styles and style_column is None:
                    raise InvalidValueError("the source table has no 'style' column, so styles cannot be filtered")
                checked = True
            for record in records:
                if limit is not None and len(seen) >= int(limit):
                    return
                listed = _text(record.get(url_column))
                try:
                    key = _row_key(record, listed)
                except InvalidValueError as exc:
                    skipped.warn("%s", exc)
                    continue
                if key in seen:
                    if seen[key] != listed:
                        skipped.warn(
                            "image URL %s has the key %r of the earlier %s; add a 'key' column to keep both",
                            listed, key, seen[key],
                        )
                    continue
                if wanted_artists is not None and key.partition("/")[0] not in wanted_artists:
                    continue
                if wanted_styles is not None:
                    row_styles = {s.strip().lower() for s in str(record.get(style_column) or "").split("|")}
                    if not row_styles & wanted_styles:
                        continue
                seen[key] = listed
                item = PlannedImage(
                    key=key,
                    url=_text(record.get("url")),
                    image_url=listed,
                    request_url=None,
                    file=f"{FILES_DIR}/{keys.key_to_filename(key, suffix)}",
                )
                if listed is None:
                    item.problem = "no_image_url"
                else:
                    try:
                        item.request_url = normalise_url(listed, size=size)
                    except InvalidValueError as exc:
                        logger.debug("%s: %s", key, exc)
                        item.problem = "invalid_url"
                yield item
    finally:
        skipped.close()


def plan_downloads(workspace: Workspace, **options: Any) -> list[PlannedImage]:
    """Return the artworks to fetch as a list; see :func:`iter_planned` for the options."""
    return list(iter_planned(workspace, **options))
