"""Read the WikiArt ``artists.csv`` and ``artworks.csv(.gz)`` tables into cleaned DataFrames.

Column names become snake_case (``Birth Date`` -> ``birth_date``, matched without regard
to case). Text cells go through :func:`~demographic2art.catalog.text.clean_text`, and
``|``-separated cells become lists through
:func:`~demographic2art.catalog.text.split_list`. ``url``, ``image_url`` and the artists'
link columns are only stripped of surrounding white space.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import InvalidValueError, MissingFileError
from ..keys import normalise_slug
from .text import clean_text, split_list

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

ARTIST_LIST_COLUMNS = (
    "nationality",
    "art_movement",
    "genre",
    "field",
    "influenced_by",
    "influenced_on",
    "painting_school",
    "friends_and_co_workers",
    "family_and_relatives",
    "pupils",
    "teachers",
    "art_institution",
)
ARTIST_TEXT_COLUMNS = ("name", "birth_date", "death_date", "birth_place", "death_place")
ARTIST_LINK_COLUMNS = ("url_name", "wikipedia", "official_site")

ARTWORK_LIST_COLUMNS = ("genre", "media", "tags")
ARTWORK_TEXT_COLUMNS = (
    "create_date",
    "create_location",
    "date",
    "style",
    "theme",
    "location",
    "series",
    "period",
)
ARTWORK_LINK_COLUMNS = ("url", "image_url")


def read_artists_csv(path: str | os.PathLike[str]) -> "pd.DataFrame":
    """Read ``artists.csv`` into a cleaned DataFrame with one row per CSV row.

    Adds ``artist_key`` (the normalised ``url_name``, so ``en/thomas-fearnley`` gives
    ``thomas-fearnley``). Rows are kept as they are, duplicated url_names included.
    Raises :class:`MissingFileError` for a missing file and :class:`InvalidValueError`
    when the ``name`` or ``url_name`` column is missing.
    """
    frame = _read_csv(path)
    _require_columns(frame, path, ("name", "url_name"))
    for column in ARTIST_TEXT_COLUMNS:
        frame[column] = _map_unique(frame, column, clean_text)
    for column in ARTIST_LINK_COLUMNS:
        frame[column] = _map_unique(frame, column, str.strip)
    for column in ARTIST_LIST_COLUMNS:
        frame[column] = _map_unique(frame, column, split_list)
    frame["artist_key"] = _map_unique(frame, "url_name", normalise_slug)
    return frame


def read_artworks_csv(path: str | os.PathLike[str]) -> "pd.DataFrame":
    """Read ``artworks.csv`` or ``artworks.csv.gz`` into a cleaned DataFrame, one row per CSV row.

    Duplicate rows are kept (see :func:`~demographic2art.catalog.build.build_catalog`
    for deduplication). ``style`` stays text and ``styles`` contains its ``|`` items;
    ``genre``, ``media`` and ``tags`` become lists. Missing optional columns are
    added empty. Raises :class:`MissingFileError` for a missing file and
    :class:`InvalidValueError` when the ``url`` column is missing.
    """
    frame = _read_csv(path)
    _require_columns(frame, path, ("url",))
    for column in ARTWORK_LINK_COLUMNS:
        frame[column] = _map_unique(frame, column, str.strip)
    frame["styles"] = _map_unique(frame, "style", split_list)
    for column in ARTWORK_TEXT_COLUMNS:
        frame[column] = _map_unique(frame, column, clean_text)
    for column in ARTWORK_LIST_COLUMNS:
        frame[column] = _map_unique(frame, column, split_list)
    return frame


def _read_csv(path: str | os.PathLike[str]) -> "pd.DataFrame":
    import pandas as pd

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingFileError(f"CSV file {path} does not exist; check the path")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
    except (ValueError, OSError) as exc:
        # The pyarrow reader rejects some irregular quoting that the C reader accepts.
        logger.info("pyarrow could not read %s (%s); reading it with the C engine", path, exc)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [_snake_case(column) for column in frame.columns]
    logger.info("read %d rows from %s", len(frame), path)
    return frame


def _snake_case(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(column).strip().lower()).strip("_")


def _require_columns(frame: "pd.DataFrame", path, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InvalidValueError(
            f"{os.fspath(path)} has no column {', '.join(missing)}; "
            f"expected a WikiArt table with columns such as {', '.join(columns)}"
        )


def _map_unique(frame: "pd.DataFrame", column: str, function: Callable) -> "pd.Series":
    """Apply ``function`` once per distinct value of ``column`` (an empty column when absent)."""
    import pandas as pd

    if column not in frame.columns:
        values = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    else:
        values = frame[column].fillna("")
    mapping = {value: function(value) for value in values.unique()}
    return pd.Series([mapping[value] for value in values], index=frame.index, dtype=object)
