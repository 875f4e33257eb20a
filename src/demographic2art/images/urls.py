"""URL normalisation for image requests: percent-encode what must be encoded, exactly once.

Catalog URLs arrive raw (``jardin à menton``), half-encoded or fully encoded. The
normalised form encodes non-ASCII characters as UTF-8 ``%XX``, spaces as ``%20``, keeps
RFC 3986 sub-delimiters such as ``!`` literally (WikiArt's ``!Large.jpg`` suffix), keeps
existing ``%XX`` escapes as they are (upper-casing their hex digits) and writes the host
in IDNA form.
"""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit, urlunsplit

import idna

from ..errors import InvalidValueError

# RFC 3986 section 2: unreserved characters and sub-delimiters.
_UNRESERVED = set(string.ascii_letters + string.digits + "-._~")
_SUB_DELIMS = set("!$&'()*+,;=")
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | set(":@/")
_QUERY_SAFE = _PATH_SAFE | set("?")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")

# WikiArt serves sized copies by appending "!<Size>.<ext>" to the original file name.
_SIZE_SUFFIX = re.compile(r"![A-Za-z]+\.(?:jpe?g|png|gif|webp)$", re.IGNORECASE)
SIZES = ("large", "original")


def _needs_encoding(safe: set[str]) -> re.Pattern[str]:
    """Return a pattern matching each ``%XX`` escape and each character outside ``safe``."""
    allowed = "".join(sorted(safe - {"%"}))
    return re.compile(r"%[0-9A-Fa-f]{2}|[^" + re.escape(allowed) + "]")


def _replace(match: re.Match[str]) -> str:
    text = match.group()
    if len(text) == 3:
        return text.upper()
    return "".join(f"%{byte:02X}" for byte in text.encode("utf-8"))


_PATH_PATTERN = _needs_encoding(_PATH_SAFE)
_QUERY_PATTERN = _needs_encoding(_QUERY_SAFE)


def _encode_component(text: str, safe: set[str]) -> str:
    """Percent-encode ``text`` as UTF-8, leaving valid ``%XX`` escapes and ``safe`` characters."""
    if safe is _PATH_SAFE:
        pattern = _PATH_PATTERN
    elif safe is _QUERY_SAFE:
        pattern = _QUERY_PATTERN
    else:
        pattern = _needs_encoding(safe)
    return pattern.sub(_replace, text)


def _encode_host(host: str) -> str:
    if not host or host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidValueError(f"URL host {host!r} is not a valid internationalised domain name: {exc}") from exc


def normalise_url(url: str, *, size: str = "large") -> str:
    """Return ``url`` with path and query percent-encoded exactly once and an IDNA host.

    ``size="large"`` keeps the URL as listed, including a WikiArt size suffix such as
    ``!Large.jpg``. ``size="original"`` removes that suffix to request the original file.
    Raises :class:`InvalidValueError` for a URL that is not absolute http(s).
    """
    if size not in SIZES:
        raise InvalidValueError(f"image size {size!r} is not one of {', '.join(SIZES)}")
    text = str(url).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValueError(f"image URL {url!r} is not an absolute http or https URL")

    netloc = _encode_host(parts.hostname)
    if ":" in netloc:  # an IPv6 literal keeps its brackets
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username is not None:
        raise InvalidValueError(f"image URL {url!r} contains credentials; remove the user name and password")

    path = _encode_component(parts.path or "/", _PATH_SAFE)
    if size == "original":
        path = _SIZE_SUFFIX.sub("", path)
    query = _encode_component(parts.query, _QUERY_SAFE)
    # The fragment never reaches the server, so it is dropped.
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def url_host(url: str) -> str:
    """Return ``host[:port]`` of ``url`` in lower case: the key of per-host connection limits.

    It runs once per request, so it uses ``urlsplit``, which takes microseconds.
    """
    return urlsplit(url).netloc.rpartition("@")[2].lower()


def url_origin(url: str) -> str:
    """Return ``scheme://host[:port]`` of ``url``: the key of robots.txt files."""
    return f"{urlsplit(url).scheme.lower()}://{url_host(url)}"
