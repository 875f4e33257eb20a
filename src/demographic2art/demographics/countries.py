"""Country names, demonyms and historical states mapped to ISO 3166-1 alpha-2 codes.

Country names come from pycountry; demonyms and the historical or informal names that
Wikipedia pages use (English, Flemish, Soviet, Austro-Hungarian, Holland...) are listed here.
A historical state maps to every present-day country that covers most of its territory, so
'Czechoslovak' gives CZ and SK.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

DEMONYMS: dict[str, tuple[str, ...]] = {
    "afghan": ("AF",), "albanian": ("AL",), "algerian": ("DZ",), "american": ("US",),
    "andorran": ("AD",), "angolan": ("AO",), "argentine": ("AR",), "argentinian": ("AR",),
    "armenian": ("AM",), "australian": ("AU",), "austrian": ("AT",), "azerbaijani": ("AZ",),
    "azeri": ("AZ",), "bahamian": ("BS",), "bangladeshi": ("BD",), "barbadian": ("BB",),
    "belarusian": ("BY",), "byelorussian": ("BY",), "belgian": ("BE",), "flemish": ("BE",),
    "walloon": ("BE",), "beninese": ("BJ",), "bolivian": ("BO",), "bosnian": ("BA",),
    "brazilian": ("BR",), "british": ("GB",), "english": ("GB",), "scottish": ("GB",),
    "scots": ("GB",), "welsh": ("GB",), "northern irish": ("GB",), "bulgarian": ("BG",),
    "burmese": ("MM",), "cambodian": ("KH",), "cameroonian": ("CM",), "canadian": ("CA",),
    "chilean": ("CL",), "chinese": ("CN",), "colombian": ("CO",), "congolese": ("CD",),
    "costa rican": ("CR",), "croatian": ("HR",), "croat": ("HR",), "cuban": ("CU",),
    "cypriot": ("CY",), "czech": ("CZ",), "bohemian": ("CZ",), "moravian": ("CZ",),
    "danish": ("DK",), "dane": ("DK",), "dominican": ("DO",), "dutch": ("NL",),
    "ecuadorian": ("EC",), "egyptian": ("EG",), "salvadoran": ("SV",), "estonian": ("EE",),
    "ethiopian": ("ET",), "filipino": ("PH",), "philippine": ("PH",), "finnish": ("FI",),
    "french": ("FR",), "georgian": ("GE",), "german": ("DE",), "ghanaian": ("GH",),
    "greek": ("GR",), "guatemalan": ("GT",), "haitian": ("HT",), "honduran": ("HN",),
    "hong kong": ("HK",), "hungarian": ("HU",), "icelandic": ("IS",), "indian": ("IN",),
    "indonesian": ("ID",), "iranian": ("IR",), "persian": ("IR",), "iraqi": ("IQ",),
    "irish": ("IE",), "israeli": ("IL",), "italian": ("IT",), "venetian": ("IT",),
    "florentine": ("IT",), "ivorian": ("CI",), "jamaican": ("JM",), "japanese": ("JP",),
    "jordanian": ("JO",), "kazakh": ("KZ",), "kazakhstani": ("KZ",), "kenyan": ("KE",),
    "korean": ("KR",), "south korean": ("KR",), "north korean": ("KP",), "kosovar": ("XK",),
    "kuwaiti": ("KW",), "kyrgyz": ("KG",), "latvian": ("LV",), "lebanese": ("LB",),
    "libyan": ("LY",), "lithuanian": ("LT",), "luxembourgish": ("LU",), "luxembourger": ("LU",),
    "macedonian": ("MK",), "malagasy": ("MG",), "malaysian": ("MY",), "malian": ("ML",),
    "maltese": ("MT",), "mexican": ("MX",), "moldovan": ("MD",), "monegasque": ("MC",),
    "mongolian": ("MN",), "montenegrin": ("ME",), "moroccan": ("MA",), "mozambican": ("MZ",),
    "namibian": ("NA",), "nepalese": ("NP",), "nepali": ("NP",), "new zealand": ("NZ",),
    "nicaraguan": ("NI",), "nigerian": ("NG",), "norwegian": ("NO",), "pakistani": ("PK",),
    "palestinian": ("PS",), "panamanian": ("PA",), "paraguayan": ("PY",), "peruvian": ("PE",),
    "polish": ("PL",), "pole": ("PL",), "portuguese": ("PT",), "puerto rican": ("PR",),
    "qatari": ("QA",), "romanian": ("RO",), "russian": ("RU",), "rwandan": ("RW",),
    "saudi": ("SA",), "senegalese": ("SN",), "serbian": ("RS",), "serb": ("RS",),
    "singaporean": ("SG",), "slovak": ("SK",), "slovakian": ("SK",), "slovenian": ("SI",),
    "slovene": ("SI",), "somali": ("SO",), "south african": ("ZA",), "spanish": ("ES",),
    "catalan": ("ES",), "basque": ("ES",), "sri lankan": ("LK",), "sudanese": ("SD",),
    "swedish": ("SE",), "swiss": ("CH",), "syrian": ("SY",), "taiwanese": ("TW",),
    "tajik": ("TJ",), "tanzanian": ("TZ",), "thai": ("TH",), "togolese": ("TG",),
    "trinidadian": ("TT",), "tunisian": ("TN",), "turkish": ("TR",), "turkmen": ("TM",),
    "ugandan": ("UG",), "ukrainian": ("UA",), "emirati": ("AE",), "uruguayan": ("UY",),
    "uzbek": ("UZ",), "venezuelan": ("VE",), "vietnamese": ("VN",), "yemeni": ("YE",),
    "zambian": ("ZM",), "zimbabwean": ("ZW",), "genevan": ("CH",), "bahraini": ("BH",), "sudanese-british": ("SD", "GB"),
    # Historical states and peoples.
    "soviet": ("RU", "UA", "BY", "GE", "AM", "AZ", "KZ", "UZ", "LV", "LT", "EE", "MD", "KG", "TJ", "TM"),
    "yugoslav": ("RS", "HR", "SI", "BA", "MK", "ME"), "yugoslavian": ("RS", "HR", "SI", "BA", "MK", "ME"),
    "czechoslovak": ("CZ", "SK"), "czechoslovakian": ("CZ", "SK"),
    "austro-hungarian": ("AT", "HU"), "ottoman": ("TR",), "prussian": ("DE",),
    "bavarian": ("DE",), "saxon": ("DE",), "east german": ("DE",), "west german": ("DE",),
    "holland": ("NL",), "flanders": ("BE",), "tatar": ("RU",), "kurdish": ("IQ", "TR", "IR", "SY"),
}

COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "usa": ("US",), "u.s.": ("US",), "u.s": ("US",), "us": ("US",), "u.s.a.": ("US",),
    "united states of america": ("US",), "america": ("US",), "uk": ("GB",), "u.k.": ("GB",),
    "england": ("GB",), "scotland": ("GB",), "wales": ("GB",), "northern ireland": ("GB",),
    "great britain": ("GB",), "britain": ("GB",), "kingdom of great britain": ("GB",),
    "united kingdom of great britain and ireland": ("GB",), "holland": ("NL",),
    "dutch republic": ("NL",), "flanders": ("BE",), "russia": ("RU",), "russian empire": ("RU",),
    "russian sfsr": ("RU",), "soviet union": DEMONYMS["soviet"], "ussr": DEMONYMS["soviet"],
    "u.s.s.r.": DEMONYMS["soviet"], "ukrainian ssr": ("UA",), "byelorussian ssr": ("BY",),
    "georgian ssr": ("GE",), "armenian ssr": ("AM",), "latvian ssr": ("LV",),
    "lithuanian ssr": ("LT",), "estonian ssr": ("EE",), "moldavian ssr": ("MD",),
    "austria-hungary": ("AT", "HU"), "austrian empire": ("AT",), "holy roman empire": ("DE",),
    "ottoman empire": ("TR",), "prussia": ("DE",), "kingdom of prussia": ("DE",),
    "german empire": ("DE",), "weimar republic": ("DE",), "nazi germany": ("DE",),
    "west germany": ("DE",), "east germany": ("DE",), "german democratic republic": ("DE",),
    "federal republic of germany": ("DE",), "bavaria": ("DE",), "kingdom of bavaria": ("DE",),
    "saxony": ("DE",), "kingdom of saxony": ("DE",), "wurttemberg": ("DE",), "hanover": ("DE",),
    "czechoslovakia": ("CZ", "SK"), "bohemia": ("CZ",), "kingdom of bohemia": ("CZ",),
    "yugoslavia": DEMONYMS["yugoslav"], "kingdom of yugoslavia": DEMONYMS["yugoslav"],
    "sfr yugoslavia": DEMONYMS["yugoslav"], "kingdom of serbs, croats and slovenes": DEMONYMS["yugoslav"],
    "kingdom of italy": ("IT",), "papal states": ("IT",), "kingdom of sardinia": ("IT",),
    "kingdom of the two sicilies": ("IT",), "republic of venice": ("IT",), "grand duchy of tuscany": ("IT",),
    "duchy of milan": ("IT",), "congress poland": ("PL",), "kingdom of poland": ("PL",),
    "polish-lithuanian commonwealth": ("PL", "LT"), "grand duchy of finland": ("FI",),
    "kingdom of hungary": ("HU",), "persia": ("IR",), "qajar iran": ("IR",), "iran": ("IR",),
    "south korea": ("KR",), "korea": ("KR",), "north korea": ("KP",), "taiwan": ("TW",),
    "republic of china": ("CN", "TW"), "vietnam": ("VN",), "syria": ("SY",), "bolivia": ("BO",),
    "venezuela": ("VE",), "tanzania": ("TZ",), "moldova": ("MD",), "czech republic": ("CZ",),
    "czechia": ("CZ",), "macedonia": ("MK",), "north macedonia": ("MK",), "turkey": ("TR",),
    "türkiye": ("TR",), "ivory coast": ("CI",), "cape verde": ("CV",), "laos": ("LA",),
    "palestine": ("PS",), "kosovo": ("XK",), "bosnia": ("BA",), "burma": ("MM",),
    "british india": ("IN",), "british raj": ("IN",), "ceylon": ("LK",), "siam": ("TH",),
    "zaire": ("CD",), "rhodesia": ("ZW",), "new spain": ("MX",), "mandatory palestine": ("IL", "PS"),
    "french algeria": ("DZ",), "dutch east indies": ("ID",), "british hong kong": ("HK",),
    "kingdom of the netherlands": ("NL",), "spanish netherlands": ("BE",),
    "habsburg netherlands": ("BE",), "southern netherlands": ("BE",), "austrian netherlands": ("BE",),
    "kingdom of portugal": ("PT",), "kingdom of spain": ("ES",), "kingdom of france": ("FR",),
    "french third republic": ("FR",), "french second empire": ("FR",), "first french empire": ("FR",),
    "kingdom of denmark": ("DK",), "denmark-norway": ("DK", "NO"), "sweden-norway": ("SE", "NO"),
    "united kingdom of sweden and norway": ("SE", "NO"), "kingdom of greece": ("GR",),
    "kingdom of romania": ("RO",), "principality of romania": ("RO",), "moldavia": ("RO", "MD"),
    "wallachia": ("RO",), "kingdom of bulgaria": ("BG",), "kingdom of serbia": ("RS",),
    "empire of japan": ("JP",), "qing dynasty": ("CN",), "qing china": ("CN",),
    "people's republic of china": ("CN",), "joseon": ("KR",), "korean empire": ("KR",),
    # Names in the languages of the other-language pages.
    "france": ("FR",), "frankreich": ("FR",), "francia": ("FR",), "frança": ("FR",), "franța": ("FR",),
    "deutschland": ("DE",), "allemagne": ("DE",), "alemania": ("DE",), "germania": ("DE",),
    "alemanha": ("DE",), "niemcy": ("DE",), "germania ": ("DE",), "italie": ("IT",), "italia": ("IT",),
    "italien": ("IT",), "itália": ("IT",), "włochy": ("IT",), "espagne": ("ES",), "españa": ("ES",),
    "spanien": ("ES",), "spagna": ("ES",), "espanha": ("ES",), "spania": ("ES",), "méxico": ("MX",),
    "mexique": ("MX",), "brasil": ("BR",), "brésil": ("BR",), "brasile": ("BR",), "belgique": ("BE",),
    "belgien": ("BE",), "bélgica": ("BE",), "belgia": ("BE",), "suisse": ("CH",), "schweiz": ("CH",),
    "svizzera": ("CH",), "österreich": ("AT",), "autriche": ("AT",), "austria": ("AT",),
    "polska": ("PL",), "pologne": ("PL",), "polen": ("PL",), "românia": ("RO",), "roumanie": ("RO",),
    "rumänien": ("RO",), "россия": ("RU",), "российская империя": ("RU",), "ссср": DEMONYMS["soviet"],
    "украина": ("UA",), "україна": ("UA",), "българия": ("BG",), "nederland": ("NL",),
    "pays-bas": ("NL",), "niederlande": ("NL",), "países bajos": ("NL",), "paesi bassi": ("NL",),
    "estados unidos": ("US",), "états-unis": ("US",), "stati uniti": ("US",), "vereinigte staaten": ("US",),
    "statele unite": ("US",), "сша": ("US",), "royaume-uni": ("GB",), "reino unido": ("GB",),
    "regno unito": ("GB",), "angleterre": ("GB",), "inglaterra": ("GB",), "argentine": ("AR",),
    "japon": ("JP",), "japón": ("JP",), "giappone": ("JP",), "japão": ("JP",), "grèce": ("GR",),
    "grecia": ("GR",), "grécia": ("GR",), "hongrie": ("HU",), "magyarország": ("HU",),
    "suède": ("SE",), "sverige": ("SE",), "norvège": ("NO",), "norge": ("NO",), "danemark": ("DK",),
    "portugal": ("PT",), "tchécoslovaquie": ("CZ", "SK"), "československo": ("CZ", "SK"),
    "checoslovaquia": ("CZ", "SK"), "cecoslovacchia": ("CZ", "SK"), "jugoslavija": DEMONYMS["yugoslav"],
    "yougoslavie": DEMONYMS["yugoslav"], "hrvatska": ("HR",), "croatie": ("HR",), "türkei": ("TR",),
    "turquie": ("TR",), "azərbaycan": ("AZ",), "algérie": ("DZ",), "maroc": ("MA",), "tunisie": ("TN",),
    "haïti": ("HT",), "liban": ("LB",), "égypte": ("EG",), "iran ": ("IR",),
    "中國": ("CN",), "中国": ("CN",), "日本": ("JP",), "україна ": ("UA",), "corée du sud": ("KR",),
}

# Nationality adjectives in the other languages present (masculine and feminine forms).
FOREIGN_DEMONYMS: dict[str, tuple[str, ...]] = {
    "français": ("FR",), "française": ("FR",), "francés": ("FR",), "francesa": ("FR",),
    "francese": ("FR",), "francês": ("FR",), "französisch": ("FR",), "francuski": ("FR",),
    "belge": ("BE",), "suisse": ("CH",), "allemand": ("DE",), "allemande": ("DE",),
    "deutsch": ("DE",), "deutscher": ("DE",), "deutsche": ("DE",), "alemán": ("DE",),
    "alemana": ("DE",), "tedesco": ("DE",), "tedesca": ("DE",), "alemão": ("DE",), "alemã": ("DE",),
    "italien": ("IT",), "italienne": ("IT",), "italiano": ("IT",), "italiana": ("IT",),
    "italienisch": ("IT",), "italienischer": ("IT",), "espagnol": ("ES",), "espagnole": ("ES",),
    "español": ("ES",), "española": ("ES",), "spagnolo": ("ES",), "espanhol": ("ES",),
    "spanischer": ("ES",), "mexicano": ("MX",), "mexicana": ("MX",), "mexicain": ("MX",),
    "argentino": ("AR",), "argentina": ("AR",), "chileno": ("CL",), "chilena": ("CL",),
    "peruano": ("PE",), "peruana": ("PE",), "colombiano": ("CO",), "colombiana": ("CO",),
    "venezolano": ("VE",), "venezolana": ("VE",), "cubano": ("CU",), "cubana": ("CU",),
    "uruguayo": ("UY",), "uruguaya": ("UY",), "brasileiro": ("BR",), "brasileira": ("BR",),
    "brésilien": ("BR",), "português": ("PT",), "portuguesa": ("PT",), "portugais": ("PT",),
    "portugaise": ("PT",), "portugués": ("PT",), "österreichischer": ("AT",), "österreichische": ("AT",),
    "autrichien": ("AT",), "autrichienne": ("AT",), "austriaco": ("AT",), "schweizer": ("CH",),
    "schweizerischer": ("CH",), "svizzero": ("CH",), "néerlandais": ("NL",), "néerlandaise": ("NL",),
    "niederländischer": ("NL",), "niederländische": ("NL",), "nederlands": ("NL",), "nederlandse": ("NL",),
    "olandese": ("NL",), "holandés": ("NL",), "belga": ("BE",), "belgischer": ("BE",), "belgisch": ("BE",),
    "polonais": ("PL",), "polonaise": ("PL",), "polski": ("PL",), "polska": ("PL",), "polnischer": ("PL",),
    "polaco": ("PL",), "roumain": ("RO",), "roumaine": ("RO",), "român": ("RO",), "română": ("RO",),
    "rumänischer": ("RO",), "rumeno": ("RO",), "russe": ("RU",), "russo": ("RU",), "russischer": ("RU",),
    "ruso": ("RU",), "российский": ("RU",), "русский": ("RU",), "советский": DEMONYMS["soviet"],
    "український": ("UA",), "украинский": ("UA",), "радянський": DEMONYMS["soviet"], "български": ("BG",),
    "hongrois": ("HU",), "hongroise": ("HU",), "magyar": ("HU",), "ungarischer": ("HU",),
    "tchèque": ("CZ",), "český": ("CZ",), "tschechischer": ("CZ",), "suédois": ("SE",), "svensk": ("SE",),
    "schwedischer": ("SE",), "norvégien": ("NO",), "norsk": ("NO",), "danois": ("DK",), "dänischer": ("DK",),
    "américain": ("US",), "américaine": ("US",), "estadounidense": ("US",), "statunitense": ("US",),
    "americano": ("US",), "norte-americano": ("US",), "amerikanischer": ("US",), "britannique": ("GB",),
    "britannico": ("GB",), "británico": ("GB",), "britischer": ("GB",), "anglais": ("GB",),
    "hrvatski": ("HR",), "kroatischer": ("HR",), "croate": ("HR",), "srpski": ("RS",), "serbe": ("RS",),
    "türk": ("TR",), "turc": ("TR",), "azərbaycanlı": ("AZ",), "grec": ("GR",), "grecque": ("GR",),
    "griechischer": ("GR",), "japonais": ("JP",), "japonaise": ("JP",), "japanischer": ("JP",),
    "canadien": ("CA",), "canadienne": ("CA",), "kanadischer": ("CA",), "haïtien": ("HT",),
    "dominicain": ("DO",), "dominicaine": ("DO",), "dominicano": ("DO",), "dominicana": ("DO",),
    "algérien": ("DZ",), "libanais": ("LB",), "israélien": ("IL",), "israelischer": ("IL",),
    "iranien": ("IR",), "nederlandsch": ("NL",), "vlaams": ("BE",), "vlaamse": ("BE",),
    "български": ("BG",), "българска": ("BG",), "българския": ("BG",), "българин": ("BG",),
    "belgische": ("BE",), "amerikaans": ("US",), "amerikaanse": ("US",), "nederlandse ": ("NL",),
    "українська": ("UA",), "українка": ("UA",), "українець": ("UA",), "украинская": ("UA",),
    "sud-coréen": ("KR",), "sud-coréenne": ("KR",), "coréen": ("KR",), "coréenne": ("KR",),
    "polskiego": ("PL",), "polka": ("PL",), "magyarországi": ("HU",), "svenska": ("SE",),
    "russische": ("RU",), "russisch": ("RU",), "duits": ("DE",), "duitse": ("DE",), "franse": ("FR",),
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = re.sub(r"\[[^\]]*\]", "", text)
    return " ".join(text.replace("’", "'").split()).strip(" .,;:()")


@lru_cache(maxsize=1)
def _country_table() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                table[_fold(value)] = (country.alpha_2,)
    for name, codes in COUNTRY_ALIASES.items():
        table[_fold(name)] = codes
    return table


@lru_cache(maxsize=1)
def _demonym_table() -> dict[str, tuple[str, ...]]:
    table = {_fold(k): v for k, v in FOREIGN_DEMONYMS.items()}
    table.update({_fold(k): v for k, v in DEMONYMS.items()})
    return table


def country_codes(name: str | None) -> tuple[str, ...]:
    """Return the ISO alpha-2 codes of a country name (modern, historical or alias), or ``()``."""
    if not name:
        return ()
    folded = _fold(name)
    folded = re.sub(r"^the ", "", folded)
    return _country_table().get(folded, ())


def country_name(code: str) -> str:
    """Return the short English name of an ISO alpha-2 code (the code itself when unknown)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def strict_demonym_codes(word: str | None) -> tuple[str, ...]:
    """Return the ISO codes of a nationality adjective only ('French'), never of a country name ('France')."""
    if not word:
        return ()
    return _demonym_table().get(_fold(word), ())


