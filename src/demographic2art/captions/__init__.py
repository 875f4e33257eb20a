"""Training captions built from artwork metadata and artist demographics."""

from .templates import ArtistAttributes, compose_caption, demographic_phrase
from .tokens import CaptionFit, fit_caption

__all__ = ["ArtistAttributes", "CaptionFit", "compose_caption", "demographic_phrase", "fit_caption"]
