"""Input checks of compare and analyze: group values, earlier reports, and compare's time estimate."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from paintings import painting_like  # noqa: E402

from demographic2art.analysis.analyze import analyze_images  # noqa: E402
from demographic2art.analysis.group_values import check_group_values, known_group_values  # noqa: E402
from demographic2art.cli.main import main  # noqa: E402
from demographic2art.errors import InvalidValueError  # noqa: E402
from demographic2art.workspace import Workspace  # noqa: E402


@pytest.fixture
def study(tmp_path) -> Workspace:
    """An invented study with demographics and catalog tables but no images."""
    ws = Workspace(tmp_path / "study").create()
    people = pd.DataFrame(
        {
            "artist_key": ["ada-quill", "bram-osk", "cora-fenn"],
            "gender": ["female", "male", None],
            "nationality": ["Ruritanian", "Freedonian", "Ruritanian"],
            "birth_year": [1853, 1871, None],
        }
    )
    artworks = pd.DataFrame({"key": ["ada-quill/dawn"], "artist_key": ["ada-quill"], "style": ["Impressionism"]})
    ws.storage.write_parquet("demographics/demographics.parquet", people)
    ws.storage.write_parquet("catalog/artworks.parquet", artworks)
    return ws


def test_known_values_from_tables(study):
    known = known_group_values(study)
    assert known["gender"] == ["female", "male"]
    assert known["nationality"] == ["Freedonian", "Ruritanian"]
    assert known["birth_decade"] == ["1850", "1870"]
    assert known["movement"] == ["Impressionism"]


def test_typo_value_rejected_closest_first(study):
    with pytest.raises(InvalidValueError) as caught:
        check_group_values(study, [{"gender": "femal"}, {"gender": "male"}])
    assert str(caught.value).startswith("gender 'femal' is not in this workspace's data; known: female, male;")


def test_unknown_value_lists_known(study):
    with pytest.raises(InvalidValueError) as caught:
        check_group_values(study, [{"gender": "female"}, {"nationality": "Atlantean"}])
    assert "nationality 'Atlantean' is not in this workspace's data; known: Ruritanian, Freedonian;" in str(caught.value)


def test_known_values_accepted(study):
    assert check_group_values(study, [{"gender": "female", "birth_decade": "1850"}, {"movement": "Impressionism"}]) is None


def test_values_unchecked_without_tables(tmp_path):
    ws = Workspace(tmp_path / "empty").create()
    assert check_group_values(ws, [{"gender": "alien"}]) is None


def test_cli_compare_unknown_value_exits_2(study, capsys):
    status = main(["compare", "-w", study.url, "--group", "gender=alien", "--group", "gender=male", "--model", "unused"])
    err = capsys.readouterr().err
    assert status == 2
    assert "gender 'alien' is not in this workspace's data" in err
    assert list(Path(study.local_path("portfolios")).glob("*/manifest.json")) == []


def test_cli_compare_new_values_allowed(study, tiny_model, capsys):
    argv = [
        "compare", "-w", study.url, "--model", tiny_model, "--group", "gender=alien", "--group", "gender=male",
        "--allow-new-values", "--n-images", "2", "--steps", "1", "--name", "hypothetical", "--no-controls",
        "--n-boot", "20", "--n-perm", "19", "--c2st-perm", "9",
    ]
    status = main(argv)
    output = capsys.readouterr().out
    assert status == 0
    assert "generating 4 images (2 groups x 2 seeds, 1 steps each) with the local engine" in output
    assert "the first image took" in output
    assert "compare took" in output


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    from demographic2art.model.tiny import save_tiny_model

    return str(save_tiny_model(tmp_path_factory.mktemp("inputs-tiny-model") / "tiny"))


@pytest.fixture
def styles_folder(tmp_path) -> Path:
    """Two invented styles of three painting-like images each."""
    for style, shift in (("ochre", 20), ("slate", 0)):
        folder = tmp_path / "styles" / style
        folder.mkdir(parents=True)
        for seed in range(3):
            Image.fromarray(painting_like(seed + shift, size=48, warm_shift=shift)).save(folder / f"{seed}.png")
    return tmp_path / "styles"


def _analyze(tmp_path, styles_folder, **options):
    return analyze_images(tmp_path / "ws", images_dir=styles_folder, n_boot=20, n_perm=19, c2st_perm=9, **options)


def test_analyze_rejects_earlier_report(tmp_path, styles_folder):
    _analyze(tmp_path, styles_folder)
    with pytest.raises(InvalidValueError) as caught:
        _analyze(tmp_path, styles_folder)
    assert "already contains an analysis report" in str(caught.value)
    assert "--overwrite" in str(caught.value)


def test_analyze_overwrite_replaces_report(tmp_path, styles_folder):
    first = _analyze(tmp_path, styles_folder)
    second = _analyze(tmp_path, styles_folder, overwrite=True)
    assert second.folder == first.folder
    assert Path(second.files["report.html"]).exists()


def test_analyze_out_folder_rejects_earlier_report(tmp_path, styles_folder):
    out = str(tmp_path / "report-out")
    _analyze(tmp_path, styles_folder, out=out)
    with pytest.raises(InvalidValueError):
        _analyze(tmp_path, styles_folder, out=out)


def test_cli_analyze_earlier_report_exits_2(tmp_path, styles_folder, capsys):
    argv = ["analyze", "-w", str(tmp_path / "ws"), "--images-dir", str(styles_folder), "--n-boot", "20", "--n-perm", "19", "--c2st-perm", "9"]
    assert main(argv) == 0
    capsys.readouterr()
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert "already contains an analysis report" in err
