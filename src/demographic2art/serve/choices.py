"""Values for the page's pickers, and the model and LoRA a server starts with."""

from __future__ import annotations

import logging
import math
from typing import Any

from ..errors import InvalidValueError

logger = logging.getLogger(__name__)

DEFAULT_CHOICES: dict[str, list[Any]] = {
    "gender": ["female", "male"],
    "nationality": ["American", "British", "Dutch", "French", "German", "Italian", "Japanese", "Russian", "Spanish"],
    "birth_decade": list(range(1800, 1960, 10)),
    "style": ["Baroque", "Cubism", "Expressionism", "Impressionism", "Realism", "Romanticism", "Surrealism"],
    "genre": ["landscape", "portrait", "still life", "genre painting", "abstract", "cityscape"],
}
MAX_CHOICES = 200
MAX_PORT = 65535


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
            values = flatten_values(frame[column].tolist())
            if column == "birth_year":
                decades = sorted({int(float(v)) // 10 * 10 for v in values if _is_number(v)})
                if decades:
                    choices["birth_decade"] = decades[:MAX_CHOICES]
                continue
            texts = sorted({text for text in (_clean_text(v) for v in values) if text})
            if texts:
                choices[column] = texts[:MAX_CHOICES]
    return choices


def flatten_values(values: list[Any]) -> list[Any]:
    """Return the scalar items of a column's values, with list-valued cells expanded.

    Catalog fields such as ``genre`` contain a list per row, which is a numpy array after
    a Parquet round trip. Each item becomes a choice of its own. Text that spells a
    list, such as ``"['landscape', 'portrait']"``, is parsed the same way. Missing
    values are dropped.
    """
    flat: list[Any] = []
    for value in values:
        if value is None:
            continue
        if isinstance(value, str):
            parsed = _parse_list_text(value)
            if parsed is not None:
                flat.extend(flatten_values(parsed))
                continue
        elif hasattr(value, "tolist") and not isinstance(value, (int, float)):
            value = value.tolist()
        if isinstance(value, (list, tuple, set, frozenset)):
            flat.extend(flatten_values(list(value)))
        elif not (isinstance(value, float) and math.isnan(value)):
            flat.append(value)
    return flat


def _parse_list_text(text: str) -> list[Any] | None:
    """Return the items of text written as a Python or JSON list, or None for other text."""
    import ast

    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return None
    try:
        parsed = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return list(parsed) if isinstance(parsed, (list, tuple)) else None


def _clean_text(value: Any) -> str:
    return str(value).strip()


def _is_number(value: Any) -> bool:
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def check_model_folder(model: str) -> None:
    """Raise a clear error unless ``model`` is a pipeline folder or an available hub id.

    See :func:`demographic2art.model.loading.resolve_model_reference` for the rules.
    """
    from ..model.loading import check_model_reference

    check_model_reference(model)


def check_port(port: int) -> None:
    """Raise :class:`InvalidValueError` unless ``port`` is 0 (any free port) or 1 to 65535."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= MAX_PORT:
        raise InvalidValueError(f"--port {port} is invalid; use 1 to {MAX_PORT}, or 0 for any free port")


def check_queue_size(queue_size: int) -> None:
    """Raise :class:`InvalidValueError` unless the queue has room for at least one job."""
    if queue_size < 1:
        raise InvalidValueError(f"--queue-size {queue_size} is invalid; use 1 or more")
