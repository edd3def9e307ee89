"""Names as they enter the system (``app.rules.text``): the one refusal list, each category
named in both languages with its code point, and the one normalisation of a person's name. The
doors that use them (roster, API bodies, searches) are tested in tests/limits/test_names.py."""

import pytest

from app.rules.text import (
    REFUSED_CATEGORIES,
    NameRefused,
    check_name_text,
    person_name,
    refused_character,
)

# One character of each refused Unicode category, between two Chinese characters.
EXAMPLES = {
    "Cc": "\x07",  # bell
    "Cf": "\u200b",  # zero-width space
    "Zl": "\u2028",  # line separator
    "Zp": "\u2029",  # paragraph separator
    "Mn": "\u0301",  # combining acute accent, with nothing to compose with
    "Mc": "\u0903",  # Devanagari visarga, a spacing combining mark
    "Me": "\u20dd",  # combining enclosing circle
    "Co": "\ue000",  # private use
    "Cs": "\ud800",  # a lone surrogate
    "Cn": "\uffff",  # a noncharacter: never assigned
}


def test_every_refused_category_has_an_example() -> None:
    assert set(EXAMPLES) == set(REFUSED_CATEGORIES)


@pytest.mark.parametrize("category", sorted(EXAMPLES))
def test_a_refused_character_is_named_with_its_code_point(category: str) -> None:
    character = EXAMPLES[category]
    name = f"王{character}芳"
    assert refused_character(name) == character
    with pytest.raises(NameRefused) as refused:
        check_name_text(name)
    zh, en = REFUSED_CATEGORIES[category]
    code = f"U+{ord(character):04X}"
    assert refused.value.character == character
    assert refused.value.message_zh == f"含有{zh} {code}，请删除后重试"
    assert refused.value.message_en == f"contains the {en} {code}; remove it"
    assert str(refused.value) == f"{refused.value.message_zh} / {refused.value.message_en}"
    with pytest.raises(NameRefused):
        person_name(name)


def test_the_messages_read_as_a_teller_would_see_them() -> None:
    with pytest.raises(NameRefused) as refused:
        check_name_text("\u202e芳王")
    assert refused.value.message_zh == (
        "含有不可见的格式字符（零宽字符或文字方向控制符） U+202E，请删除后重试"
    )
    assert refused.value.message_en == "contains the invisible format character U+202E; remove it"


def test_the_first_refused_character_is_named() -> None:
    assert refused_character("王\ue000芳\u200b") == "\ue000"


def test_checked_on_the_nfkc_form() -> None:
    # e + combining acute composes to é: nothing is left over, so nothing is refused.
    assert refused_character("e\u0301mile") is None
    assert check_name_text("e\u0301mile") == "e\u0301mile"  # checked, returned unchanged
    assert check_name_text(" Ａｌｉ ") == " Ａｌｉ "
    assert refused_character("王芳") is None


def test_the_one_normalisation() -> None:
    assert person_name(" 王  芳 ") == "王芳"
    assert person_name("王\u3000芳") == "王芳"  # an ideographic space is padding too
    assert person_name("Ａｌｉ　Ｋｈａｎ") == "Ali Khan"
    assert person_name("  Ali   Khan ") == "Ali Khan"
    assert person_name("e\u0301mile") == "émile"  # composes under NFKC: accepted
    assert person_name("艾力·依明") == "艾力·依明"
    assert person_name("艾力 · 依明") == "艾力·依明"
    assert person_name("王 Ali") == "王 Ali"  # not all Chinese: the space is kept
