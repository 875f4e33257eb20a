"""The generation studio: a Flask app with a job queue, served by waitress (``d2a serve``)."""

from .app import create_app
from ..generate.gallery import best_lora
from ..model.loading import workspace_model as default_model
from .choices import picker_choices
from .jobs import Job, JobQueue, ServiceUnavailableError, mark_interrupted
from .paths import gallery_relpath
from .server import ServeSettings, resolve_settings, serve

__all__ = [
    "Job",
    "JobQueue",
    "ServeSettings",
    "ServiceUnavailableError",
    "best_lora",
    "create_app",
    "default_model",
    "gallery_relpath",
    "mark_interrupted",
    "picker_choices",
    "resolve_settings",
    "serve",
]
