"""Self-contained HTML reports: matplotlib figures embedded as base64 PNG, tables inline."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np

MAX_SHEET_ROWS = 8
STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1100px; color: #222; }
.banner { background: #fff3cd; border: 2px solid #d39e00; padding: 0.8em 1em; margin-bottom: 1.5em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; }
"""


def json_safe(value):
    """Return ``value`` with NaN and infinite floats replaced by None, because JSON has no NaN."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def figure_png_base64(figure) -> str:
    """Return a matplotlib figure as a base64 PNG string and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def contact_sheet(columns: dict[str, Sequence], row_labels: Sequence[str], *, max_rows: int = MAX_SHEET_ROWS):
    """Return a figure with one row per seed and one column per group (PIL images or arrays)."""
    plt = _pyplot()
    names = list(columns)
    rows = min(len(row_labels), max_rows)
    figure, axes = plt.subplots(rows, len(names), figsize=(1.8 * len(names), 1.8 * rows), squeeze=False)
    for r in range(rows):
        for c, name in enumerate(names):
            axis = axes[r][c]
            axis.imshow(np.asarray(columns[name][r]))
            axis.set_xticks([])
            axis.set_yticks([])
            if r == 0:
                axis.set_title(name, fontsize=8)
            if c == 0:
                axis.set_ylabel(row_labels[r], fontsize=8)
    figure.tight_layout()
    return figure


