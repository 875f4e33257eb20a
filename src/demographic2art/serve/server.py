"""Running the studio under waitress: one process, request threads, one generation worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .app import create_app
from ..generate.gallery import best_lora
from ..model.loading import workspace_model as default_model
from .choices import check_model_folder, check_queue_size

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
REQUEST_THREADS = 8


@dataclass(frozen=True)
class ServeSettings:
    """Settings of a server: the resolved model and LoRA, and the address it listens on."""

    model: str
    lora: str | None
    host: str
    port: int
    queue_size: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def resolve_settings(
    workspace,
    *,
    model: str | None = None,
    lora: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    queue_size: int = 16,
) -> ServeSettings:
    """Fill in the model (``d2a.toml`` or ``models/tiny``) and the best LoRA of ``runs/``."""
    check_queue_size(queue_size)
    model = model or default_model(workspace)
    check_model_folder(model)
    lora = lora or best_lora(workspace)
    return ServeSettings(model=model, lora=lora, host=host, port=port, queue_size=queue_size)


def serve(
    workspace,
    *,
    model: str | None = None,
    lora: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    queue_size: int = 16,
    device: str | None = None,
    on_ready=None,
) -> None:
    """Serve the studio with waitress until interrupted; ``on_ready(settings)`` runs before it listens."""
    import waitress

    settings = resolve_settings(workspace, model=model, lora=lora, host=host, port=port, queue_size=queue_size)
    app = create_app(workspace, model=settings.model, lora=settings.lora, queue_size=queue_size, device=device)
    queue = app.extensions["d2a_queue"]
    if on_ready is not None:
        on_ready(settings)
    logger.info("serving %s (model %s, LoRA %s)", settings.url, settings.model, settings.lora)
    try:
        waitress.serve(app, host=host, port=port, threads=REQUEST_THREADS)
    finally:
        queue.stop()
