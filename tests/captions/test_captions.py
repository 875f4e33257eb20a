"""Caption templates and the 77-token CLIP window."""

from __future__ import annotations

import json

import pytest

from demographic2art.captions import ArtistAttributes, compose_caption, demographic_phrase, fit_caption
from demographic2art.captions.templates import ArtworkFields


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(tiny_model, subfolder="tokenizer")


def test_demographic_phrase_all_attributes():
    attributes = ArtistAttributes(gender="female", nationality="French", birth_decade=1840)
    assert demographic_phrase(attributes) == "a female French artist born in the 1840s"


def test_demographic_phrase_article_and_bc():
    attributes = ArtistAttributes(nationality="Italian", birth_decade=-300)
    assert demographic_phrase(attributes) == "an Italian artist born in the 300s BC"


def test_caption_template_zero():
    artwork = ArtworkFields(style="Impressionism", genre="landscape", year=1885)
    attributes = ArtistAttributes(gender="female", nationality="French", birth_decade=1840)
    caption = compose_caption(artwork, attributes)
    assert caption == "a landscape painting in the Impressionism style by a female French artist born in the 1840s, 1885"


def test_caption_bc_year_and_work_genre():
    artwork = ArtworkFields(style="Archaic", genre="sculpture", year=-500)
    caption = compose_caption(artwork, ArtistAttributes())
    assert caption == "a sculpture in the Archaic style by an artist, 500 BC"


def test_caption_never_names_artist():
    attributes = ArtistAttributes.from_birth_year(1841.0, gender="male", nationality="Dutch")
    caption = compose_caption(ArtworkFields(genre="portrait"), attributes, template=2)
    assert caption == "a portrait painting, the work of a male Dutch artist born in the 1840s"


def test_lora_caption_77(shared_cases, tokenizer):
    rows = [json.loads(line) for line in (shared_cases / "lora-caption-77" / "captions.jsonl").read_text().splitlines() if line]
    by_id = {row["id"]: row["caption"] for row in rows}
    short = fit_caption(tokenizer, by_id["wa-0001"])
    assert short.original_tokens == 22
    assert len(tokenizer(by_id["wa-0001"]).input_ids) == 24
    assert not short.truncated
    long = fit_caption(tokenizer, by_id["wa-0002"])
    assert long.original_tokens == 96
    assert len(tokenizer(by_id["wa-0002"], truncation=False).input_ids) == 98
    assert long.dropped_tokens == 21
    assert long.dropped_text.startswith("thin glazes in the distance")
    assert long.tokens == 75
    assert len(tokenizer(long.text).input_ids) <= 77


def test_lora_caption_77_training_report(shared_cases, tiny_model, tmp_path):
    """A training run lists exactly the captions it cuts, with the lost text."""
    import pandas as pd

    from conftest import write_training_workspace
    from demographic2art.train import TrainConfig, train_lora

    rows = [json.loads(line) for line in (shared_cases / "lora-caption-77" / "captions.jsonl").read_text().splitlines() if line]
    workspace = write_training_workspace(tmp_path / "ws", n_images=len(rows))
    table = workspace.storage.read_parquet("captions/captions.parquet")
    table["key"] = [row["id"] for row in rows]
    table["caption"] = [row["caption"] for row in rows]
    table["split"] = "train"
    workspace.storage.write_parquet("captions/captions.parquet", pd.DataFrame(table))
    train_lora(workspace, TrainConfig(model=str(tiny_model), steps=1, run_name="captions"))
    report = workspace.storage.read_json("runs/captions/caption_report.json")
    assert [entry["key"] for entry in report["cut"]] == ["wa-0002"]
    assert report["cut"][0]["tokens"] == 96
    assert report["cut"][0]["dropped_tokens"] == 21
    assert report["cut"][0]["dropped_text"].startswith("thin glazes in the distance")
    assert report["max_caption_tokens"] == 75


def test_captions_with_emoji_and_cjk_counted_by_tokenizer(tokenizer):
    text = "a painting of 富士山 🎨🎨 " + "brushwork " * 80
    fit = fit_caption(tokenizer, text)
    assert fit.truncated
    assert fit.tokens == 75
    assert fit.original_tokens == len(tokenizer(text, add_special_tokens=False).input_ids)
