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
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..captions.templates import ATTRIBUTES, ArtistAttributes, ArtworkFields, compose_caption
from ..errors import InvalidValueError, MissingFileError
from ..workspace import Workspace
from . import report as html_report
from .features import TESTED_FEATURES, extract_features
from .stats import DEFAULT_BOOTSTRAP, DEFAULT_PERMUTATIONS, Comparison, compare_pairs, multivariate_test

logger = logging.getLogger(__name__)

NEUTRAL_GROUP = "neutral"
LORA_OFF_SUFFIX = " (LoRA weight 0)"
STAND_IN_SIZE = 64
DEFAULT_SEED_START = 1000
PACKAGES = ("demographic2art", "diffusers", "torch", "transformers", "numpy", "scipy", "pandas", "pillow")


@dataclass
class ComparisonResult:
    """Tables and manifest of one comparison, with the paths of its files under ``portfolios/<name>/``."""

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
        group[key.strip()] = value.strip()
    return group


def group_attributes(group: dict[str, str]) -> ArtistAttributes:
    """Return the caption attributes of a group dict, rejecting unknown attributes."""
    values: dict[str, Any] = {}
    for key, value in group.items():
        if key not in ATTRIBUTES:
            raise InvalidValueError(f"unknown group attribute {key!r}; use one of {', '.join(ATTRIBUTES)}")
        if key == "birth_decade":
            try:
                values[key] = int(value)
            except ValueError:
                raise InvalidValueError(f"birth_decade {value!r} is not a year such as 1850") from None
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
    device: str | None = None,
) -> ComparisonResult:
    """Generate a portfolio per group with shared seeds, extract features and compare groups.

    ``groups`` are attribute dicts such as ``{"gender": "female"}``. Image ``i`` of every
    group uses ``seeds[i]`` and caption template ``i % templates``. Writes images with
    sidecars, ``manifest.json``, ``features.csv``, ``stats.csv``, ``stats.json`` and
    ``report.html`` under ``portfolios/<name>/``. ``lora='best'`` picks the workspace's best
    training run (``runs/best.json``, else the lowest loss).
    """
    from ..generate import GenerationParams, Generator, save_generation

    ws = _resolve_workspace(workspace)
    seeds = _validate(groups, n_images, seeds, templates)
    attributes = {group_label(g): group_attributes(g) for g in groups}
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
    generator = Generator(model, lora, device=device)
    stand_in = generator.native_size <= STAND_IN_SIZE

    # (group label, attributes, LoRA weight); the first group at weight 0 is a control.
    plan: list[tuple[str, ArtistAttributes, float]] = [(label, attrs, 1.0) for label, attrs in attributes.items()]
    if controls:
        plan.append((NEUTRAL_GROUP, ArtistAttributes(), 1.0))
        if lora is not None:
            first_label, first_attrs = next(iter(attributes.items()))
            plan.append((first_label + LORA_OFF_SUFFIX, first_attrs, 0.0))

    records = []
    images: dict[str, list] = {}
    for label, attrs, weight in plan:
        images[label] = []
        for index, seed in enumerate(seeds):
            template = index % templates
            prompt = compose_caption(artwork, attrs, template=template, include_year=False)
            params = GenerationParams(prompt=prompt, seed=seed, steps=steps, guidance_scale=guidance_scale, lora_weight=weight)
            image = generator.generate(params)[0]
            relpath = f"{folder}/images/{_slug(label)}/{seed}.png"
            save_generation(
                ws.storage, relpath, image, params, model=generator.model_name, lora=generator.lora_name,
                extra={"group": label, "template": template},
            )
            images[label].append(image)
            records.append({"group": label, "seed": seed, "template": template, "prompt": prompt, "lora_weight": weight, "file": relpath})
        logger.info("generated %d images for %s", len(seeds), label)

    manifest = {
        "name": name,
        "groups": list(attributes),
        "controls": [label for label, _, _ in plan[len(attributes):]],
        "model": model,
        "stand_in_model": stand_in,
        "lora": lora,
        "lora_sha256": file_sha256(lora) if lora else None,
        "settings": {"n_images": n_images, "steps": steps, "guidance_scale": guidance_scale, "templates": templates, "scheduler": "ddim"},
        "seeds": seeds,
        "images": records,
        "packages": package_versions(),
    }
    ws.storage.write_json(f"{folder}/manifest.json", manifest)

    import pandas as pd

    all_images = [image for label, _, _ in plan for image in images[label]]
    features = extract_features(all_images, ids=[r["file"] for r in records])
    features = pd.concat([pd.DataFrame(records)[["group", "seed", "template", "prompt", "lora_weight"]], features], axis=1)

    labels = list(attributes)
    comparisons = [Comparison(a, b, paired=True) for i, a in enumerate(labels) for b in labels[i + 1 :]]
    if controls:
        comparisons += [Comparison(label, NEUTRAL_GROUP, paired=True) for label in labels]
        if lora is not None:
            comparisons.append(Comparison(labels[0], labels[0] + LORA_OFF_SUFFIX, paired=True))
    stats = compare_pairs(features, "group", comparisons, TESTED_FEATURES, pair_by="seed", n_boot=n_boot)
    # NOTE: the energy-distance test permutes rows without keeping seed pairs, so it is
    # conservative for the paired design.
    multivariate = [multivariate_test(features, "group", c.name_a, c.name_b, TESTED_FEATURES, n_perm=n_perm) for c in comparisons]

    files = _write_outputs(ws, folder, name, features, stats, multivariate, manifest, images, seeds, stand_in)
    return ComparisonResult(
        name=name, folder=ws.storage.path(folder), groups=labels, stats=stats, features=features,
        multivariate=multivariate, manifest=manifest, stand_in=stand_in, files=files,
    )


