"""Artist demographics (birth, death, gender, nationality) extracted from saved biographies."""

from .evaluate import evaluate, normalise_countries, normalise_gender
from .offline import extract_page
from .schema import Conflict, Demographics, LifeEvent, Nationality, Place, YearValue
from .workspace_io import ExtractSummary, extract_workspace, flat_row

__all__ = [
    "Conflict", "Demographics", "ExtractSummary", "LifeEvent", "Nationality", "Place", "YearValue",
    "evaluate", "extract_page", "extract_workspace", "flat_row", "normalise_countries", "normalise_gender",
]
