"""Flask application of the generation studio: JSON API, gallery route and the page.

Routes::

    GET  /                         the studio page
    POST /api/jobs                 enqueue a generation (202, Location: /api/jobs/<id>)
    GET  /api/jobs/<id>            state, step i of N, queue position, result URLs, parameters
    POST /api/jobs/<id>/cancel     cancel a queued or running job
    GET  /api/history              the jobs held in memory, newest first
    POST /api/prompt               prompt built from picker values, with its token count
    GET  /api/choices              picker values
    GET  /gallery/<name>           a generated PNG (or its JSON sidecar)

Every state-changing route is POST only and rejects cross-site requests.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, render_template, request, url_for
from pydantic import ValidationError

from ..captions.templates import TEMPLATES, ArtistAttributes, ArtworkFields, compose_caption
from ..captions.tokens import CAPTION_TOKENS, count_tokens
from ..generate import GenerationParams
from .choices import picker_choices
from .jobs import JOB_ID_PATTERN, JobQueue, ServiceUnavailableError
from .paths import gallery_relpath

logger = logging.getLogger(__name__)

ATTRIBUTE_FIELDS = ("gender", "nationality", "birth_decade", "movement", "style", "genre")
MAX_ATTRIBUTE_CHARS = 100
MAX_BODY_BYTES = 64 * 1024
SAME_SITE_FETCH = ("same-origin", "none")


class RequestError(Exception):
    """A bad request, returned as 400 JSON naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def create_app(
    workspace,
    *,
    model: str | None = None,
    lora: str | None = None,
    queue_size: int = 16,
    history_size: int = 50,
    device: str | None = None,
    generator=None,
) -> Flask:
    """Build the studio app and start its generation worker.

    ``generator`` is an already loaded :class:`~demographic2art.generate.Generator` (or an
    object with its interface); without it the worker loads ``Generator(model, lora,
    device=device)`` in its own thread, and ``POST /api/jobs`` answers 503 until it is
    ready. ``app.extensions["d2a_queue"]`` holds the :class:`JobQueue`; call its ``stop()``
    to end the worker.
    """
    if generator is None and model is None:
        raise ValueError("create_app needs a model path or a loaded generator")

    def load_generator():
        if generator is not None:
            return generator
        from ..generate import Generator

        return Generator(model, lora, device=device)

    workspace.create()
    queue = JobQueue(workspace.storage, load_generator, queue_size=queue_size, history_size=history_size).start()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    # Keep '//' in paths as sent, so '/gallery//etc/passwd' is a 404 and not a redirect.
    app.url_map.merge_slashes = False
    app.extensions["d2a_queue"] = queue
    app.extensions["d2a_workspace"] = workspace
    tokenizer = _TokenCounter(queue)
    choices = picker_choices(workspace)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        )
        return response

    @app.before_request
    def _reject_cross_site() -> Response | None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if not _same_site(request):
            return _error(403, "cross_site", "cross-site requests are rejected; use the studio page on this host")
        return None

    @app.errorhandler(RequestError)
    def _bad_request(exc: RequestError):
        return _error(400, "invalid_value", exc.message, field=exc.field)

    @app.errorhandler(ServiceUnavailableError)
    def _unavailable(exc: ServiceUnavailableError):
        # The body is exactly {"error": <code>} so clients can match it; the message goes to the log.
        logger.info("rejected a job with 503 %s: %s", exc.code, exc)
        response = jsonify({"error": exc.code})
        response.status_code = 503
        response.headers["Retry-After"] = str(max(1, int(exc.retry_after_s)))
        return response

    @app.errorhandler(404)
    def _not_found(exc):
        return _error(404, "not_found", "no such resource")

    @app.errorhandler(405)
    def _method_not_allowed(exc):
        return _error(405, "method_not_allowed", f"{request.method} is not allowed here")

    @app.errorhandler(413)
    def _too_large(exc):
        return _error(413, "too_large", f"request bodies are limited to {MAX_BODY_BYTES} bytes")

    @app.errorhandler(500)
    def _internal(exc):
        logger.error("request %s %s failed", request.method, request.path)
        return _error(500, "internal_error", "the server failed to handle the request")

    @app.get("/")
    def index():
        return render_template(
            "index.html",
            choices=choices,
            templates=range(len(TEMPLATES)),
            max_tokens=CAPTION_TOKENS,
        )

    @app.get("/api/choices")
    def api_choices():
        return jsonify(choices)

    @app.post("/api/jobs")
    def api_submit():
        body = _json_body()
        attributes = _attributes(body.pop("attributes", None))
        if "prompt" not in body and attributes:
            body["prompt"] = _compose(attributes, template=0)
        params = _params(body)
        loaded = queue.generator
        if loaded is not None and params.lora_weight != 1.0 and loaded.lora_name is None:
            raise RequestError("lora_weight", "lora_weight was set but no LoRA is loaded; leave it at 1")
        job = queue.submit(params, attributes)
        location = url_for("api_job", job_id=job.id)
        response = jsonify({"id": job.id, "state": job.state, "url": location})
        response.status_code = 202
        response.headers["Location"] = location
        return response

    @app.get("/api/jobs/<job_id>")
    def api_job(job_id: str):
        record = queue.get(job_id) if JOB_ID_PATTERN.match(job_id) else None
        if record is None:
            return _error(404, "not_found", f"job {job_id} was not found")
        return jsonify(_with_urls(record))

    @app.post("/api/jobs/<job_id>/cancel")
    def api_cancel(job_id: str):
        job = queue.cancel(job_id) if JOB_ID_PATTERN.match(job_id) else None
        if job is None:
            return _error(404, "not_found", f"job {job_id} is not active or was not found")
        logger.info("job %s cancel requested (state %s)", job.id, job.state)
        return jsonify({"id": job.id, "state": job.state, "cancel_requested": True})

    @app.get("/api/history")
    def api_history():
        return jsonify({"jobs": [_with_urls(r) for r in queue.history()], "history_size": queue.history_size})

    @app.post("/api/prompt")
    def api_prompt():
        body = _json_body()
        template = body.pop("template", 0)
        if isinstance(template, bool) or not isinstance(template, int) or not 0 <= template < len(TEMPLATES):
            raise RequestError("template", f"template must be an integer from 0 to {len(TEMPLATES) - 1}")
        if "prompt" in body:
            prompt = body.pop("prompt")
            if not isinstance(prompt, str):
                raise RequestError("prompt", "prompt must be a string")
        else:
            prompt = _compose(_attributes(body), template=template)
        return jsonify({"prompt": prompt, "tokens": tokenizer.count(prompt), "max_tokens": CAPTION_TOKENS})

    @app.get("/gallery/<name>")
    def gallery(name: str):
        storage = workspace.storage
        relpath = gallery_relpath(storage, name)
        if relpath is None:
            return _error(404, "not_found", "no such image")
        mimetype = "image/png" if name.endswith(".png") else "application/json"
        response = Response(storage.read_bytes(relpath), mimetype=mimetype)
        response.headers["Cache-Control"] = "public, max-age=86400, immutable"
        return response

    return app


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def _same_site(req) -> bool:
    """Return True unless ``Sec-Fetch-Site`` or ``Origin`` shows a request from another site."""
    fetch_site = req.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in SAME_SITE_FETCH:
        return False
    origin = req.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == req.host.lower()


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise RequestError("body", "send a JSON object with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise RequestError("body", "the body is not a JSON object")
    return body


def _params(body: dict[str, Any]) -> GenerationParams:
    try:
        return GenerationParams.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise RequestError(field, f"{field}: {first['msg']}") from None


def _attributes(raw: Any) -> dict[str, Any]:
    """Return the picker values of a request, checked and with empty values dropped."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RequestError("attributes", "attributes must be a JSON object")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in ATTRIBUTE_FIELDS:
            raise RequestError(f"attributes.{key}", f"unknown attribute {key!r}; use one of {', '.join(ATTRIBUTE_FIELDS)}")
        if value is None or value == "":
            continue
        if key == "birth_decade":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise RequestError("attributes.birth_decade", "birth_decade must be a year such as 1840") from None
            if not -3000 <= value <= 2100:
                raise RequestError("attributes.birth_decade", "birth_decade must lie between -3000 and 2100")
            value = value // 10 * 10
        elif not isinstance(value, str) or len(value) > MAX_ATTRIBUTE_CHARS:
            raise RequestError(f"attributes.{key}", f"{key} must be text of at most {MAX_ATTRIBUTE_CHARS} characters")
        values[key] = value
    return values


def _compose(attributes: dict[str, Any], *, template: int) -> str:
    artist = ArtistAttributes(
        gender=attributes.get("gender"),
        nationality=attributes.get("nationality"),
        birth_decade=attributes.get("birth_decade"),
        movement=attributes.get("movement"),
    )
    artwork = ArtworkFields(style=attributes.get("style"), genre=attributes.get("genre"))
    return compose_caption(artwork, artist, template=template)


def _with_urls(record: dict[str, Any]) -> dict[str, Any]:
    record = dict(record)
    record["result_urls"] = [f"/gallery/{name}" for name in record.get("results", [])]
    record["url"] = f"/api/jobs/{record['id']}"
    return record


class _TokenCounter:
    """Counts prompt tokens with a private copy of the pipeline's tokenizer.

    The worker thread uses the pipeline's own tokenizer, so request threads use a copy,
    behind a lock, and never touch the worker's.
    """

    def __init__(self, queue: JobQueue) -> None:
        self._queue = queue
        self._tokenizer = None
        self._lock = threading.Lock()

    def count(self, text: str) -> int | None:
        """Return the caption token count, or None while the model is still loading."""
        with self._lock:
            if self._tokenizer is None:
                if self._queue.generator is None:
                    return None
                self._tokenizer = copy.deepcopy(self._queue.generator.pipeline.tokenizer)
            return count_tokens(self._tokenizer, text)
