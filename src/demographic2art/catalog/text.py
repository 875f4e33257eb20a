"""Clean the catalog's text fields and split its ``|``-separated list fields."""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_SPACES = re.compile(r"\s+")


def clean_text(value: object) -> str:
    """Return ``value`` with tags removed, HTML entities decoded once and NFC normalisation.

    Tags are removed before decoding, so an escaped ``&lt;b&gt;`` becomes the text
    ``<b>`` and stays. Named, decimal and hexadecimal entities are decoded; a bare ``&``
    is left as it is. Runs of white space become one space. Missing values give ``""``.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = _TAG.sub("", str(value))
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


def split_list(value: object, separator: str = "|") -> list[str]:
    """Split a multi-valued cell into cleaned items.

    Items are split before cleaning (so an encoded ``&#124;`` stays inside its item),
    stripped, and empty or repeated items are dropped, keeping the first order.
    Commas and parentheses inside an item are kept. An empty cell gives ``[]``.
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    items: list[str] = []
    seen: set[str] = set()
    for part in str(value).split(separator):
        item = clean_text(part)
        if item and item not in seen:
            seen.add(item)
            items.append(item)
    return items
