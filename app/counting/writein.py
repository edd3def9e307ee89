"""What a write-in (另选他人) may be: a person's name in Chinese characters.

A write-in is what the teller reads off the paper, entered after P7 normalization (NFKC, no
whitespace). It is a name in Chinese characters, with ``·`` (or ``•``, ``・``, ``‧``) between the
parts of a compound or transliterated name (艾力更·依明巴海). A name in Latin letters (a foreign or
romanized name, also ``-``, ``'`` and ``.`` between its parts) is taken only when the teller
confirms it explicitly (``write_ins_latin_confirmed``): pinyin initials typed as a search (``zqg``)
are never a name. Digits and any other characters are refused. The tablet mirrors these rules in
``app/web/static/tablet.js`` (``nameKind``).
"""

from collections.abc import Sequence
from typing import Literal

from app.errors import InvalidInput

NameKind = Literal["chinese", "latin", "not_a_name"]

# CJK Unified Ideographs and their extensions, the compatibility ideographs, and 〇.
_HAN_RANGES = (
    (0x3007, 0x3007),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
    (0x30000, 0x323AF),
)
# Between the parts of a compound or transliterated name (after NFKC; ･ becomes ・).
_NAME_SEPARATORS = frozenset("·•・‧⸱")
# Between the parts of a name in Latin letters, besides the above.
_LATIN_SEPARATORS = frozenset("-'.’")


def _is_han(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in _HAN_RANGES)


def _is_latin_letter(char: str) -> bool:
    # Basic Latin, Latin-1, Latin Extended-A/B and Additional (letters only).
    if char.isascii():
        return char.isalpha()
    point = ord(char)
    return char.isalpha() and (0x00C0 <= point <= 0x024F or 0x1E00 <= point <= 0x1EFF)


def name_kind(name: str) -> NameKind:
    """``chinese`` (Chinese characters and separators), ``latin`` (has Latin letters: needs the
    teller's confirmation) or ``not_a_name``. ``name`` is already P7-normalized and not empty."""
    latin = False
    previous_separator = True  # no separator first
    for char in name:
        if _is_han(char):
            previous_separator = False
        elif _is_latin_letter(char):
            previous_separator = False
            latin = True
        elif char in _NAME_SEPARATORS or char in _LATIN_SEPARATORS:
            if previous_separator:
                return "not_a_name"  # first, or two in a row
            previous_separator = True
        else:
            return "not_a_name"
    if previous_separator:
        return "not_a_name"  # last (or nothing but separators)
    if latin:
        return "latin"
    if any(char in _LATIN_SEPARATORS for char in name):
        return "not_a_name"  # 艾力更.依明巴海: Chinese names take · between their parts
    return "chinese"


def check_write_ins(
    names: Sequence[str | None], *, latin_confirmed: bool, field_prefix: str
) -> None:
    """Refuse (422) a write-in that is not a name, or one in Latin letters not confirmed.
    ``names`` are P7-normalized, in the order entered (``None``: illegible)."""
    for position, name in enumerate(names):
        if name is None:
            continue
        kind = name_kind(name)
        if kind == "chinese" or (kind == "latin" and latin_confirmed):
            continue
        field = f"{field_prefix}.write_ins.{position}"
        number = position + 1
        if kind == "latin":
            raise InvalidInput(
                "write_in_latin_unconfirmed",
                f"第 {number} 个另选他人含拉丁字母：另选他人应填写汉字姓名（不要填拼音）；"
                "选票上确实写的是外文姓名的，请勾选“外文姓名，按原文录入”后再提交",
                f"write-in {number} has Latin letters: a write-in is a name in Chinese characters "
                "(never pinyin); a name really written in Latin letters needs the teller's "
                "confirmation (write_ins_latin_confirmed: true)",
                field=field,
            )
        raise InvalidInput(
            "write_in_not_a_name",
            f"第 {number} 个另选他人不是姓名：只能填写汉字，复姓或译名各部分之间用“·”分隔",
            f"write-in {number} is not a name: Chinese characters only, with · between the parts "
            "of a compound or transliterated name",
            field=field,
        )
