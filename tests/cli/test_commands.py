"""The command line: start-up time, help text and error handling."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMANDS = [
    ["catalog", "build"], ["images", "download"], ["images", "check"], ["bios", "import"],
    ["demographics", "extract"], ["demographics", "evaluate"], ["captions", "build"], ["model", "tiny"],
    ["train"], ["sweep"], ["generate"], ["serve"], ["compare"], ["analyze"], ["status"], ["demo"],
]


def _d2a(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "demographic2art", *args], capture_output=True, text=True, **kwargs)


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\nfrom demographic2art.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "-".join(c))
def test_every_command_has_help(command):
    result = _d2a(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_status_of_missing_workspace_exits_2(tmp_path):
    result = _d2a("status", "-w", str(tmp_path / "none"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "not a workspace" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_bad_value_exits_2(tmp_path):
    result = _d2a("train", "-w", str(tmp_path / "ws"), "--model", str(tmp_path), "--rank", "0")
    assert result.returncode == 2
    assert "rank" in result.stderr
    assert "Traceback" not in result.stderr


def test_generate_missing_model_exits_2(tmp_path):
    result = _d2a("generate", "a painting", "-w", str(tmp_path / "ws"), "--model", str(tmp_path / "absent"), "--no-lora")
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_bad_data_folder_exits_2(tmp_path):
    result = _d2a("demo", "-w", str(tmp_path / "ws"), "--data", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_value_exits_2_without_traceback(tmp_path):
    result = _d2a("images", "download", "--concurrency", "abc", "-w", str(tmp_path / "ws"))
    assert result.returncode == 2
    assert "--concurrency" in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_input_table_exits_2(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = _d2a("catalog", "build", "--artists-csv", str(empty), "--artworks-csv", str(empty), "-w", str(tmp_path / "ws"))
    assert result.returncode == 2
    assert "could not read an input table" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_parquet_source_exits_2(tmp_path):
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"not parquet")
    result = _d2a("images", "download", "--source", str(corrupt), "-w", str(tmp_path / "ws"))
    assert result.returncode == 2
    assert "ArrowInvalid" in result.stderr
    assert "Traceback" not in result.stderr


def test_workspace_that_is_a_file_exits_2(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = _d2a("status", "-w", str(blocker))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    result = _d2a("model", "tiny", "--out", str(blocker / "tiny"))
    assert result.returncode == 2
    assert "choose another path" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_refuses_other_data_in_same_workspace(tmp_path):
    from demographic2art.workspace import Workspace

    workspace = Workspace(tmp_path / "ws").create()
    workspace.record_settings("demo", {"data": "stand-in"})
    data = tmp_path / "data"
    for folder in ("wikiart", "images", "wikipedia/html"):
        (data / folder).mkdir(parents=True)
    (data / "wikiart" / "artists.csv").write_text("name,url_name\n")
    result = _d2a("demo", "-w", str(tmp_path / "ws"), "--data", str(data))
    assert result.returncode == 2
    assert "already contains a demo study of 'stand-in'" in result.stderr
    assert "Traceback" not in result.stderr


def test_out_of_range_option_is_one_line(tmp_path):
    result = _d2a("images", "download", "--max-side", "0", "-w", str(tmp_path / "ws"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 1
    assert lines[0].startswith("error: Invalid value for '--max-side': Input should be greater than or equal to 1")
    assert lines[0].endswith("images download --help'")


def test_unknown_option_is_one_line(tmp_path):
    result = _d2a("images", "download", "--no-such-option", "-w", str(tmp_path / "ws"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 1
    assert "--no-such-option" in lines[0]


def test_group_without_command_prints_its_help():
    result = _d2a("images")
    assert result.returncode == 2
    assert "download" in result.stdout + result.stderr
    assert "error:" not in result.stderr


def test_verbose_flag_after_the_command(tmp_path):
    from demographic2art.cli.main import _verbosity_first

    assert _verbosity_first(["images", "check", "a.jpg", "-vv"]) == ["-vv", "images", "check", "a.jpg"]
    assert _verbosity_first(["--verbose", "status", "-v"]) == ["--verbose", "-v", "status"]
    assert _verbosity_first(["generate", "--", "-v"]) == ["generate", "--", "-v"]
    result = _d2a("status", "-w", str(tmp_path / "none"), "-v")
    assert "No such option" not in result.stderr


def test_missing_argument_message_has_no_stray_period():
    result = _d2a("images", "check")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: Missing argument 'paths'; see 'python -m demographic2art images check --help'"
