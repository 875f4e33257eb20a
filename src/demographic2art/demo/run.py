"""`d2a demo`: a whole small study, from catalog to generated images, in one call.

Two data sources, laid out alike:

* the built-in stand-in (default): invented artists, pages and painting-like images
  generated from a seed by :mod:`demographic2art.demo.standin`; everything computed
  from it is synthetic;
* a real data folder (``data_dir``) with ``wikiart/artists.csv``,
  ``wikiart/artworks.csv.gz``, ``wikipedia/html.tar.xz`` (or ``wikipedia/html/``) and
  real paintings in ``images/<style>/``. About 40 artists are sampled. The paintings
  are real but are not the works named in the catalog rows, so each sampled artwork
  gets a painting of its catalog style (or one picked by a hash of its key) as a
  stand-in, and the outputs say so.

Images are downloaded over real HTTP from a server on 127.0.0.1 that serves the
paintings at WikiArt-style paths, through the same downloader as a real run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidValueError, MissingFileError
from ..reporting import job_report
from ..workspace import Workspace

# Summary of the run records that the demo writes for the stages it runs.
DEMO_RECORD_SUMMARY = "run by d2a demo"

logger = logging.getLogger(__name__)

SYNTHETIC_NOTE = (
    "SYNTHETIC DATA: the artists, pages and paintings of this study were invented by "
    "demographic2art's stand-in generator (seed {seed}); no result describes real people or art."
)
REAL_NOTE = (
    "REAL CATALOG, STAND-IN PAINTINGS: artists, artworks and Wikipedia pages are real, but each "
    "artwork's image is a real painting of the same style (or one chosen by a hash of the key), "
    "not the work named in the catalog; titles and artists of the paintings are unknown."
)
DEMO_PROMPT_GROUPS = (
    {"gender": "female", "nationality": "French"},
    {"gender": "male", "nationality": "French"},
    {"gender": "female", "nationality": "Japanese"},
    {"gender": "male", "nationality": "Japanese"},
)


@dataclass
class DemoResult:
    """Locations of the demo's outputs, its data source and its stage times."""

    workspace: str
    data: str
    note: str
    artists: int = 0
    artworks: int = 0
    images_ok: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class _Stages:
    """Times each stage and logs its start and end."""

    def __init__(self, result: DemoResult):
        self.result = result

    def __call__(self, name: str):
        stages = self

        class _Timer:
            def __enter__(self):
                logger.info("demo stage %s: start", name)
                self.started = time.perf_counter()

            def __exit__(self, *exc):
                stages.result.timings[name] = round(time.perf_counter() - self.started, 2)
                logger.info("demo stage %s: %.1f s", name, stages.result.timings[name])

        return _Timer()


