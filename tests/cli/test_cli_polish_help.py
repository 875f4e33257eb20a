"""Help texts of every command: defaults shown whole, option names not cut, -v as a count flag."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from demographic2art.cli.main import app


def _command_paths(command, path=()):
    yield list(path)
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


COMMAND_PATHS = list(_command_paths(typer.main.get_command(app)))


@pytest.fixture(scope="module")
def help_texts() -> dict[str, str]:
    runner = CliRunner()
    texts = {}
    for path in COMMAND_PATHS:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, result.output
        texts[" ".join(path) or "d2a"] = result.output
    return texts


def test_help_walk_finds_subcommands():
    assert ["images", "download"] in COMMAND_PATHS
    assert ["train"] in COMMAND_PATHS


def test_help_has_no_dangling_period(help_texts):
    dangling = [
        f"{command}: {line.strip()}"
        for command, text in help_texts.items()
        for line in text.splitlines()
        if line.rstrip(" │").endswith(" .")
    ]
    assert dangling == []


def test_help_cuts_no_option_name(help_texts):
    cut = [f"{command}: {line.strip()}" for command, text in help_texts.items() for line in text.splitlines() if "…" in line]
    assert cut == []


def test_help_shows_bracketed_defaults(help_texts):
    assert "LoRA alpha [default: the rank]." in help_texts["train"]


def test_help_shows_long_option_whole(help_texts):
    assert "--webdataset-shard-size" in help_texts["images download"]


def test_help_shows_verbose_as_count_flag(help_texts):
    line = next(line for line in help_texts["d2a"].splitlines() if "--verbose" in line)
    assert "<int>" not in line
    assert "-vv" in line


def test_help_images_check_documents_exit_status(help_texts):
    text = " ".join(help_texts["images check"].split())
    assert "0 when every file is ok, 1 when any file is rejected, 2 for bad input" in text


def test_verbose_count_flag_is_accepted(tmp_path):
    result = CliRunner().invoke(app, ["-vv", "status", "-w", str(tmp_path / "none")])
    assert "No such command" not in result.output
