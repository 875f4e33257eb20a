"""The HTML report of a real-artwork analysis (``d2a analyze``)."""

from __future__ import annotations

import html

from . import report as html_report
from .compare import top_features
from .describe import birth_years_by_group, era_mix
from .features import TESTED_FEATURES
from .robustness import summarise_gap

STATS_COLUMNS = ["group_a", "group_b", "feature", "n_a", "n_b", "median_a", "median_b", "cliffs_delta", "ci_low", "ci_high", "magnitude", "p", "q"]
CROSSTAB_NOTE = (
    "<p>Each work counts once (a multi-valued genre or media cell counts its first item). Chi-square p treats works as "
    "independent; p (artists permuted) moves whole artists between groups and is the one to read when artists are known.</p>"
)


def era_figure(years_by_group: dict):
    """Return overlaid histograms of artists' birth years per group."""
    plt = html_report._pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 2.8))
    for name, years in years_by_group.items():
        if len(years):
            axis.hist(years, bins=20, alpha=0.5, label=f"{name} ({len(years)} artists)")
    axis.set_xlabel("artist birth year")
    axis.set_ylabel("artists")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def report_page(result, note: str | None, source: str, has_artists: bool, averages: dict) -> str:
    """Return the self-contained HTML page of an :class:`~demographic2art.analysis.analyze.AnalysisResult`."""
    import pandas as pd

    usable = result.features[result.features["status"] == "ok"]
    interval = "whole artists resampled" if has_artists else "images resampled (artists unknown)"
    sections = [
        ("Source", f"<p>{html.escape(source)}, grouped by {html.escape(result.group_by)}; effect-size intervals: {interval}.</p>"),
        ("Counts per group", html_report.table_html(result.counts)),
    ]
    if result.description is not None and not result.description.empty:
        sections.append(("Description of the groups", html_report.table_html(result.description)))
        mix = era_mix(usable, result.groups) if "birth_era" in usable else pd.DataFrame()
        if not mix.empty:
            sections.append(("Share of works per birth era", html_report.table_html(mix.reset_index())))
        if "birth_year" in usable and usable["birth_year"].notna().any():
            sections.append(html_report.figure_section("Artist birth years per group", era_figure(birth_years_by_group(usable, result.groups)), "birth years"))
    if result.crosstabs:
        frame = pd.DataFrame(result.crosstabs).rename(columns={"p_cluster_permutation": "p (artists permuted)"})
        sections.append(("Style, genre, media and era by group (chi-square, Cramér's V)", html_report.table_html(frame) + CROSSTAB_NOTE))
    sections.append(html_report.figure_section("Average image per group (whole images, borders included)", html_report.average_images(averages), "average images"))
    sections.append(html_report.figure_section("Palettes per group", html_report.group_palettes(usable, "group", result.groups), "palettes"))
    if result.multi_group is not None:
        sections.append(("Kruskal-Wallis across all groups", html_report.table_html(result.multi_group)))
    for (group_a, group_b), part in result.stats.groupby(["group_a", "group_b"], sort=False):
        figure = html_report.forest_plot(part, title=f"{group_a} vs {group_b}")
        sections.append(html_report.figure_section(f"Effect sizes: {group_a} vs {group_b}", figure, "forest plot"))
    top = top_features(result.stats)
    sections.append(html_report.figure_section("Top features by group", html_report.violin_plots(usable, "group", result.groups, top), "violin plots"))
    sections.append(html_report.figure_section("PCA of the features", html_report.pca_scatter(usable, "group", result.groups, TESTED_FEATURES), "PCA scatter"))
    sections.append((f"Whole-set tests on {result.vectors} vectors", html_report.table_html(html_report.whole_set_table(result.multivariate))))
    sections.append(html_report.figure_section("Energy-distance permutation null (red: observed)", html_report.null_histograms(result.multivariate), "permutation null"))
    if result.within_era is not None and not result.within_era.empty:
        columns = ["stratum", *[c for c in STATS_COLUMNS if c not in ("median_a", "median_b")]]
        significant = result.within_era[result.within_era["significant"]]
        body = f"<p>{len(significant)} of {len(result.within_era)} within-era comparisons have BH q &lt; 0.05.</p>"
        sections.append(("Comparisons within birth era", body + html_report.table_html(result.within_era[columns])))
    if result.sensitivity is not None and not result.sensitivity.empty:
        changed = int(result.sensitivity["changed"].sum())
        flagged = result.sensitivity.attrs.get("flagged_artists", "")
        body = (
            f"<p>Rerun without the {flagged} artists whose demographics are flagged for review: "
            f"{changed} of {len(result.sensitivity)} feature comparisons change significance or sign.</p>"
        )
        sections.append(("Sensitivity: without flagged artists", body + html_report.table_html(result.sensitivity)))
    if result.model_gap is not None and not result.model_gap.empty:
        body = f"<p>{html.escape(summarise_gap(result.model_gap))}</p>"
        sections.append(("Does the model exaggerate? Model gap beside real gap", body + html_report.table_html(result.model_gap)))
    sections.append(("Per-feature statistics", html_report.table_html(result.stats[STATS_COLUMNS])))
    return html_report.render_html(f"Image analysis: {result.name}", sections, banner=note)
