"""Features of real paintings grouped by style or by the artist's demographics, and tests.

Two sources: a workspace (downloaded images joined to the catalog and to the
demographics table) or a folder laid out as ``<group>/<image>.jpg``, grouped by folder
name. With two groups the groups are compared pairwise (Mann-Whitney U); with more, a
Kruskal-Wallis test per feature comes first and every pair follows. Where artists are
known, effect-size intervals resample whole artists, because works of one artist are
not independent.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidValueError, MissingFileError
from ..workspace import Workspace
from . import report as html_report
from .features import TESTED_FEATURES, extract_features
from .stats import DEFAULT_BOOTSTRAP, DEFAULT_PERMUTATIONS, all_pairs, compare_pairs, multi_group_tests, multivariate_test

logger = logging.getLogger(__name__)

GROUP_COLUMNS = ("style", "gender", "nationality", "birth_era")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
OK_STATUSES = ("ok",)
# Half-century eras keep the groups large enough to test.
ERA_WIDTH = 50
MIN_GROUP_SIZE = 2
# Default analysis names list the groups up to this many, then only their count.
MAX_NAMED_GROUPS = 3
REPORT_FEATURES = ("value_mean", "chroma_mean", "saturation_mean", "colourfulness", "warm_cool", "edge_density", "grey_entropy")


@dataclass
class AnalysisResult:
    """Features, per-group counts and statistics of one analysis, with its output files."""

    name: str
    group_by: str
    groups: list[str]
    counts: Any
    features: Any
    stats: Any
    multi_group: Any
    multivariate: list[dict[str, Any]]
    folder: str
    files: dict[str, str] = field(default_factory=dict)


def birth_era(year: float | None) -> str | None:
    """Return the half-century of a birth year, e.g. ``'1850-1899'``; None when unknown."""
    if year is None or (isinstance(year, float) and np.isnan(year)):
        return None
    start = int(year) // ERA_WIDTH * ERA_WIDTH
    return f"{start}-{start + ERA_WIDTH - 1}"


def folder_images(images_dir: str | os.PathLike[str]):
    """Return a table of the images in ``<group>/<image>`` folders: path, group, image key."""
    import pandas as pd

    root = Path(images_dir)
    if not root.is_dir():
        raise MissingFileError(f"image folder {root} does not exist; pass a folder of <group>/<image>.jpg sub-folders")
    rows = []
    for group_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for image in sorted(group_dir.iterdir()):
            if image.suffix.lower() in IMAGE_SUFFIXES:
                rows.append({"key": f"{group_dir.name}/{image.name}", "group": group_dir.name, "path": str(image), "artist_key": None})
    if not rows:
        raise MissingFileError(f"no images found in sub-folders of {root}; expected <group>/<image>.jpg")
    return pd.DataFrame(rows)


def _read_optional(storage, relpath: str):
    return storage.read_parquet(relpath) if storage.exists(relpath) else None


def workspace_images(workspace: Workspace, group_by: str):
    """Return the workspace's downloaded images joined to catalog and demographics.

    Columns are read defensively: rows whose image is missing or not ``ok``, or whose
    grouping value is unknown, are left out and counted in the log.
    """
    import pandas as pd

    storage = workspace.storage
    manifest = _read_optional(storage, "images/manifest.parquet")
    if manifest is None or "key" not in manifest:
        raise MissingFileError(f"{workspace.url}/images/manifest.parquet is missing; run 'd2a images download' or pass --images-dir")
    if "status" in manifest:
        manifest = manifest[manifest["status"].isin(OK_STATUSES)]
    frame = manifest[["key"] + [c for c in ("file",) if c in manifest]].copy()
    catalog = _read_optional(storage, "catalog/artworks.parquet")
    if catalog is not None and "key" in catalog:
        keep = [c for c in ("key", "artist_key", "style", "genre", "year") if c in catalog]
        frame = frame.merge(catalog[keep], on="key", how="left")
    if "artist_key" not in frame:
        frame["artist_key"] = None
    if group_by in ("gender", "nationality", "birth_era"):
        demographics = _read_optional(storage, "demographics/demographics.parquet")
        if demographics is None or "artist_key" not in demographics:
            raise MissingFileError(f"{workspace.url}/demographics/demographics.parquet is missing; run 'd2a demographics extract' first")
        keep = [c for c in ("artist_key", "gender", "nationality", "birth_year") if c in demographics]
        frame = frame.merge(demographics[keep].drop_duplicates("artist_key"), on="artist_key", how="left")
        if group_by == "birth_era" and "birth_year" in frame:
            frame["birth_era"] = [birth_era(y) for y in pd.to_numeric(frame["birth_year"], errors="coerce")]
    if group_by not in frame:
        raise InvalidValueError(f"column {group_by!r} is not in this workspace's tables; use one of {', '.join(GROUP_COLUMNS)}")
    frame["group"] = frame[group_by]
    frame["relpath"] = [_image_relpath(row) for row in frame.to_dict(orient="records")]
    before = len(frame)
    frame = frame[frame["group"].notna() & (frame["group"].astype(str) != "")]
    frame = frame[[storage.exists(relpath) for relpath in frame["relpath"]]]
    logger.info("kept %d of %d downloaded images with a known %s and a file", len(frame), before, group_by)
    return frame.reset_index(drop=True)


def _image_relpath(row: dict[str, Any]) -> str:
    stored = row.get("file")
    if isinstance(stored, str) and stored:
        return stored if stored.startswith("images/") else f"images/files/{stored}"
    return f"images/files/{row['key']}.jpg"


def cap_per_artist(frame, max_per_artist: int | None, seed: int = 0):
    """Keep at most ``max_per_artist`` images per known artist, drawn with ``seed``."""
    if not max_per_artist or frame["artist_key"].isna().all():
        return frame
    known = frame[frame["artist_key"].notna()]
    unknown = frame[frame["artist_key"].isna()]
    shuffled = known.sample(frac=1.0, random_state=seed)
    capped = shuffled[shuffled.groupby("artist_key").cumcount() < max_per_artist]
    import pandas as pd

    return pd.concat([capped, unknown]).sort_index()


def analyze_images(
    workspace: Workspace | str,
    *,
    images_dir: str | os.PathLike[str] | None = None,
    group_by: str = "style",
    groups: list[str] | None = None,
    max_per_artist: int | None = None,
    name: str | None = None,
    out: str | None = None,
    note: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    n_perm: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> AnalysisResult:
    """Extract features of real images, group them and test the groups against each other.

    With ``images_dir`` the images come from ``<group>/<image>`` folders and are grouped
    by folder name, so ``group_by`` must be ``'style'``. Without it they come from the
    workspace's downloaded images, grouped by ``group_by`` (style, gender, nationality or
    birth_era). ``groups`` limits the analysis to those group names. Outputs go under
    ``analysis/<name>/`` in the workspace, or into the local folder ``out``. ``note`` is
    shown at the top of the report, e.g. that the images are stand-ins for named works.
    """
    if group_by not in GROUP_COLUMNS:
        raise InvalidValueError(f"unknown group-by column {group_by!r}; use one of {', '.join(GROUP_COLUMNS)}")
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace).create()
    if images_dir is not None:
        if group_by != "style":
            raise InvalidValueError(f"--images-dir groups by folder name (style), not {group_by!r}; leave --group-by at style")
        table = folder_images(images_dir)
    else:
        table = workspace_images(ws, group_by)
    if groups:
        missing = [g for g in groups if g not in set(table["group"].astype(str))]
        if missing:
            present = ", ".join(sorted(set(table["group"].astype(str))))
            raise InvalidValueError(f"group(s) {', '.join(missing)} not found; choose from: {present}")
        table = table[table["group"].astype(str).isin(groups)].reset_index(drop=True)
    table = cap_per_artist(table, max_per_artist, seed=seed).reset_index(drop=True)
    table["group"] = table["group"].astype(str)
    counts = table.groupby("group").size()
    names = [g for g in counts.index if counts[g] >= MIN_GROUP_SIZE]
    if len(names) < 2:
        raise InvalidValueError(
            f"need at least 2 groups with {MIN_GROUP_SIZE}+ images by {group_by}, found {len(names)} "
            f"({', '.join(f'{g}: {n}' for g, n in counts.items()) or 'none'})"
        )
    table = table[table["group"].isin(names)].reset_index(drop=True)

    import pandas as pd

    if images_dir is not None:
        sources = table["path"].tolist()
    else:
        # Workspace images are read through the storage layer one at a time, so the
        # workspace may live on any fsspec file system.
        sources = (ws.storage.read_bytes(relpath) for relpath in table["relpath"])
    features = extract_features(sources, ids=table["key"].tolist(), seed=seed)
    features = pd.concat([table[["group", "artist_key"]], features], axis=1)
    usable = features[features["status"] == "ok"]
    has_artists = usable["artist_key"].notna().all() and usable["artist_key"].nunique() > 1
    stats = compare_pairs(
        usable, "group", all_pairs(names), TESTED_FEATURES,
        cluster_by="artist_key" if has_artists else None, n_boot=n_boot, seed=seed,
    )
    multi = multi_group_tests(usable, "group", TESTED_FEATURES) if len(names) > 2 else None
    multivariate = [multivariate_test(usable, "group", a.name_a, a.name_b, TESTED_FEATURES, n_perm=n_perm, seed=seed) for a in all_pairs(names)]
    count_table = _count_table(features, names)

    if name is None:
        label = "-".join(names) if len(names) <= MAX_NAMED_GROUPS else f"{len(names)}-groups"
        name = re.sub(r"[^a-z0-9]+", "-", f"{group_by}-{label}".lower()).strip("-")
    result = AnalysisResult(
        name=name, group_by=group_by, groups=names, counts=count_table, features=features, stats=stats,
        multi_group=multi, multivariate=multivariate, folder="",
    )
    _write_outputs(ws, result, out, note, source=str(images_dir) if images_dir else ws.url, has_artists=has_artists)
    return result


def _count_table(features, names):
    import pandas as pd

    rows = []
    for name in names:
        part = features[features["group"] == name]
        rows.append(
            {
                "group": name,
                "images": int(len(part)),
                "ok": int((part["status"] == "ok").sum()),
                "errors": int((part["status"] != "ok").sum()),
                "artists": int(part["artist_key"].nunique()),
                "masked_share_mean": float(part["masked_share"].mean()),
            }
        )
    return pd.DataFrame(rows)


def _write_outputs(ws: Workspace, result: AnalysisResult, out: str | None, note: str | None, *, source: str, has_artists: bool) -> None:
    from ..storage import Storage

    if out is not None:
        storage, folder = Storage(out), ""
    else:
        storage, folder = ws.storage, f"analysis/{result.name}"
    prefix = f"{folder}/" if folder else ""
    storage.write_text(f"{prefix}features.csv", result.features.to_csv(index=False))
    storage.write_text(f"{prefix}counts.csv", result.counts.to_csv(index=False))
    storage.write_text(f"{prefix}stats.csv", result.stats.to_csv(index=False))
    storage.write_json(
        f"{prefix}stats.json",
        html_report.json_safe({
            "name": result.name,
            "source": source,
            "group_by": result.group_by,
            "groups": result.groups,
            "note": note,
            "artist_resampling": has_artists,
            "counts": result.counts.to_dict(orient="records"),
            "multi_group": result.multi_group.to_dict(orient="records") if result.multi_group is not None else None,
            "multivariate": result.multivariate,
            "per_feature": result.stats.to_dict(orient="records"),
        }),
    )
    storage.write_text(f"{prefix}report.html", _report_page(result, note, source, has_artists))
    result.folder = storage.path(folder)
    result.files = {kind: storage.path(f"{prefix}{kind}") for kind in ("features.csv", "counts.csv", "stats.csv", "stats.json", "report.html")}


def _report_page(result: AnalysisResult, note: str | None, source: str, has_artists: bool) -> str:
    import pandas as pd

    usable = result.features[result.features["status"] == "ok"]
    boxes = html_report.group_boxplots(usable, "group", result.groups, list(REPORT_FEATURES))
    interval = "whole artists resampled" if has_artists else "images resampled (artists unknown)"
    sections = [
        ("Source", f"<p>{source}, grouped by {result.group_by}; effect-size intervals: {interval}.</p>"),
        ("Counts per group", html_report.table_html(result.counts)),
        ("Features by group", html_report.image_tag(html_report.figure_png_base64(boxes), "box plots")),
    ]
    if result.multi_group is not None:
        sections.append(("Kruskal-Wallis across all groups", html_report.table_html(result.multi_group)))
    for (group_a, group_b), part in result.stats.groupby(["group_a", "group_b"], sort=False):
        figure = html_report.forest_plot(part, title=f"{group_a} vs {group_b}")
        sections.append((f"{group_a} vs {group_b}", html_report.image_tag(html_report.figure_png_base64(figure), "forest plot")))
    sections.append(("Multivariate tests (energy distance on standardised features)", html_report.table_html(pd.DataFrame(result.multivariate))))
    columns = ["group_a", "group_b", "feature", "n_a", "n_b", "median_a", "median_b", "cliffs_delta", "ci_low", "ci_high", "magnitude", "p", "q"]
    sections.append(("Per-feature statistics", html_report.table_html(result.stats[columns])))
    return html_report.render_html(f"Image analysis: {result.name}", sections, banner=note)
