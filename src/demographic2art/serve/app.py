"""Flask application of the generation studio: JSON API, gallery route and the page.

Routes::

    GET  /                         the studio page
    POST /api/jobs                 enqueue a generation (202, Location: /api/jobs/<id>)
    GET  /api/jobs/<id>            state, step i of N, queue position, result URLs, parameters
    POST /api/jobs/<id>/cancel     cancel a queued or running job (409 once it has ended)
    GET  /api/history              the jobs held in memory, newest first
    POST /api/prompt               prompt built from picker values, with its token count
    GET  /api/choices              picker values
    POST /api/compare              queue an A/B comparison with controls (202)
    GET  /api/compare/<id>         the comparison's grid: per seed, one cell per group
    GET  /api/models               the workspace's LoRAs (training runs), best first
    GET  /gallery/<name>           a generated PNG (or its JSON sidecar); ?download=1 as attachment
    GET  /favicon.ico              204, so browsers log no 404 for the icon

Every state-changing route is POST only and rejects cross-site requests.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, render_template, request, url_for
from pydantic import ValidationError

from ..captions.templates import TEMPLATES, ArtistAttributes, ArtworkFields, compose_caption
from ..captions.tokens import CAPTION_TOKENS, count_tokens
from ..errors import UserError
from ..generate import GenerationParams
from .choices import picker_choices
from .compare import DEFAULT_SEEDS, ComparisonBoard
from .jobs import JOB_ID_PATTERN, JobFinishedError, JobQueue, ServiceUnavailableError
from .models import list_models
from .paths import gallery_relpath

logger = logging.getLogger(__name__)

ATTRIBUTE_FIELDS = ("gender", "nationality", "birth_decade", "movement", "style", "genre")
MAX_ATTRIBUTE_CHARS = 100
MAX_BODY_BYTES = 64 * 1024
SAME_SITE_FETCH = ("same-origin", "none")
# Pydantic error types of a wrong JSON type, and what the field needs instead.
STRICT_TYPE_NAMES = {
    "int_type": "an integer (a JSON number without a fraction, not a string or boolean)",
    "float_type": "a number (a JSON number, not a string or boolean)",
    "string_type": "a string",
}


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
    threads: int | None = None,
) -> Flask:
    """Build the studio app and start its generation worker.

    ``generator`` is an already loaded :class:`~demographic2art.generate.Generator` (or an
    object with its interface); without it the worker loads a
    :class:`~demographic2art.serve.models.StudioGenerator` with the workspace's runs as
    switchable LoRAs and ``lora`` active by default, in its own thread, and
    ``POST /api/jobs`` returns 503 until it is ready. ``app.extensions["d2a_queue"]``
    holds the :class:`JobQueue`; call its ``stop()`` to end the worker. ``threads`` sets
    torch's intra-op threads in the worker thread (default: ``D2A_TORCH_THREADS``, else
    the CPUs this process may use; see :mod:`demographic2art.generate.threads`).
    """
    if generator is None and model is None:
        raise ValueError("create_app needs a model path or a loaded generator")

    def load_generator():
        from ..generate.threads import set_torch_threads

        # Runs in the worker thread, which is the thread whose OpenMP thread count matters.
        set_torch_threads(threads)
        if generator is not None:
            return generator
        from .models import StudioGenerator

        loras, default = _workspace_loras(workspace, lora)
        return StudioGenerator(model, loras, default=default, device=device)

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
    board = ComparisonBoard(workspace.storage, queue)
    app.extensions["d2a_comparisons"] = board

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

    @app.errorhandler(UserError)
    def _user_error(exc: UserError):
        return _error(400, "invalid_value", str(exc))

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

    @app.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    @app.get("/api/choices")
    def api_choices():
        return jsonify(choices)

    @app.post("/api/jobs")
    def api_submit():
        body = _json_body()
        attributes = _attributes(body.pop("attributes", None))
        if attributes and _prompt_absent(body):
            body["prompt"] = _compose(attributes, template=0)
        lora = _lora_choice(queue, body.pop("lora", None))
        params = _params(body)
        loaded = queue.generator
        if loaded is not None and params.lora_weight != 1.0 and lora is None and loaded.lora_name is None:
            raise RequestError("lora_weight", "lora_weight was set but no LoRA is loaded; leave it at 1")
        job = queue.submit(params, attributes, lora=lora)
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
        try:
            job = queue.cancel(job_id) if JOB_ID_PATTERN.match(job_id) else None
        except JobFinishedError as exc:
            return _error(409, "job_finished", str(exc), state=exc.state)
        if job is None:
            return _error(404, "not_found", f"job {job_id} is not active or was not found")
        logger.info("job %s cancel requested (state %s)", job.id, job.state)
        return jsonify({"id": job.id, "state": job.state, "cancel_requested": True})

    @app.get("/api/history")
    def api_history():
        return jsonify({"jobs": [_with_urls(r) for r in queue.history()], "history_size": queue.history_size})

    @app.post("/api/compare")
    def api_compare():
        body = _json_body()
        group_a = _group(body.pop("a", None), "a")
        group_b = _group(body.pop("b", None), "b")
        artwork = _attributes(body.pop("artwork", None))
        extra = [key for key in artwork if key not in ("style", "genre")]
        if extra:
            raise RequestError(f"artwork.{extra[0]}", "artwork takes style and genre only")
        lora = _lora_choice(queue, body.pop("lora", None))
        seeds = _seeds(body)
        templates = body.pop("templates", 1)
        if isinstance(templates, bool) or not isinstance(templates, int):
            raise RequestError("templates", f"templates must be an integer from 1 to {len(TEMPLATES)}")
        name = body.pop("name", None)
        if name is not None and not isinstance(name, str):
            raise RequestError("name", "name must be a string")
        for key in ("prompt", "seed", "lora_weight", "batch_size", "attributes"):
            if key in body:
                raise RequestError(key, f"{key} is set by the comparison; leave it out")
        # Validate the shared settings once here, so errors name the field.
        _params({**body, "prompt": "check"})
        comparison = board.submit(
            group_a, group_b, artwork=artwork, seeds=seeds, templates=templates, lora=lora, name=name or None, settings=body
        )
        location = url_for("api_compare_get", comparison_id=comparison.id)
        response = jsonify(comparison.to_record())
        response.status_code = 202
        response.headers["Location"] = location
        return response

    @app.get("/api/compare/<comparison_id>")
    def api_compare_get(comparison_id: str):
        record = board.get(comparison_id) if JOB_ID_PATTERN.match(comparison_id) else None
        if record is None:
            return _error(404, "not_found", f"comparison {comparison_id} was not found")
        return jsonify(record)

    @app.get("/api/models")
    def api_models():
        loaded = queue.generator
        runs = [{key: run[key] for key in ("name", "final_loss", "validation_loss", "best")} for run in list_models(workspace)]
        return jsonify(
            {
                "model": getattr(loaded, "model_name", None),
                "active": getattr(loaded, "lora_name", None),
                "loaded": list(getattr(loaded, "loaded", [])),
                "available": sorted(getattr(loaded, "loras", {}) or {}),
                "runs": runs,
            }
        )

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
        if request.args.get("download") == "1":
            # The name matched GALLERY_NAME, so it needs no quoting in the header.
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
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


def _prompt_absent(body: dict[str, Any]) -> bool:
    """Return whether ``body`` has no prompt, or one that is empty or only whitespace.

    The page sends its prompt field even when the user left it empty and picked attributes.
    A prompt of another JSON type counts as present, so strict validation rejects it.
    """
    if "prompt" not in body:
        return True
    prompt = body["prompt"]
    return isinstance(prompt, str) and not prompt.strip()


def _params(body: dict[str, Any]) -> GenerationParams:
    """Validate generation parameters in strict mode.

    JSON types must match: ``true`` is not an integer, ``1.5`` is not a seed and ``"7"``
    is not a number, so no value is coerced into something the client did not send.
    """
    try:
        return GenerationParams.model_validate(body, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise RequestError(field, _field_message(field, first)) from None


def _field_message(field: str, error: dict[str, Any]) -> str:
    """Return one sentence naming ``field``, what it must be and the JSON value received."""
    import json

    expected = STRICT_TYPE_NAMES.get(error["type"])
    if expected is None:
        return f"{field}: {error['msg']}"
    try:
        received = json.dumps(error.get("input"))
    except (TypeError, ValueError):
        received = repr(error.get("input"))
    return f"{field} must be {expected}, got {received[:100]}"


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
            value = _birth_decade(value)
            if not -3000 <= value <= 2100:
                raise RequestError("attributes.birth_decade", "birth_decade must lie between -3000 and 2100")
            value = value // 10 * 10
        elif not isinstance(value, str) or len(value) > MAX_ATTRIBUTE_CHARS:
            raise RequestError(f"attributes.{key}", f"{key} must be text of at most {MAX_ATTRIBUTE_CHARS} characters")
        values[key] = value
    return values


def _birth_decade(value: Any) -> int:
    """Return a birth decade given as a JSON integer or as digits in a string (the page's select sends text)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise RequestError("attributes.birth_decade", "birth_decade must be a year such as 1840 (an integer)")


def _group(raw: Any, side: str) -> dict[str, Any]:
    """Return the artist attributes of one comparison group."""
    try:
        values = _attributes(raw)
    except RequestError as exc:
        raise RequestError(f"{side}.{exc.field.removeprefix('attributes.')}", exc.message) from None
    extra = [key for key in values if key in ("style", "genre")]
    if extra:
        raise RequestError(f"{side}.{extra[0]}", f"{extra[0]} is shared by both groups; send it under artwork")
    if not values:
        raise RequestError(side, f"group {side} needs at least one attribute, e.g. {{\"gender\": \"female\"}}")
    return values


def _seeds(body: dict[str, Any]) -> list[int]:
    """Return the comparison's seeds: ``seeds`` as given, else ``n_images`` from ``seed``."""
    from .compare import MAX_SEEDS

    if "seeds" in body:
        seeds = body.pop("seeds")
        if not isinstance(seeds, list) or not seeds or len(seeds) > MAX_SEEDS:
            raise RequestError("seeds", f"seeds must be a list of 1 to {MAX_SEEDS} integers")
        for seed in seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2**32 - 1:
                raise RequestError("seeds", f"seed {seed!r} is invalid; use integers from 0 to 4294967295")
        if len(set(seeds)) != len(seeds):
            raise RequestError("seeds", "seeds repeat; pass distinct seeds")
        return seeds
    start = body.pop("seed", 0)
    count = body.pop("n_images", DEFAULT_SEEDS)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SEEDS:
        raise RequestError("n_images", f"n_images must be an integer from 1 to {MAX_SEEDS}")
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= 2**32 - count:
        raise RequestError("seed", "seed must be an integer from 0 to 4294967295 less the image count")
    return list(range(start, start + count))


def _lora_choice(queue: JobQueue, raw: Any) -> str | None:
    """Return the requested LoRA name after checking the generator has it; None for the default."""
    if raw is None or raw == "":
        return None
    available = getattr(queue.generator, "loras", None) or {}
    if not isinstance(raw, str) or raw not in available:
        choices = ", ".join(sorted(available)) or "none (this server has no switchable LoRAs)"
        raise RequestError("lora", f"unknown LoRA {str(raw)[:100]!r}; choose one of: {choices}")
    return raw


def _workspace_loras(workspace, lora: str | None) -> tuple[dict[str, str], str | None]:
    """Return the LoRAs a server can switch between and the name of the default one."""
    import os
    from pathlib import Path

    from ..generate.gallery import lora_run_name

    loras = {run["name"]: run["lora"] for run in list_models(workspace)}
    if lora is None:
        return loras, None
    for name, path in loras.items():
        if os.path.realpath(path) == os.path.realpath(lora) or os.path.realpath(str(Path(path).parent)) == os.path.realpath(lora):
            return loras, name
    path = Path(lora)
    name = lora_run_name(workspace, lora) or (path.parent.parent.name if path.parent.name == "lora" else path.stem)
    loras[name] = str(path)
    return loras, name


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
