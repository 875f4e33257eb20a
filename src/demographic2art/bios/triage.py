"""Triage of saved pages: is this one person's Wikipedia biography, and in which language?

A page is Wikipedia when its canonical link points to ``*.wikipedia.org``. Disambiguation and
name-index pages are found by their box classes, categories or a "may refer to" lead; error
pages by an HTTP-error title or under 100 characters of visible text. Pages without any sign of
a person (no birth or death data, no person categories) are ``topic`` pages, and articles about
an artist duo or collective are ``group`` pages; neither is extracted.
"""

from __future__ import annotations

import re
from enum import Enum
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from selectolax.lexbor import LexborHTMLParser as HTMLParser, LexborNode as Node


class PageKind(str, Enum):
    """What a saved page is, as far as extraction is concerned."""

    biography = "biography"
    other_language = "other_language"
    disambiguation = "disambiguation"
    group = "group"
    topic = "topic"
    not_wikipedia = "not_wikipedia"
    error = "error"


EXTRACTED_KINDS = frozenset({PageKind.biography, PageKind.other_language})


class PageTriage(BaseModel):
    """Result of :func:`triage_page` for one saved page."""

    kind: PageKind
    language: str | None = None
    title: str | None = None
    wikidata_id: str | None = None
    reason: str = ""
    candidates: list[str] = Field(default_factory=list)

    @property
    def is_biography(self) -> bool:
        """True for pages whose facts are extracted (English or other-language biographies)."""
        return self.kind in EXTRACTED_KINDS


MIN_VISIBLE_CHARS = 100

_HTTP_ERROR_TITLE = re.compile(
    r"^\s*(?:\d{3}\s|error\b|not found|page not found|forbidden|access denied|bad gateway|"
    r"service unavailable|internal server error)",
    re.IGNORECASE,
)
_WIKIDATA_ID = re.compile(r'"wgWikibaseItemId"\s*:\s*"(Q\d+)"')
_WIKIDATA_LINK = re.compile(r"wikidata\.org/wiki/(?:Special:EntityPage/)?(Q\d+)")
_TITLE_SUFFIX = re.compile(r"\s+[-—–]\s+(?:Wiki\w*|Вики\w*|Уики\w*|Вікі\w*|Vikipedi\w*)[^-—–]*$")

DISAMBIGUATION_BOX_CLASSES = ("dmbox-disambig", "dmbox-setindex")
DISAMBIGUATION_BOX_IDS = ("disambigbox", "setindexbox")
_DISAMBIGUATION_CATEGORY = re.compile(
    r"disambiguation pages|^surnames\b|^given names\b|set index articles|"
    r"begriffsklärung|homonymie|desambiguaci|disambigua|многозначн|неоднозначн|ujednoznacznienie|"
    r"doorverwijspagina|dezambiguizare",
    re.IGNORECASE,
)
_MAY_REFER_TO = re.compile(
    r"\bmay (?:also )?refer to\b|\bcan (?:also )?refer to\b|\bsteht für\b|\bbezeichnet:|"
    r"\bpeut désigner\b|\bpuede referirse a\b|\bpuò riferirsi a\b|\bpode referir-se a\b",
    re.IGNORECASE,
)
_PERSON_CATEGORY = re.compile(
    r"\b(?:\d{1,4}s?|\d{1,2}(?:st|nd|rd|th)[- ]century(?: BC)?)\s+(?:BC\s+)?(?:births|deaths)\b|"
    r"^living people$|^possibly living people$|^year of (?:birth|death) (?:missing|unknown)|"
    r"\bpainters\b|\bsculptors\b|\bartists\b|\bphotographers\b|\billustrators\b|\bpeople\b|"
    r"\barchitects\b|\bprintmakers\b|\bdesigners\b|\bwomen\b|\bmen\b|"
    r"^(?:geboren|gestorben|naissance|décès|nacidos|fallecidos|nati|morti|nascidos|mortos|"
    r"urodzeni|zmarli|родившиеся|умершие|народились|померли|născuți|decese|родени|починали)\b|"
    r"\b(?:peintre|maler|pintor|pittori|pittore|artiste|künstler|художник)",
    re.IGNORECASE,
)
_GROUP_CATEGORY = re.compile(
    r"artist groups and collectives|\bcollectives\b|\bduos\b|art groups|artist duos|"
    r"companies|organizations|organisations",
    re.IGNORECASE,
)
_GROUP_LEAD = re.compile(
    r"\bis an? (?:\w+ ){0,3}(?:duo|collective|group|partnership|team)\b|\bare an? (?:\w+ ){0,3}"
    r"(?:duo|collective|group|partnership|team)\b|^the (?:two|three|four|five) (?:[\w-]+ ){0,3}(?:brothers|sisters)\b",
    re.IGNORECASE,
)


