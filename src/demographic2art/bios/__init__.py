"""Artist biographies: Wikipedia pages fetched or saved, their import into a workspace and their triage."""

from .fetch import FetchSummary, fetch_bios
from .importer import ImportSummary, import_pages
from .triage import PageKind, PageTriage, candidate_for_years, triage_page

__all__ = [
    "FetchSummary", "ImportSummary", "PageKind", "PageTriage", "candidate_for_years", "fetch_bios", "import_pages",
    "triage_page",
]
