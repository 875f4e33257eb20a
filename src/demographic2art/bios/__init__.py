"""Artist biographies: saved Wikipedia pages, their import into a workspace and their triage."""

from .importer import ImportSummary, import_pages
from .triage import PageKind, PageTriage, triage_page

__all__ = ["ImportSummary", "PageKind", "PageTriage", "import_pages", "triage_page"]
