"""`d2a bios`: Collect artist biographies (Wikipedia pages)."""

from __future__ import annotations

import typer

from ..reporting import reported_command
from .common import DEFAULT, NotifyOption, WorkspaceOption, console, open_workspace  # noqa: F401

app = typer.Typer(help="Collect artist biographies (Wikipedia pages).", no_args_is_help=True)


@app.command("import")
def import_command(
    source: str = typer.Argument(..., help="Folder of <slug>.html pages, or an html.tar.xz archive of them."),
    workspace: WorkspaceOption = DEFAULT,
    artist: list[str] = typer.Option(None, "--artist", "-a", help="Artist slug to import (repeatable); default: all pages."),
) -> None:
    """Copy saved pages into the workspace and triage each one (biography, disambiguation, ...)."""
    from ..bios.importer import import_pages

    summary = import_pages(open_workspace(workspace), source, artists=artist or None)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.kinds.items()))
    console.print(f"imported {summary.imported} pages ({kinds}); missing {len(summary.missing)}")


@app.command("fetch")
@reported_command("bios fetch")
def fetch_command(
    workspace: WorkspaceOption = DEFAULT,
    artist: list[str] = typer.Option(None, "--artist", "-a", help="Artist slug to fetch (repeatable); default: every catalog artist with a Wikipedia URL."),
    api_url: str = typer.Option(None, "--api-url", help="MediaWiki API endpoint to send every request to; default: the /w/api.php of each URL's wiki."),
    wikidata: bool = typer.Option(False, "--wikidata", help="Also fetch each artist's Wikidata item and the items it refers to."),
    wikidata_api_url: str = typer.Option(None, "--wikidata-api-url", help="Wikibase API endpoint; default: www.wikidata.org's."),
    min_interval: float = typer.Option(1.0, "--min-interval", min=0.0, help="Minimum time between two requests, in seconds."),
    maxlag: int = typer.Option(5, "--maxlag", min=1, help="Replication lag, in seconds, above which the server may ask us to wait."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.1, help="Timeout of each request, in seconds."),
    contact: str = typer.Option(None, "--contact", help="Contact (mail address or URL) added to the User-Agent header."),
    refresh: bool = typer.Option(False, "--refresh", help="Fetch again the pages already stored."),
    notify: NotifyOption = None,
) -> None:
    """Fetch artists' Wikipedia pages through the MediaWiki API (cached: a rerun sends nothing new)."""
    from ..bios.fetch import fetch_bios
    from ..bios.mediawiki import USER_AGENT

    user_agent = USER_AGENT if not contact else USER_AGENT.replace("set --contact to add yours", contact)
    summary = fetch_bios(
        open_workspace(workspace), artists=artist or None, api_url=api_url, wikidata=wikidata,
        wikidata_api_url=wikidata_api_url, user_agent=user_agent, min_interval_s=min_interval, maxlag=maxlag,
        timeout_s=timeout, refresh=refresh,
    )
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(summary.statuses.items()))
    console.print(
        f"fetched {summary.fetched} pages, {summary.cached} from cache ({statuses}); "
        f"{summary.wikidata_items} Wikidata items; {summary.requests_sent} requests"
    )
