"""Portfolios: images generated for demographic groups with equal seeds, then compared.

Each group's prompts come from the paraphrased caption templates with only the artist's
attributes changed. Every group uses the same seeds and settings, so image ``i`` of
group A and image ``i`` of group B differ by the prompt alone. They are compared as
pairs with the Wilcoxon signed-rank test. Controls: the neutral prompt ("an artist") and, when a LoRA is
loaded, the first group's prompts at LoRA weight 0, which show what the base model does.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..captions.templates import ATTRIBUTES, ArtistAttributes, ArtworkFields, compose_caption
from ..errors import InvalidValueError, MissingFileError
from ..workspace import Workspace
from . import report as html_report
from .features import TESTED_FEATURES, extract_features
from .group_values import check_group_values
from .embeddings import load_backend
from .stats import DEFAULT_BOOTSTRAP, DEFAULT_PERMUTATIONS, Comparison, compare_pairs
from .twosample import DEFAULT_C2ST_PERMUTATIONS, json_rows, whole_set_tests

logger = logging.getLogger(__name__)

NEUTRAL_GROUP = "neutral"
LORA_OFF_SUFFIX = " (LoRA weight 0)"
STAND_IN_SIZE = 64
WHOLE_SET_NOTE = (
    "<p>Energy distance: permutation test on pooled z-scores. "
    "C2ST: cross-validated accuracy of an L2 logistic regression, 0.5 is chance. "
    "Both p-values swap labels within seed pairs. "
    "The Fréchet distance uses the FID formula on these vectors, so it is not comparable with published FID.</p>"
)
DEFAULT_SEED_START = 1000
PACKAGES = ("demographic2art", "diffusers", "torch", "transformers", "numpy", "scipy", "pandas", "pillow")


@dataclass
class ComparisonResult:
    """Tables and manifest of one comparison, with the paths of its files under ``portfolios/<name>/``.

    ``multivariate`` contains the whole-set tests of each comparison (energy distance,
    classifier two-sample test, Fréchet distance).
    """

    name: str
    folder: str
    groups: list[str]
    stats: Any
    features: Any
    multivariate: list[dict[str, Any]]
    manifest: dict[str, Any]
    stand_in: bool
    files: dict[str, str] = field(default_factory=dict)


def parse_group(text: str) -> dict[str, str]:
    """Parse ``'gender=female,nationality=French'`` into a group dict."""
    group = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidValueError(f"group {text!r} is not in the form attribute=value, e.g. gender=female")
        if key.strip() in group:
            raise InvalidValueError(f"group {text!r} names {key.strip()} twice; give each attribute once per group")
        group[key.strip()] = value.strip()
    return group


def group_attributes(group: dict[str, str]) -> ArtistAttributes:
    """Return the caption attributes of a group dict, rejecting unknown attributes."""
    values: dict[str, Any] = {}
    for key, value in group.items():
        if key not in ATTRIBUTES:
            raise InvalidValueError(f"unknown group attribute {key!r}; use one of {', '.join(ATTRIBUTES)}")
        if key == "birth_decade":
            # ASCII digits only: int() also accepts '1_850' and non-ASCII digits.
            if not re.fullmatch(r"-?[0-9]+", str(value)):
                raise InvalidValueError(f"birth_decade {value!r} is not a year such as 1850")
            values[key] = int(value)
            if values[key] % 10:
                raise InvalidValueError(f"birth_decade {value!r} is not a decade; use a multiple of 10 such as 1850")
        else:
            values[key] = str(value)
    return ArtistAttributes(**values)


def group_label(group: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in group.items())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "group"


def file_sha256(path: str) -> str:
    """Return the SHA-256 of a file, or of a folder's files in name order."""
    digest = hashlib.sha256()
    target = Path(path)
    files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    for item in files:
        digest.update(item.read_bytes())
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _resolve_workspace(workspace: Workspace | str) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace(workspace).create()


