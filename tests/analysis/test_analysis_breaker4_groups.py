"""`--group` values of `d2a compare`: form, repeated attributes and birth decades."""

from __future__ import annotations

import pytest

from demographic2art.analysis.compare import group_attributes, parse_group
from demographic2art.cli.main import main
from demographic2art.errors import InvalidValueError


@pytest.mark.parametrize("text", ["gender=", "=female", "gender", "gender=female,", " = "])
def test_parse_group_incomplete_rejected(text):
    with pytest.raises(InvalidValueError, match="attribute=value"):
        parse_group(text)


def test_parse_group_repeated_attribute_rejected():
    with pytest.raises(InvalidValueError, match="names gender twice"):
        parse_group("gender=female,gender=male")


@pytest.mark.parametrize("value", ["18x0", "1_850", "\uff11\uff18\uff15\uff10", "1850.0", "nan", "+"])
def test_birth_decade_not_integer_rejected(value):
    with pytest.raises(InvalidValueError, match="is not a year such as 1850"):
        group_attributes({"birth_decade": value})


@pytest.mark.parametrize("value", ["1855", "-15"])
def test_birth_decade_not_multiple_rejected(value):
    with pytest.raises(InvalidValueError, match="is not a decade"):
        group_attributes({"birth_decade": value})


@pytest.mark.parametrize(("value", "decade"), [("1850", 1850), ("-40", -40), ("0", 0)])
def test_birth_decade_accepted(value, decade):
    assert group_attributes({"birth_decade": value}).birth_decade == decade


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (["gender=", "gender=male"], "error: group 'gender=' is not in the form attribute=value, e.g. gender=female"),
        (["birth_decade=18x0", "birth_decade=1850"], "error: birth_decade '18x0' is not a year such as 1850"),
        (["birth_decade=1855", "birth_decade=1850"], "error: birth_decade '1855' is not a decade; use a multiple of 10 such as 1850"),
    ],
)
def test_compare_bad_group_exit_2(tmp_path, capsys, groups, expected):
    argv = ["compare", "-w", str(tmp_path / "ws"), "--allow-new-values", "--no-lora", "--model", str(tmp_path / "no-model")]
    for text in groups:
        argv += ["--group", text]
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.strip().splitlines() == [expected]
