"""The HTML report of a real-artwork analysis (``d2a analyze``)."""

from __future__ import annotations

import html

from . import report as html_report
from .compare import top_features
from .describe import birth_years_by_group, era_mix
from .features import TESTED_FEATURES
from .permutation import too_few_clusters_notes
from .robustness import summarise_gap

STATS_COLUMNS = ["group_a", "group_b", "feature", "n_a", "n_b", "median_a", "median_b", "cliffs_delta", "ci_low", "ci_high", "magnitude", "test", "p", "q"]
# Headers of the per-feature table when whole artists are permuted.
CLUSTERED_HEADERS = {
    "clusters_a": "artists_a",
    "clusters_b": "artists_b",
    "p": "p (artists permuted)",
    "q": "q (BH over p (artists permuted))",
    "p_works_mann_whitney": "p (works, Mann-Whitney; not used)",
}
CLUSTERED_METHODS = (
    "<p>p: two-sided permutation test of Cliff's delta that moves whole artists between the two groups "
    "(all assignments when there are at most 20,000, otherwise the given number of random ones). "
    "q: Benjamini-Hochberg over the features of each comparison; significant means q &lt; 0.05. "
    "The interval resamples whole artists within each group. "
    "p (works, Mann-Whitney) treats works as independent, is shown for reference only and decides nothing.</p>"
)
UNCLUSTERED_METHODS = (
    "<p>Artists are unknown, so p is the two-sided Mann-Whitney U test over works and the interval resamples works. "
    "q: Benjamini-Hochberg over the features of each comparison; significant means q &lt; 0.05.</p>"
)
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
    if has_artists:
        methods = "per-feature p from permuting whole artists between groups; effect-size intervals resample whole artists"
    else:
        methods = "per-feature p from the Mann-Whitney U test over images; effect-size intervals resample images (artists unknown)"
    sections = [
        ("Source", f"<p>{html.escape(source)}, grouped by {html.escape(result.group_by)}; {methods}.</p>"),
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
        # NOTE: Kruskal-Wallis treats works as independent even where artists are known.
        sections.append(("Kruskal-Wallis across all groups (works treated as independent)", html_report.table_html(result.multi_group)))
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
        table = _headers(result.within_era[columns], result.within_era)
        sections.append(("Comparisons within birth era", body + html_report.table_html(table)))
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
    sections.append(("Per-feature statistics", per_feature_section(result.stats)))
    return html_report.render_html(f"Image analysis: {result.name}", sections, banner=note)


def per_feature_section(stats) -> str:
    """Return the per-feature table with headers and methods text naming the test behind p."""
    clustered = bool((stats["p_min"].notna()).any()) if "p_min" in stats else False
    columns = list(STATS_COLUMNS)
    if clustered:
        columns = [*columns[:4], "clusters_a", "clusters_b", *columns[4:], "p_works_mann_whitney"]
    notes = "".join(f"<p><strong>{html.escape(note)}.</strong></p>" for note in too_few_clusters_notes(stats))
    methods = CLUSTERED_METHODS if clustered else UNCLUSTERED_METHODS
    return methods + notes + html_report.table_html(_headers(stats[columns], stats))


def _headers(table, stats):
    clustered = bool((stats["p_min"].notna()).any()) if "p_min" in stats else False
    return table.rename(columns=CLUSTERED_HEADERS) if clustered else table