def _validate(groups: list[dict[str, str]], n_images: int, seeds: list[int] | None, templates: int) -> list[int]:
    if len(groups) < 2:
        raise InvalidValueError(f"got {len(groups)} group(s); pass at least 2, e.g. --group gender=female --group gender=male")
    labels = [group_label(g) for g in groups]
    if len(set(labels)) != len(labels):
        raise InvalidValueError(f"groups repeat ({', '.join(labels)}); pass distinct groups")
    if n_images < 1:
        raise InvalidValueError(f"n_images {n_images} must be at least 1")
    if not 1 <= templates <= 4:
        raise InvalidValueError(f"templates {templates} must be between 1 and 4 (the number of caption templates)")
    if seeds is None:
        return list(range(DEFAULT_SEED_START, DEFAULT_SEED_START + n_images))
    if len(seeds) != n_images:
        raise InvalidValueError(f"got {len(seeds)} seeds for n_images {n_images}; pass one seed per image")
    return [int(s) for s in seeds]


def compare_groups(
    workspace: Workspace | str,
    groups: list[dict[str, str]],
    *,
    model: str,
    lora: str | None = None,
    n_images: int = 48,
    seeds: list[int] | None = None,
    steps: int = 20,
    guidance_scale: float = 7.5,
    templates: int = 4,
    controls: bool = True,
    name: str | None = None,
    artwork: ArtworkFields | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    n_perm: int = DEFAULT_PERMUTATIONS,
    c2st_perm: int = DEFAULT_C2ST_PERMUTATIONS,
    device: str | None = None,
    engine: str = "local",
    workers: int | None = None,
    embedding: str | None = None,
    allow_new_values: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> ComparisonResult:
    """Generate a portfolio per group with shared seeds, extract features and compare groups.

    ``groups`` are attribute dicts such as ``{"gender": "female"}``. Image ``i`` of every
    group uses ``seeds[i]`` and caption template ``i % templates``. Writes images with
    sidecars, ``manifest.json``, ``features.csv``, ``stats.csv``, ``stats.json`` and
    ``report.html`` under ``portfolios/<name>/``. ``lora='best'`` picks the workspace's best
    training run (``runs/best.json``, else the lowest loss). ``engine`` is ``'local'`` or
    ``'ray'`` (a Ray Data batch job with ``workers`` model copies); both write the same
    files. ``embedding`` picks the vectors of the whole-set tests (see
    :func:`~demographic2art.analysis.embeddings.load_backend`). Each attribute value must
    occur in the workspace's demographics or catalog tables unless ``allow_new_values``
    is true (for hypothetical groups). ``on_progress`` receives the image count and
    time estimate before generation and the total time at the end; they are logged too.
    """
    from ..generate import Generator, save_generation
    from .generation import ENGINES, generate_local, generate_ray

    if engine not in ENGINES:
        raise InvalidValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    ws = _resolve_workspace(workspace)
    seeds = _validate(groups, n_images, seeds, templates)
    attributes = {group_label(g): group_attributes(g) for g in groups}
    if not allow_new_values:
        check_group_values(ws, groups)
    started = time.monotonic()
    progress = _progress_reporter(on_progress)
    if lora == "best":
        from ..generate.gallery import best_lora

        lora = best_lora(ws)
        if lora is None:
            raise MissingFileError(f"no training run with a LoRA in {ws.url}/runs; run 'd2a train' first or pass a LoRA file")
    if lora is not None and not Path(lora).exists():
        raise MissingFileError(f"LoRA {lora} does not exist; pass a .safetensors file or train one with 'd2a train'")
    name = name or _slug("-vs-".join(attributes))
    folder = f"portfolios/{name}"
    artwork = artwork or ArtworkFields()
    # The driver loads the model too, because the sidecars name the model and LoRA and the
    # model's native size marks a stand-in.
    generator = Generator(model, lora, device=device)
    stand_in = generator.native_size <= STAND_IN_SIZE

    # (group label, attributes, LoRA weight); the first group at weight 0 is a control.
    groups_plan: list[tuple[str, ArtistAttributes, float]] = [(label, attrs, 1.0) for label, attrs in attributes.items()]
    if controls:
        groups_plan.append((NEUTRAL_GROUP, ArtistAttributes(), 1.0))
        if lora is not None:
            first_label, first_attrs = next(iter(attributes.items()))
            groups_plan.append((first_label + LORA_OFF_SUFFIX, first_attrs, 0.0))
    records = []
    for label, attrs, weight in groups_plan:
        for index, seed in enumerate(seeds):
            template = index % templates
            prompt = compose_caption(artwork, attrs, template=template, include_year=False)
            relpath = f"{folder}/images/{_slug(label)}/{seed}.png"
            records.append({"group": label, "seed": seed, "template": template, "prompt": prompt, "lora_weight": weight, "file": relpath})

    progress(f"generating {len(records)} images ({len(groups_plan)} groups x {len(seeds)} seeds, {steps} steps each) with the {engine} engine")
    if engine == "ray":
        generated = generate_ray(records, model=model, lora=lora, steps=steps, guidance_scale=guidance_scale, workers=workers, device=device)
    else:
        generated = generate_local(records, generator=generator, steps=steps, guidance_scale=guidance_scale, on_progress=progress)
    from ..generate import GenerationParams

    for record, image in zip(records, generated):
        params = GenerationParams(prompt=record["prompt"], seed=record["seed"], steps=steps, guidance_scale=guidance_scale, lora_weight=record["lora_weight"])
        save_generation(
            ws.storage, record["file"], image, params, model=generator.model_name, lora=generator.lora_name,
            extra={"group": record["group"], "template": record["template"]},
        )
    logger.info("generated %d images for %d groups with the %s engine", len(records), len(groups_plan), engine)

    manifest = {
        "name": name,
        "groups": list(attributes),
        "attributes": {label: group for label, group in zip(attributes, groups)},
        "controls": [label for label, _, _ in groups_plan[len(attributes):]],
        "model": model,
        "stand_in_model": stand_in,
        "lora": lora,
        "lora_sha256": file_sha256(lora) if lora else None,
        "engine": engine,
        "settings": {"n_images": n_images, "steps": steps, "guidance_scale": guidance_scale, "templates": templates, "scheduler": "ddim"},
        "seeds": seeds,
        "images": records,
        "packages": package_versions(),
    }
    ws.storage.write_json(f"{folder}/manifest.json", manifest)
    generation_seconds = time.monotonic() - started
    result = analyze_portfolio(ws, name, n_boot=n_boot, n_perm=n_perm, c2st_perm=c2st_perm, embedding=embedding, images=generated)
    total = time.monotonic() - started
    progress(f"compare took {total:.1f} s in total, {generation_seconds:.1f} s of it generating images")
    return result


def _progress_reporter(on_progress: Callable[[str], None] | None) -> Callable[[str], None]:
    """Return a function that logs a progress message and passes it to ``on_progress``."""

    def report(message: str) -> None:
        logger.info("%s", message)
        if on_progress is not None:
            on_progress(message)

    return report


def read_portfolio(workspace: Workspace | str, name: str):
    """Return the manifest of ``portfolios/<name>/`` and its images in manifest order.

    The manifest lists ``groups`` (the compared groups), ``controls`` and ``images``
    (rows with ``group``, ``seed`` and ``file``, a workspace-relative path), as
    :func:`compare_groups` writes it; a portfolio saved from the web app uses the same
    layout. A missing image file raises, because pairs would no longer match.
    """
    from PIL import Image
    import io

    ws = _resolve_workspace(workspace)
    path = f"portfolios/{name}/manifest.json"
    if not ws.storage.exists(path):
        raise MissingFileError(f"{ws.url}/{path} is missing; generate the portfolio with 'd2a compare' or save it from the web app")
    manifest = ws.storage.read_json(path)
    for key in ("groups", "images"):
        if key not in manifest:
            raise InvalidValueError(f"{ws.url}/{path} has no {key!r} list; it is not a portfolio manifest")
    images = []
    for record in manifest["images"]:
        relpath = record["file"]
        if not ws.storage.exists(relpath):
            raise MissingFileError(f"portfolio image {relpath} listed in {path} is missing; regenerate the portfolio")
        images.append(Image.open(io.BytesIO(ws.storage.read_bytes(relpath))).convert("RGB"))
    return manifest, images


def analyze_portfolio(
    workspace: Workspace | str,
    name: str,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    n_perm: int = DEFAULT_PERMUTATIONS,
    c2st_perm: int = DEFAULT_C2ST_PERMUTATIONS,
    embedding: str | None = None,
    images: list | None = None,
    seed: int = 0,
) -> ComparisonResult:
    """Extract features of a saved portfolio, compare its groups and write the statistics and report.

    Groups are compared as seed pairs: each group against each other, each against the
    neutral control, and the first group against its LoRA-weight-0 control when present.
    ``images`` may pass the portfolio's images in manifest order to skip reading them.
    """
    import pandas as pd

    ws = _resolve_workspace(workspace)
    if images is None:
        manifest, images = read_portfolio(ws, name)
    else:
        manifest = ws.storage.read_json(f"portfolios/{name}/manifest.json")
    folder = f"portfolios/{name}"
    records = manifest["images"]
    labels = list(manifest["groups"])
    controls = list(manifest.get("controls", []))
    stand_in = bool(manifest.get("stand_in_model", False))

    table = pd.DataFrame(records)
    for column, default in (("template", 0), ("prompt", ""), ("lora_weight", 1.0)):
        if column not in table:
            table[column] = default
    features = extract_features(images, ids=[r["file"] for r in records])
    features = pd.concat([table[["group", "seed", "template", "prompt", "lora_weight"]], features], axis=1)
    backend = load_backend(embedding)
    vectors = backend.embed(features, images)
    vector_columns = list(vectors.columns)
    if backend.name != "features":
        features = pd.concat([features, vectors], axis=1)

    comparisons = [Comparison(a, b, paired=True) for i, a in enumerate(labels) for b in labels[i + 1 :]]
    if NEUTRAL_GROUP in controls:
        comparisons += [Comparison(label, NEUTRAL_GROUP, paired=True) for label in labels]
    lora_off = [c for c in controls if c.endswith(LORA_OFF_SUFFIX)]
    if lora_off:
        comparisons.append(Comparison(labels[0], lora_off[0], paired=True))
    stats = compare_pairs(features, "group", comparisons, TESTED_FEATURES, pair_by="seed", n_boot=n_boot, seed=seed)
    whole_set = [
        whole_set_tests(features, "group", c.name_a, c.name_b, vector_columns, pair_by="seed", n_perm=n_perm, c2st_perm=c2st_perm, seed=seed)
        | {"vectors": backend.name}
        for c in comparisons
    ]
    by_group: dict[str, list] = {}
    for record, image in zip(records, images):
        by_group.setdefault(record["group"], []).append(image)
    seeds = list(dict.fromkeys(int(r["seed"]) for r in records))
    files = _write_outputs(ws, folder, name, features, stats, whole_set, manifest, by_group, seeds, stand_in, backend.name)
    return ComparisonResult(
        name=name, folder=ws.storage.path(folder), groups=labels, stats=stats, features=features,
        multivariate=whole_set, manifest=manifest, stand_in=stand_in, files=files,
    )


def stand_in_banner(stand_in: bool) -> str | None:
    if not stand_in:
        return None
    return (
        f"These images come from a stand-in model of at most {STAND_IN_SIZE} px with random weights. "
        "They are noise-like pictures, not art, so the statistics below test the pipeline, not a real model."
    )


def _write_outputs(ws, folder, name, features, stats, whole_set, manifest, images, seeds, stand_in, vectors) -> dict[str, str]:
    storage = ws.storage
    rows = json_rows(whole_set)
    storage.write_text(f"{folder}/features.csv", features.to_csv(index=False))
    storage.write_text(f"{folder}/stats.csv", stats.to_csv(index=False))
    storage.write_text(f"{folder}/whole_set.csv", html_report.whole_set_table(whole_set).to_csv(index=False))
    storage.write_json(
        f"{folder}/stats.json",
        html_report.json_safe({
            "name": name,
            "features": TESTED_FEATURES,
            "vectors": vectors,
            "whole_set": rows,
            "per_feature": stats.to_dict(orient="records"),
            "stand_in_model": stand_in,
        }),
    )
    banner = stand_in_banner(stand_in)
    order = [g for g in manifest["groups"] if g in images] + [g for g in images if g not in manifest["groups"]]
    sheet_columns = {group: images[group] for group in order}
    top = top_features(stats)
    sections = [
        ("Settings", html_report.table_html(_settings_table(manifest))),
        html_report.figure_section("Contact sheet (one row per seed)", html_report.contact_sheet(sheet_columns, [f"seed {s}" for s in seeds]), "contact sheet"),
        html_report.figure_section("Average image per group", html_report.average_images(sheet_columns), "average images"),
        html_report.figure_section("Palettes per group", html_report.group_palettes(features, "group", order), "palettes"),
    ]
    for (group_a, group_b), part in stats.groupby(["group_a", "group_b"], sort=False):
        figure = html_report.forest_plot(part, title=f"{group_a} vs {group_b} (paired by seed)")
        sections.append(html_report.figure_section(f"Effect sizes: {group_a} vs {group_b}", figure, "forest plot"))
    sections += [
        html_report.figure_section("Top features by group", html_report.violin_plots(features, "group", order, top), "violin plots"),
        html_report.figure_section("PCA of the features", html_report.pca_scatter(features, "group", order, TESTED_FEATURES), "PCA scatter"),
        (f"Whole-set tests on {vectors} vectors", html_report.table_html(html_report.whole_set_table(whole_set)) + WHOLE_SET_NOTE),
        html_report.figure_section("Energy-distance permutation null (red: observed)", html_report.null_histograms(whole_set), "permutation null"),
    ]
    columns = ["group_a", "group_b", "feature", "n_a", "cliffs_delta", "ci_low", "ci_high", "magnitude", "test", "p", "q"]
    sections.append(("Per-feature statistics", html_report.table_html(stats[columns])))
    page = html_report.render_html(f"Portfolio comparison: {name}", sections, banner=banner)
    storage.write_text(f"{folder}/report.html", page)
    kinds = ("manifest.json", "features.csv", "stats.csv", "whole_set.csv", "stats.json", "report.html")
    return {kind: storage.path(f"{folder}/{kind}") for kind in kinds}


def top_features(stats, count: int = 6) -> list[str]:
    """Return the features with the largest absolute Cliff's delta in any comparison, largest first."""
    if stats.empty:
        return []
    largest = stats.assign(size=stats["cliffs_delta"].abs()).groupby("feature")["size"].max()
    return list(largest.sort_values(ascending=False, kind="stable").index[:count])


def _settings_table(manifest: dict[str, Any]):
    import pandas as pd

    rows = [
        ("groups", ", ".join(manifest["groups"])),
        ("controls", ", ".join(manifest.get("controls", [])) or "none"),
        ("model", manifest.get("model", "")),
        ("LoRA", manifest.get("lora") or "none"),
        ("LoRA sha256", manifest.get("lora_sha256") or ""),
    ]
    settings = manifest.get("settings", {})
    rows += [
        ("images per group", settings.get("n_images", "")),
        ("steps", settings.get("steps", "")),
        ("guidance scale", settings.get("guidance_scale", "")),
        ("templates", settings.get("templates", "")),
        ("engine", manifest.get("engine", "local")),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])
