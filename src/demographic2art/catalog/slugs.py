"""Match artwork-URL artist slugs to artist keys.

WikiArt writes some artists' slugs in artwork URLs differently from ``url_name``:
transliterated from the name (``jorg-strassmann``) or with each non-ASCII letter
replaced by ``-`` (``j-rg-stra-mann``, as ``joaqu-n-sorolla`` is for Joaquín Sorolla).
A slug is tried against, in order, the artist keys, :func:`~demographic2art.keys.slugify`
of each artist name and :func:`~demographic2art.keys.dashed_slug` of each name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..keys import dashed_slug, normalise_slug, slugify

logger = logging.getLogger(__name__)

MATCH_METHODS = ("exact", "transliterated", "dashed")
"""Ways a slug can match an artist, in the order they are tried."""


@dataclass
class SlugIndex:
    """Lookup from slug variants to artist keys, built from the artists' keys and names."""

    lookup: dict[str, tuple[str, str]] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)

    def match(self, slug: str) -> tuple[str | None, str]:
        """Return ``(artist_key, method)`` for an artwork slug, or ``(None, 'unmatched')``."""
        found = self.lookup.get(normalise_slug(slug))
        if found is None:
            return None, "unmatched"
        return found


def build_slug_index(artists: Iterable[tuple[str, Iterable[str]]]) -> SlugIndex:
    """Index ``(artist_key, names)`` pairs by their key, transliterated and dashed name slugs.

    A variant claimed by an earlier method is not overwritten by a later one. When two
    artists share a variant under the same method, the first keeps it and the clash is
    listed in ``conflicts``.
    """
    artists = [(key, list(names)) for key, names in artists]
    index = SlugIndex()
    makers = {
        "exact": lambda key, names: [key],
        "transliterated": lambda key, names: [slugify(name) for name in names],
        "dashed": lambda key, names: [dashed_slug(name) for name in names],
    }
    for method in MATCH_METHODS:
        for key, names in artists:
            for variant in makers[method](key, names):
                if not variant:
                    continue
                current = index.lookup.get(variant)
                if current is None:
                    index.lookup[variant] = (key, method)
                elif current[0] != key and current[1] == method:
                    index.conflicts.setdefault(variant, [current[0]]).append(key)
    if index.conflicts:
        logger.info("%d slug variants are shared by several artists", len(index.conflicts))
    return index
