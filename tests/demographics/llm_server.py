"""An OpenAI-compatible HTTP server on 127.0.0.1 for the LLM extractor's tests and benchmarks.

It serves ``POST /v1/chat/completions``, the batch routes (``POST /v1/files``, ``POST /v1/batches``,
``GET /v1/batches/<id>``, ``GET /v1/files/<id>/content``) and runs one thread per connection.
A test decides each reply with ``script``: replies queued per marker text (the first queued
reply whose marker occurs in the user message is used once), else ``responder``.
A reply is a :class:`Reply` (status, headers, JSON body, delay) or a completion dict.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    """One HTTP reply: status, extra headers, JSON body (or raw bytes) and a delay before sending, in seconds."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None


def completion(content: str | None = None, *, finish_reason: str = "stop", refusal: str | None = None,
               prompt_tokens: int = 800, completion_tokens: int = 120) -> dict[str, Any]:
    """Return a chat completion body with one choice."""
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1733300000, "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": refusal},
                     "logprobs": None, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def answer_json(**fields: Any) -> str:
    """Return a schema-valid answer; each keyword sets one field's object, the others are all null."""
    empty = {
        "birth_year": {"year": None, "approximate": None, "quote": None},
        "death_year": {"year": None, "approximate": None, "quote": None},
        "birth_place": {"place": None, "country": None, "quote": None},
        "death_place": {"place": None, "country": None, "quote": None},
        "gender": {"gender": None, "quote": None},
        "nationality": {"nationality": None, "quote": None},
        "education": None,
        "languages": None,
        "affiliations": None,
        "residences": None,
        "interactions": None,
        "ethnicity": {"value": None, "quote": None},
        "religion": {"value": None, "quote": None},
    }
    empty.update(fields)
    return json.dumps(empty)


def null_responder(request: dict[str, Any]) -> Reply:
    """Answer every request with an all-null valid answer."""
    return Reply(body=completion(answer_json()))


class LLMTestServer:
    """The server, started on an ephemeral port in a daemon thread; use as a context manager."""

    def __init__(self, responder: Callable[[dict[str, Any]], Reply | dict] = null_responder, batch_polls: int = 1):
        self.responder = responder
        self.script: list[tuple[str, Reply | dict]] = []
        self.requests: list[dict[str, Any]] = []
        self.request_times: list[float] = []
        self.headers: list[dict[str, str]] = []
        self.batch_polls = batch_polls
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.active = 0
        self.max_active = 0
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = _BackloggedServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The ``/v1`` URL to pass as ``base_url``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "LLMTestServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def queue(self, marker: str, *replies: Reply | dict) -> None:
        """Queue replies for requests whose user message contains ``marker``, used in order, once each."""
        with self.lock:
            self.script.extend((marker, reply) for reply in replies)

    def chat_request_times(self) -> list[float]:
        """Return the ``time.monotonic()`` arrival times of the chat completion requests, in arrival order."""
        with self.lock:
            return list(self.request_times)

    def chat_requests(self) -> list[dict[str, Any]]:
        """Return the chat completion request bodies received so far."""
        with self.lock:
            return list(self.requests)

    def reply_for(self, body: dict[str, Any]) -> Reply:
        """Return the scripted reply for a chat completion request body."""
        text = json.dumps(body.get("messages", [])[1:], ensure_ascii=False)
        with self.lock:
            self.requests.append(body)
            for index, (marker, reply) in enumerate(self.script):
                if marker in text:
                    del self.script[index]
                    break
            else:
                reply = None
        if reply is None:
            reply = self.responder(body)
        return reply if isinstance(reply, Reply) else Reply(body=reply)

    def run_batch(self, batch: dict[str, Any]) -> None:
        """Answer every line of a batch's input file and store the output and error files."""
        output, errors = [], []
        for line in self.files[batch["input_file_id"]].decode().splitlines():
            request = json.loads(line)
            reply = self.reply_for(request["body"])
            row = {"id": f"batch_req_{next(self.ids)}", "custom_id": request["custom_id"],
                   "response": {"status_code": reply.status, "body": reply.body}, "error": None}
            (output if reply.status == 200 else errors).append(json.dumps(row))
        for name, lines in (("output_file_id", output), ("error_file_id", errors)):
            if lines:
                file_id = f"file-{next(self.ids)}"
                self.files[file_id] = ("\n".join(lines) + "\n").encode()
                batch[name] = file_id


class _BackloggedServer(ThreadingHTTPServer):
    # The listen backlog is read in the constructor, so it is set on the class: with the default
    # of 5, a burst of 64 or more new connections gets some of them reset.
    request_queue_size = 1024
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    fake: LLMTestServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, reply: Reply) -> None:
        if reply.delay_s:
            time.sleep(reply.delay_s)
        data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        with self.fake.lock:
            self.fake.headers.append(dict(self.headers))
        if self.path == "/v1/chat/completions":
            with self.fake.lock:
                self.fake.request_times.append(time.monotonic())
                self.fake.active += 1
                self.fake.max_active = max(self.fake.max_active, self.fake.active)
            try:
                self._send(self.fake.reply_for(json.loads(data)))
            finally:
                with self.fake.lock:
                    self.fake.active -= 1
        elif self.path == "/v1/files":
            message = email.parser.BytesParser().parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + data
            )
            parts = {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                     for part in message.get_payload()}
            file_id = f"file-{next(self.fake.ids)}"
            self.fake.files[file_id] = parts["file"]
            self._send(Reply(body={"id": file_id, "object": "file", "purpose": parts["purpose"].decode()}))
        elif self.path == "/v1/batches":
            request = json.loads(data)
            if request.get("input_file_id") not in self.fake.files:
                self._send(Reply(status=400, body={"error": {"message": "unknown input_file_id"}}))
                return
            batch_id = f"batch_{next(self.fake.ids)}"
            batch = {"id": batch_id, "object": "batch", "status": "validating", "polls": 0, **request}
            self.fake.batches[batch_id] = batch
            self._send(Reply(body=batch))
        else:
            self._send(Reply(status=404, body={"error": {"message": f"no route {self.path}"}}))

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[1] == "batches" and parts[2] in self.fake.batches:
            batch = self.fake.batches[parts[2]]
            batch["polls"] += 1
            if batch["polls"] >= self.fake.batch_polls and batch["status"] != "completed":
                self.fake.run_batch(batch)
                batch["status"] = "completed"
            else:
                batch["status"] = "in_progress" if batch["status"] != "completed" else "completed"
            self._send(Reply(body=batch))
        elif len(parts) == 4 and parts[1] == "files" and parts[3] == "content" and parts[2] in self.fake.files:
            self._send(Reply(raw=self.fake.files[parts[2]]))
        else:
            self._send(Reply(status=404, body={"error": {"message": f"no route {self.path}"}}))
