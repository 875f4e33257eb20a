"""`d2a compare` (generated portfolios per group) and `d2a analyze` (real images by group)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..reporting import record_counts, reported_command
from .common import DEFAULT, NotifyOption, WorkspaceOption, console, open_workspace, workspace_given


def _uses_workspace(options: dict) -> bool:
    """Return false for an analysis of an images folder into --out without a chosen workspace."""
    return not (options.get("out") and options.get("images_dir") and not workspace_given())


def register(app: typer.Typer) -> None:
    """Add ``compare`` and ``analyze`` to the top-level app."""

    @app.command("compare")
    @reported_command("compare")
    def compare(
        group: Annotated[
            list[str] | None,
            typer.Option("--group", help="A group as attribute=value[,attribute=value] (gender, nationality, birth_decade, movement); repeat for each group, at least 2."),
        ] = None,
        workspace: WorkspaceOption = DEFAULT,
        n_images: Annotated[int, typer.Option("--n-images", min=1, help="Images per group (one per seed).")] = 48,
        model: Annotated[str, typer.Option("--model", help="Base model: a diffusers folder or hub id \\[default: the workspace's models/tiny, else SD 1.5].")] = "",
        lora: Annotated[str | None, typer.Option("--lora", help="LoRA file or folder \\[default: the workspace's best run, if any].")] = None,
        no_lora: Annotated[bool, typer.Option("--no-lora", help="Compare with the base model alone.")] = False,
        steps: Annotated[int, typer.Option(min=1, max=150, help="Denoising steps per image.")] = 20,
        guidance_scale: Annotated[float, typer.Option(min=0.0, max=30.0, help="Classifier-free guidance scale.")] = 7.5,
        templates: Annotated[int, typer.Option(min=1, max=4, help="Number of caption templates the prompts cycle through.")] = 4,
        no_controls: Annotated[bool, typer.Option("--no-controls", help="Skip the neutral-prompt and LoRA-weight-0 control groups.")] = False,
        name: Annotated[str | None, typer.Option(help="Portfolio folder name under portfolios/ \\[default: from the groups].")] = None,
        engine: Annotated[str, typer.Option(help="Where images are generated: local (this process) or ray (a Ray Data batch job, one model per worker).")] = "local",
        workers: Annotated[int | None, typer.Option(min=1, help="Ray workers, each holding one model copy \\[default: the cluster's GPU count, or 1].")] = None,
        embedding: Annotated[str, typer.Option(help="Vectors for the whole-set tests: features, or a local CLIP weights folder.")] = "features",
        n_boot: Annotated[int, typer.Option("--n-boot", min=10, help="Bootstrap resamples per effect-size interval.")] = 2000,
        n_perm: Annotated[int, typer.Option("--n-perm", min=9, help="Permutations of the energy-distance test.")] = 999,
        c2st_perm: Annotated[int, typer.Option("--c2st-perm", min=9, help="Permutations of the classifier two-sample test (each refits the classifier once per fold).")] = 199,
        from_portfolio: Annotated[str | None, typer.Option("--from-portfolio", help="Analyse a saved portfolio under portfolios/<name>/ (from the web app or an earlier run) instead of generating.")] = None,
        allow_new_values: Annotated[bool, typer.Option("--allow-new-values", help="Accept group values that the workspace's demographics and catalog do not contain, for hypothetical prompts.")] = False,
        notify: NotifyOption = None,
    ) -> None:
        """Generate images per group with shared seeds and compare their features.

        Most of the time goes into generating the images: the command prints their number
        and a time estimate after the first one.
        """
        if from_portfolio is not None:
            from ..analysis.compare import analyze_portfolio

            ws = open_workspace(workspace)
            result = analyze_portfolio(ws, from_portfolio, n_boot=n_boot, n_perm=n_perm, c2st_perm=c2st_perm, embedding=embedding)
            _print_comparison(result)
            return
        from ..analysis.compare import compare_groups, parse_group
        from ..errors import InvalidValueError
        from ..generate.gallery import best_lora
        from .train import default_model

        groups = [parse_group(text) for text in group or []]
        if len(groups) < 2:
            raise InvalidValueError(f"got {len(groups)} --group option(s); pass at least 2, e.g. --group gender=female --group gender=male")
        ws = open_workspace(workspace)
        chosen = None if no_lora else (lora or best_lora(ws))
        result = compare_groups(
            ws, groups, model=model or default_model(ws), lora=chosen, n_images=n_images, steps=steps,
            guidance_scale=guidance_scale, templates=templates, controls=not no_controls, name=name,
            engine=engine, workers=workers, embedding=embedding, n_boot=n_boot, n_perm=n_perm, c2st_perm=c2st_perm,
            allow_new_values=allow_new_values, on_progress=console.print,
        )
        _print_comparison(result)

    @app.command("analyze")
    @reported_command("analyze", record_when=_uses_workspace)
    def analyze(
        workspace: WorkspaceOption = DEFAULT,
        images_dir: Annotated[str | None, typer.Option("--images-dir", help="Folder of <group>/<image>.jpg sub-folders, grouped by folder name \\[default: the workspace's downloaded images].")] = None,
        group_by: Annotated[str, typer.Option("--group-by", help="Column to group by: style, gender, nationality or birth_era (half-centuries).")] = "style",
        group: Annotated[list[str] | None, typer.Option("--group", help="Only these group names (repeat the option) \\[default: all].")] = None,
        max_per_artist: Annotated[int | None, typer.Option("--max-per-artist", min=1, help="Images kept per artist, drawn at random with the seed \\[default: all].")] = None,
        out: Annotated[str | None, typer.Option("--out", help="Output folder \\[default: analysis/<name>/ in the workspace].")] = None,
        name: Annotated[str | None, typer.Option(help="Analysis name \\[default: from the column and groups].")] = None,
        note: Annotated[str | None, typer.Option(help="Note shown at the top of the report, e.g. that images are stand-ins \\[default: the demo's data note].")] = None,
        seed: Annotated[int, typer.Option(help="Seed of resampling and sampling.")] = 0,
        within_era: Annotated[bool, typer.Option("--within-era", help="Also compare the groups within each birth era (half-century).")] = False,
        no_sensitivity: Annotated[bool, typer.Option("--no-sensitivity", help="Skip the rerun without artists whose demographics are flagged for review.")] = False,
        portfolio: Annotated[str | None, typer.Option(help="Portfolio name under portfolios/ whose A-B gap is set beside the real gap.")] = None,
        embedding: Annotated[str, typer.Option(help="Vectors for the whole-set tests: features, or a local CLIP weights folder.")] = "features",
        n_boot: Annotated[int, typer.Option("--n-boot", min=10, help="Bootstrap resamples per effect-size interval.")] = 2000,
        n_perm: Annotated[int, typer.Option("--n-perm", min=9, help="Random permutations of the energy-distance test and of the per-feature artist permutation test (enumerated exactly up to 20,000 assignments).")] = 999,
        c2st_perm: Annotated[int, typer.Option("--c2st-perm", min=9, help="Permutations of the classifier two-sample test (each refits the classifier once per fold).")] = 199,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier report in the output folder.")] = False,
        notify: NotifyOption = None,
    ) -> None:
        """Extract features of real images, group them and test the groups."""
        from ..analysis.analyze import analyze_images
        from ..analysis.robustness import summarise_gap

        ws = open_workspace(workspace)
        if note is None and images_dir is None:
            # A demo workspace records whether its data is synthetic or uses stand-in paintings.
            note = ws.settings().get("demo", {}).get("note")
        result = analyze_images(
            ws, images_dir=images_dir, group_by=group_by, groups=group, max_per_artist=max_per_artist,
            name=name, out=out, note=note, seed=seed, within_era=within_era, sensitivity=not no_sensitivity,
            portfolio=portfolio, embedding=embedding, n_boot=n_boot, n_perm=n_perm, c2st_perm=c2st_perm, overwrite=overwrite,
        )
        counts = ", ".join(f"{row.group}: {row.ok}" for row in result.counts.itertuples())
        from ..analysis.permutation import too_few_clusters_notes

        significant = result.stats[result.stats["significant"]]
        console.print(f"analysis {result.name} by {result.group_by}: {counts}")
        test = "artists permuted" if (result.stats["test"] == "artist-permutation").any() else "Mann-Whitney over images"
        console.print(f"{len(significant)} of {len(result.stats)} feature comparisons have BH q < 0.05 (p from {test})")
        for line in too_few_clusters_notes(result.stats):
            console.print(f"note: {line}")
        if result.within_era is not None and not result.within_era.empty:
            console.print(f"{int(result.within_era['significant'].sum())} of {len(result.within_era)} within-era comparisons have BH q < 0.05")
        if result.sensitivity is not None:
            flagged = result.sensitivity.attrs.get("flagged_artists", 0)
            console.print(f"without {flagged} flagged artists, {int(result.sensitivity['changed'].sum())} comparisons change significance or sign")
        if result.model_gap is not None:
            console.print(summarise_gap(result.model_gap))
        record_counts({f"images {row.group}": row.ok for row in result.counts.itertuples()} | {"significant": len(significant)})
        console.print(f"report: {result.files['report.html']}")
        if images_dir and out and not workspace_given():
            from ..workspace import remove_new_skeletons

            # The report went to --out; a default workspace made only for this run is removed.
            remove_new_skeletons()


def _print_comparison(result) -> None:
    significant = result.stats[result.stats["significant"]]
    n_images = result.manifest.get("settings", {}).get("n_images", "?")
    console.print(f"portfolio {result.name}: {len(result.groups)} groups x {n_images} images")
    console.print(f"{len(significant)} of {len(result.stats)} feature comparisons have BH q < 0.05")
    for row in result.multivariate:
        console.print(f"{row['group_a']} vs {row['group_b']}: classifier accuracy {row['c2st_accuracy']:.2f} (p = {row['c2st_p']:.3g}), energy p = {row['energy_p']:.3g}")
    if result.stand_in:
        console.print("note: the model is a tiny stand-in, so its images are noise-like")
    console.print(f"report: {result.files['report.html']}")