def triage_page(html: str | bytes) -> PageTriage:
    """Classify one saved page; see :class:`PageKind` for the kinds and the module doc for rules."""
    tree = HTMLParser(html if isinstance(html, str) else html.decode("utf-8", errors="replace"))
    return triage_tree(tree, raw=html if isinstance(html, str) else None)


def triage_tree(tree: HTMLParser, raw: str | None = None) -> PageTriage:
    """Classify a page already parsed with selectolax (so callers parse each page once)."""
    raw = raw if raw is not None else (tree.html or "")
    title = _page_title(tree)
    visible = _visible_text(tree, raw)
    wikidata_id = _wikidata_id(raw)
    canonical = _canonical_host(tree)

    if title and _HTTP_ERROR_TITLE.match(title):
        return PageTriage(kind=PageKind.error, title=title, reason="http_error_title")
    if len(visible) < MIN_VISIBLE_CHARS:
        return PageTriage(kind=PageKind.error, title=title, reason="too_little_text")
    if not canonical or not (canonical == "wikipedia.org" or canonical.endswith(".wikipedia.org")):
        return PageTriage(kind=PageKind.not_wikipedia, title=title, reason="canonical_not_wikipedia")

    language = _language(tree, canonical)
    common = {"language": language, "title": title, "wikidata_id": wikidata_id}
    categories = page_categories(tree)
    content = tree.css_first("#mw-content-text") or tree.body

    disambiguation_reason = _disambiguation_reason(tree, categories, content)
    if disambiguation_reason:
        return PageTriage(
            kind=PageKind.disambiguation,
            reason=disambiguation_reason,
            candidates=disambiguation_candidates(content),
            **common,
        )

    has_person_data = _has_person_data(tree, categories)
    lead = first_paragraph_text(content)
    if any(_GROUP_CATEGORY.search(c) for c in categories) and not _has_birth_data(tree, categories):
        return PageTriage(kind=PageKind.group, reason="group_categories", **common)
    if _GROUP_LEAD.search(lead[:300]) and not _has_birth_data(tree, categories):
        return PageTriage(kind=PageKind.group, reason="group_lead", **common)
    if language and language != "en":
        # Other-language pages are kept as biographies: the person tests below are English-only.
        return PageTriage(kind=PageKind.other_language, reason=f"language_{language}", **common)
    if not has_person_data:
        return PageTriage(kind=PageKind.topic, reason="no_person_data", **common)
    return PageTriage(kind=PageKind.biography, **common)


def page_categories(tree: HTMLParser) -> list[str]:
    """Return the page's visible category names, in page order."""
    box = tree.css_first("#mw-normal-catlinks")
    if box is None:
        return []
    return [a.text(strip=True) for a in box.css("ul li a")]


# Inline TemplateStyles (<style> inside a paragraph) whose CSS text the parser returns as text.
_TEMPLATE_STYLES = re.compile(r"(?:\.mw-parser-output[^{}]*|@media[^{}]*\{[^{}]*)\{[^{}]*\}\}?")


def first_paragraph_text(content: Node | None) -> str:
    """Return the text of the first non-empty paragraph of the article body."""
    if content is None:
        return ""
    for paragraph in content.css("p"):
        if paragraph.attributes.get("class") and "mw-empty-elt" in paragraph.attributes["class"]:
            continue
        if _inside(paragraph, ("infobox", "navbox", "hatnote", "metadata", "sidebar")):
            continue
        text = _TEMPLATE_STYLES.sub("", paragraph.text(separator="", strip=False)).strip()
        if len(text) >= 20:
            return text
    return ""


def disambiguation_candidates(content: Node | None) -> list[str]:
    """Return the article titles a disambiguation page lists, in page order, without repeats."""
    if content is None:
        return []
    seen: list[str] = []
    for link in content.css("li a[href]"):
        href = link.attributes.get("href") or ""
        if not href.startswith("/wiki/") or ":" in href[6:]:
            continue
        if _inside(link, ("navbox", "toc", "catlinks", "dmbox", "hatnote")):
            continue
        title = link.attributes.get("title") or link.text(strip=True)
        if title and title not in seen:
            seen.append(title)
    return seen