def run_demo(
    workspace: Workspace,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    n_artists: int = 40,
    works_per_artist: int = 3,
    steps: int = 60,
    batch_size: int = 4,
    learning_rate: float = 1e-3,
    rank: int = 8,
) -> DemoResult:
    """Run every stage of the study on the stand-in (default) or on a real data folder."""
    from .imageserver import ImageServer

    workspace.create()
    storage = workspace.storage
    real = data_dir is not None
    result = DemoResult(workspace.url, str(data_dir) if real else "stand-in", "")
    earlier = workspace.settings().get("demo", {}).get("data")
    if earlier is not None and earlier != result.data:
        # A workspace contains one study, because mixing invented and real artists corrupts both.
        raise InvalidValueError(
            f"workspace {workspace.url} already contains a demo study of {earlier!r}; "
            f"pass another --workspace for {result.data!r}"
        )
    stage = _Stages(result)

    with stage("data"):
        if real:
            data = Path(data_dir)
            _check_real_layout(data)
            artists = sample_real_artists(data, n_artists=n_artists, seed=seed)
            result.note = REAL_NOTE
        else:
            from .standin import make_standin_data

            data = Path(storage.local_path("cache/standin"))
            standin = make_standin_data(data, seed=seed, overwrite=True)
            artists = None
            result.note = SYNTHETIC_NOTE.format(seed=seed)
        storage.write_text("STUDY.md", f"# demographic2art study\n\n{result.note}\n\nData: {result.data}\n")
        workspace.record_settings("demo", {"data": result.data, "note": result.note, "seed": seed})

    with stage("catalog"):
        from ..catalog import build_catalog

        artworks_csv = data / "wikiart" / "artworks.csv.gz"
        if not artworks_csv.exists():
            artworks_csv = data / "wikiart" / "artworks.csv"
        with job_report(workspace, "catalog build") as record:
            record.summary = DEMO_RECORD_SUMMARY
            catalog = build_catalog(workspace, data / "wikiart" / "artists.csv", artworks_csv, artists=artists, limit=works_per_artist)
            record.counts.update({"artists": catalog.artists, "artworks": catalog.artworks})
        result.artists, result.artworks = catalog.artists, catalog.artworks
        result.outputs["catalog"] = f"{workspace.url}/catalog/"

    with stage("images"):
        from ..images import download_images

        artworks = storage.read_parquet("catalog/artworks.parquet")
        routes = standin.image_routes() if not real else stand_in_paintings(artworks, data / "images")
        with ImageServer(routes) as server:
            source = artworks[["key", "url", "image_url", "style"]].copy()
            source["image_url"] = [server.url_for(url) for url in source["image_url"]]
            source_file = storage.local_path("cache/demo-download-source.parquet")
            source.to_parquet(source_file, index=False)
            download_images(workspace, source=source_file, concurrency=8, max_side=512)
        result.images_ok = _ok_count(workspace)
        result.outputs["images"] = f"{workspace.url}/images/"

    with stage("demographics"):
        from ..bios import import_pages
        from ..demographics import extract_workspace

        pages = data / "wikipedia" / "html"
        if not pages.is_dir():
            pages = data / "wikipedia" / "html.tar.xz"
        keys = sorted(set(artworks["artist_key"].dropna()))
        import_pages(workspace, pages, artists=keys)
        with job_report(workspace, "demographics extract") as record:
            record.summary = DEMO_RECORD_SUMMARY
            extracted = extract_workspace(workspace)
            record.counts.update({"extracted": extracted.extracted, "needs review": extracted.needs_review})
        result.outputs["demographics"] = f"{workspace.url}/demographics/demographics.parquet"

    with stage("model"):
        from ..model.tiny import save_tiny_model

        model = storage.local_path("models/tiny")
        if not storage.exists("models/tiny/model_index.json"):
            save_tiny_model(model, seed=seed)
        result.outputs["model"] = model

    with stage("captions"):
        from ..captions.build import build_captions

        with job_report(workspace, "captions build") as record:
            record.summary = DEMO_RECORD_SUMMARY
            captions = build_captions(workspace, model=model, seed=seed)
            record.counts.update({"captions": captions.captions, "train": captions.train, "validation": captions.validation})
        result.outputs["captions"] = f"{workspace.url}/captions/captions.parquet"

    with stage("train"):
        from ..train import TrainConfig, train_lora
        from ..train.sweep import record_best_run

        config = TrainConfig(
            model=model, steps=steps, batch_size=batch_size, learning_rate=learning_rate, rank=rank, seed=42,
            run_name="demo",
        )
        with job_report(workspace, "train") as record:
            record.summary = f"{DEMO_RECORD_SUMMARY}; run demo"
            trained = train_lora(workspace, config)
            record.counts.update({"steps": config.steps})
        workspace.record_settings("train", config.model_dump(mode="json"))
        record_best_run(workspace, "demo", "runs/demo/lora/pytorch_lora_weights.safetensors", trained.validation_loss)
        result.outputs["lora"] = trained.lora_file
        result.outputs["kohya"] = trained.kohya_file
        result.outputs["loss_plot"] = f"{trained.run_dir}/loss.png"

    with stage("generate"):
        from ..captions.templates import ArtistAttributes, ArtworkFields, compose_caption
        from ..generate.gallery import generate_gallery

        artwork = ArtworkFields(style="Impressionism", genre="landscape")
        prompts = [compose_caption(artwork, ArtistAttributes(**group)) for group in DEMO_PROMPT_GROUPS]
        with job_report(workspace, "generate") as record:
            record.summary = DEMO_RECORD_SUMMARY
            images = generate_gallery(workspace, prompts, model=model, lora=trained.lora_file, seeds=(0, 1), steps=20)
            record.counts.update({"images": len(images)})
        result.outputs["gallery"] = f"{workspace.url}/gallery/"

    storage.write_json("demo-summary.json", result.__dict__)
    return result


