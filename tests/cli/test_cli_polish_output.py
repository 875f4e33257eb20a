"""Output through a pipe, third-party log filters, images check and failed-command workspaces."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from PIL import Image

from demographic2art import logs
from demographic2art.cli.analysis import _uses_workspace
from demographic2art.cli.common import DEFAULT, WorkspaceOption
from demographic2art.cli.main import main
from demographic2art.reporting import record_counts, reported_command

ARTISTS_CSV = """Name,url_name,Birth Date,Death Date,Nationality,Art Movement,Wikipedia
Ilse Varga,ilse-varga,"May 1, 1850","June 2, 1910",Hungarian,Realism,
Tomas Bruel,tomas-bruel,1880,1950,Belgian,Fauvism,
"""
ARTWORKS_HEADER = "url,Date,image_url,Style,Genre\n"
BASE = "https://www.wikiart.org/en"


def _artwork(slug: str, painting: str, style: str = "Realism") -> str:
    return f"{BASE}/{slug}/{painting},1890,https://uploads.example/{slug}/{painting}.jpg,{style},landscape\n"


def _write_tables(folder: Path) -> tuple[Path, Path]:
    """Write an invented catalog: 6 rows read, 1 exact duplicate, 1 conflicting url, 1 invalid url."""
    artists = folder / "artists.csv"
    artworks = folder / "artworks.csv"
    artists.write_text(ARTISTS_CSV, encoding="utf-8")
    rows = [
        _artwork("ilse-varga", "river-1890"),
        _artwork("ilse-varga", "river-1890"),
        _artwork("ilse-varga", "mill"),
        _artwork("ilse-varga", "mill", style="Impressionism"),
        _artwork("tomas-bruel", "harbour"),
        "not-a-wikiart-url,1900,https://uploads.example/x.jpg,Realism,landscape\n",
    ]
    artworks.write_text(ARTWORKS_HEADER + "".join(rows), encoding="utf-8")
    return artists, artworks


def _d2a_piped(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "demographic2art", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_piped_output_keeps_long_paths_whole(tmp_path):
    artists, artworks = _write_tables(tmp_path)
    workspace = tmp_path / ("a-rather-long-study-folder-name-" * 3) / "workspace"
    result = _d2a_piped("catalog", "build", "--artists-csv", str(artists), "--artworks-csv", str(artworks),
                        "-w", str(workspace), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"problems: {workspace}/catalog/problems.json" in result.stdout.splitlines()


def test_catalog_summary_dropped_rows_add_up(tmp_path):
    artists, artworks = _write_tables(tmp_path)
    result = _d2a_piped("catalog", "build", "--artists-csv", str(artists), "--artworks-csv", str(artworks),
                        "-w", str(tmp_path / "ws"), cwd=tmp_path)
    first = result.stdout.splitlines()[0]
    assert first == (
        "catalog: 2 artists, 3 artworks from 6 rows "
        "(3 rows dropped: 1 duplicate rows, 1 conflicting duplicate urls, 1 invalid urls)"
    )


def test_catalog_summary_counts_selection(tmp_path):
    from demographic2art.catalog.build import build_catalog

    artists, artworks = _write_tables(tmp_path)
    summary = build_catalog(str(tmp_path / "ws"), artists, artworks, artists=["tomas-bruel"])
    assert summary.dropped["not selected by --artist or --limit"] == 2
    assert sum(summary.dropped.values()) == summary.artwork_rows_read - summary.artworks


def test_catalog_run_record_has_counts(tmp_path):
    artists, artworks = _write_tables(tmp_path)
    workspace = tmp_path / "ws"
    assert main(["catalog", "build", "--artists-csv", str(artists), "--artworks-csv", str(artworks), "-w", str(workspace)]) == 0
    records = [json.loads(p.read_text()) for p in (workspace / "jobs" / "commands").glob("*.json")]
    assert [r["command"] for r in records] == ["catalog build"]
    assert records[0]["counts"]["artworks"] == 3
    assert records[0]["counts"]["dropped invalid urls"] == 1


def test_status_prints_counts_of_catalog_run(tmp_path):
    artists, artworks = _write_tables(tmp_path)
    workspace = tmp_path / "ws"
    main(["catalog", "build", "--artists-csv", str(artists), "--artworks-csv", str(artworks), "-w", str(workspace)])
    result = _d2a_piped("status", "-w", str(workspace), cwd=tmp_path)
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("catalog build"))
    assert "artworks 3" in line
    assert "no counts" not in line


def _records_of(logger_name: str, message: str, level: int = logging.WARNING) -> list[logging.LogRecord]:
    captured: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            captured.append(record)

    handler = Keep(level=logging.DEBUG)
    # transformers and diffusers stop propagation at their library loggers once imported,
    # so the handler sits on the emitting logger and on the filter module's logger.
    targets = [logging.getLogger(logger_name), logging.getLogger(logs.__name__)]
    previous = [(target, target.level, target.propagate) for target in targets]
    for target in targets:
        target.addHandler(handler)
        target.setLevel(logging.DEBUG)
        target.propagate = False
    try:
        logs.install_log_filters()
        logging.getLogger(logger_name).log(level, message)
    finally:
        for target, level_before, propagate_before in previous:
            target.removeHandler(handler)
            target.setLevel(level_before)
            target.propagate = propagate_before
    return captured


TORCHVISION_WARNING = (
    "`CLIPImageProcessor` requires torchvision (not installed); falling back to `CLIPImageProcessorPil` "
    "for backward compatibility."
)
LORA_WARNING = (
    "No LoRA keys associated to CLIPTextModel found with the prefix='text_encoder'. This is safe to ignore "
    "if LoRA state dict didn't originally have any CLIPTextModel related params."
)


def test_filter_drops_torchvision_warning():
    assert _records_of(logs.TORCHVISION_LOGGER, TORCHVISION_WARNING) == []


def test_filter_keeps_other_transformers_warnings():
    records = _records_of(logs.TORCHVISION_LOGGER, "some other warning")
    assert [r.getMessage() for r in records] == ["some other warning"]


def test_filter_demotes_lora_warning_to_debug():
    records = _records_of(logs.LORA_LOGGER, LORA_WARNING)
    assert [(r.name, r.levelno) for r in records] == [("demographic2art.logs", logging.DEBUG)]


def test_filter_matches_only_its_logger():
    records = _records_of("diffusers.other", LORA_WARNING)
    assert [r.levelno for r in records] == [logging.WARNING]


def test_filters_are_installed_once():
    logs.install_log_filters()
    logs.install_log_filters()
    filters = [f for f in logging.getLogger(logs.LORA_LOGGER).filters if isinstance(f, logs.MessageFilter)]
    assert len(filters) == 1


def test_piped_command_quiets_transformers_warning(tmp_path):
    # The warning is logged through the logger transformers uses, inside a real d2a process.
    code = (
        "import logging, sys\n"
        "import demographic2art.cli.main\n"
        "cli = sys.modules['demographic2art.cli.main']\n"
        "from demographic2art.cli.common import console\n"
        "@cli.app.command('emit-test')\n"
        "def emit():\n"
        f"    logging.getLogger({logs.TORCHVISION_LOGGER!r}).warning({TORCHVISION_WARNING!r})\n"
        "    logging.getLogger('transformers.other').warning('kept warning')\n"
        "    import os; console.print(os.environ.get('TQDM_DISABLE'))\n"
        "sys.exit(cli.main(['emit-test']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "requires torchvision" not in result.stderr
    assert "kept warning" in result.stderr
    assert result.stdout.strip() == "1"


def test_progress_bars_stay_on_for_terminal(monkeypatch):
    class Terminal:
        def isatty(self):
            return True

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert logs.quiet_progress_bars(Terminal()) is False


def _jpeg_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 30, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_images_check_flags_extension_mismatch(tmp_path, capsys):
    (tmp_path / "photo.png").write_bytes(_jpeg_bytes())
    status = main(["images", "check", "--json", str(tmp_path / "photo.png")])
    record = json.loads(capsys.readouterr().out)
    assert status == 0
    assert record["status"] == "ok"
    assert "extension_mismatch" in record["flags"]


def test_images_check_matching_extension_has_no_flag(tmp_path, capsys):
    (tmp_path / "photo.jpg").write_bytes(_jpeg_bytes())
    main(["images", "check", "--json", str(tmp_path / "photo.jpg")])
    record = json.loads(capsys.readouterr().out)
    assert "extension_mismatch" not in record["flags"]


def test_images_check_exits_1_on_rejected(tmp_path):
    (tmp_path / "good.jpg").write_bytes(_jpeg_bytes())
    (tmp_path / "text.jpg").write_text("not an image", encoding="utf-8")
    assert main(["images", "check", str(tmp_path)]) == 1


def test_images_check_exits_2_on_missing_path(tmp_path):
    assert main(["images", "check", str(tmp_path / "absent")]) == 2


def test_failed_command_leaves_no_new_workspace(tmp_path):
    workspace = tmp_path / "new-study"
    status = main(["demographics", "extract", "-w", str(workspace)])
    assert status == 2
    assert not workspace.exists()


def test_failed_command_keeps_existing_workspace(tmp_path):
    workspace = tmp_path / "study"
    workspace.mkdir()
    (workspace / "notes.txt").write_text("mine", encoding="utf-8")
    main(["demographics", "extract", "-w", str(workspace)])
    assert (workspace / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_failed_command_keeps_new_workspace_with_outputs(tmp_path):
    from demographic2art.workspace import Workspace, forget_new_workspaces, remove_new_skeletons

    forget_new_workspaces()
    workspace = Workspace(tmp_path / "made").create()
    workspace.storage.write_text("catalog/partial.json", "{}")
    assert remove_new_skeletons() == []
    assert (tmp_path / "made" / "catalog" / "partial.json").exists()


@pytest.mark.parametrize("explicit", [False, True], ids=["default-workspace", "given-workspace"])
def test_out_without_workspace_writes_no_record(tmp_path, monkeypatch, explicit):
    # A small real typer app with the analyze command's record rule, so no images are analysed.
    app = typer.Typer()

    @app.command()
    @reported_command("analyze", record_when=_uses_workspace)
    def analyze(workspace: WorkspaceOption = DEFAULT, images_dir: str = typer.Option(None), out: str = typer.Option(None), notify: list[str] = typer.Option(None)):
        record_counts({"images": 2})

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("D2A_WORKSPACE", raising=False)
    args = ["--images-dir", str(tmp_path), "--out", str(tmp_path / "report")]
    if explicit:
        args += ["-w", str(tmp_path / "chosen")]
    app(args, standalone_mode=False)
    default_records = list((tmp_path / "d2a-workspace").glob("jobs/commands/*.json"))
    chosen_records = [json.loads(p.read_text()) for p in (tmp_path / "chosen").glob("jobs/commands/*.json")]
    assert default_records == []
    assert [r["counts"] for r in chosen_records] == ([{"images": 2}] if explicit else [])


def test_closed_stdout_ends_quietly_with_sigpipe_status(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(_jpeg_bytes())
    process = subprocess.Popen([sys.executable, "-m", "demographic2art", "images", "check", "--json", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The reader goes away before the first line is written, as `| head -0` would.
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