def candidate_for_years(html: str | bytes, birth_year: int | None, death_year: int | None) -> str | None:
    """Return the disambiguation candidate whose list entry shows the artist's years, if exactly one does.

    An entry matches when it shows both known years, or the one year known. Entries without
    years, and pages where several entries match, give None.
    """
    years = [str(year) for year in (birth_year, death_year) if year is not None and year > 0]
    if not years:
        return None
    tree = HTMLParser(html if isinstance(html, str) else html.decode("utf-8", errors="replace"))
    content = tree.css_first("#mw-content-text") or tree.body
    if content is None:
        return None
    candidates = set(disambiguation_candidates(content))
    matches: list[str] = []
    for item in content.css("li"):
        text = item.text(separator=" ", strip=True)
        found = set(re.findall(r"(?<!\d)\d{3,4}(?!\d)", text))
        if not all(year in found for year in years):
            continue
        link = next((a for a in item.css("a[href]") if (a.attributes.get("title") or a.text(strip=True)) in candidates), None)
        if link is not None:
            title = link.attributes.get("title") or link.text(strip=True)
            if title not in matches:
                matches.append(title)
    return matches[0] if len(matches) == 1 else None


def _disambiguation_reason(tree: HTMLParser, categories: list[str], content: Node | None) -> str:
    for class_name in DISAMBIGUATION_BOX_CLASSES:
        if tree.css_first(f".{class_name}") is not None:
            return f"box_{class_name}"
    for box_id in DISAMBIGUATION_BOX_IDS:
        if tree.css_first(f"#{box_id}") is not None:
            return f"box_{box_id}"
    for category in categories:
        if _DISAMBIGUATION_CATEGORY.search(category):
            return "category_disambiguation"
    lead = first_paragraph_text(content)
    if lead and _MAY_REFER_TO.search(lead[:400]):
        return "lead_may_refer_to"
    return ""


_BIRTH_CATEGORY = re.compile(r"\b(?:births|deaths)\b|^living people$|^geboren|^naissance|^nacidos|^nati\b|"
                             r"^nascidos|^urodzeni|^родившиеся|^народились|^născuți|^родени", re.IGNORECASE)


def _has_birth_data(tree: HTMLParser, categories: list[str]) -> bool:
    if tree.css_first(".bday, .dday, .birthplace, .deathplace") is not None:
        return True
    return any(_BIRTH_CATEGORY.search(c) for c in categories)


def _has_person_data(tree: HTMLParser, categories: list[str]) -> bool:
    if _has_birth_data(tree, categories):
        return True
    if tree.css_first("table.infobox.biography") is not None:
        return True
    return any(_PERSON_CATEGORY.search(c) for c in categories)


def _inside(node: Node, class_fragments: tuple[str, ...]) -> bool:
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        classes = (parent.attributes.get("class") or "") + " " + (parent.attributes.get("id") or "")
        if any(fragment in classes for fragment in class_fragments):
            return True
        parent = parent.parent
    return False


def _page_title(tree: HTMLParser) -> str | None:
    node = tree.css_first("title")
    if node is None:
        return None
    text = node.text(strip=True)
    return text or None


_NON_TEXT_BLOCK = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _visible_text(tree: HTMLParser, raw: str) -> str:
    body = tree.body
    text = body.text(separator=" ", strip=True) if body is not None else ""
    if body is not None:
        for node in body.css("script, style"):
            text = text.replace(node.text(separator=" ", strip=True), "")
    text = " ".join(text.split())
    if len(text) < MIN_VISIBLE_CHARS and len(raw) < 200_000:
        # Frameset pages keep their text in <noframes>, which the HTML5 parser drops from <body>.
        stripped = _TAG.sub(" ", _NON_TEXT_BLOCK.sub(" ", raw))
        text = max(text, " ".join(stripped.split()), key=len)
    return text


def _canonical_host(tree: HTMLParser) -> str | None:
    for link in tree.css("link[rel]"):
        if (link.attributes.get("rel") or "").lower() == "canonical":
            return (urlsplit(link.attributes.get("href") or "").hostname or "").lower() or None
    return None


def _language(tree: HTMLParser, host: str) -> str | None:
    prefix = host.split(".")[0]
    if prefix not in ("wikipedia", "www", "m"):
        return prefix
    html = tree.css_first("html")
    return (html.attributes.get("lang") if html is not None else None) or None


def _wikidata_id(raw: str) -> str | None:
    match = _WIKIDATA_ID.search(raw) or _WIKIDATA_LINK.search(raw)
    return match.group(1) if match else None


def display_title(title: str | None) -> str | None:
    """Return a page title without the trailing ' - Wikipedia' style suffix."""
    if not title:
        return title
    return _TITLE_SUFFIX.sub("", title).strip()
