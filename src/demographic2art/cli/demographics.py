"""`d2a demographics`: Extract, evaluate and compare artist demographics."""

from __future__ import annotations

import json

import typer

from ..reporting import record_counts, reported_command
from .common import DEFAULT, NotifyOption, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Extract, evaluate and compare artist demographics.", no_args_is_help=True)


@app.command("extract")
@reported_command("demographics extract")
def extract_command(
    workspace: WorkspaceOption = DEFAULT,
    artist: list[str] = typer.Option(None, "--artist", "-a", help="Artist slug to extract (repeatable); default: all imported pages."),
    pages: str = typer.Option(None, "--pages", help="Folder of saved <slug>.html pages (or an html.tar.xz archive) to extract from instead of the imported pages; offline only."),
    extractor: str = typer.Option("offline", "--extractor", help="offline (from the pages, no network) or llm (an OpenAI-compatible endpoint)."),
    base_url: str = typer.Option(None, "--base-url", help="LLM endpoint URL, e.g. https://api.openai.com/v1 for OpenAI; required with --extractor llm."),
    model: str = typer.Option(None, "--model", help="LLM model name, e.g. gpt-4o-mini; required with --extractor llm."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Environment variable holding the API key."),
    concurrency: int = typer.Option(64, "--concurrency", min=1, help="Maximum LLM requests in flight."),
    requests_per_minute: int = typer.Option(None, "--requests-per-minute", min=1, help="LLM request rate limit, requests per minute."),
    tokens_per_minute: int = typer.Option(None, "--tokens-per-minute", min=1, help="LLM token rate limit, tokens per minute."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.001, help="Timeout of each LLM call, in seconds."),
    max_retries: int = typer.Option(3, "--max-retries", min=0, help="Retries of a call after a 429, a 5xx or a timeout."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Estimate the LLM tokens and cost (USD) and send nothing."),
    batch: bool = typer.Option(False, "--batch", help="Send the LLM requests through the provider's batch API."),
    price: str = typer.Option(None, "--price", help="Model price as INPUT,OUTPUT USD per million tokens (overrides the built-in table)."),
    poll_interval: float = typer.Option(10.0, "--poll-interval", min=0.01, help="Seconds between batch status checks."),
    notify: NotifyOption = None,
) -> None:
    """Extract demographics from the imported pages or a --pages folder (offline: demographics/demographics.parquet; llm: demographics/llm/)."""
    if extractor == "offline":
        from ..demographics.workspace_io import extract_workspace

        summary = extract_workspace(open_workspace(workspace), artists=artist or None, pages_dir=pages)
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.kinds.items()))
        console.print(
            f"extracted {summary.extracted} pages ({kinds}); {summary.needs_review} need review"
            " (review counts include catalog-year conflicts where the workspace holds a catalog)"
        )
        record_counts({"extracted": summary.extracted, "needs review": summary.needs_review} | summary.kinds)
        return
    from ..errors import InvalidValueError

    if extractor != "llm":
        raise InvalidValueError(f"invalid --extractor {extractor!r}; use offline or llm")
    if pages:
        raise InvalidValueError(
            "--pages works with --extractor offline only; import the pages with 'd2a bios import' for the LLM extractor"
        )
    _extract_llm(workspace, artist, base_url, model, api_key_env, concurrency, requests_per_minute, tokens_per_minute,
                 timeout, max_retries, dry_run, batch, price, poll_interval)


def _extract_llm(workspace, artist, base_url, model, api_key_env, concurrency, requests_per_minute, tokens_per_minute,
                 timeout, max_retries, dry_run, batch, price, poll_interval) -> None:
    import os

    from ..demographics.llm.costs import parse_price
    from ..demographics.llm.extract import extract_llm
    from ..errors import InvalidValueError

    if not base_url:
        raise InvalidValueError(
            "no --base-url given for --extractor llm; pass the endpoint, e.g. --base-url https://api.openai.com/v1 for OpenAI"
        )
    if not model:
        raise InvalidValueError("no --model given for --extractor llm; pass the model name, e.g. --model gpt-4o-mini")
    api_key = os.environ.get(api_key_env)
    if not api_key and not dry_run:
        console.print(f"no API key in ${api_key_env}; sending requests without one")
    summary = extract_llm(
        open_workspace(workspace), base_url=base_url, model=model, api_key=api_key, artists=artist or None,
        concurrency=concurrency, requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute,
        timeout_s=timeout, max_retries=max_retries, dry_run=dry_run, batch=batch,
        prices={model: parse_price(price)} if price else None, poll_interval_s=poll_interval,
    )
    cost = summary.cost
    priced = f"{cost.cost_usd:.4f} USD" if cost.priced else "unknown (no price for this model; pass --price)"
    if dry_run:
        console.print(
            f"dry run: {summary.sent if summary.sent else cost.calls} pages to send, {summary.cached} cached; "
            f"estimated {cost.prompt_tokens} prompt + {cost.completion_tokens} completion tokens, cost {priced}"
        )
        return
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(summary.statuses.items()))
    console.print(
        f"extracted {summary.extracted} pages with {model} ({statuses}); sent {summary.sent}, cached {summary.cached}; "
        f"{cost.prompt_tokens} prompt + {cost.completion_tokens} completion tokens, cost {priced}; "
        f"{summary.quotes_dropped} values dropped for quotes not in the page"
    )