def forest_plot(stats, *, title: str):
    """Return a forest plot of Cliff's delta with its interval, one line per feature."""
    plt = _pyplot()
    frame = stats.reset_index(drop=True)
    figure, axis = plt.subplots(figsize=(6.5, 0.3 * len(frame) + 1.2))
    positions = np.arange(len(frame))[::-1]
    colours = ["#c0392b" if flag else "#555555" for flag in frame["significant"]]
    low = (frame["cliffs_delta"] - frame["ci_low"]).clip(lower=0).fillna(0)
    high = (frame["ci_high"] - frame["cliffs_delta"]).clip(lower=0).fillna(0)
    axis.errorbar(frame["cliffs_delta"], positions, xerr=[low, high], fmt="none", ecolor="#999999", capsize=2)
    axis.scatter(frame["cliffs_delta"], positions, c=colours, zorder=3, s=18)
    axis.axvline(0.0, color="#333333", linewidth=0.8)
    axis.set_yticks(positions)
    axis.set_yticklabels(frame["feature"], fontsize=8)
    axis.set_xlim(-1.05, 1.05)
    axis.set_xlabel("Cliff's delta (red: BH q < 0.05)")
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def group_boxplots(features, column: str, names: Sequence[str], feature_names: Sequence[str]):
    """Return box plots of each feature by group."""
    plt = _pyplot()
    count = len(feature_names)
    columns = min(count, 3)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False)
    for index, feature in enumerate(feature_names):
        axis = axes[index // columns][index % columns]
        data = [features.loc[features[column] == name, feature].dropna().to_numpy() for name in names]
        axis.boxplot(data, tick_labels=[str(n) for n in names])
        axis.set_title(feature, fontsize=9)
        axis.tick_params(axis="x", labelsize=7, rotation=30)
    for index in range(count, rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.tight_layout()
    return figure


def table_html(frame, *, float_format: str = "{:.4g}") -> str:
    """Return a DataFrame as an HTML table with escaped cells."""
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = float_format.format(value) if isinstance(value, float) else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(title: str, sections: Sequence[tuple[str, str]], *, banner: str | None = None) -> str:
    """Return a whole HTML page; ``sections`` are (heading, HTML body) pairs, the banner goes first."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
    ]
    if banner:
        parts.append(f'<div class="banner"><strong>Note:</strong> {html.escape(banner)}</div>')
    parts.append(f"<h1>{html.escape(title)}</h1>")
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>\n{body}")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def image_tag(png_base64: str, alt: str) -> str:
    """Return an <img> tag that embeds a base64 PNG, so the page works offline."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png_base64}">'


def as_uint8(image) -> np.ndarray:
    """Return a PIL image or an RGB array (uint8, or float in [0, 1]) as a uint8 array."""
    array = np.asarray(image)
    if array.dtype.kind == "f":
        return np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8)
    return array.astype(np.uint8)


def average_images(columns: dict[str, Sequence], *, size: int = 128):
    """Return a figure with the pixel-wise mean image of each group, resized to ``size`` px squares."""
    from PIL import Image

    plt = _pyplot()
    names = list(columns)
    figure, axes = plt.subplots(1, len(names), figsize=(2.0 * len(names), 2.3), squeeze=False)
    for axis, name in zip(axes[0], names):
        stack = [np.asarray(Image.fromarray(as_uint8(image)).convert("RGB").resize((size, size)), dtype=float) for image in columns[name]]
        if stack:
            axis.imshow(np.mean(stack, axis=0).astype(np.uint8))
        axis.set_title(f"{name}\n(mean of {len(stack)})", fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    return figure


def parse_palette(text: str) -> list[tuple[str, float]]:
    """Parse a ``'#rrggbb:share ...'`` palette cell into (colour, share) pairs; empty when missing."""
    if not isinstance(text, str):
        return []
    pairs = []
    for item in text.split():
        colour, _, share = item.partition(":")
        pairs.append((colour, float(share or 0.0)))
    return pairs


def group_palettes(features, column: str, names: Sequence[str], *, swatches: int = 8):
    """Return a figure with one bar per group of its most common palette colours.

    Each image's 5 palette colours are quantised to 4 levels per channel and weighted
    by their shares. The bar shows the ``swatches`` heaviest colours of the group.
    """
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 0.5 * len(names) + 0.8))
    for row, name in enumerate(names):
        weights: dict[tuple[int, int, int], float] = {}
        for text in features.loc[features[column] == name, "palette"]:
            for colour, share in parse_palette(text):
                rgb = tuple(int(colour[i : i + 2], 16) // 64 for i in (1, 3, 5))
                weights[rgb] = weights.get(rgb, 0.0) + share
        top = sorted(weights.items(), key=lambda item: -item[1])[:swatches]
        total = sum(weight for _, weight in top) or 1.0
        left = 0.0
        for rgb, weight in top:
            colour = tuple((level * 64 + 32) / 255 for level in rgb)
            axis.barh(row, weight / total, left=left, color=colour, edgecolor="white")
            left += weight / total
    axis.set_yticks(range(len(names)))
    axis.set_yticklabels(names, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel("share of the group's palette weight (top colours)")
    figure.tight_layout()
    return figure


def violin_plots(features, column: str, names: Sequence[str], feature_names: Sequence[str]):
    """Return violin plots of each feature by group, with the medians marked."""
    plt = _pyplot()
    count = max(len(feature_names), 1)
    columns = min(count, 3)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.8 * rows), squeeze=False)
    for index, feature in enumerate(feature_names):
        axis = axes[index // columns][index % columns]
        data = [features.loc[features[column] == name, feature].dropna().to_numpy() for name in names]
        positions = [i + 1 for i, values in enumerate(data) if values.size > 1]
        shown = [values for values in data if values.size > 1]
        if shown:
            axis.violinplot(shown, positions=positions, showmedians=True)
        axis.set_xticks(range(1, len(names) + 1))
        axis.set_xticklabels([str(n) for n in names], fontsize=7, rotation=20)
        axis.set_title(feature, fontsize=9)
    for index in range(len(feature_names), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.tight_layout()
    return figure


def pca_scatter(features, column: str, names: Sequence[str], feature_names: Sequence[str]):
    """Return a scatter of the first two principal components of the z-scored features, by group."""
    plt = _pyplot()
    part = features[features[column].isin(names)].dropna(subset=list(feature_names))
    values = part[list(feature_names)].to_numpy(dtype=float)
    figure, axis = plt.subplots(figsize=(5.5, 4.5))
    if len(values) >= 3:
        sd = values.std(axis=0)
        values = (values[:, sd > 0] - values[:, sd > 0].mean(axis=0)) / sd[sd > 0]
        _, singular, components = np.linalg.svd(values, full_matrices=False)
        scores = values @ components[:2].T
        explained = singular**2 / (singular**2).sum()
        for name in names:
            mask = (part[column] == name).to_numpy()
            axis.scatter(scores[mask, 0], scores[mask, 1], s=14, alpha=0.7, label=str(name))
        axis.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
        axis.set_ylabel(f"PC2 ({explained[1]:.0%} of variance)" if len(explained) > 1 else "PC2")
        axis.legend(fontsize=7)
    axis.set_title("PCA of z-scored features", fontsize=9)
    figure.tight_layout()
    return figure


def null_histograms(whole_set: Sequence[dict]):
    """Return one histogram per comparison of the energy-distance permutation null, with the observed value."""
    plt = _pyplot()
    count = max(len(whole_set), 1)
    columns = min(count, 3)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False)
    for index, row in enumerate(whole_set):
        axis = axes[index // columns][index % columns]
        null = np.asarray(row.get("energy_null", []), dtype=float)
        if null.size:
            axis.hist(null, bins=30, color="#8aa6c1")
        axis.axvline(row["energy_distance"], color="#c0392b", linewidth=2, label="observed")
        axis.set_title(f"{row['group_a']} vs {row['group_b']}\np = {row['energy_p']:.3g}", fontsize=8)
        axis.set_xlabel("energy distance", fontsize=8)
        axis.legend(fontsize=7)
    for index in range(len(whole_set), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.tight_layout()
    return figure


def whole_set_table(whole_set: Sequence[dict]):
    """Return a DataFrame of whole-set results with the classifier's top features as text."""
    import pandas as pd

    rows = []
    for row in whole_set:
        top = ", ".join(f"{item['feature']} ({item['coefficient']:+.2f})" for item in row.get("c2st_top_features", []))
        rows.append(
            {
                "group_a": row["group_a"],
                "group_b": row["group_b"],
                "n_a": row["n_a"],
                "n_b": row["n_b"],
                "energy distance": row["energy_distance"],
                "energy p": row["energy_p"],
                "C2ST accuracy": row["c2st_accuracy"],
                "C2ST p": row["c2st_p"],
                "C2ST top features (coefficient, + is higher in A)": top,
                "Fréchet distance (features, not FID)": row["frechet_distance"],
            }
        )
    return pd.DataFrame(rows)


def figure_section(title: str, figure, alt: str) -> tuple[str, str]:
    """Return a (heading, body) report section with ``figure`` embedded as a PNG."""
    return title, image_tag(figure_png_base64(figure), alt)
