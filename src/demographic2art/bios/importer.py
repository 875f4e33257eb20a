"""Import saved Wikipedia pages into a workspace: ``bios/html/<artist_key>.html`` and ``bios/triage.parquet``."""

from __future__ import annotations

import logging
import lzma
import os
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator

from pydantic import BaseModel, Field

from ..errors import InvalidValueError, MissingFileError
from ..keys import normalise_slug
from ..workspace import Workspace
from .triage import triage_page

logger = logging.getLogger(__name__)

HTML_DIR = "bios/html"
TRIAGE_TABLE = "bios/triage.parquet"
TRIAGE_COLUMNS = ["artist_key", "kind", "language", "title", "wikidata_id", "reason", "candidates"]


class ImportSummary(BaseModel):
    """Counts from one :func:`import_pages` run."""

    imported: int = 0
    missing: list[str] = Field(default_factory=list)
    kinds: dict[str, int] = Field(default_factory=dict)
    triage_path: str = ""


def import_pages(
    workspace: Workspace, source_dir: str | os.PathLike[str], *, artists: Iterable[str] | None = None
) -> ImportSummary:
    """Copy saved pages into the workspace, triage each one and write ``bios/triage.parquet``.

    ``source_dir`` is a folder of ``<slug>.html`` files (or a folder containing ``html/``), or an
    ``html.tar.xz`` archive whose members are ``html/<slug>.html``. Only the members of the
    selected artists are extracted from an archive. ``artists`` selects artist keys (slugs are normalised);
    ``None`` imports every page. Selected artists without a page are listed in ``missing``.
    """
    import pandas as pd

    wanted = None if artists is None else {normalise_slug(a) for a in artists}
    rows = []
    found: set[str] = set()
    for artist_key, data in iter_saved_pages(source_dir, wanted):
        workspace.storage.write_bytes(f"{HTML_DIR}/{artist_key}.html", data)
        triage = triage_page(data.decode("utf-8", errors="replace"))
        found.add(artist_key)
        rows.append(
            {
                "artist_key": artist_key,
                "kind": triage.kind.value,
                "language": triage.language,
                "title": triage.title,
                "wikidata_id": triage.wikidata_id,
                "reason": triage.reason,
                "candidates": list(triage.candidates),
            }
        )
    rows.sort(key=lambda row: row["artist_key"])
    frame = pd.DataFrame(rows, columns=TRIAGE_COLUMNS)
    workspace.storage.write_parquet(TRIAGE_TABLE, frame)
    missing = sorted(wanted - found) if wanted is not None else []
    for key in missing:
        logger.warning("no saved page for artist %s in %s", key, source_dir)
    kinds = dict(Counter(row["kind"] for row in rows))
    logger.info("imported %d pages into %s: %s", len(rows), workspace.url, kinds)
    return ImportSummary(imported=len(rows), missing=missing, kinds=kinds, triage_path=TRIAGE_TABLE)


def iter_saved_pages(
    source: str | os.PathLike[str], wanted: set[str] | None = None
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(artist_key, page bytes)`` for each saved page of a folder or an ``html.tar.xz`` archive.

    ``wanted`` contains normalised artist keys to keep; ``None`` keeps every page. Folders are read
    in file-name order.
    """
    source = os.fspath(source)
    if not os.path.exists(source):
        raise MissingFileError(
            f"page source {source} does not exist; pass a folder of <slug>.html files or an html.tar.xz archive"
        )
    if os.path.isdir(source):
        folder = os.path.join(source, "html") if os.path.isdir(os.path.join(source, "html")) else source
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".html"):
                continue
            key = normalise_slug(name[: -len(".html")])
            if wanted is not None and key not in wanted:
                continue
            with open(os.path.join(folder, name), "rb") as handle:
                yield key, handle.read()
        return
    if not tarfile.is_tarfile(source):
        raise InvalidValueError(
            f"page source {source} is neither a folder nor a tar archive; pass a folder of html files or html.tar.xz"
        )
    try:
        with tarfile.open(source, "r:*") as archive:
            for member in archive:
                name = os.path.basename(member.name)
                if not member.isfile() or not name.endswith(".html"):
                    continue
                key = normalise_slug(name[: -len(".html")])
                if wanted is not None and key not in wanted:
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    yield key, handle.read()
    except (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, OSError) as exc:
        # A truncated .xz stream raises EOFError, which click would report as "Aborted!".
        raise InvalidValueError(
            f"page archive {source} is truncated or corrupt ({type(exc).__name__}: {exc}); "
            "download or pack the archive again"
        ) from exc