_EVALUATE_HELP = """Compare extracted demographics with a reference table, field by field.

Without --pages and --extracted, the extraction in the workspace (demographics/json) is compared.

Terms: agreement = rows where both we and the reference give a value and they match, over rows
where both give one (countries match when the code sets overlap). recall = reference values we
also fill, matching or not, over all reference values on biography pages. matched recall = reference
values we fill and match, over all reference values. coverage = biography pages where we give a
value, over all biography pages. judged = the same figure with the reference values judged wrong
(each judgement quotes the page) left out; the targets apply to it. judgements counts: applied
(judgement used), stale (the reference value changed since it was judged), quote_not_found (its
quote is not on the page, so it is not used), range (the page gives a range holding both values,
so neither is wrong). Judged recall can be lower than raw recall: a value judged wrong leaves the
denominator, so recall falls when the values left out were ones we had filled.
"""


@app.command("evaluate", help=_EVALUATE_HELP)
def evaluate_command(
    workspace: WorkspaceOption = DEFAULT,
    pages: str = typer.Option(None, "--pages", help="Folder of saved <slug>.html pages to extract and compare (or to check judgement quotes with --extracted); default: the workspace's extraction."),
    reference: str = typer.Option(..., "--reference", help="Reference TSV: slug, birth_year, death_year, gender, nationality, birth_country."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    limit: int = typer.Option(None, "--limit", min=1, help="Evaluate only the first N reference rows (slug order)."),
    extracted: str = typer.Option(None, "--extracted", help="Folder of <slug>.json records from an earlier extraction to compare instead of extracting again; default without --pages: WORKSPACE/demographics/json."),
    judgements: str = typer.Option(None, "--judgements", help="JSON list of judged reference values; default: the packaged list."),
    no_judgements: bool = typer.Option(False, "--no-judgements", help="Report raw figures only, with no judged reference values removed."),
) -> None:
    from ..demographics.evaluate import evaluate_extraction

    report = evaluate_extraction(open_workspace(workspace), reference, pages=pages, extracted=extracted, limit=limit,
                                 judgements=False if no_judgements else judgements)
    if as_json:
        console.print_json(json.dumps(report, ensure_ascii=False, default=str))
        return
    console.print(f"rows {report['rows']}; triage {report['triage']}; judgements {report['judgements']}")
    for field, values in report["fields"].items():
        console.print(
            f"{field:14} agreement {_percent(values['agreement'])} (judged {_percent(values['agreement_judged'])})  "
            f"recall {_percent(values['recall'])} (judged {_percent(values['recall_judged'])})  "
            f"matched recall {_percent(values['matched_recall'])} (judged {_percent(values['matched_recall_judged'])})  "
            f"coverage {_percent(values['coverage'])}  (both {values['both']})"
        )
    console.print(f"disagreements {len(report['disagreements'])} (see --json)")
    if report["invalid_reference"]:
        console.print(f"{len(report['invalid_reference'])} reference years are not integers and count as missing (see --json)")


@app.command("compare")
def compare_command(
    run_a: str = typer.Argument(..., help="First run: offline, llm, or a demographics Parquet file."),
    run_b: str = typer.Argument(..., help="Second run: offline, llm, or a demographics Parquet file."),
    workspace: WorkspaceOption = DEFAULT,
    as_json: bool = typer.Option(False, "--json", help="Print the full comparison as JSON."),
) -> None:
    """List the disagreements between two extraction runs, field by field."""
    from ..demographics.compare import compare_runs
    from ..workspace import Workspace

    result = compare_runs(run_a, run_b, workspace=Workspace(workspace))
    if as_json:
        console.print_json(result.model_dump_json())
        return
    console.print(f"{result.artists} artists in both runs")
    for field, counts in result.fields.items():
        console.print(f"{field:18} both {counts.both}  agree {counts.agree}  only {run_a} {counts.only_a}  only {run_b} {counts.only_b}")
    for item in result.disagreements:
        console.print(f"{item.artist_key}  {item.field}  {item.value_a} ({item.source_a})  {item.value_b} ({item.source_b})")


def _percent(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"
