"""The prompt sent for one artist: a fixed instruction and the page as plain text.

The input text is the infobox, one ``label: value`` line per row, followed by the article
paragraphs. Quotes in the answer are checked against exactly this text, so it is also what the
cache key hashes. Change :data:`PROMPT_VERSION` whenever the instruction or the text layout
changes, so cached answers from the old prompt are not reused.
"""

from __future__ import annotations

import hashlib
import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser

PROMPT_VERSION = "3"
DEFAULT_MAX_INPUT_CHARS = 12_000

SYSTEM_PROMPT = (
    "You extract facts about one artist from the text of their Wikipedia page. "
    "Return the birth and death years, the birth and death places with their countries, the gender, "
    "the nationality, the schools and academies attended, the languages spoken, the movements, groups "
    "and societies joined, the places lived in or visited, and the people met (teachers, pupils, friends, "
    "spouses, patrons) with both roles. Give ethnicity and religion only where the text states them in "
    "words. Use null (or an empty list) for anything the text does not state; never guess. "
    "For every value, copy into its quote field the exact words of the text that state it, "
    "unchanged (same spelling and punctuation); use a null quote for a null value. "
    "Years are integers, BC years negative. Gender is female, male or non-binary, read from the "
    "text or its pronouns."
)

_SKIP_CLASSES = ("infobox", "navbox", "hatnote", "metadata", "sidebar", "reflist", "reference", "mw-empty-elt")
_TEMPLATE_STYLES = re.compile(r"(?:\.mw-parser-output[^{}]*|@media[^{}]*\{[^{}]*)\{[^{}]*\}\}?")
_FOOTNOTE = re.compile(r"\[(?:\d+|[a-z]|note \d+|citation needed)\]")


def _inside_skipped(node) -> bool:
    parent = node.parent
    while parent is not None:
        classes = parent.attributes.get("class") or ""
        if any(name in classes for name in _SKIP_CLASSES):
            return True
        parent = parent.parent
    return False


def _clean(text: str) -> str:
    text = _TEMPLATE_STYLES.sub("", text)
    text = _FOOTNOTE.sub("", text)
    return " ".join(text.split())


def page_input_text(html: str | bytes, max_chars: int = DEFAULT_MAX_INPUT_CHARS) -> str:
    """Return the text the LLM reads for one page: the infobox as ``label: value`` lines, then the paragraphs.

    The text is cut at ``max_chars`` characters (at a paragraph boundary where possible) to bound
    the cost of very long articles; the lead and the infobox always come first.
    """
    raw = html if isinstance(html, str) else html.decode("utf-8", errors="replace")
    tree = HTMLParser(raw)
    lines: list[str] = []
    title = tree.css_first("h1") or tree.css_first("title")
    if title is not None:
        lines.append(f"Title: {_clean(title.text()).removesuffix(' - Wikipedia')}")
    box = tree.css_first("table.infobox, table.infobox_v2, .infobox_v3, table.toccolours.vcard")
    if box is not None:
        infobox = []
        for row in box.css("tr"):
            header, data = row.css_first("th"), row.css_first("td")
            if header is None or data is None:
                continue
            label = _clean(header.text(separator=" "))
            value = _clean(data.text(separator=" "))
            if label and value:
                infobox.append(f"{label}: {value}")
        if infobox:
            lines.append("Infobox:")
            lines.extend(infobox)
    content = tree.css_first("#mw-content-text") or tree.body
    paragraphs = []
    if content is not None:
        for paragraph in content.css("p"):
            if _inside_skipped(paragraph):
                continue
            text = _clean(paragraph.text(separator=""))
            if len(text) >= 20:
                paragraphs.append(text)
    if paragraphs:
        lines.append("Article:")
    text = "\n".join(lines)
    for paragraph in paragraphs:
        if len(text) + len(paragraph) + 1 > max_chars:
            if not text.endswith("Article:"):
                break
            paragraph = paragraph[: max(0, max_chars - len(text) - 1)]
        text = f"{text}\n{paragraph}"
    return text[:max_chars]


def build_messages(input_text: str) -> list[dict[str, str]]:
    """Return the chat messages of the extraction request for one page's input text."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": input_text},
    ]


def repair_messages(input_text: str, previous: str, problem: str) -> list[dict[str, str]]:
    """Return the messages of the one repair attempt: the first reply and what was wrong with it."""
    return [
        *build_messages(input_text),
        {"role": "assistant", "content": previous},
        {
            "role": "user",
            "content": f"That reply is not valid: {problem}. Reply again with one JSON object that follows the schema exactly.",
        },
    ]


def text_hash(text: str) -> str:
    """Return the SHA-256 hex digest of an input text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_quote_text(text: str) -> str:
    """Return ``text`` case-folded with runs of whitespace collapsed, for the quote check."""
    return " ".join(text.replace("\u2019", "'").casefold().split())


def quote_in_text(quote: str | None, input_text: str) -> bool:
    """Return whether ``quote`` occurs in ``input_text`` (ignoring case and whitespace runs)."""
    if not quote or not quote.strip():
        return False
    return normalise_quote_text(quote) in normalise_quote_text(input_text)
