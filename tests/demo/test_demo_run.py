"""The whole study end to end: `d2a demo` on the stand-in and on the real data folder."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from PIL import Image

from demographic2art.workspace import Workspace

CATALOG_COLUMNS = {"key", "artist_key", "url", "image_url", "style", "year"}
MANIFEST_COLUMNS = {"key", "status", "reason", "sha256", "width", "height", "stored_width", "stored_height"}
DEMOGRAPHIC_COLUMNS = {"artist_key", "birth_year", "death_year", "gender", "nationality", "birth_place"}
CAPTION_COLUMNS = {"key", "artist_key", "file_name", "caption", "tokens", "split"}


def _run_demo(workspace, *extra):
    return subprocess.run(
        [sys.executable, "-m", "demographic2art", "demo", "-w", str(workspace), "--steps", "20", *extra],
        capture_output=True, text=True, timeout=900,
    )


def _check_outputs(root, note_start: str) -> Workspace:
    workspace = Workspace(root)
    storage = workspace.storage
    assert storage.read_text("STUDY.md").splitlines()[2].startswith(note_start)
    assert CATALOG_COLUMNS <= set(storage.read_parquet("catalog/artworks.parquet").columns)
    manifest = storage.read_parquet("images/manifest.parquet")
    assert MANIFEST_COLUMNS <= set(manifest.columns)
    ok = manifest[manifest["status"] == "ok"]
    assert len(ok) == len(manifest)
    for file in ok["file"].head(10):
        with Image.open(io.BytesIO(storage.read_bytes(file))) as image:
            image.load()
            assert image.mode == "RGB"
    demographics = storage.read_parquet("demographics/demographics.parquet")
    assert DEMOGRAPHIC_COLUMNS <= set(demographics.columns)
    captions = storage.read_parquet("captions/captions.parquet")
    assert CAPTION_COLUMNS <= set(captions.columns)
    assert captions["tokens"].max() <= 75
    assert not captions["caption"].str.contains("|".join(demographics["artist_key"].str.split("-").str[0]), regex=True).any()
    from safetensors.torch import load_file

    assert load_file(storage.local_path("runs/demo/lora/pytorch_lora_weights.safetensors"))
    kohya = load_file(storage.local_path("runs/demo/lora_kohya.safetensors"))
    assert all(key.startswith("lora_unet_") for key in kohya)
    gallery = [name for name in storage.listdir("gallery") if name.endswith(".png")]
    assert len(gallery) == 8
    return workspace


@pytest.mark.slow
def test_demo_standin_end_to_end(tmp_path):
    result = _run_demo(tmp_path / "ws")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SYNTHETIC DATA" in result.stdout
    assert "d2a serve" in result.stdout
    workspace = _check_outputs(tmp_path / "ws", "SYNTHETIC DATA")
    demographics = workspace.storage.read_parquet("demographics/demographics.parquet")
    assert len(demographics) == 24
    assert set(demographics["gender"].dropna()) == {"female", "male"}
    # A rerun skips finished downloads and finishes again.
    rerun = _run_demo(tmp_path / "ws")
    assert rerun.returncode == 0, rerun.stderr[-2000:]


@pytest.mark.slow
def test_demo_real_data_end_to_end(shared_data, tmp_path):
    result = _run_demo(tmp_path / "ws", "--data", str(shared_data))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "STAND-IN PAINTINGS" in result.stdout
    workspace = _check_outputs(tmp_path / "ws", "REAL CATALOG, STAND-IN PAINTINGS")
    artists = workspace.storage.read_parquet("catalog/artists.parquet")
    assert len(artists) == 40
    raw = artists["birth_raw"].fillna("") + " " + artists["death_raw"].fillna("")
    hard = raw.str.contains(r"\d-[A-Za-z]{3}-\d{2}\b|c\.|BC", regex=True)
    assert hard.sum() >= 10
    demographics = workspace.storage.read_parquet("demographics/demographics.parquet")
    assert demographics["birth_year"].notna().mean() >= 0.9


def test_stand_in_paintings_stable_per_key(shared_data):
    import pandas as pd

    from demographic2art.demo.run import stand_in_paintings

    frame = pd.DataFrame(
        {
            "key": ["claude-monet/a", "claude-monet/b", "unknown/c"],
            "image_url": [
                "https://uploads.wikiart.org/images/claude-monet/a.jpg!Large.jpg",
                "https://uploads.wikiart.org/images/claude-monet/b.jpg!Large.jpg",
                "https://uploads.wikiart.org/images/unknown/c.jpg!Large.jpg",
            ],
            "style": ["Impressionism", "Baroque", "Cubism"],
        }
    )
    first = stand_in_paintings(frame, shared_data / "images")
    second = stand_in_paintings(frame, shared_data / "images")
    assert first == second
    assert first["/images/claude-monet/a.jpg!Large.jpg"].parent.name == "impressionism"
    assert first["/images/claude-monet/b.jpg!Large.jpg"].parent.name == "baroque"


def test_sample_real_artists_has_pages_and_hard_dates(shared_data):
    import pandas as pd

    from demographic2art.demo.run import sample_real_artists

    chosen = sample_real_artists(shared_data, n_artists=40, seed=0)
    assert len(chosen) == 40
    assert chosen == sample_real_artists(shared_data, n_artists=40, seed=0)
    index = pd.read_csv(shared_data / "wikipedia" / "INDEX.tsv", sep="\t")
    with_page = set(index.loc[index["kind"].isin(["wikipedia_en", "wikipedia_other_lang"]), "slug"])
    assert set(chosen) <= with_page