def demonym_codes(word: str | None) -> tuple[str, ...]:
    """Return the ISO codes of a nationality adjective ('Flemish', 'Austro-Hungarian', 'française')."""
    if not word:
        return ()
    folded = _fold(word)
    return _demonym_table().get(folded, ()) or country_codes(folded)


_SPLIT = re.compile(r"\s*(?:,|/|;|\band\b|\bthen\b|\bpuis\b|\bund\b|\by\b|\be\b|&|\(|\))\s*", re.IGNORECASE)


def nationality_codes(text: str | None) -> list[str]:
    """Return the sorted ISO codes named by a nationality text.

    Compound forms give every part: 'Japanese-Canadian' gives CA and JP, 'French, later
    American' gives FR and US. Words that are no nationality are ignored.
    """
    if not text:
        return []
    codes: set[str] = set()
    # 'Latin American' names a region, and its 'American' is not the United States.
    folded = re.sub(r"\blatin[- ]americ(?:an|ana|ano)\b", " ", _fold(text)).strip()
    if not folded:
        return []
    whole = demonym_codes(folded)
    if whole:
        return sorted(set(whole))
    for part in _SPLIT.split(folded):
        part = part.strip()
        if not part:
            continue
        found = demonym_codes(part)
        if not found:
            for piece in re.split(r"[-–\s]+", part):
                found_piece = demonym_codes(piece)
                codes.update(found_piece)
            # Two-word demonyms such as 'south african' or 'new zealand'.
            words = re.split(r"[-–\s]+", part)
            for first, second in zip(words, words[1:]):
                codes.update(demonym_codes(f"{first} {second}"))
        codes.update(found)
    return sorted(codes)


