"""Capital numerals (大写数字) on the result report: the rule of ``app.results.numerals``.

Three independent checks: hand-written values (including the issue's examples), a reference
implementation by string rewriting compared on every value 0..99,999 and on random values up to
99,999,999, and a parser that reads every numeral back to its number (nothing lost, nothing
ambiguous).
"""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.results.numerals import MAXIMUM, capital_numeral

KNOWN = {
    0: "零",
    1: "壹",
    9: "玖",
    10: "壹拾",
    11: "壹拾壹",
    20: "贰拾",
    99: "玖拾玖",
    100: "壹佰",
    101: "壹佰零壹",
    105: "壹佰零伍",
    110: "壹佰壹拾",
    180: "壹佰捌拾",
    189: "壹佰捌拾玖",
    1000: "壹仟",
    1001: "壹仟零壹",
    1010: "壹仟零壹拾",
    1100: "壹仟壹佰",
    2024: "贰仟零贰拾肆",
    10_000: "壹万",
    10_001: "壹万零壹",
    10_010: "壹万零壹拾",
    10_100: "壹万零壹佰",
    11_000: "壹万壹仟",
    100_000: "壹拾万",
    100_010: "壹拾万零壹拾",
    107_000: "壹拾万零柒仟",
    110_000: "壹拾壹万",
    1_000_001: "壹佰万零壹",
    1_010_101: "壹佰零壹万零壹佰零壹",
    10_001_000: "壹仟万零壹仟",
    20_000_000: "贰仟万",
    30_000_303: "叁仟万零叁佰零叁",
    99_999_999: "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖",
}


@pytest.mark.parametrize(("value", "expected"), sorted(KNOWN.items()))
def test_known_values(value: int, expected: str) -> None:
    assert capital_numeral(value) == expected


DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("仟", "佰", "拾", "")


def reference(value: int) -> str:
    """Write every place (零 for a zero digit), then let rewriting rules remove what is not said."""
    if value == 0:
        return "零"
    upper, lower = divmod(value, 10_000)

    def group(number: int) -> str:
        return "".join(
            DIGITS[int(d)] + UNITS[i] if d != "0" else "零" for i, d in enumerate(f"{number:04d}")
        )

    text = (group(upper) + "万" if upper else "") + group(lower)
    text = text.lstrip("零")
    while True:
        rewritten = re.sub("零+", "零", text).replace("零万", "万零")
        if rewritten == text:
            break
        text = rewritten
    return text.rstrip("零")


def parse(numeral: str) -> int:
    """Read a capital numeral back; strict, so that an ill-formed numeral fails the test."""
    if numeral == "零":
        return 0
    assert not numeral.startswith("零"), numeral
    assert not numeral.endswith("零"), numeral
    assert "零零" not in numeral, numeral
    upper, _, lower = numeral.rpartition("万") if "万" in numeral else ("", "", numeral)

    def group(text: str) -> int:
        text = text.replace("零", "")
        number = 0
        for match in re.finditer("([壹贰叁肆伍陆柒捌玖])([仟佰拾]?)", text):
            number += (
                DIGITS.index(match.group(1))
                * {"仟": 1000, "佰": 100, "拾": 10, "": 1}[match.group(2)]
            )
        assert re.fullmatch("([壹贰叁肆伍陆柒捌玖][仟佰拾]?)*", text), text
        return number

    return group(upper) * 10_000 + group(lower)


def test_every_value_below_one_hundred_thousand() -> None:
    for value in range(100_000):
        numeral = capital_numeral(value)
        assert numeral == reference(value), value
        assert parse(numeral) == value, value


@given(st.integers(min_value=0, max_value=MAXIMUM))
def test_random_values_up_to_the_maximum(value: int) -> None:
    numeral = capital_numeral(value)
    assert numeral == reference(value)
    assert parse(numeral) == value


@given(st.integers(min_value=1, max_value=MAXIMUM))
def test_zero_is_written_once_per_run_between_digits(value: int) -> None:
    digits = str(value).rstrip("0")
    runs = len(re.findall("0+", digits))
    assert capital_numeral(value).count("零") == runs


@pytest.mark.parametrize("value", [-1, MAXIMUM + 1, 10**12])
def test_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(ValueError, match="capital numerals"):
        capital_numeral(value)


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_only_integers(value: object) -> None:
    with pytest.raises(TypeError):
        capital_numeral(value)  # type: ignore[arg-type]
