"""Every rules-profile option has its words for the election form (issue 18 item 2): a Chinese
label, the rule it varies, and every value it may take, the seed's among them."""

import re
from typing import Literal, get_args, get_origin, get_type_hints

from app.rules.profiles import (
    OPTION_NAMES,
    OPTION_TEXTS,
    SEED_PROFILE,
    Profile,
    parse_profile,
    profile_options,
)
from tests.chinese_text import latin_words

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_option_and_every_value_is_named() -> None:
    assert tuple(OPTION_TEXTS) == OPTION_NAMES  # the form shows them in Profile's order
    hints = get_type_hints(Profile)
    seed = profile_options(SEED_PROFILE)
    for option, text in OPTION_TEXTS.items():
        values = [value for value, _ in text.choices]
        assert len(set(map(repr, values))) == len(values), option
        assert seed[option] in values, f"{option}: the seed's value must be offered"
        for value in values:
            parse_profile({option: value})  # every value offered is one the API takes
        if hints[option] is bool:
            assert set(values) == {True, False}, option
        elif get_origin(hints[option]) is Literal:
            assert set(values) == set(get_args(hints[option])), option
        for words in (text.label_zh, text.help_zh, *(label for _, label in text.choices)):
            assert CJK.search(words), (option, words)
            assert not latin_words(words), (option, words)
        assert re.fullmatch(r"[A-Z]\d{1,2}|六\.\d", text.rule), text.rule
