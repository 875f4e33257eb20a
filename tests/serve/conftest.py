"""Fixtures of the web-app tests: the tiny model, a shared generator and live servers."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from demographic2art.serve import create_app
from demographic2art.workspace import Workspace

READY_TIMEOUT_S = 60
# Models come from local folders only; no test may reach the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny randomly initialised SD 1.x pipeline saved once per session."""
    from demographic2art.model.tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny")


@pytest.fixture(scope="session")
def generator(tiny_model):
    """One loaded generator, used by one app's worker thread at a time."""
    from demographic2art.generate import Generator

    return Generator(str(tiny_model), device="cpu")


@pytest.fixture
def make_app(tmp_path):
    """Return a factory of studio apps on fresh workspaces; workers stop at teardown."""
    apps = []

    def build(generator, *, workspace: Workspace | None = None, **options):
        workspace = workspace or Workspace(tmp_path / f"ws{len(apps)}")
        app = create_app(workspace, generator=generator, **options)
        apps.append(app)
        assert app.extensions["d2a_queue"].wait_ready(READY_TIMEOUT_S)
        return app

    yield build
    for app in apps:
        app.extensions["d2a_queue"].stop()


class LiveServer:
    """A waitress server on 127.0.0.1 with an ephemeral port, run in a thread."""

    def __init__(self, app, **options) -> None:
        from waitress.server import create_server

        self.server = create_server(app, host="127.0.0.1", port=0, **options)
        self.port = self.server.effective_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def live_server():
    """Return a starter of live servers; each is closed at teardown."""
    servers = []

    def start(app, **options) -> LiveServer:
        server = LiveServer(app, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
