"""Build the captions table of a workspace from its catalog, images and demographics.

Writes ``captions/captions.parquet`` with the columns

    key, artist_key       artwork and artist keys
    file_name             image path relative to ``images/files/``
    caption               caption used for training (within 75 caption tokens)
    neutral_caption       the same artwork without demographics, for control runs
    tokens                caption tokens counted with the model's tokenizer
    truncated             whether text had to be cut after every shortening step
    split                 ``train`` or ``validation``

plus ``images/files/metadata.jsonl`` (the ``imagefolder`` layout of 🤗 datasets: ``file_name``
and ``text``, and for downloaded images also the catalog fields the download wrote) and
``captions/report.json`` with the cut captions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
from dataclasses import dataclass

from ..errors import MissingFileError
from ..images.imagefolder import METADATA_PATH
from ..keys import key_to_filename
from ..workspace import Workspace
from .templates import ArtistAttributes, ArtworkFields, compose_caption, drop_attributes
from .tokens import CAPTION_TOKENS, fit_candidates

logger = logging.getLogger(__name__)

GENDER_WORDS = {"female": "female", "male": "male", "non-binary": "non-binary"}


@dataclass
class CaptionSummary:
    captions: int
    train: int
    validation: int
    truncated: int
    shortened: int
    table: str


def load_tokenizer(model: str):
    """Return the CLIP tokenizer of a diffusers model folder or hub id."""
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(model, subfolder="tokenizer")


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def attributes_from_row(row: dict) -> ArtistAttributes:
    """Return caption attributes from a demographics-table row."""
    gender = GENDER_WORDS.get(str(_clean(row.get("gender")) or "").lower())
    nationality = caption_nationality(row.get("nationality"), row.get("nationality_codes"))
    movement = _first(row.get("movement"))
    return ArtistAttributes.from_birth_year(
        _clean(row.get("birth_year")), gender=gender, nationality=nationality, movement=movement
    )


def _items(value) -> tuple[str, ...]:
    """Return the items of a list cell (list, array or ``|``-separated text) as strings."""
    value = _clean(value) if isinstance(value, (str, float)) or value is None else value
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split("|") if item.strip())
    return tuple(str(item) for item in value if _clean(item) is not None)


def _first(value) -> str | None:
    items = _items(value)
    return items[0] if items else None


def caption_nationality(raw, codes) -> str | None:
    """Return an English nationality adjective: the page's word when it is English, else from the codes.

    Pages in other languages give words such as 'polnischer'; captions need 'Polish'.
    """
    from ..demographics.countries import DEMONYMS, english_demonym

    raw = _first(raw.split(",")[0]) if isinstance(_clean(raw), str) else None
    if raw and raw.lower() in DEMONYMS:
        return raw
    first_code = _first(codes)
    return english_demonym(first_code) if first_code else None


def artwork_from_row(row: dict) -> ArtworkFields:
    """Return caption fields from a catalog row; list cells give their first item."""
    year = _clean(row.get("year"))
    return ArtworkFields(
        style=_first(row.get("style")),
        genre=_first(row.get("genre")),
        year=int(year) if year is not None else None,
        media=_items(row.get("media")),
    )


def caption_candidates(artwork: ArtworkFields, attributes: ArtistAttributes, template: int) -> list[str]:
    """Return the caption, then shorter versions in the order parts are given up."""
    steps = [
        (artwork, attributes, True),
        (artwork, attributes, False),
        (ArtworkFields(artwork.style, artwork.genre, None, ()), attributes, False),
        (ArtworkFields(artwork.style, artwork.genre, None, ()), attributes.without("movement"), False),
    ]
    return [compose_caption(a, b, template=template, include_year=y) for a, b, y in steps]


def _split_for(key: str, validation_fraction: float) -> str:
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "validation" if digest < validation_fraction else "train"


def _imagefolder_metadata(storage, rows: list[dict]) -> str:
    """Return ``metadata.jsonl`` text: each captioned file's record with its ``text``.

    A record the download wrote (``file_name``, key and catalog fields) keeps its
    fields and gains the caption; a file without one gets ``file_name`` and ``text``.
    """
    written = {}
    if storage.exists(METADATA_PATH):
        for line in storage.read_text(METADATA_PATH).splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # The captions below rewrite a damaged line.
            if isinstance(record, dict):
                written[record.get("file_name")] = record
    lines = []
    for row in rows:
        record = dict(written.get(row["file_name"], {"file_name": row["file_name"]}))
        record["text"] = row["caption"]
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines)


def build_captions(
    workspace: Workspace,
    *,
    model: str,
    seed: int = 0,
    attribute_dropout: float = 0.0,
    validation_fraction: float = 0.1,
    max_tokens: int = CAPTION_TOKENS,
) -> CaptionSummary:
    """Caption every artwork with a valid image and write the captions table.

    ``attribute_dropout`` drops each demographic attribute with that probability (seeded
    by ``seed``). Artworks go to the validation split by a hash of their key, so the split
    stays the same when artworks are added.
    """
    import pandas as pd

    storage = workspace.storage
    for needed in ("catalog/artworks.parquet", "images/manifest.parquet"):
        if not storage.exists(needed):
            raise MissingFileError(
                f"{storage.url}/{needed} does not exist; run 'd2a catalog build' and "
                "'d2a images download' first"
            )
    artworks = storage.read_parquet("catalog/artworks.parquet")
    manifest = storage.read_parquet("images/manifest.parquet")
    manifest = manifest[manifest["status"].isin(["ok", "skipped"])].copy()
    if "file" in manifest.columns:
        manifest["file_name"] = [str(f).removeprefix("images/files/") for f in manifest["file"]]
    elif "file_name" not in manifest.columns:
        manifest["file_name"] = [key_to_filename(k, ".jpg") for k in manifest["key"]]
    demographics = (
        storage.read_parquet("demographics/demographics.parquet")
        if storage.exists("demographics/demographics.parquet")
        else pd.DataFrame(columns=["artist_key"])
    )
    artists = {row["artist_key"]: row for row in demographics.to_dict("records")}
    tokenizer = load_tokenizer(model)
    rng = random.Random(seed)

    rows, report = [], []
    merged = artworks.merge(manifest[["key", "file_name"]], on="key", how="inner")
    for index, row in enumerate(merged.sort_values("key").to_dict("records")):
        artwork = artwork_from_row(row)
        attributes = drop_attributes(attributes_from_row(artists.get(row["artist_key"], {})), attribute_dropout, rng)
        template = index % 4
        fit = fit_candidates(tokenizer, caption_candidates(artwork, attributes, template), max_tokens)
        neutral = fit_candidates(
            tokenizer, caption_candidates(artwork, ArtistAttributes(), template), max_tokens
        ).text
        if fit.original_tokens > max_tokens:
            report.append(
                {
                    "key": row["key"],
                    "tokens": fit.original_tokens,
                    "dropped_tokens": fit.dropped_tokens,
                    "dropped_text": fit.dropped_text,
                    "shortened": not fit.truncated,
                }
            )
        rows.append(
            {
                "key": row["key"],
                "artist_key": row["artist_key"],
                "file_name": row["file_name"],
                "caption": fit.text,
                "neutral_caption": neutral,
                "tokens": fit.tokens,
                "truncated": fit.truncated,
                "split": _split_for(row["key"], validation_fraction),
            }
        )
    table = pd.DataFrame(rows)
    storage.write_parquet("captions/captions.parquet", table)
    storage.write_text(METADATA_PATH, _imagefolder_metadata(storage, rows))
    storage.write_json(
        "captions/report.json",
        {"max_caption_tokens": max_tokens, "over_limit": report, "captions": len(rows)},
    )
    truncated = sum(r["truncated"] for r in rows)
    if truncated:
        logger.warning("%d captions were cut to %d tokens; see captions/report.json", truncated, max_tokens)
    workspace.record_settings(
        "captions",
        {"model": model, "seed": seed, "attribute_dropout": attribute_dropout, "validation_fraction": validation_fraction},
    )
    n_val = sum(r["split"] == "validation" for r in rows)
    return CaptionSummary(len(rows), len(rows) - n_val, n_val, truncated, len(report) - truncated, "captions/captions.parquet")
