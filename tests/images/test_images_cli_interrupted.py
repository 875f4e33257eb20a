"""The statistics table of an interrupted `d2a images download`, and the two Ray address spellings."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import pandas as pd
import pytest
import typer
from server import ScriptedServer
from test_images_progress import JPEG, ROUTES, ok_route

from demographic2art.cli.main import app, main

PATHS = [f"/cli-stop/painting-{n:02d}.jpg" for n in range(16)]
SLOW_ROUTES = {path: [ok_route(JPEG, delay_s=0.25)] for path in PATHS}


def _send_sigint_after(server: ScriptedServer, requests: int) -> threading.Thread:
    """Send SIGINT to this process once ``requests`` requests reached ``server``.

    The download installs its SIGINT handler in the main thread, where pytest runs the
    test, so the signal stops the run the way Ctrl-C does.
    """

    def wait_then_signal() -> None:
        deadline = time.monotonic() + 120
        while len(server.log) < requests and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=wait_then_signal, daemon=True)
    thread.start()
    return thread


def _download_argv(tmp_path, server, routes, *extra: str) -> list[str]:
    source = tmp_path / "source.csv"
    pd.DataFrame({"image_url": [server.url(p) for p in routes]}).to_csv(source, index=False)
    return ["images", "download", "-w", str(tmp_path / "ws"), "--source", str(source), "--ignore-robots",
            "--retries", "0", "--no-progress", *extra]


def _table_rows(out: str) -> list[list[str]]:
    """Return the cells of each row of the statistics table, header first."""
    lines = out.split("download statistics", 1)[1].splitlines()
    rows = []
    for line in lines:
        cells = [cell.strip() for cell in re.split("[│┃]", line)]
        if len(cells) > 2:
            rows.append([cell for cell in cells if cell])
    return rows


def test_interrupted_table_first_row(tmp_path, capsys):
    with ScriptedServer({"routes": SLOW_ROUTES}) as server:
        argv = _download_argv(tmp_path, server, SLOW_ROUTES, "--concurrency", "1", "--processes", "0")
        signaller = _send_sigint_after(server, 2)
        code = main(argv)
        signaller.join(timeout=5)
    out = capsys.readouterr().out
    rows = _table_rows(out)
    assert code == 130
    assert rows[0] == ["item", "value"]
    assert rows[1][0] == "state"
    assert re.fullmatch(rf"interrupted after \d+ of {len(PATHS)} images", rows[1][1])


def test_finished_table_first_row(tmp_path, capsys):
    with ScriptedServer({"routes": ROUTES}) as server:
        code = main(_download_argv(tmp_path, server, ROUTES, "--processes", "0"))
    rows = _table_rows(capsys.readouterr().out)
    assert code == 0
    assert rows[1] == ["state", "finished"]


@pytest.mark.slow
@pytest.mark.ray
def test_ray_sigint_interrupted_table(tmp_path, capsys, ray_cluster):
    with ScriptedServer({"routes": SLOW_ROUTES}) as server:
        argv = _download_argv(tmp_path, server, SLOW_ROUTES, "--engine", "ray", "--shard-size", "1",
                              "--concurrency", "1")
        signaller = _send_sigint_after(server, 2)
        code = main(argv)
        signaller.join(timeout=5)
        requests = len(server.log)
    rows = _table_rows(capsys.readouterr().out)
    assert code == 130
    assert rows[1][1].startswith("interrupted after ")
    assert requests < len(PATHS)


def _command(*names: str):
    command = typer.main.get_command(app)
    for name in names:
        command = command.commands[name]
    return command


@pytest.mark.parametrize("spelling", ["--address", "--ray-address"])
def test_download_address_spellings(spelling):
    context = _command("images", "download").make_context("download", [spelling, "ray://head:10001"])
    assert context.params["address"] == "ray://head:10001"


@pytest.mark.parametrize("spelling", ["--address", "--ray-address"])
def test_sweep_address_spellings(spelling):
    context = _command("sweep").make_context("sweep", [spelling, "auto"])
    assert context.params["ray_address"] == "auto"


@pytest.mark.parametrize("names", [("images", "download"), ("sweep",)])
def test_help_lists_both_spellings(names, capsys):
    code = main([*names, "--help"])
    out = capsys.readouterr().out
    assert code == 0
    assert "--address" in out
    assert "--ray-address" in out
