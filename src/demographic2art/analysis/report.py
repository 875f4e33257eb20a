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
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png_base64}">'
