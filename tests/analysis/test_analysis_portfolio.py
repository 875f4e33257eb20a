"""A portfolio saved in the portfolios/<name>/ layout (as the web app writes it) is analysed without generating."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from paintings import painting_like  # noqa: E402

from demographic2art.analysis.compare import analyze_portfolio, read_portfolio  # noqa: E402
from demographic2art.cli.main import main  # noqa: E402
from demographic2art.errors import MissingFileError  # noqa: E402
from demographic2art.workspace import Workspace  # noqa: E402

SEEDS = list(range(500, 512))


def _png(array) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def studio_workspace(tmp_path_factory):
    """An invented studio portfolio: women's images warmer, the neutral control like men's."""
    ws = Workspace(tmp_path_factory.mktemp("studio") / "ws").create()
    records = []
    for group, folder, variant, shift in (("gender=female", "female", 1, 40), ("gender=male", "male", 2, 0), ("neutral", "neutral", 3, 0)):
        for seed in SEEDS:
            relpath = f"portfolios/studio/images/{folder}/{seed}.png"
            ws.storage.write_bytes(relpath, _png(painting_like(seed, size=64, variant=variant, warm_shift=shift)))
            records.append({"group": group, "seed": seed, "file": relpath})
    ws.storage.write_json(
        "portfolios/studio/manifest.json",
        {"name": "studio", "groups": ["gender=female", "gender=male"], "controls": ["neutral"], "model": "studio model", "images": records},
    )
    return ws


@pytest.fixture(scope="module")
def studio_result(studio_workspace):
    return analyze_portfolio(studio_workspace, "studio", n_boot=200, n_perm=99, c2st_perm=49)


def test_saved_portfolio_images_read_in_order(studio_workspace):
    manifest, images = read_portfolio(studio_workspace, "studio")
    assert len(images) == 3 * len(SEEDS)
    assert images[0].size == (64, 64)
    assert manifest["images"][0]["seed"] == SEEDS[0]


def test_saved_portfolio_compares_pairs_and_controls(studio_result):
    pairs = set(zip(studio_result.stats["group_a"], studio_result.stats["group_b"]))
    assert pairs == {("gender=female", "gender=male"), ("gender=female", "neutral"), ("gender=male", "neutral")}
    assert set(studio_result.stats["test"]) == {"wilcoxon"}


def test_saved_portfolio_finds_warm_shift(studio_result):
    rows = studio_result.stats.set_index(["group_a", "group_b", "feature"])
    warm = rows.loc[("gender=female", "gender=male", "warm_cool")]
    assert warm["cliffs_delta"] > 0.474
    assert warm["significant"]


def test_saved_portfolio_whole_set_tests(studio_result):
    first = studio_result.multivariate[0]
    assert first["group_a"] == "gender=female"
    assert first["energy_p"] < 0.05
    assert first["c2st_p"] < 0.05


def test_saved_portfolio_report_settings(studio_result):
    page = Path(studio_result.files["report.html"]).read_text()
    assert "studio model" in page
    assert "stand-in model" not in page
    assert page.count("data:image/png;base64,") == 9


def test_cli_compare_from_portfolio(studio_workspace, capsys):
    code = main(["compare", "-w", studio_workspace.url, "--from-portfolio", "studio", "--n-boot", "50", "--n-perm", "19", "--c2st-perm", "9"])
    output = capsys.readouterr().out
    assert code == 0
    assert "gender=female vs gender=male: classifier accuracy" in output


def test_cli_compare_missing_portfolio(tmp_path, capsys):
    code = main(["compare", "-w", str(tmp_path / "ws"), "--from-portfolio", "absent"])
    assert code == 2
    assert "portfolios/absent/manifest.json is missing" in capsys.readouterr().err


def test_missing_portfolio_image_rejected(studio_workspace):
    studio_workspace.storage.write_json(
        "portfolios/broken/manifest.json",
        {"groups": ["a", "b"], "images": [{"group": "a", "seed": 1, "file": "portfolios/broken/images/a/1.png"}]},
    )
    with pytest.raises(MissingFileError, match="portfolio image portfolios/broken/images/a/1.png"):
        read_portfolio(studio_workspace, "broken")
