"""Tests of catalog date parsing and two-digit century resolution."""

from __future__ import annotations

import pytest

from conftest import load_case
from demographic2art.catalog.dates import ParsedDate, parse_date, resolve_record_dates


def test_date_bc_circa(shared_cases):
    case = load_case(shared_cases, "date-bc-circa")
    date = parse_date(case["input"])
    assert date.year == -900
    assert date.month is None
    assert date.day is None
    assert date.precision == "year"
    assert date.approximate is True
    assert date.era == "BCE"
    assert date.astronomical_year == -899
    assert date.year < parse_date("700 BC").year
    assert date.year < parse_date("AD 1").year


def test_date_circa(shared_cases):
    case = load_case(shared_cases, "date-circa")
    date = parse_date(case["input"])
    assert date.year == 1802
    assert date.month is None
    assert date.day is None
    assert date.precision == "year"
    assert date.approximate is True


def test_date_month_day_year(shared_cases):
    case = load_case(shared_cases, "date-month-day-year")
    date = parse_date(case["input"])
    assert (date.year, date.month, date.day) == (1802, 12, 27)
    assert date.precision == "day"
    assert date.approximate is False
    assert date.iso == "1802-12-27"
    assert parse_date("January 16, 1842").iso == "1842-01-16"


def test_date_two_digit_year(shared_cases):
    case = load_case(shared_cases, "date-two-digit-year")
    date = parse_date(case["input"])
    assert (date.year, date.month, date.day) == (1974, 1, 24)
    assert date.precision == "day"
    assert date.approximate is False
    assert date.century_inferred is True
    assert date.century_ambiguous is True

    birth, death = resolve_record_dates(parse_date("20-Mar-17"), parse_date(""), [1935])
    assert birth.iso == "1917-03-20"
    assert birth.century_ambiguous is False
    assert death.year is None

    birth, death = resolve_record_dates(parse_date("24-Mar-32"), parse_date("15-Dec-70"), [])
    assert birth.year == 1932
    assert death.year == 1970
    assert birth.century_ambiguous is True
    assert death.century_ambiguous is True


@pytest.mark.parametrize(
    "text",
    ["December 27, 1802", "27 December 1802", "Dec. 27, 1802", "1802-12-27", "Dec 27 1802",
     "December 27th, 1802", "27th  December  1802", "1802-12-27 "],
)
def test_full_date_forms(text):
    date = parse_date(text)
    assert (date.year, date.month, date.day, date.precision) == (1802, 12, 27, "day")


def test_day_never_taken_as_year():
    date = parse_date("January 6, 1948")
    assert date.year == 1948
    assert date.day == 6


@pytest.mark.parametrize(
    "text",
    ["c.1802", "c. 1802", "c1802", "ca.1802", "ca 1802", "cca 1802", "circa 1802",
     "approx. 1802", "~1802", "1802?", "Circa 1802"],
)
def test_approximate_marks(text):
    date = parse_date(text)
    assert date.year == 1802
    assert date.approximate is True


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "approximate"),
    [
        ("c.1802-1805", 1802, 1805, "year", True),
        ("1802 - 1805", 1802, 1805, "year", False),
        ("1860s", 1860, 1869, "decade", False),
        ("18th century", 1701, 1800, "century", False),
        ("1800s", 1800, 1899, "century", False),
        ("700-480 BC", -700, -480, "year", False),
        ("c.900 - c.700 BC", -900, -700, "year", True),
        ("c.50 BC - 20 AD", -50, 20, "year", True),
        ("30 BC - 640 AD", -30, 640, "year", False),
        ("5th century BC", -500, -401, "century", False),
    ],
)
def test_ranges_decades_centuries(text, start, end, precision, approximate):
    date = parse_date(text)
    assert date.year == start
    assert date.end_year == end
    assert date.precision == precision
    assert date.approximate is approximate


@pytest.mark.parametrize(
    ("text", "year", "era"),
    [
        ("31 BC", -31, "BCE"),
        ("BC 31", -31, "BCE"),
        ("31 B.C.", -31, "BCE"),
        ("31 BCE", -31, "BCE"),
        ("31 B.C.E.", -31, "BCE"),
        ("AD 640", 640, "CE"),
        ("640 A.D.", 640, "CE"),
        ("640 CE", 640, "CE"),
        ("c.640 AD", 640, "CE"),
        ("1 BC", -1, "BCE"),
    ],
)
def test_era_marks(text, year, era):
    date = parse_date(text)
    assert date.year == year
    assert date.era == era
    assert date.astronomical_year == (year + 1 if year < 0 else year)


@pytest.mark.parametrize(
    ("text", "iso"),
    [("24-Jan-74", "1974-01-24"), ("1/24/74", "1974-01-24"), ("24.01.74", "1974-01-24"),
     ("24/1/74", "1974-01-24"), ("3-Feb-25", "2025-02-03"), ("3-Feb-26", "1926-02-03")],
)
def test_two_digit_year_forms(text, iso):
    date = parse_date(text)
    assert date.iso == iso
    assert date.century_inferred is True
    assert date.century_ambiguous is True


def test_four_digit_compact_form_not_inferred():
    date = parse_date("24-Jan-1874")
    assert date.year == 1874
    assert date.century_inferred is False


def test_bare_short_number_is_full_year():
    date = parse_date("50")
    assert date.year == 50
    assert date.century_inferred is False


@pytest.mark.parametrize(
    ("text", "year", "month"),
    [("October, 1890", 1890, 10), ("c.October, 1890", 1890, 10), ("1890-10", 1890, 10)],
)
def test_month_precision(text, year, month):
    date = parse_date(text)
    assert (date.year, date.month, date.day) == (year, month, None)
    assert date.precision == "month"


@pytest.mark.parametrize("text", ["", "   ", "unknown", "31 February 1890", "0", "13/13/74", None])
def test_unparseable_keeps_raw(text):
    date = parse_date(text)
    assert date.year is None
    assert date.precision is None
    assert date.raw == ("" if text is None else text)


def test_missing_parts_stay_null():
    date = parse_date("1802")
    assert date.month is None
    assert date.day is None


def test_resolve_death_century_from_birth():
    birth, death = resolve_record_dates(parse_date("January 13, 1893"), parse_date("9-Aug-43"))
    assert death.year == 1943
    assert death.century_ambiguous is False
    assert birth.year == 1893


def test_resolve_keeps_dates_when_nothing_fits():
    birth = parse_date("1-Jan-99")
    resolved_birth, _ = resolve_record_dates(birth, parse_date(""), [1500])
    assert resolved_birth == birth


def test_parsed_date_is_frozen():
    date = parse_date("1802")
    with pytest.raises(AttributeError):
        date.year = 1900  # type: ignore[misc]
    assert isinstance(date, ParsedDate)