def place_country(place_text: str | None) -> tuple[str | None, tuple[str, ...]]:
    """Return ``(country text, codes)`` for a place such as 'Breslau, German Empire', or ``(None, ())``.

    Reads the comma-separated parts from the last one backwards and takes the first that is a
    country; U.S. state names give US.
    """
    if not place_text:
        return None, ()
    parts = [p.strip() for p in re.sub(r"\[[^\]]*\]", "", place_text).split(",") if p.strip()]
    for part in reversed(parts):
        codes = country_codes(part)
        if codes:
            return part, codes
        if _fold(part) in US_STATES:
            return part, ("US",)
    return None, ()


US_STATES = frozenset(
    s.lower()
    for s in (
        "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Hawaii Idaho "
        "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota "
        "Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas "
        "Utah Vermont Virginia Washington Wisconsin Wyoming"
    ).split()
) | frozenset({"new york", "new jersey", "new hampshire", "new mexico", "north carolina", "south carolina",
               "north dakota", "south dakota", "rhode island", "west virginia", "washington, d.c.", "d.c."})


@lru_cache(maxsize=1)
def _english_demonyms() -> dict[str, str]:
    table: dict[str, str] = {}
    for word, codes in DEMONYMS.items():
        if len(codes) == 1 and "-" not in word:
            table.setdefault(codes[0], word)
    return table


def english_demonym(code: str | None) -> str | None:
    """Return the usual English nationality adjective of an ISO alpha-2 code ('FR' -> 'French')."""
    word = _english_demonyms().get(code or "")
    return " ".join(part.capitalize() for part in word.split()) if word else None
