"""Values for the page's pickers, and the model and LoRA a server starts with."""

from __future__ import annotations

import logging
from typing import Any

from ..attribute_values import workspace_values
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

    The values come from :func:`..attribute_values.workspace_values`; a picker whose
    table or column is missing keeps its default values.
    """
    choices = {key: list(values) for key, values in DEFAULT_CHOICES.items()}
    for key, values in workspace_values(workspace).items():
        if key in choices:
            choices[key] = values[:MAX_CHOICES]
    return choices


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