def stand_in_banner(stand_in: bool) -> str | None:
    if not stand_in:
        return None
    return (
        f"These images come from a stand-in model of at most {STAND_IN_SIZE} px with random weights. "
        "They are noise-like pictures, not art, so the statistics below test the pipeline, not a real model."
    )


def _write_outputs(ws, folder, name, features, stats, multivariate, manifest, images, seeds, stand_in) -> dict[str, str]:
    storage = ws.storage
    storage.write_text(f"{folder}/features.csv", features.to_csv(index=False))
    storage.write_text(f"{folder}/stats.csv", stats.to_csv(index=False))
    storage.write_json(
        f"{folder}/stats.json",
        html_report.json_safe({
            "name": name,
            "features": TESTED_FEATURES,
            "multivariate": multivariate,
            "per_feature": stats.to_dict(orient="records"),
            "stand_in_model": stand_in,
        }),
    )
    banner = stand_in_banner(stand_in)
    sheet = html_report.contact_sheet(images, [f"seed {s}" for s in seeds])
    sections = [
        ("Settings", html_report.table_html(_settings_table(manifest))),
        ("Contact sheet (one row per seed)", html_report.image_tag(html_report.figure_png_base64(sheet), "contact sheet")),
    ]
    for (group_a, group_b), part in stats.groupby(["group_a", "group_b"], sort=False):
        figure = html_report.forest_plot(part, title=f"{group_a} vs {group_b} (paired by seed)")
        sections.append((f"{group_a} vs {group_b}", html_report.image_tag(html_report.figure_png_base64(figure), "forest plot")))
    import pandas as pd

    sections.append(("Multivariate tests (energy distance on standardised features)", html_report.table_html(pd.DataFrame(multivariate))))
    columns = ["group_a", "group_b", "feature", "n_a", "cliffs_delta", "ci_low", "ci_high", "magnitude", "test", "p", "q"]
    sections.append(("Per-feature statistics", html_report.table_html(stats[columns])))
    page = html_report.render_html(f"Portfolio comparison: {name}", sections, banner=banner)
    storage.write_text(f"{folder}/report.html", page)
    return {kind: storage.path(f"{folder}/{kind}") for kind in ("manifest.json", "features.csv", "stats.csv", "stats.json", "report.html")}


def _settings_table(manifest: dict[str, Any]):
    import pandas as pd

    rows = [
        ("groups", ", ".join(manifest["groups"])),
        ("controls", ", ".join(manifest["controls"]) or "none"),
        ("model", manifest["model"]),
        ("LoRA", manifest["lora"] or "none"),
        ("LoRA sha256", manifest["lora_sha256"] or ""),
        ("images per group", manifest["settings"]["n_images"]),
        ("steps", manifest["settings"]["steps"]),
        ("guidance scale", manifest["settings"]["guidance_scale"]),
        ("templates", manifest["settings"]["templates"]),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])
