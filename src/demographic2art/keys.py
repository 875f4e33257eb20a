"""Artist and artwork keys shared by every table, file name and manifest.

The artwork key is ``<artist-slug>/<painting-slug>`` taken from the path of the
WikiArt artwork page URL (``https://www.wikiart.org/en/alfred-sisley/edge-of-...``),
never from the image file name, which differs for many rows. The artist key is the
artist slug after :func:`normalise_slug`.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from unidecode import unidecode

from .errors import InvalidValueError

_LANGUAGE_PREFIXES = {"en", "de", "fr", "es", "it", "pt", "ru", "uk", "zh", "ja", "nl", "pl", "tr"}
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def normalise_slug(slug: str) -> str:
    """Return the canonical form of an artist or painting slug.

    Drops a language prefix such as ``en/``, lower-cases, transliterates non-ASCII
    letters and merges runs of separators into one ``-``.
    """
    text = unquote(str(slug)).strip().strip("/")
    parts = text.split("/")
    if len(parts) > 1 and parts[0].lower() in _LANGUAGE_PREFIXES:
        text = "/".join(parts[1:])
    return slugify(text)


def slugify(name: str) -> str:
    """Turn a name into a WikiArt-style slug, transliterating accented letters.

    ``'Jörg Straßmann'`` gives ``'jorg-strassmann'`` and ``'Đorđe Ćirić'`` gives
    ``'dorde-ciric'``; apostrophes and other punctuation become separators.
    """
    text = unicodedata.normalize("NFC", str(name))
    ascii_text = unidecode(text).lower()
    return _NON_SLUG.sub("-", ascii_text).strip("-")


def dashed_slug(name: str) -> str:
    """Return the slug WikiArt writes for some artists: each non-ASCII letter becomes ``-``.

    ``'Jörg Straßmann'`` gives ``'j-rg-stra-mann'`` (the real catalog's
    ``joaqu-n-sorolla`` stands for ``joaquin-sorolla`` in the same way).
    """
    text = unicodedata.normalize("NFC", str(name)).lower()
    return _NON_SLUG.sub("-", text).strip("-")


def split_artwork_url(url: str) -> tuple[str, str]:
    """Return ``(artist_slug, painting_slug)`` from a WikiArt artwork page URL."""
    path = urlsplit(str(url).strip()).path
    parts = [p for p in unquote(path).split("/") if p]
    if parts and parts[0].lower() in _LANGUAGE_PREFIXES:
        parts = parts[1:]
    if len(parts) < 2:
        raise InvalidValueError(
            f"artwork URL {url!r} has no '<artist>/<painting>' path; "
            "expected a page URL such as https://www.wikiart.org/en/<artist>/<painting>"
        )
    return normalise_slug(parts[0]), painting_slug(parts[1])


def painting_slug(segment: str) -> str:
    """Return the painting slug of a URL path segment: decoded, NFC, lower-case, otherwise kept.

    Unlike artist slugs, painting slugs are not transliterated or trimmed: WikiArt has
    pages ``salome`` and ``salomé``, and ``1`` and ``-1``, for different works.
    """
    text = unicodedata.normalize("NFC", unquote(str(segment))).strip().strip("/").lower()
    if not text or "/" in text or text in (".", ".."):
        raise InvalidValueError(f"painting slug {segment!r} cannot be used as a key or file name")
    return text


def artwork_key(url: str) -> str:
    """Return ``'<artist>/<painting>'`` for a WikiArt artwork page URL."""
    artist, painting = split_artwork_url(url)
    return f"{artist}/{painting}"


def key_to_filename(key: str, suffix: str) -> str:
    """Return the relative file path for a key, e.g. ``artist/painting.jpg``."""
    artist, _, painting = key.partition("/")
    if not artist or not painting:
        raise InvalidValueError(f"artwork key {key!r} is not of the form '<artist>/<painting>'")
    return f"{artist}/{painting}{suffix}"