def _ok_count(workspace: Workspace) -> int:
    manifest = workspace.storage.read_parquet("images/manifest.parquet", columns=["status"])
    return int(manifest["status"].isin(["ok", "skipped"]).sum())


def _check_real_layout(data: Path) -> None:
    needed = [data / "wikiart" / "artists.csv", data / "images"]
    pages = [data / "wikipedia" / "html", data / "wikipedia" / "html.tar.xz"]
    for path in needed:
        if not path.exists():
            raise MissingFileError(f"{path} does not exist; DATA must be a folder laid out like the real data folder")
    if not any(p.exists() for p in pages):
        raise MissingFileError(f"neither {pages[0]} nor {pages[1]} exists; the demo needs the saved Wikipedia pages")


def sample_real_artists(data: Path, *, n_artists: int = 40, seed: int = 0) -> list[str]:
    """Pick about ``n_artists`` artists with a saved biography page and artworks.

    A quarter of them have hard catalog dates (two-digit years, circa or BC), so the
    demo exercises date repair; the rest are a seeded random sample.
    """
    import pandas as pd

    from ..catalog import read_artists_csv

    artists = read_artists_csv(data / "wikiart" / "artists.csv")
    index_file = data / "wikipedia" / "INDEX.tsv"
    if index_file.exists():
        index = pd.read_csv(index_file, sep="\t", dtype=str)
        with_page = set(index.loc[index["kind"].isin(["wikipedia_en", "wikipedia_other_lang"]), "slug"])
        artists = artists[artists["artist_key"].isin(with_page)]
    raw_dates = artists["birth_date"].fillna("") + " " + artists["death_date"].fillna("")
    hard_mask = raw_dates.str.contains(r"\d{1,2}-[A-Za-z]{3}-\d{2}\b|c\.|BC", regex=True)
    rng = random.Random(seed)
    hard = sorted(artists.loc[hard_mask, "artist_key"])
    easy = sorted(artists.loc[~hard_mask, "artist_key"])
    n_hard = min(len(hard), max(1, n_artists // 4))
    chosen = rng.sample(hard, n_hard) + rng.sample(easy, min(len(easy), n_artists - n_hard))
    return sorted(chosen)


def stand_in_paintings(artworks, images_dir: Path) -> dict[str, Path]:
    """Map each artwork's image URL path to a real painting of its style (stable per key).

    A style that has a folder (``Impressionism`` -> ``impressionism``) takes a painting
    from it; any other style takes one from all paintings. Within the folder the
    painting is chosen by a hash of the artwork key, so the same key always gets the
    same painting.
    """
    from .imageserver import wikiart_path
    from .paintings import style_slug

    folders = {p.name: sorted(p.glob("*.jpg")) for p in sorted(images_dir.iterdir()) if p.is_dir()}
    every = [f for files in folders.values() for f in files]
    if not every:
        raise MissingFileError(f"no paintings found under {images_dir}/<style>/*.jpg")
    routes = {}
    for row in artworks[["key", "image_url", "style"]].to_dict("records"):
        pool = folders.get(style_slug(str(row.get("style") or ""))) or every
        digest = int(hashlib.sha256(row["key"].encode()).hexdigest(), 16)
        routes[wikiart_path(row["image_url"])] = pool[digest % len(pool)]
    return routes
