"""Running the studio under waitress: one process, request threads, one generation worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .app import create_app
from ..errors import InvalidValueError
from ..generate.gallery import best_lora
from ..model.loading import resolve_lora_file, resolve_model_reference
from ..model.loading import workspace_model as default_model
from .choices import check_port, check_queue_size

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
REQUEST_THREADS = 8
MODEL_LOAD_TIMEOUT_S = 3600


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
    """Fill in the model (``d2a.toml`` or ``models/tiny``) and the best LoRA of ``runs/``, and check them.

    Raise :class:`~demographic2art.errors.UserError` subclasses before anything loads.
    They cover a port outside 0 to 65535, a queue size below 1 and a model or LoRA path
    that does not exist. They also cover a hub id that is neither cached nor reachable,
    an empty or corrupt LoRA file and an unreadable ``runs/best.json``.
    """
    check_port(port)
    check_queue_size(queue_size)
    model = resolve_model_reference(model or default_model(workspace))
    lora = lora or best_lora(workspace)
    if lora is not None:
        lora = resolve_lora_file(lora)
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
    threads: int | None = None,
    on_ready=None,
) -> None:
    """Serve the studio with waitress until interrupted.

    The model and LoRA load before the server listens, so a model that cannot load ends
    here with a :class:`~demographic2art.errors.UserError` instead of a server that
    returns 503 for every job. ``port`` 0 takes any free port; ``on_ready(settings)``
    runs once the socket is bound, with the port actually used. ``threads`` sets torch's
    intra-op threads in the generation worker (see :mod:`demographic2art.generate.threads`).
    """
    from waitress.server import create_server

    from ..generate.threads import torch_threads

    settings = resolve_settings(workspace, model=model, lora=lora, host=host, port=port, queue_size=queue_size)
    torch_threads(threads)  # checks the value and D2A_TORCH_THREADS before the model loads
    app = create_app(
        workspace, model=settings.model, lora=settings.lora, queue_size=queue_size, device=device, threads=threads
    )
    queue = app.extensions["d2a_queue"]
    try:
        _wait_for_model(queue)
        try:
            server = create_server(app, host=host, port=port, threads=REQUEST_THREADS)
        except OSError as exc:
            raise InvalidValueError(
                f"failed to listen on {host}:{port} ({exc.strerror or exc}); choose another --port or --host"
            ) from None
        settings = replace(settings, port=int(server.effective_port))
        if on_ready is not None:
            on_ready(settings)
        logger.info("serving %s (model %s, LoRA %s)", settings.url, settings.model, settings.lora)
        try:
            server.run()
        finally:
            server.close()
    finally:
        queue.stop()


def _wait_for_model(queue) -> None:
    """Block until the worker has loaded the generator; re-raise the error of a failed load.

    A :class:`~demographic2art.errors.UserError` (missing model, corrupt LoRA) becomes one
    line on the command line; any other error keeps its traceback.
    """
    queue.wait_ready(MODEL_LOAD_TIMEOUT_S)
    if queue.ready:
        return
    if queue.load_exception is not None:
        raise queue.load_exception
    raise InvalidValueError(f"the model did not load within {MODEL_LOAD_TIMEOUT_S} s; check the model and --device")
