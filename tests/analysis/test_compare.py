"""Portfolio comparison on the tiny model, and the command-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demographic2art.analysis.compare import compare_groups, parse_group
from demographic2art.cli.main import main
from demographic2art.errors import InvalidValueError


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    from demographic2art.model.tiny import save_tiny_model

    return str(save_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny"))


@pytest.fixture(scope="module")
def comparison(tiny_model, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("compare-ws")
    return compare_groups(
        workspace,
        [{"gender": "female"}, {"gender": "male"}],
        model=tiny_model,
        n_images=4,
        steps=2,
        n_boot=100,
        n_perm=49,
        c2st_perm=19,
        name="gender",
    )


def test_compare_writes_stats_and_report(comparison):
    folder = Path(comparison.folder)
    assert folder.name == "gender"
    assert folder.parent.name == "portfolios"
    stats = pd.read_csv(folder / "stats.csv")
    pairs = set(zip(stats["group_a"], stats["group_b"]))
    assert pairs == {("gender=female", "gender=male"), ("gender=female", "neutral"), ("gender=male", "neutral")}
    assert set(stats["test"]) == {"wilcoxon"}
    assert set(stats["n_a"]) == {4}
    text = (folder / "stats.json").read_text()
    assert "NaN" not in text
    summary = json.loads(text)
    assert summary["stand_in_model"] is True
    assert len(summary["whole_set"]) == 3


def test_compare_report_has_banner_and_figures(comparison):
    page = (Path(comparison.folder) / "report.html").read_text()
    assert page.index("stand-in model") < page.index("<h1>")
    assert page.count("data:image/png;base64,") == 9


def test_compare_groups_share_seeds_and_settings(comparison):
    manifest = json.loads((Path(comparison.folder) / "manifest.json").read_text())
    by_group: dict[str, list[int]] = {}
    for record in manifest["images"]:
        by_group.setdefault(record["group"], []).append(record["seed"])
    assert by_group == {"gender=female": [1000, 1001, 1002, 1003], "gender=male": [1000, 1001, 1002, 1003], "neutral": [1000, 1001, 1002, 1003]}
    assert manifest["settings"]["steps"] == 2
    assert manifest["lora_sha256"] is None
    assert "diffusers" in manifest["packages"]
    assert len(list((Path(comparison.folder) / "images").rglob("*.png"))) == 12


def test_compare_prompts_cycle_templates(comparison):
    manifest = json.loads((Path(comparison.folder) / "manifest.json").read_text())
    female = [r["prompt"] for r in manifest["images"] if r["group"] == "gender=female"]
    neutral = [r["prompt"] for r in manifest["images"] if r["group"] == "neutral"]
    assert female[0] == "a painting by a female artist"
    assert len(set(female)) == 4
    assert neutral[1] == "a painting, painted by an artist"


def test_parse_group_forms():
    assert parse_group("gender=female,nationality=French") == {"gender": "female", "nationality": "French"}
    with pytest.raises(InvalidValueError, match="attribute=value"):
        parse_group("female")


def test_compare_rejects_unknown_attribute(tmp_path):
    with pytest.raises(InvalidValueError, match="unknown group attribute 'colour'"):
        compare_groups(tmp_path, [{"colour": "red"}, {"gender": "male"}], model="unused")


def _run(argv: list[str], capsys) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().err


def test_cli_compare_one_group_exits_2(tmp_path, capsys):
    status, err = _run(["compare", "-w", str(tmp_path), "--group", "gender=female"], capsys)
    assert status == 2
    assert err.strip().count("\n") == 0
    assert "at least 2" in err


def test_cli_analyze_unknown_column_exits_2(tmp_path, capsys):
    status, err = _run(["analyze", "-w", str(tmp_path), "--group-by", "colour"], capsys)
    assert status == 2
    assert "unknown group-by column 'colour'" in err


def test_cli_analyze_missing_folder_exits_2(tmp_path, capsys):
    status, err = _run(["analyze", "-w", str(tmp_path), "--images-dir", str(tmp_path / "absent")], capsys)
    assert status == 2
    assert "does not exist" in err


def test_cli_analyze_real_paintings(shared_data, tmp_path, capsys):
    argv = ["analyze", "-w", str(tmp_path / "ws"), "--images-dir", str(shared_data / "images"), "--group", "baroque", "--group", "symbolism", "--out", str(tmp_path / "out"), "--n-boot", "50", "--n-perm", "19", "--c2st-perm", "9"]
    status = main(argv)
    output = capsys.readouterr().out
    assert status == 0
    assert "baroque: 57, symbolism: 57" in output
    assert (tmp_path / "out" / "stats.csv").exists()


@pytest.fixture(scope="module")
def random_lora(tiny_model, tmp_path_factory) -> str:
    """A LoRA with random non-zero weights on the tiny UNet's attention layers.

    It is built with PEFT instead of trained, because the comparison only needs an
    adapter that changes the images. The training stage has its own tests.
    """
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(tiny_model, subfolder="unet")
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False)
    unet.add_adapter(config)
    folder = tmp_path_factory.mktemp("lora")
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(str(folder), unet_lora_layers=layers, safe_serialization=True)
    return str(folder / "pytorch_lora_weights.safetensors")


def test_compare_with_lora_adds_weight_zero_control(tiny_model, random_lora, tmp_path):
    import hashlib

    result = compare_groups(
        tmp_path,
        [{"nationality": "French"}, {"nationality": "Japanese"}],
        model=tiny_model,
        lora=random_lora,
        n_images=2,
        steps=2,
        templates=2,
        n_boot=20,
        n_perm=19,
        c2st_perm=9,
    )
    assert result.name == "nationality-french-vs-nationality-japanese"
    assert result.manifest["controls"] == ["neutral", "nationality=French (LoRA weight 0)"]
    assert result.manifest["lora_sha256"] == hashlib.sha256(Path(random_lora).read_bytes()).hexdigest()
    weights = {record["group"]: record["lora_weight"] for record in result.manifest["images"]}
    assert weights["nationality=French (LoRA weight 0)"] == 0.0
    assert weights["nationality=French"] == 1.0
    pairs = set(zip(result.stats["group_a"], result.stats["group_b"]))
    assert ("nationality=French", "nationality=French (LoRA weight 0)") in pairs
    french = result.features[result.features["group"] == "nationality=French"]["value_mean"].to_numpy()
    base = result.features[result.features["group"] == "nationality=French (LoRA weight 0)"]["value_mean"].to_numpy()
    assert not np.allclose(french, base)


def test_cli_compare_tiny_model(tiny_model, tmp_path, capsys):
    argv = [
        "compare", "-w", str(tmp_path), "--model", tiny_model, "--group", "gender=female", "--group", "gender=male",
        "--n-images", "2", "--steps", "1", "--name", "cli", "--n-boot", "20", "--n-perm", "19", "--c2st-perm", "9",
    ]
    status = main(argv)
    output = capsys.readouterr().out
    assert status == 0
    assert "portfolio cli: 2 groups x 2 images" in output
    assert "tiny stand-in" in output
    assert (tmp_path / "portfolios" / "cli" / "report.html").exists()
