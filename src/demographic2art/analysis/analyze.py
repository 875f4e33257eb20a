"""Features of real paintings grouped by style or by the artist's demographics, and tests.

Two sources: a workspace (downloaded images joined to the catalog and to the
demographics table) or a folder laid out as ``<group>/<image>.jpg``, grouped by folder
name. Groups are compared pairwise; with more than two, a Kruskal-Wallis test per
feature comes first. Works of one artist are not independent, so where artists are
known each feature's p comes from permuting whole artists between the groups and its
effect-size interval resamples whole artists. Without artists, p is Mann-Whitney U over
images and the interval resamples images.
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
from .real_report import report_page
from .crosstab import crosstab_tests
from .permutation import too_few_clusters_notes
from .describe import describe_groups
from .embeddings import load_backend
from .robustness import compare_within_strata, model_gap, sensitivity_comparison, summarise_gap
from .stats import DEFAULT_BOOTSTRAP, DEFAULT_PERMUTATIONS, all_pairs, compare_pairs, multi_group_tests
from .twosample import DEFAULT_C2ST_PERMUTATIONS, json_rows, whole_set_tests

logger = logging.getLogger(__name__)

GROUP_COLUMNS = ("style", "gender", "nationality", "birth_era")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
OK_STATUSES = ("ok",)
DEMOGRAPHICS_TABLE = "demographics/demographics.parquet"
CROSSTAB_CATEGORIES = ("style", "genre", "media", "birth_era")
# Average images use at most this many works per group, re-read at 128 px.
AVERAGE_IMAGE_SAMPLE = 48
# Half-century eras keep the groups large enough to test.
ERA_WIDTH = 50
MIN_GROUP_SIZE = 2
# Files whose presence marks an earlier report in an output folder.
REPORT_FILES = ("report.html", "stats.json")
# Default analysis names list the groups up to this many, then only their count.
MAX_NAMED_GROUPS = 3
ARTIST_PERMUTATION_METHOD = "two-sided permutation test of Cliff's delta moving whole artists between groups, BH q per comparison"
WORK_RANK_METHOD = "two-sided Mann-Whitney U over images (artists unknown), BH q per comparison"


@dataclass
class AnalysisResult:
    """Features, per-group counts and statistics of one analysis, with its output files.

    ``multivariate`` contains the whole-set tests per pair of groups. ``description``,
    ``crosstabs``, ``within_era``, ``sensitivity`` and ``model_gap`` are filled where
    the data allow them (artists, demographics, a portfolio) and are None or empty otherwise.
    """

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
    description: Any = None
    crosstabs: list[dict[str, Any]] = field(default_factory=list)
    within_era: Any = None
    sensitivity: Any = None
    model_gap: Any = None
    vectors: str = "features"


def birth_era(year: float | None) -> str | None:
    """Return the half-century of a birth year, e.g. ``'1850-1899'``; None when unknown."""
    import pandas as pd

    # Nullable integer columns give pandas.NA, which float checks do not catch.
    if year is None or pd.isna(year):
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
        keep = [c for c in ("key", "artist_key", "style", "genre", "media", "year") if c in catalog]
        frame = frame.merge(catalog[keep], on="key", how="left")
    if "artist_key" not in frame:
        frame["artist_key"] = None
    demographics = _read_optional(storage, DEMOGRAPHICS_TABLE)
    if group_by in ("gender", "nationality", "birth_era") and (demographics is None or "artist_key" not in demographics):
        raise MissingFileError(f"{workspace.url}/{DEMOGRAPHICS_TABLE} is missing; run 'd2a demographics extract' first")
    if demographics is not None and "artist_key" in demographics:
        keep = [c for c in ("artist_key", "gender", "nationality", "birth_year", "needs_review") if c in demographics]
        frame = frame.merge(demographics[keep].drop_duplicates("artist_key"), on="artist_key", how="left")
        if "birth_year" in frame:
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
    c2st_perm: int = DEFAULT_C2ST_PERMUTATIONS,
    within_era: bool = False,
    sensitivity: bool = True,
    portfolio: str | None = None,
    embedding: str | None = None,
    overwrite: bool = False,
    seed: int = 0,
) -> AnalysisResult:
    """Extract features of real images, group them and test the groups against each other.

    With ``images_dir`` the images come from ``<group>/<image>`` folders and are grouped
    by folder name, so ``group_by`` must be ``'style'``. Without it they come from the
    workspace's downloaded images, grouped by ``group_by`` (style, gender, nationality or
    birth_era). ``groups`` limits the analysis to those group names. Outputs go under
    ``analysis/<name>/`` in the workspace, or into the local folder ``out``. ``note`` is
    shown at the top of the report, e.g. that the images are stand-ins for named works.

    Workspace mode also describes the groups (artists, works, missing values, eras,
    styles), tests cross-tables of style, genre, media and birth era by group, and with
    ``sensitivity`` reruns the comparison without flagged artists. ``within_era`` adds
    comparisons within each birth era. ``portfolio`` names a generated portfolio under
    ``portfolios/`` whose A-B gap is set beside the real one. ``embedding`` picks the
    vectors of the whole-set tests. An earlier report in the output folder raises
    :class:`InvalidValueError` before any work starts, unless ``overwrite`` is true.
    """
    if group_by not in GROUP_COLUMNS:
        raise InvalidValueError(f"unknown group-by column {group_by!r}; use one of {', '.join(GROUP_COLUMNS)}")
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace).create()
    if images_dir is not None:
        if group_by != "style":
            raise InvalidValueError(f"--images-dir groups by folder name (style), not {group_by!r}; leave --group-by at style")
        if within_era:
            raise InvalidValueError("--within-era needs artists' birth years, which an --images-dir folder lacks; analyse a workspace instead")
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
    if name is None:
        label = "-".join(names) if len(names) <= MAX_NAMED_GROUPS else f"{len(names)}-groups"
        name = re.sub(r"[^a-z0-9]+", "-", f"{group_by}-{label}".lower()).strip("-")
    if not overwrite:
        check_no_report(ws, name, out)

    import pandas as pd

    if images_dir is not None:
        sources = table["path"].tolist()
    else:
        # Workspace images are read through the storage layer one at a time, so the
        # workspace may live on any fsspec file system.
        sources = (ws.storage.read_bytes(relpath) for relpath in table["relpath"])
    features = extract_features(sources, ids=table["key"].tolist(), seed=seed)
    context = [c for c in ("group", "artist_key", "birth_year", "birth_era", "needs_review") if c in table]
    features = pd.concat([table[context], features], axis=1)
    usable = features[features["status"] == "ok"].reset_index(drop=True)
    has_artists = usable["artist_key"].notna().all() and usable["artist_key"].nunique() > 1
    cluster_by = "artist_key" if has_artists else None
    stats = compare_pairs(usable, "group", all_pairs(names), TESTED_FEATURES, cluster_by=cluster_by, n_boot=n_boot, n_perm=n_perm, seed=seed)
    multi = multi_group_tests(usable, "group", TESTED_FEATURES) if len(names) > 2 else None

    backend = load_backend(embedding)
    if backend.name == "features":
        vector_columns = list(TESTED_FEATURES)
    else:
        ok_rows = features.index[features["status"] == "ok"]
        vectors = backend.embed(usable, [_load_small(ws, table, i, images_dir) for i in ok_rows])
        vector_columns = list(vectors.columns)
        usable = pd.concat([usable, vectors], axis=1)
    multivariate = [
        whole_set_tests(usable, "group", pair.name_a, pair.name_b, vector_columns, cluster_by=cluster_by, n_perm=n_perm, c2st_perm=c2st_perm, seed=seed)
        | {"vectors": backend.name}
        for pair in all_pairs(names)
    ]
    count_table = _count_table(features, names)

    result = AnalysisResult(
        name=name, group_by=group_by, groups=names, counts=count_table, features=features, stats=stats,
        multi_group=multi, multivariate=multivariate, folder="", vectors=backend.name,
    )
    if images_dir is None:
        _add_workspace_checks(ws, result, table, usable, cluster_by, within_era=within_era, sensitivity=sensitivity, n_boot=n_boot, n_perm=n_perm, seed=seed)
    if portfolio is not None:
        result.model_gap = _portfolio_gap(ws, portfolio, stats, group_by)
    averages = _average_sources(ws, table, names, images_dir, seed)
    _write_outputs(ws, result, out, note, source=str(images_dir) if images_dir else ws.url, has_artists=has_artists, averages=averages)
    return result


def _output_storage(ws: Workspace, name: str, out: str | None):
    """Return the storage and folder (relative to it) that the report of ``name`` goes to."""
    from ..storage import Storage

    if out is not None:
        return Storage(out), ""
    return ws.storage, f"analysis/{name}"


def check_no_report(ws: Workspace, name: str, out: str | None = None) -> None:
    """Raise :class:`InvalidValueError` if the output folder of ``name`` already contains a report."""
    storage, folder = _output_storage(ws, name, out)
    prefix = f"{folder}/" if folder else ""
    earlier = [filename for filename in REPORT_FILES if storage.exists(f"{prefix}{filename}")]
    if earlier:
        raise InvalidValueError(
            f"{storage.path(folder)} already contains an analysis report ({', '.join(earlier)}); "
            "pass --overwrite to replace it, or --name or --out to write elsewhere"
        )


def _add_workspace_checks(ws, result, table, usable, cluster_by, *, within_era, sensitivity, n_boot, n_perm, seed) -> None:
    """Fill the description, cross-tables, within-era and sensitivity parts of a workspace analysis."""
    names = result.groups
    result.description = describe_groups(table, names)
    categories = [c for c in CROSSTAB_CATEGORIES if c in table and c != result.group_by]
    crosstab_cluster = "artist_key" if table["artist_key"].notna().any() else None
    result.crosstabs = crosstab_tests(table, "group", categories, cluster_by=crosstab_cluster, seed=seed)
    if within_era:
        result.within_era = compare_within_strata(usable, "birth_era", names, TESTED_FEATURES, cluster_by=cluster_by, n_boot=n_boot, n_perm=n_perm, seed=seed)
    if sensitivity and "needs_review" in usable:
        flagged = usable["needs_review"].fillna(False).astype(bool)
        if flagged.any():
            rest = usable[~flagged]
            rest_names = [n for n in names if (rest["group"] == n).sum() >= MIN_GROUP_SIZE]
            if len(rest_names) >= 2:
                clusters = cluster_by if cluster_by is not None and rest["artist_key"].nunique() > 1 else None
                rerun = compare_pairs(rest, "group", all_pairs(rest_names), TESTED_FEATURES, cluster_by=clusters, n_boot=n_boot, n_perm=n_perm, seed=seed)
                result.sensitivity = sensitivity_comparison(result.stats, rerun)
                result.sensitivity.attrs["flagged_artists"] = int(usable.loc[flagged, "artist_key"].nunique())
            else:
                logger.info("too few works remain without flagged artists for a sensitivity rerun")


def _portfolio_gap(ws, portfolio: str, real_stats, group_by: str):
    import pandas as pd

    folder = f"portfolios/{portfolio}"
    for relpath in (f"{folder}/manifest.json", f"{folder}/stats.csv"):
        if not ws.storage.exists(relpath):
            raise MissingFileError(f"{ws.url}/{relpath} is missing; run 'd2a compare --name {portfolio}' first")
    manifest = ws.storage.read_json(f"{folder}/manifest.json")
    with ws.storage.open(f"{folder}/stats.csv") as handle:
        portfolio_stats = pd.read_csv(handle)
    return model_gap(portfolio_stats, real_stats, group_by, manifest["groups"])


def _load_small(ws, table, index, images_dir, size: int = 224):
    from .features import load_rgb

    source = table.loc[index, "path"] if images_dir is not None else ws.storage.read_bytes(table.loc[index, "relpath"])
    return load_rgb(source, max_side=size)


def _average_sources(ws, table, names, images_dir, seed):
    """Return up to AVERAGE_IMAGE_SAMPLE images per group, drawn with ``seed``, for the average images."""
    result = {}
    for name in names:
        rows = table.index[table["group"] == name]
        if len(rows) > AVERAGE_IMAGE_SAMPLE:
            rows = np.sort(np.random.default_rng(seed).choice(rows, AVERAGE_IMAGE_SAMPLE, replace=False))
        images = []
        for index in rows:
            try:
                images.append(_load_small(ws, table, index, images_dir, size=128))
            except (OSError, ValueError, SyntaxError) as exc:
                logger.warning("average image of %s skips %s: %s", name, table.loc[index, "key"], exc)
        result[name] = images
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


def _write_outputs(ws: Workspace, result: AnalysisResult, out: str | None, note: str | None, *, source: str, has_artists: bool, averages) -> None:
    storage, folder = _output_storage(ws, result.name, out)
    prefix = f"{folder}/" if folder else ""
    tables = {
        "features.csv": result.features,
        "counts.csv": result.counts,
        "stats.csv": result.stats,
        "whole_set.csv": html_report.whole_set_table(result.multivariate),
        "description.csv": result.description,
        "crosstabs.csv": _frame(result.crosstabs),
        "within_era.csv": result.within_era,
        "sensitivity.csv": result.sensitivity,
        "model_gap.csv": result.model_gap,
    }
    written = []
    for filename, frame in tables.items():
        if frame is not None and not frame.empty:
            storage.write_text(f"{prefix}{filename}", frame.to_csv(index=False))
            written.append(filename)
    storage.write_json(
        f"{prefix}stats.json",
        html_report.json_safe({
            "name": result.name,
            "source": source,
            "group_by": result.group_by,
            "groups": result.groups,
            "note": note,
            "artist_resampling": has_artists,
            "per_feature_test": ARTIST_PERMUTATION_METHOD if has_artists else WORK_RANK_METHOD,
            "too_few_artists": too_few_clusters_notes(result.stats),
            "vectors": result.vectors,
            "counts": result.counts.to_dict(orient="records"),
            "description": _records(result.description),
            "crosstabs": result.crosstabs,
            "multi_group": _records(result.multi_group),
            "whole_set": json_rows(result.multivariate),
            "per_feature": result.stats.to_dict(orient="records"),
            "within_era": _records(result.within_era),
            "sensitivity": _records(result.sensitivity),
            "model_gap": _records(result.model_gap),
            "model_gap_summary": summarise_gap(result.model_gap) if result.model_gap is not None else None,
        }),
    )
    storage.write_text(f"{prefix}report.html", report_page(result, note, source, has_artists, averages))
    result.folder = storage.path(folder)
    result.files = {kind: storage.path(f"{prefix}{kind}") for kind in [*written, "stats.json", "report.html"]}


def _frame(rows):
    import pandas as pd

    return pd.DataFrame(rows) if rows else None


def _records(frame):
    return frame.to_dict(orient="records") if frame is not None and not frame.empty else None
