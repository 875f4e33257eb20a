"""Values for the page's pickers, and the model and LoRA a server starts with."""

from __future__ import annotations

import logging
import math
from typing import Any

from ..errors import InvalidValueError, MissingFileError

logger = logging.getLogger(__name__)

DEFAULT_CHOICES: dict[str, list[Any]] = {
    "gender": ["female", "male"],
    "nationality": ["American", "British", "Dutch", "French", "German", "Italian", "Japanese", "Russian", "Spanish"],
    "birth_decade": list(range(1800, 1960, 10)),
    "style": ["Baroque", "Cubism", "Expressionism", "Impressionism", "Realism", "Romanticism", "Surrealism"],
    "genre": ["landscape", "portrait", "still life", "genre painting", "abstract", "cityscape"],
}
MAX_CHOICES = 200


def picker_choices(workspace) -> dict[str, list[Any]]:
    """Return the values offered by each picker, read from the workspace where present.

    Genders, nationalities and birth decades come from ``demographics/demographics.parquet``,
    styles and genres from ``catalog/artworks.parquet``; a missing table or column
    leaves that picker at its default values.
    """
    choices = {key: list(values) for key, values in DEFAULT_CHOICES.items()}
    storage = workspace.storage
    tables = {
        "demographics/demographics.parquet": ("gender", "nationality", "birth_year"),
        "catalog/artworks.parquet": ("style", "genre"),
    }
    for path, columns in tables.items():
        if not storage.exists(path):
            continue
        try:
            frame = storage.read_parquet(path)
        except Exception as exc:  # an unreadable table leaves the defaults in place
            logger.error("reading %s for the pickers failed: %s", path, exc)
            continue
        for column in columns:
            if column not in frame.columns:
                continue
            values = frame[column].dropna().tolist()
            if column == "birth_year":
                decades = sorted({int(v) // 10 * 10 for v in values if _is_number(v)})
                if decades:
                    choices["birth_decade"] = decades[:MAX_CHOICES]
                continue
            texts = sorted({str(v).strip() for v in values if str(v).strip()})
            if texts:
                choices[column] = texts[:MAX_CHOICES]
    return choices


def _is_number(value: Any) -> bool:
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def check_model_folder(model: str) -> None:
    """Raise :class:`MissingFileError` when a local model folder named by path is absent."""
    import os

    if (os.sep in model or model.startswith(".")) and not os.path.isdir(model):
        raise MissingFileError(
            f"model folder {model} does not exist; build one with 'd2a model tiny' or pass --model"
        )


def check_queue_size(queue_size: int) -> None:
    """Raise :class:`InvalidValueError` unless the queue has room for at least one job."""
    if queue_size < 1:
        raise InvalidValueError(f"--queue-size {queue_size} is invalid; use 1 or more")
