"""Fitting captions into CLIP's 77-token window (75 caption tokens plus start and end markers).

Counts use the model's own tokenizer. When a caption is too long, parts are removed in
priority order (year, media, movement, then template words) before anything is cut, so
style and demographics are the last to go; what still does not fit is truncated and
reported with the dropped text.
"""

from __future__ import annotations

from dataclasses import dataclass

CLIP_MAX_TOKENS = 77
CAPTION_TOKENS = CLIP_MAX_TOKENS - 2


@dataclass(frozen=True)
class CaptionFit:
    """A caption after fitting: the text used, its token count and what was dropped."""

    text: str
    tokens: int
    original_tokens: int
    dropped_tokens: int
    dropped_text: str

    @property
    def truncated(self) -> bool:
        return self.dropped_tokens > 0


def count_tokens(tokenizer, text: str) -> int:
    """Return the number of caption tokens, without the start and end markers."""
    return len(tokenizer(text, add_special_tokens=False, truncation=False).input_ids)


def fit_caption(tokenizer, text: str, max_tokens: int = CAPTION_TOKENS) -> CaptionFit:
    """Cut ``text`` to ``max_tokens`` caption tokens and record what was dropped."""
    ids = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
    if len(ids) <= max_tokens:
        return CaptionFit(text, len(ids), len(ids), 0, "")
    kept = tokenizer.decode(ids[:max_tokens], clean_up_tokenization_spaces=True).strip()
    dropped = tokenizer.decode(ids[max_tokens:], clean_up_tokenization_spaces=True).strip()
    return CaptionFit(kept, max_tokens, len(ids), len(ids) - max_tokens, dropped)


def fit_candidates(tokenizer, candidates: list[str], max_tokens: int = CAPTION_TOKENS) -> CaptionFit:
    """Return the first candidate that fits, else the last one truncated.

    ``candidates`` run from the fullest caption to the shortest, each with one more
    low-priority part removed.
    """
    original = count_tokens(tokenizer, candidates[0])
    for text in candidates:
        n = count_tokens(tokenizer, text)
        if n <= max_tokens:
            return CaptionFit(text, n, original, 0, "")
    fit = fit_caption(tokenizer, candidates[-1], max_tokens)
    return CaptionFit(fit.text, fit.tokens, original, fit.dropped_tokens, fit.dropped_text)
